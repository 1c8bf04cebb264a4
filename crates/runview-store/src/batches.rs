//! ListBatches' primary query, its "has any" probe, and the run counts of a page of batches, each
//! against one store.

use chrono::{DateTime, NaiveDateTime, Utc};
use runview_core::batch::{BatchRecord, BatchStatus};
use runview_core::filter::BatchListQuery;
use runview_core::ids::{BatchId, EnvironmentId};
use runview_core::page::Scan;
use runview_core::ports::BatchRunCounts;
use runview_core::status::TaskRunStatus;
use runview_core::{Error, Result};
use runview_pg::{Statement, map_error};
use sqlx::FromRow;

use crate::keyset::{KeysetStatement, any_of};
use crate::merge::Keyed;
use crate::store::PgRunStore;

const BATCH_COLUMNS: &str = r#"
    id,
    "friendlyId" AS friendly_id,
    "runtimeEnvironmentId" AS environment_id,
    status::text AS status,
    "runCount" AS run_count,
    "batchVersion" AS batch_version,
    "createdAt" AS created_at,
    "updatedAt" AS updated_at,
    "completedAt" AS completed_at"#;

/// One row of [`BATCH_COLUMNS`], and the same columns of GetBatch's statement.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BatchRow {
    id: String,
    friendly_id: String,
    environment_id: String,
    /// `status::text`, as for runs.
    status: String,
    run_count: i32,
    batch_version: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    completed_at: Option<NaiveDateTime>,
}

impl TryFrom<BatchRow> for BatchRecord {
    type Error = Error;

    fn try_from(row: BatchRow) -> Result<Self> {
        let status = BatchStatus::from_label(&row.status)
            .ok_or_else(|| Error::Internal(format!("unknown batch status `{}`", row.status)))?;
        Ok(Self {
            id: BatchId::from_stored(row.id),
            friendly_id: row.friendly_id,
            environment_id: row.environment_id,
            status,
            run_count: row.run_count,
            batch_version: row.batch_version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            completed_at: row.completed_at.map(|at| at.and_utc()),
        })
    }
}

fn statement(query: &BatchListQuery) -> KeysetStatement<'_> {
    let filter = &query.filter;
    let attributes = &filter.attributes;
    let mut statement = KeysetStatement::new(
        BATCH_COLUMNS,
        r#""BatchTaskRun""#,
        &query.environment_id,
        filter.window,
        &query.page,
        query.scan_budget,
    );
    let statuses: Vec<&str> = attributes
        .statuses
        .iter()
        .copied()
        .map(BatchStatus::as_str)
        .collect();
    // As the upstream: a status filter also leaves out batches of the old engine ("v1").
    statement.and(
        r#"status = ANY($::"BatchTaskRunStatus"[]) AND "batchVersion" <> 'v1'"#,
        any_of(statuses),
    );
    // As the upstream: callers know a batch by its friendly id, which the oldest batches do not
    // derive from their internal id. The unique ("friendlyId") index finds it at once, so such a
    // page needs no walk.
    let batch = attributes.batch_id.as_ref().map(BatchId::friendly);
    let one_batch = batch.is_some();
    statement.and(r#""friendlyId" = $"#, batch);
    if one_batch {
        statement.unbudgeted()
    } else {
        statement
    }
}

/// The statement [`PgRunStore::list_batches`] sends for `query`, for plan checks. Its parameters
/// are numbered as for [`crate::list_runs_sql`]: environment, window, cursor, the filters that
/// are set (statuses, batch id), limit.
pub fn list_batches_sql(query: &BatchListQuery) -> String {
    statement(query).into_sql()
}

/// `$1` environment id.
const HAS_ANY_BATCHES_SQL: &str = r#"
SELECT EXISTS (SELECT FROM "BatchTaskRun" WHERE "runtimeEnvironmentId" = $1)
"#;

