//! ListRuns' primary query: a keyset page of an environment's runs in one store, filtered.

use chrono::{DateTime, NaiveDateTime, Utc};
use runview_core::filter::RunListQuery;
use runview_core::page::Scan;
use runview_core::run::RunRecord;
use runview_core::status::TaskRunStatus;
use runview_core::{Error, Result};
use runview_pg::{Statement, map_error};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, Row};

use crate::keyset::{KeysetStatement, any_of};
use crate::merge::Keyed;
use crate::run_row::{RunRow, run_columns};
use crate::store::PgRunStore;

/// Packet bodies and the error are not read: a list shows neither.
const RUN_COLUMNS: &str = run_columns!();

/// Which of a query's filters a statement applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filters {
    All,
    /// Those an upstream index serves from the environment: task identifiers (the unique
    /// ("runtimeEnvironmentId", "taskIdentifier", "idempotencyKey")), tags (the GIN on "runTags")
    /// and the batch (("runtimeEnvironmentId", "batchId")).
    Indexed,
}

fn statement(query: &RunListQuery) -> KeysetStatement<'_> {
    statement_with(query, Filters::All, BudgetShares::of(query).walk)
}

/// How one call shares its scan budget, so that the call as a whole examines at most the budget
/// in each store. Without a filter an index serves, the walk has all of it. With one, a value
/// that matches at most `rare` runs is read through its index: a count of up to `rare + 1`
/// rows, then a page of at most `rare` rows; the walk that comes first has what is left.
struct BudgetShares {
    walk: usize,
    rare: usize,
}

impl BudgetShares {
    fn of(query: &RunListQuery) -> Self {
        let budget = query.scan_budget;
        if !statement_with(query, Filters::Indexed, budget).is_filtered() {
            return Self {
                walk: budget,
                rare: 0,
            };
        }
        let rare = (budget / 4).max(1);
        Self {
            walk: budget.saturating_sub(2 * (rare + 1)).max(1),
            rare,
        }
    }
}

