//! Keyset pages in (createdAt DESC, id DESC) order, shared by every list: the frame of a list
//! statement (environment, window, cursor, order, limit), its filters, and the merge of two
//! stores' pages into one.
//!
//! ids are compared in the "C" collation, byte by byte as Rust compares `str`, so PostgreSQL's
//! order and the merge agree whatever collation a database defaults to. The indexes in
//! `migrations/recommended/0001_runview_indexes.sql` have the same key, so a page is an index
//! range read in index order.

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use runview_core::ids::EnvironmentId;
use runview_core::page::{Direction, PageRequest, TimeWindow};
use sqlx::postgres::PgRow;
use sqlx::{Encode, FromRow, PgConnection, Postgres, QueryBuilder, Type};

/// A record with a place in the keyset order.
pub(crate) trait Keyed {
    fn created_at(&self) -> DateTime<Utc>;
    fn id(&self) -> &str;
}

/// One list statement over a table with "runtimeEnvironmentId", "createdAt" and id.
///
/// Only the conditions a query uses are written, each with its own parameter: a condition that
/// may or may not apply (`$1 IS NULL OR …`) makes PostgreSQL estimate every filter as selective,
/// and a plan expecting a handful of rows sorts the environment's window instead of walking the
/// index.
pub(crate) struct KeysetStatement<'a> {
    builder: QueryBuilder<'a, Postgres>,
    page: &'a PageRequest,
    filtered: bool,
}

impl<'a> KeysetStatement<'a> {
    /// Starts from `select` (`SELECT <columns> FROM <table>`) with the environment, the window
    /// and the cursor.
    pub(crate) fn new(
        select: &str,
        environment_id: &'a EnvironmentId,
        window: TimeWindow,
        page: &'a PageRequest,
    ) -> Self {
        let mut builder = QueryBuilder::new(select);
        builder
            .push("\nWHERE \"runtimeEnvironmentId\" = ")
            .push_bind(environment_id.as_str());
        // `timestamp without time zone` holds UTC: bind naive values, so the session's time
        // zone never shifts them.
        if let Some(start) = window.start {
            builder
                .push("\n  AND \"createdAt\" >= ")
                .push_bind(start.naive_utc());
        }
        builder
            .push("\n  AND \"createdAt\" <= ")
            .push_bind(window.end.naive_utc());
        if let Some(cursor) = &page.cursor {
            let beyond = match cursor.direction {
                Direction::Forward => "<",
                Direction::Backward => ">",
            };
            builder
                .push(format_args!(
                    "\n  AND (\"createdAt\", id COLLATE \"C\") {beyond} ("
                ))
                .push_bind(cursor.keyset.created_at.naive_utc())
                .push(", ")
                .push_bind(cursor.keyset.id.as_str())
                .push(")");
        }
        Self {
            builder,
            page,
            filtered: false,
        }
    }