/// `$1` environment id, `$2` batch ids. Served by the ("runtimeEnvironmentId", "batchId") index.
/// The values reach the planner as scalar subqueries, so that the statement keeps its generic
/// plan (see [`crate::FIND_RUNS_SQL`]); the cast makes `ANY` take the subquery's one array, not
/// its rows.
const COUNT_BATCH_RUNS_SQL: &str = r#"
SELECT "batchId" AS batch_id, status::text AS status, count(*) AS runs
FROM "TaskRun"
WHERE "runtimeEnvironmentId" = (SELECT $1::text) AND "batchId" = ANY((SELECT $2::text[])::text[])
GROUP BY 1, 2
"#;

/// One row of [`COUNT_BATCH_RUNS_SQL`].
#[derive(Debug, sqlx::FromRow)]
struct BatchRunCountRow {
    batch_id: String,
    status: String,
    runs: i64,
}

const LIST_BATCHES: Statement = Statement {
    name: "list_batches",
    operation: "SELECT",
    summary: "SELECT BatchTaskRun",
};

const HAS_ANY_BATCHES: Statement = Statement {
    name: "has_any_batches",
    operation: "SELECT",
    summary: "SELECT BatchTaskRun",
};

const COUNT_BATCH_RUNS: Statement = Statement {
    name: "count_batch_runs",
    operation: "SELECT",
    summary: "SELECT TaskRun",
};

impl PgRunStore {
    /// One keyset page of the environment's batches in this store, in scan order.
    pub(crate) async fn list_batches(&self, query: &BatchListQuery) -> Result<Scan<BatchRecord>> {
        let scan = self
            .scan_keyset(&LIST_BATCHES, statement(query), &query.page)
            .await?;
        let rows = scan
            .rows
            .iter()
            .map(|row| {
                BatchRow::from_row(row)
                    .map_err(|error| map_error(self.dependency(), error))
                    .and_then(BatchRecord::try_from)
            })
            .collect::<Result<_>>()?;
        Ok(Scan {
            rows,
            stopped_at: scan.stopped_at,
        })
    }

    pub(crate) async fn has_any_batches(&self, environment_id: &EnvironmentId) -> Result<bool> {
        let mut lease = self.lease(&HAS_ANY_BATCHES).await?;
        let any = sqlx::query_scalar(HAS_ANY_BATCHES_SQL)
            .bind(environment_id.as_str())
            .fetch_one(lease.connection())
            .await;
        lease.finish(any)
    }

    /// This store's run counts of `batch_ids` by status; batches without runs here are absent.
    pub(crate) async fn count_batch_runs(
        &self,
        environment_id: &EnvironmentId,
        batch_ids: &[BatchId],
    ) -> Result<BatchRunCounts> {
        let ids: Vec<&str> = batch_ids.iter().map(BatchId::as_str).collect();
        let mut lease = self.lease(&COUNT_BATCH_RUNS).await?;
        let rows = sqlx::query_as(COUNT_BATCH_RUNS_SQL)
            .bind(environment_id.as_str())
            .bind(ids)
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<BatchRunCountRow> = lease.finish(rows)?;
        let mut counts = BatchRunCounts::new();
        for row in rows {
            let status = TaskRunStatus::from_label(&row.status)
                .ok_or_else(|| Error::Internal(format!("unknown run status `{}`", row.status)))?;
            counts
                .entry(BatchId::from_stored(row.batch_id))
                .or_default()
                .insert(status, row.runs);
        }
        Ok(counts)
    }
}

/// Adds `more` (one store's counts) to `total`.
pub(crate) fn add_batch_run_counts(total: &mut BatchRunCounts, more: BatchRunCounts) {
    for (batch_id, by_status) in more {
        let batch_total = total.entry(batch_id).or_default();
        for (status, runs) in by_status {
            *batch_total.entry(status).or_default() += runs;
        }
    }
}

impl Keyed for BatchRecord {
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn id(&self) -> &str {
        self.id.as_str()
    }
}
