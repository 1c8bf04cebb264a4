//! Swapping the database of a connection URL, keeping its query (a socket `host`, TLS settings).

/// `server_url` with its database (if any) removed.
pub(super) fn without_database(server_url: &str) -> String {
    let (base, query) = split(server_url);
    match query {
        Some(query) => format!("{base}?{query}"),
        None => base.to_owned(),
    }
}

/// `server_url` pointing at `database`.
pub(super) fn with_database(server_url: &str, database: &str) -> String {
    let (base, query) = split(server_url);
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Splits a URL into its scheme and authority, and its query; the path between them is dropped.
fn split(url: &str) -> (&str, Option<&str>) {
    let (before_query, query) = match url.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (url, None),
    };
    let authority_start = before_query.find("://").map_or(0, |at| at + 3);
    let base = match before_query[authority_start..].find('/') {
        Some(path_start) => &before_query[..authority_start + path_start],
        None => before_query,
    };
    (base, query)
}

#[cfg(test)]
mod tests {
    use super::{with_database, without_database};

    #[test]
    fn database_is_replaced_and_query_kept() {
        let url = "postgres://u:p@db:6432/old?sslmode=require";
        assert_eq!(
            with_database(url, "new"),
            "postgres://u:p@db:6432/new?sslmode=require"
        );
        assert_eq!(
            without_database(url),
            "postgres://u:p@db:6432?sslmode=require"
        );
    }

    #[test]
    fn database_is_added_to_a_server_url() {
        let url = "postgres://postgres@127.0.0.1:5432";
        assert_eq!(
            with_database(url, "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(without_database(&format!("{url}/")), url);
        let socket = "postgres://postgres@localhost:5432?host=/tmp/pg/data";
        assert_eq!(
            with_database(socket, "x"),
            "postgres://postgres@localhost:5432/x?host=/tmp/pg/data"
        );
    }
}