    /// Adds `AND <condition>` when there is a `value`; `$` in `condition` stands for it.
    pub(crate) fn and<T>(&mut self, condition: &'static str, value: Option<T>)
    where
        T: 'a + Encode<'a, Postgres> + Type<Postgres>,
    {
        let Some(value) = value else {
            return;
        };
        let (before, after) = condition.split_once('$').unwrap_or((condition, ""));
        self.builder
            .push("\n  AND ")
            .push(before)
            .push_bind(value)
            .push(after);
        self.filtered = true;
    }

    /// Reads the page: at most `limit` rows in scan order.
    ///
    /// The unfiltered walk stays prepared on the connection, and its generic plan is the index
    /// range. A filtered statement is planned with its values every time instead (an unnamed
    /// statement): a generic plan cannot know whether a tag, a task or a schedule matches a few
    /// runs or most of them, and guesses few, which sorts the whole window.
    pub(crate) async fn fetch_all<R>(
        self,
        connection: &mut PgConnection,
    ) -> Result<Vec<R>, sqlx::Error>
    where
        R: for<'r> FromRow<'r, PgRow>,
    {
        let rows = self.fetch_rows(connection).await?;
        rows.iter().map(R::from_row).collect()
    }

    /// The page's rows, not yet decoded.
    pub(crate) async fn fetch_rows(
        mut self,
        connection: &mut PgConnection,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        self.finish();
        let persistent = !self.filtered;
        self.builder
            .build()
            .persistent(persistent)
            .fetch_all(connection)
            .await
    }

    /// The statement's text, for plan checks.
    pub(crate) fn into_sql(mut self) -> String {
        self.finish();
        self.builder.into_sql()
    }

    fn finish(&mut self) {
        let order = match self.page.direction() {
            Direction::Forward => "DESC",
            Direction::Backward => "ASC",
        };
        let limit = i64::try_from(self.page.limit).unwrap_or(i64::MAX);
        self.builder
            .push(format_args!(
                "\nORDER BY \"createdAt\" {order}, id COLLATE \"C\" {order}\nLIMIT "
            ))
            .push_bind(limit);
    }
}

/// `Some(values)` when there are any: an empty filter list means "any".
pub(crate) fn any_of<T, L: AsRef<[T]>>(values: L) -> Option<L> {
    (!values.as_ref().is_empty()).then_some(values)
}

/// One page from two stores' pages, each in scan order: a record both stores hold is taken from
/// NEW, the rest are ordered by (createdAt, id) in the scan direction, and the page is cut to its
/// limit. Each store read `limit` rows past the cursor, so the first `limit` of their union are
/// the first `limit` overall.
pub(crate) fn merge<T: Keyed>(legacy: Vec<T>, new: Vec<T>, page: &PageRequest) -> Vec<T> {
    merge_by(legacy, new, page, |a, b| {
        (a.created_at(), a.id()).cmp(&(b.created_at(), b.id()))
    })
}

/// As [`merge`], for a list whose order `ascending` gives (oldest first for createdAt orders).
pub(crate) fn merge_by<T: Keyed>(
    legacy: Vec<T>,
    new: Vec<T>,
    page: &PageRequest,
    ascending: impl Fn(&T, &T) -> Ordering,
) -> Vec<T> {
    let legacy_only: Vec<T> = {
        let in_new: HashSet<&str> = new.iter().map(Keyed::id).collect();
        legacy
            .into_iter()
            .filter(|record| !in_new.contains(record.id()))
            .collect()
    };
    let mut rows = new;
    rows.extend(legacy_only);
    let direction = page.direction();
    rows.sort_by(|a, b| match direction {
        Direction::Forward => ascending(b, a),
        Direction::Backward => ascending(a, b),
    });
    rows.truncate(page.limit);
    rows
}

#[cfg(test)]
mod tests {
    use runview_core::page::{Cursor, Keyset};

    use super::*;

    #[derive(Debug, PartialEq)]
    struct Row(i64, &'static str, &'static str);

    impl Keyed for Row {
        fn created_at(&self) -> DateTime<Utc> {
            DateTime::from_timestamp(self.0, 0).unwrap_or_default()
        }

        fn id(&self) -> &str {
            self.1
        }
    }

    fn page(direction: Option<Direction>, limit: usize) -> PageRequest {
        let cursor = direction.map(|direction| Cursor {
            keyset: Keyset {
                created_at: DateTime::UNIX_EPOCH,
                id: String::new(),
            },
            direction,
        });
        PageRequest { cursor, limit }
    }

    #[test]
    fn forward_pages_merge_newest_first_with_ids_breaking_ties() {
        let legacy = vec![Row(3, "b", "legacy"), Row(1, "a", "legacy")];
        let new = vec![Row(3, "c", "new"), Row(3, "a", "new"), Row(2, "z", "new")];
        let merged = merge(legacy, new, &page(None, 4));
        let ids: Vec<&str> = merged.iter().map(|row| row.1).collect();
        assert_eq!(ids, ["c", "b", "a", "z"]);
    }

    #[test]
    fn backward_pages_merge_oldest_first() {
        let legacy = vec![Row(1, "a", "legacy"), Row(3, "b", "legacy")];
        let new = vec![Row(2, "z", "new"), Row(3, "c", "new")];
        let merged = merge(legacy, new, &page(Some(Direction::Backward), 3));
        let ids: Vec<&str> = merged.iter().map(|row| row.1).collect();
        assert_eq!(ids, ["a", "z", "b"]);
    }

    #[test]
    fn a_record_in_both_stores_is_taken_once_from_new() {
        let legacy = vec![Row(2, "a", "legacy"), Row(1, "b", "legacy")];
        let new = vec![Row(2, "a", "new")];
        let merged = merge(legacy, new, &page(Some(Direction::Forward), 10));
        assert_eq!(merged, [Row(2, "a", "new"), Row(1, "b", "legacy")]);
    }

    #[test]
    fn ids_order_byte_by_byte() {
        let legacy = vec![Row(1, "a", "legacy")];
        let new = vec![Row(1, "B", "new")];
        let merged = merge(legacy, new, &page(None, 2));
        let ids: Vec<&str> = merged.iter().map(|row| row.1).collect();
        assert_eq!(ids, ["a", "B"]);
    }
}
