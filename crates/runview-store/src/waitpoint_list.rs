//! ListWaitpoints' primary query against one store, its "has any" probe, and the merge of what
//! every store scanned.
//!
//! Tokens are ordered by id, as the upstream's ("environmentId", type, id DESC) index orders them.
//! That index has the database's collation, and the merge compares ids byte by byte: the two
//! agree because token ids are lowercase base-36 cuids, on which every collation sorts as bytes do
//! (a store test checks it).
//!
//! Nothing indexes tags or the inactive idempotency key, and tokens have no default window, so a
//! filter on them could walk an environment's whole history. Each statement therefore walks at
//! most `scan_budget` tokens in id order (the index serves the walk: environment, window, cursor,
//! id), keeps those that pass the other filters, and when the walk ends before the page is full
//! says where it stopped, so the next page resumes there instead of the call running long.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use runview_core::Result;
use runview_core::filter::WaitpointListQuery;
use runview_core::ids::EnvironmentId;
use runview_core::page::{Direction, Keyset, PageRequest, Scan};
use runview_core::waitpoint::{WaitpointRecord, WaitpointStatus};
use runview_pg::Statement;
use sqlx::{Postgres, QueryBuilder};

use crate::keyset::{Keyed, merge_by};
use crate::store::PgRunStore;
use crate::waitpoint::WaitpointColumns;

/// What the walk keeps of each token: every column the list shows or filters by, not the output.
const WALKED_COLUMNS: &str = r#"id, type, status, "environmentId", "idempotencyKey",
        "userProvidedIdempotencyKey", "idempotencyKeyExpiresAt", "inactiveIdempotencyKey",
        "completedAfter", "completedAt", "outputType", "outputIsError", tags, "createdAt""#;

/// The walked columns under the names [`WaitpointColumns`] decodes.
const LISTED_COLUMNS: &str = r#"id,
    type::text AS waitpoint_type,
    status::text AS status,
    "environmentId" AS environment_id,
    "idempotencyKey" AS idempotency_key,
    "userProvidedIdempotencyKey" AS user_provided_idempotency_key,
    "idempotencyKeyExpiresAt" AS idempotency_key_expires_at,
    "inactiveIdempotencyKey" AS inactive_idempotency_key,
    "completedAfter" AS completed_after,
    "completedAt" AS completed_at,
    "outputType" AS output_type,
    "outputIsError" AS output_is_error,
    tags,
    "createdAt" AS created_at"#;

/// One row of the statement: a token that passed every filter, or the last token the walk
/// examined when the walk spent its whole budget.
#[derive(Debug, sqlx::FromRow)]
struct ListedWaitpointRow {
    #[sqlx(flatten)]
    columns: WaitpointColumns,
    walk_edge: bool,
}