/// Every filter is ANDed; `$` is the filter's value. A filtered statement walks at most
/// `walk_budget` rows.
fn statement_with(
    query: &RunListQuery,
    filters: Filters,
    walk_budget: usize,
) -> KeysetStatement<'_> {
    let filter = &query.filter;
    let attributes = &filter.attributes;
    let all = filters == Filters::All;
    let mut statement = KeysetStatement::new(
        RUN_COLUMNS,
        r#""TaskRun""#,
        &query.environment_id,
        filter.window,
        &query.page,
        walk_budget,
    );
    let statuses: Vec<&str> = filter
        .statuses
        .iter()
        .copied()
        .map(TaskRunStatus::as_str)
        .collect();
    statement.and(
        r#"t.status = ANY($::"TaskRunStatus"[])"#,
        any_of(statuses).filter(|_| all),
    );
    statement.and(
        r#"t."taskIdentifier" = ANY($)"#,
        any_of(&attributes.task_identifiers),
    );
    statement.and(
        r#"t."taskVersion" = ANY($)"#,
        any_of(&attributes.versions).filter(|_| all),
    );
    statement.and(r#"t."runTags" && $"#, any_of(&attributes.tags));
    statement.and(r#"t."batchId" = $"#, filter.batch_id.as_deref());
    statement.and(
        r#"t."scheduleId" = $"#,
        filter.schedule_id.as_deref().filter(|_| all),
    );
    statement.and(r#"t."isTest" = $"#, attributes.is_test.filter(|_| all));
    statement.and(
        r#"t.queue = ANY($)"#,
        any_of(&attributes.queues).filter(|_| all),
    );
    // The region a run displays: its own when set, else its worker queue without the suffix.
    statement.and(
        r#"CASE WHEN t.region <> '' THEN t.region ELSE split_part(t."masterQueue", ':', 1) END = ANY($)"#,
        any_of(&attributes.regions).filter(|_| all),
    );
    statement.and(
        r#"t."machinePreset" = ANY($)"#,
        any_of(&attributes.machines).filter(|_| all),
    );
    statement.and(
        r#"$ = ANY(t."bulkActionGroupIds")"#,
        attributes.bulk_action_id.as_deref().filter(|_| all),
    );
    statement
}

/// The statement [`PgRunStore::list_runs`] sends for `query`, for plan checks. Its parameters are
/// numbered in this order: environment, window start (when set), window end, cursor createdAt and
/// id (when set), each filter that is set in the order `statement` above ANDs them, limit.
pub fn list_runs_sql(query: &RunListQuery) -> String {
    statement(query).into_sql()
}

/// The statements [`PgRunStore::list_runs`] sends for `query` when its walk stopped short of a
/// page, for plan checks: the count of the runs beyond the cursor that the filters an index
/// serves match, then the page read without the walk's limit. `None` when no such filter is set.
///
/// The count's parameters are numbered as [`list_runs_sql`]'s, those filters only, and the
/// count's limit (a quarter of the budget plus one, see `BudgetShares`) last; the page's are
/// numbered as [`list_runs_sql`]'s.
pub fn list_runs_indexed_sql(query: &RunListQuery) -> Option<(String, String)> {
    let shares = BudgetShares::of(query);
    let indexed = statement_with(query, Filters::Indexed, shares.walk);
    indexed.is_filtered().then(|| {
        (
            indexed.into_count_sql(shares.rare + 1),
            statement(query).unbudgeted().into_sql(),
        )
    })
}

const LIST_RUNS: Statement = Statement {
    name: "list_runs",
    operation: "SELECT",
    summary: "SELECT TaskRun",
};

/// [`PgRunStore::page_through_an_index`]: how many runs the indexed filters match, then the page.
const COUNT_INDEXED_RUNS: Statement = Statement {
    name: "count_indexed_runs",
    operation: "SELECT",
    summary: "SELECT TaskRun",
};
const LIST_RUNS_INDEXED: Statement = Statement {
    name: "list_runs_indexed",
    operation: "SELECT",
    summary: "SELECT TaskRun",
};

impl PgRunStore {
    /// One keyset page of the environment's runs in this store, in scan order.
    pub(crate) async fn list_runs(&self, query: &RunListQuery) -> Result<Scan<ListedRun>> {
        let mut scan = self
            .scan_keyset(&LIST_RUNS, statement(query), &query.page)
            .await?;
        if scan.stopped_at.is_some()
            && let Some(rows) = self.page_through_an_index(query).await?
        {
            scan = Scan::complete(rows);
        }
        let rows = scan
            .rows
            .into_iter()
            .map(ListedRun::try_from)
            .collect::<Result<_, _>>()
            .map_err(|error| map_error(self.dependency(), error))?;
        Ok(Scan {
            rows,
            stopped_at: scan.stopped_at,
        })
    }
}

impl PgRunStore {
    /// A walk that stopped early may have been looking for a rare value an index serves (a
    /// tag, a task, a batch): when those filters match at most [`BudgetShares`]' `rare` runs
    /// beyond the cursor, the whole page is read through that index instead, so a rare value
    /// still fills its page in one call. PostgreSQL picks the index for such a value by itself:
    /// the count proved it is rare here, and each statement reads at most its share.
    async fn page_through_an_index(&self, query: &RunListQuery) -> Result<Option<Vec<PgRow>>> {
        let shares = BudgetShares::of(query);
        let indexed = statement_with(query, Filters::Indexed, shares.walk);
        if !indexed.is_filtered() {
            return Ok(None);
        }
        let mut lease = self.lease(&COUNT_INDEXED_RUNS).await?;
        let rows = async {
            let matching = indexed
                .count_up_to(shares.rare + 1, lease.connection())
                .await?;
            if matching > shares.rare {
                return Ok(None);
            }
            let page = statement(query).unbudgeted();
            page.fetch_rows(lease.next(&LIST_RUNS_INDEXED))
                .await
                .map(Some)
        }
        .await;
        lease.finish(rows)
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
