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

use chrono::{DateTime, Utc};
use runview_core::Result;
use runview_core::filter::WaitpointListQuery;
use runview_core::ids::EnvironmentId;
use runview_core::page::{Direction, Keyset, Scan};
use runview_core::waitpoint::{WaitpointRecord, WaitpointStatus};
use runview_pg::Statement;
use sqlx::{Postgres, QueryBuilder};

use crate::merge::{Keyed, Order, sort_for_scan};
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
        sort_for_scan(&mut matched, &query.page, Order::Id);
        // A full page says by itself where the next one starts.
        let stopped_at = edge
            .filter(|_| matched.len() < query.page.limit)
            .map(|record| Keyset {
                created_at: record.created_at,
                id: record.id.as_str().to_owned(),
            });
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
    use super::*;

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
