//! ListRuns' primary query: a keyset page of an environment's runs in one store, filtered.

use chrono::{DateTime, NaiveDateTime, Utc};
use runview_core::filter::RunListQuery;
use runview_core::run::RunRecord;
use runview_core::status::TaskRunStatus;
use runview_core::{Error, Result};
use runview_pg::{Statement, map_error};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};

use crate::keyset::{Keyed, KeysetStatement, any_of};
use crate::run_row::{RunRow, run_columns};
use crate::store::PgRunStore;

/// Packet bodies and the error are not read: a list shows neither.
const SELECT_RUNS: &str = concat!("SELECT", run_columns!(), "\nFROM \"TaskRun\" t");

/// Every filter is ANDed; `$` is the filter's value.
fn statement(query: &RunListQuery) -> KeysetStatement<'_> {
    let filter = &query.filter;
    let attributes = &filter.attributes;
    let mut statement = KeysetStatement::new(
        SELECT_RUNS,
        &query.environment_id,
        filter.window,
        &query.page,
    );
    let statuses: Vec<&str> = filter
        .statuses
        .iter()
        .copied()
        .map(TaskRunStatus::as_str)
        .collect();
    statement.and(r#"t.status = ANY($::"TaskRunStatus"[])"#, any_of(statuses));
    statement.and(
        r#"t."taskIdentifier" = ANY($)"#,
        any_of(&attributes.task_identifiers),
    );
    statement.and(r#"t."taskVersion" = ANY($)"#, any_of(&attributes.versions));
    statement.and(r#"t."runTags" && $"#, any_of(&attributes.tags));
    statement.and(
        r#"t."batchId" = $"#,
        attributes.batch_id.as_ref().map(|id| id.as_str()),
    );
    statement.and(r#"t."scheduleId" = $"#, filter.schedule_id.as_deref());
    statement.and(r#"t."isTest" = $"#, attributes.is_test);
    statement.and(r#"t.queue = ANY($)"#, any_of(&attributes.queues));
    // The region a run displays: its own when set, else its worker queue without the suffix.
    statement.and(
        r#"CASE WHEN t.region <> '' THEN t.region ELSE split_part(t."masterQueue", ':', 1) END = ANY($)"#,
        any_of(&attributes.regions),
    );
    statement.and(
        r#"t."machinePreset" = ANY($)"#,
        any_of(&attributes.machines),
    );
    statement.and(
        r#"$ = ANY(t."bulkActionGroupIds")"#,
        attributes.bulk_action_id.as_deref(),
    );
    statement
}

/// The statement [`PgRunStore::list_runs`] sends for `query`, for plan checks. Its parameters are
/// numbered in this order: environment, window start (when set), window end, cursor createdAt and
/// id (when set), each filter that is set in the order `statement` above ANDs them, limit.
pub fn list_runs_sql(query: &RunListQuery) -> String {
    statement(query).into_sql()
}

const LIST_RUNS: Statement = Statement {
    name: "list_runs",
    operation: "SELECT",
    summary: "SELECT TaskRun",
};

impl PgRunStore {
    /// One keyset page of the environment's runs in this store, in scan order.
    pub(crate) async fn list_runs(&self, query: &RunListQuery) -> Result<Vec<ListedRun>> {
        let mut lease = self.lease(&LIST_RUNS).await?;
        let rows = statement(query).fetch_rows(lease.connection()).await;
        lease
            .finish(rows)?
            .into_iter()
            .map(ListedRun::try_from)
            .collect::<Result<_, _>>()
            .map_err(|error| map_error(self.dependency(), error))
    }
}

/// A listed run with only its place in the keyset order read. In split mode each store reads a
/// whole page and the merge keeps one page of the two, so the other runs' columns are never
/// decoded: decoding is the largest part of runview's CPU per ListRuns call.
pub(crate) struct ListedRun {
    created_at: DateTime<Utc>,
    id: String,
    row: PgRow,
}

impl ListedRun {
    pub(crate) fn decode(self) -> Result<RunRecord> {
        let row = RunRow::from_row(&self.row)
            .map_err(|error| Error::Internal(format!("listed run {}: {error}", self.id)))?;
        RunRecord::try_from(row)
    }
}

impl TryFrom<PgRow> for ListedRun {
    type Error = sqlx::Error;

    fn try_from(row: PgRow) -> Result<Self, sqlx::Error> {
        let created_at: NaiveDateTime = row.try_get("created_at")?;
        Ok(Self {
            created_at: created_at.and_utc(),
            id: row.try_get("id")?,
            row,
        })
    }
}

impl Keyed for ListedRun {
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    fn id(&self) -> &str {
        &self.id
    }
}