/// The condition on the stored status and error output that matches tokens showing one of
/// `statuses` (PENDING shows WAITING; COMPLETED shows TIMED_OUT with an error output, else
/// COMPLETED), or `None` when it matches every token.
fn status_condition(statuses: &[WaitpointStatus]) -> Option<&'static str> {
    let shows = |status| statuses.contains(&status);
    match (
        shows(WaitpointStatus::Waiting),
        shows(WaitpointStatus::Completed),
        shows(WaitpointStatus::TimedOut),
    ) {
        (true, true, true) | (false, false, false) => None,
        (true, false, false) => Some("status = 'PENDING'"),
        (false, true, false) => Some(r#"status = 'COMPLETED' AND NOT "outputIsError""#),
        (false, false, true) => Some(r#"status = 'COMPLETED' AND "outputIsError""#),
        (true, true, false) => Some(r#"(status = 'PENDING' OR NOT "outputIsError")"#),
        (true, false, true) => Some(r#"(status = 'PENDING' OR "outputIsError")"#),
        (false, true, true) => Some("status = 'COMPLETED'"),
    }
}

fn statement(query: &WaitpointListQuery) -> QueryBuilder<'_, Postgres> {
    let filter = &query.filter;
    let attributes = &filter.attributes;
    let page = &query.page;
    let (order, edge_order, beyond) = match page.direction() {
        Direction::Forward => ("DESC", "ASC", "<"),
        Direction::Backward => ("ASC", "DESC", ">"),
    };
    let statuses = status_condition(&filter.statuses);
    let filtered =
        statuses.is_some() || !attributes.tags.is_empty() || attributes.idempotency_key.is_some();
    // Without a filter the walk is the page itself.
    let walk_limit = if filtered {
        query.scan_budget.max(page.limit)
    } else {
        page.limit
    };
    let walk_limit = i64::try_from(walk_limit).unwrap_or(i64::MAX);

    let mut sql = QueryBuilder::new("WITH walk AS MATERIALIZED (\n    SELECT ");
    sql.push(WALKED_COLUMNS)
        .push("\n    FROM \"Waitpoint\"\n    WHERE \"environmentId\" = ")
        .push_bind(query.environment_id.as_str())
        .push(" AND type = 'MANUAL'");
    // `timestamp without time zone` holds UTC: bind naive values.
    if let Some(start) = filter.window.start {
        sql.push("\n      AND \"createdAt\" >= ")
            .push_bind(start.naive_utc());
    }
    sql.push("\n      AND \"createdAt\" <= ")
        .push_bind(filter.window.end.naive_utc());
    if let Some(cursor) = &page.cursor {
        sql.push(format_args!("\n      AND id {beyond} "))
            .push_bind(cursor.keyset.id.as_str());
    }
    if let Some(id) = &attributes.waitpoint_id {
        sql.push("\n      AND id = ").push_bind(id.as_str());
    }
    sql.push(format_args!("\n    ORDER BY id {order}\n    LIMIT "))
        .push_bind(walk_limit)
        .push("\n)\nSELECT ")
        .push(LISTED_COLUMNS)
        .push(", false AS walk_edge\nFROM (\n    SELECT * FROM walk\n    WHERE true");
    if let Some(condition) = statuses {
        sql.push("\n      AND ").push(condition);
    }
    if !attributes.tags.is_empty() {
        // Any of them; NULL tags match none.
        sql.push("\n      AND tags && ")
            .push_bind(attributes.tags.as_slice());
    }
    if let Some(key) = &attributes.idempotency_key {
        sql.push("\n      AND (\"idempotencyKey\" = ")
            .push_bind(key.as_str())
            .push(" OR \"inactiveIdempotencyKey\" = ")
            .push_bind(key.as_str())
            .push(")");
    }
    let page_limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    sql.push(format_args!("\n    ORDER BY id {order}\n    LIMIT "))
        .push_bind(page_limit)
        .push(") matched\nUNION ALL\nSELECT ")
        .push(LISTED_COLUMNS)
        .push(format_args!(
            ", true\nFROM (SELECT * FROM walk ORDER BY id {edge_order} LIMIT 1) edge\n\
             WHERE (SELECT count(*) FROM walk) = "
        ))
        .push_bind(walk_limit);
    sql
}

/// The statement [`PgRunStore::list_waitpoints`] sends for `query`, for plan checks.
pub fn list_waitpoints_sql(query: &WaitpointListQuery) -> String {
    statement(query).into_sql()
}

/// `$1` environment id.
const HAS_ANY_TOKENS_SQL: &str = r#"
SELECT EXISTS (SELECT FROM "Waitpoint" WHERE "environmentId" = $1 AND type = 'MANUAL')
"#;

const LIST_WAITPOINTS: Statement = Statement {
    name: "list_waitpoints",
    operation: "SELECT",
    summary: "SELECT Waitpoint",
};

const HAS_ANY_TOKENS: Statement = Statement {
    name: "has_any_tokens",
    operation: "SELECT",
    summary: "SELECT Waitpoint",
};

impl PgRunStore {
    /// One page of the environment's tokens in this store, in scan order.
    pub(crate) async fn list_waitpoints(
        &self,
        query: &WaitpointListQuery,
    ) -> Result<Scan<WaitpointRecord>> {
        let mut lease = self.lease(&LIST_WAITPOINTS).await?;
        // Filters vary in selectivity from call to call: plan each with its values.
        let rows = statement(query)
            .build_query_as()
            .persistent(false)
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<ListedWaitpointRow> = lease.finish(rows)?;
        let mut matched = Vec::with_capacity(rows.len());
        let mut edge = None;
        for row in rows {
            let record = row.columns.into_record(None, Vec::new())?;
            if row.walk_edge {
                edge = Some(record);
            } else {
                matched.push(record);
            }
        }
        matched.sort_by(|a, b| in_scan_order(a, b, &query.page));
        // A full page says by itself where the next one starts.
        let stopped_at = edge
            .filter(|_| matched.len() < query.page.limit)
            .map(|record| position(&record));
        Ok(Scan {
            rows: matched,
            stopped_at,
        })
    }

    pub(crate) async fn has_any_tokens(&self, environment_id: &EnvironmentId) -> Result<bool> {
        let mut lease = self.lease(&HAS_ANY_TOKENS).await?;
        let any = sqlx::query_scalar(HAS_ANY_TOKENS_SQL)
            .bind(environment_id.as_str())
            .fetch_one(lease.connection())
            .await;
        lease.finish(any)
    }
}

/// One page from two stores' scans. Each scan is complete up to its last row, or up to where it
/// stopped; the page keeps only what both scans covered, so a token the stopped store did not
/// reach cannot be skipped: the page ends where the first store stopped and continues from there.
pub(crate) fn merge_scans(
    legacy: Scan<WaitpointRecord>,
    new: Scan<WaitpointRecord>,
    page: &PageRequest,
) -> Scan<WaitpointRecord> {
    let frontier = [legacy.stopped_at, new.stopped_at]
        .into_iter()
        .flatten()
        .min_by(|a, b| toward_cursor(a, b, page));
    let mut rows = merge_by(legacy.rows, new.rows, page, ascending_ids);
    if let Some(frontier) = &frontier {
        rows.retain(|record| toward_cursor_id(record.id.as_str(), &frontier.id, page).is_le());
    }
    Scan {
        stopped_at: frontier.filter(|_| rows.len() < page.limit),
        rows,
    }
}

fn ascending_ids(a: &WaitpointRecord, b: &WaitpointRecord) -> Ordering {
    a.id.as_str().cmp(b.id.as_str())
}

fn in_scan_order(a: &WaitpointRecord, b: &WaitpointRecord, page: &PageRequest) -> Ordering {
    toward_cursor_id(a.id.as_str(), b.id.as_str(), page)
}

/// `Less` when `a` is nearer the cursor than `b`, i.e. comes first in scan order.
fn toward_cursor(a: &Keyset, b: &Keyset, page: &PageRequest) -> Ordering {
    toward_cursor_id(&a.id, &b.id, page)
}

fn toward_cursor_id(a: &str, b: &str, page: &PageRequest) -> Ordering {
    match page.direction() {
        Direction::Forward => b.cmp(a),
        Direction::Backward => a.cmp(b),
    }
}

fn position(record: &WaitpointRecord) -> Keyset {
    Keyset {
        created_at: record.created_at,
        id: record.id.as_str().to_owned(),
    }
}

impl Keyed for WaitpointRecord {
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn id(&self) -> &str {
        self.id.as_str()
    }
}

#[cfg(test)]
mod tests {
    use runview_core::ids::WaitpointId;
    use runview_core::page::Cursor;
    use runview_core::waitpoint::WaitpointType;

    use super::*;

    fn token(id: &str) -> WaitpointRecord {
        WaitpointRecord {
            id: WaitpointId::from_stored(id),
            waitpoint_type: WaitpointType::Manual,
            completed: false,
            environment_id: "env".into(),
            idempotency_key: "k".into(),
            user_provided_idempotency_key: false,
            idempotency_key_expires_at: None,
            inactive_idempotency_key: None,
            completed_after: None,
            completed_at: None,
            output: None,
            output_type: "application/json".into(),
            output_is_error: false,
            tags: Vec::new(),
            created_at: DateTime::UNIX_EPOCH,
            connected_runs: Vec::new(),
        }
    }

    fn scan(ids: &[&str], stopped_at: Option<&str>) -> Scan<WaitpointRecord> {
        Scan {
            rows: ids.iter().map(|id| token(id)).collect(),
            stopped_at: stopped_at.map(|id| position(&token(id))),
        }
    }

    fn ids(scan: &Scan<WaitpointRecord>) -> Vec<&str> {
        scan.rows.iter().map(|record| record.id.as_str()).collect()
    }

    fn page(direction: Option<Direction>, limit: usize) -> PageRequest {
        let cursor = direction.map(|direction| Cursor {
            keyset: position(&token("m")),
            direction,
        });
        PageRequest { cursor, limit }
    }

    #[test]
    fn complete_scans_merge_by_id_with_new_winning_a_duplicate() {
        let mut new = scan(&["e", "c"], None);
        new.rows[1].tags = vec!["from-new".into()];
        let merged = merge_scans(scan(&["d", "c", "a"], None), new, &page(None, 3));
        assert_eq!(ids(&merged), ["e", "d", "c"]);
        assert_eq!(merged.rows[2].tags, ["from-new"]);
        assert_eq!(merged.stopped_at, None);
    }

    #[test]
    fn a_page_ends_where_the_first_store_stopped() {
        // LEGACY walked down to "h" without filling the page; NEW went on to "b". Between "h"
        // and "b" LEGACY was not read, so "c" cannot be shown before LEGACY is read there.
        let merged = merge_scans(
            scan(&["k"], Some("h")),
            scan(&["j", "c"], None),
            &page(None, 4),
        );
        assert_eq!(ids(&merged), ["k", "j"]);
        assert_eq!(merged.stopped_at.map(|at| at.id), Some("h".to_owned()));
    }

    #[test]
    fn the_stop_nearest_the_cursor_wins_and_backward_scans_read_upward() {
        let merged = merge_scans(
            scan(&["n", "p"], Some("q")),
            scan(&["o"], Some("x")),
            &page(Some(Direction::Backward), 5),
        );
        assert_eq!(ids(&merged), ["n", "o", "p"]);
        assert_eq!(merged.stopped_at.map(|at| at.id), Some("q".to_owned()));
    }

    #[test]
    fn a_page_filled_before_any_stop_needs_no_stop() {
        let merged = merge_scans(
            scan(&["z", "y"], Some("a")),
            scan(&["x"], None),
            &page(None, 2),
        );
        assert_eq!(ids(&merged), ["z", "y"]);
        assert_eq!(merged.stopped_at, None);
    }

    #[test]
    fn every_combination_of_statuses_has_its_condition() {
        use WaitpointStatus::{Completed, TimedOut, Waiting};
        assert_eq!(status_condition(&[]), None);
        assert_eq!(status_condition(&[Waiting, Completed, TimedOut]), None);
        assert_eq!(
            status_condition(&[Completed, TimedOut]),
            Some("status = 'COMPLETED'")
        );
        assert_eq!(status_condition(&[Waiting]), Some("status = 'PENDING'"));
    }
}
