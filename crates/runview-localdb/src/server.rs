//! The public handle on the private server.

use std::path::Path;

use sqlx::{Connection, PgConnection};

use crate::cluster::{Cluster, PORT};
use crate::pg_ctl::StopMode;
use crate::{LocalDbError, quote_identifier};

/// A private PostgreSQL server, listening only on a Unix socket inside its data directory.
///
/// Stopped by [`LocalPostgres::stop`], or on drop.
#[derive(Debug)]
pub struct LocalPostgres {
    cluster: Cluster,
    running: bool,
}

impl LocalPostgres {
    /// Finds the server binaries, initdb's `data_dir` when it is not a usable cluster (recreating
    /// a cluster of its own that is broken or of another major version), stops a postmaster that a
    /// crashed earlier run left behind, and starts the server.
    ///
    /// initdb works in a `<data_dir>.initdb` staging directory that is renamed into place when
    /// complete, so an interrupted initdb is simply redone. A non-empty `data_dir` holding anything
    /// else than a cluster made here is refused, never deleted.
    ///
    /// The server listens only on a Unix socket inside `data_dir`, so it never clashes with
    /// another PostgreSQL on the machine. Its log is the file `<data_dir>.log` beside it.
    pub async fn start(data_dir: &Path) -> Result<Self, LocalDbError> {
        let data_dir = std::path::absolute(data_dir)
            .map_err(|e| LocalDbError::io(format!("resolving {}", data_dir.display()), e))?;
        // initdb and pg_ctl take seconds; they must not hold up the async runtime.
        let started = tokio::task::spawn_blocking(move || {
            let cluster = Cluster::new(data_dir)?;
            cluster.prepare()?;
            cluster.write_runtime_settings()?;
            cluster.start_server()?;
            Ok(LocalPostgres {
                cluster,
                running: true,
            })
        })
        .await;
        match started {
            Ok(result) => result,
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }

    /// A connection URL for `database` on this server, through its Unix socket, without password.
    pub fn url(&self, database: &str) -> String {
        socket_url(&self.cluster.data_dir, database)
    }

    /// Creates `database` if it does not exist; returns whether it was created.
    pub async fn ensure_database(&self, database: &str) -> Result<bool, LocalDbError> {
        let mut conn = PgConnection::connect(&self.url("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(database)
                .fetch_one(&mut conn)
                .await?;
        let created = if exists {
            false
        } else {
            let create = format!("CREATE DATABASE {}", quote_identifier(database));
            match sqlx::raw_sql(&create).execute(&mut conn).await {
                Ok(_) => true,
                // Someone else created it between the check and the creation.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => false,
                Err(e) => return Err(e.into()),
            }
        };
        conn.close().await?;
        Ok(created)
    }

    /// Stops the server (`pg_ctl stop -m fast`) and waits until it is gone.
    pub fn stop(mut self) -> Result<(), LocalDbError> {
        self.running = false;
        self.cluster.stop_server(StopMode::Fast)
    }

    /// Leaves the server running after this handle is gone, for later processes to share.
    #[cfg(feature = "testing")]
    pub(crate) fn leave_running(mut self) {
        self.running = false;
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        if self.running {
            let _ = self.cluster.stop_server(StopMode::Fast);
        }
    }
}

/// The URL of `database` on a server whose socket is in `socket_dir`.
///
/// sqlx (like libpq) takes a `host` parameter starting with `/` as the socket's directory; the
/// `localhost` in the authority is only a placeholder it overrides.
pub(crate) fn socket_url(socket_dir: &Path, database: &str) -> String {
    format!(
        "postgres://postgres@localhost:{PORT}/{database}?host={}&sslmode=disable",
        percent_encode(&socket_dir.to_string_lossy())
    )
}

/// Encodes everything but unreserved characters and `/`, so that a path survives as a query value.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use sqlx::postgres::PgConnectOptions;

    use super::socket_url;

    #[test]
    fn socket_url_points_sqlx_at_the_socket_directory() {
        let url = socket_url(Path::new("/tmp/run view+pg/data"), "runops_new");
        assert_eq!(
            url,
            "postgres://postgres@localhost:5432/runops_new?host=/tmp/run%20view%2Bpg/data&sslmode=disable"
        );
        let options: PgConnectOptions = url.parse().expect("sqlx parses the URL");
        assert_eq!(
            options.get_socket(),
            Some(&PathBuf::from("/tmp/run view+pg/data"))
        );
        assert_eq!(options.get_database(), Some("runops_new"));
        assert_eq!(options.get_username(), "postgres");
    }
}
