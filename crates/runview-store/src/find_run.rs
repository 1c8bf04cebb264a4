//! GetRun's primary query: a run and its relations from one run-ops store, in one statement, for
//! one lookup or for many coalesced ones.

use runview_core::ids::Residency;
use runview_core::ports::RunLookup;
use runview_core::run::{RunGraph, RunRecord};
use runview_core::{Error, Result};
use runview_pg::Statement;

use crate::coalesce::{Lookup, rows_by_lookup};
use crate::run_row::{RunRow, run_columns};
use crate::store::PgRunStore;

/// The columns only the run asked for carries, from its `related.relation` and the run `t`, with
/// packet bodies when `$bodies`: related runs are shown without them, and bodies can be large.
macro_rules! asked_run_columns {
    ($bodies:literal) => {
        concat!(
            r#"
    CASE WHEN "#,
            $bodies,
            r#" AND related.relation = 'run' THEN t.payload END AS payload,
    CASE WHEN "#,
            $bodies,
            r#" AND related.relation = 'run' THEN t.output END AS output,
    CASE WHEN related.relation = 'run' THEN t.error END AS error,
    CASE WHEN related.relation = 'run' AND t.engine = 'V1' THEN (
        SELECT count(*)::int FROM "TaskRunAttempt" a WHERE a."taskRunId" = t.id
    ) END AS attempt_rows"#
        )
    };
}

/// The statement GetRun runs against a store, public for plan checks and benchmarks.
///
/// `$1` run id, `$2` environment id, `$3` read packet bodies, `$4` children to read (the cap plus
/// one, so an extra row says the children were truncated).
///
/// `related` names the rows to return; the final join reads each of them once by primary key and
/// keeps every row inside the environment. Children are only looked for when the run itself is
/// there, so a miss costs one index probe. Bodies, the error and the attempt count of a V1 run are
/// read for the run itself only.
pub const FIND_RUN_SQL: &str = concat!(
    r#"
WITH run AS MATERIALIZED (
    SELECT id, "parentTaskRunId", "rootTaskRunId"
    FROM "TaskRun"
    WHERE id = $1 AND "runtimeEnvironmentId" = $2
),
related (relation, id) AS (
    SELECT 'run', id FROM run
    UNION ALL
    SELECT 'parent', "parentTaskRunId" FROM run WHERE "parentTaskRunId" IS NOT NULL
    UNION ALL
    SELECT 'root', "rootTaskRunId" FROM run WHERE "rootTaskRunId" IS NOT NULL
    UNION ALL
    (
        SELECT 'child', child.id
        FROM "TaskRun" child
        WHERE child."parentTaskRunId" = $1
          AND child."runtimeEnvironmentId" = $2
          AND EXISTS (SELECT FROM run)
        ORDER BY child."createdAt", child.id
        LIMIT $4
    )
)
SELECT
    related.relation,"#,
    run_columns!(),
    ",",
    asked_run_columns!("$3"),
    r#"
FROM related
JOIN "TaskRun" t ON t.id = related.id AND t."runtimeEnvironmentId" = $2
ORDER BY t."createdAt", t.id
"#
);

/// [`FIND_RUN_SQL`] for many lookups at once, public for plan checks and benchmarks: the same
/// rows for each lookup, numbered by its place in the arrays (`asked`, from 1).
///
/// `$1` run ids, `$2` environment ids, `$3` read packet bodies, `$4` children to read: one
/// element per lookup, each lookup scoped to its own environment, cap and bodies alone. Each
/// run is one primary-key probe and its children one capped index walk (LATERAL), as in the
/// statement of one lookup.
///
/// The arrays reach the planner as scalar subqueries: PostgreSQL sees a literal array's length,
/// and a plan for a batch of two always looks cheaper than the generic plan, which assumes ten,
/// so it would plan this statement again on every execution (about 0.4 ms, more than running
/// it). Hidden, every plan costs the same, and the generic one is kept after five executions.
pub const FIND_RUNS_SQL: &str = concat!(
    r#"
WITH run AS MATERIALIZED (
    SELECT asked.ord, asked.environment_id, asked.bodies, asked.children,
           t.id, t."parentTaskRunId", t."rootTaskRunId"
    FROM unnest((SELECT $1::text[]), (SELECT $2::text[]), (SELECT $3::bool[]), (SELECT $4::int8[]))
        WITH ORDINALITY AS asked (id, environment_id, bodies, children, ord)
    JOIN "TaskRun" t ON t.id = asked.id AND t."runtimeEnvironmentId" = asked.environment_id
),
related (asked, relation, id, environment_id, bodies) AS (
    SELECT ord, 'run', id, environment_id, bodies FROM run
    UNION ALL
    SELECT ord, 'parent', "parentTaskRunId", environment_id, bodies
    FROM run WHERE "parentTaskRunId" IS NOT NULL
    UNION ALL
    SELECT ord, 'root', "rootTaskRunId", environment_id, bodies
    FROM run WHERE "rootTaskRunId" IS NOT NULL
    UNION ALL
    SELECT run.ord, 'child', child.id, run.environment_id, run.bodies
    FROM run
    CROSS JOIN LATERAL (
        SELECT child.id
        FROM "TaskRun" child
        WHERE child."parentTaskRunId" = run.id
          AND child."runtimeEnvironmentId" = run.environment_id
        ORDER BY child."createdAt", child.id
        LIMIT run.children
    ) child
)
SELECT
    related.asked,
    related.relation,"#,
    run_columns!(),
    ",",
    asked_run_columns!("related.bodies"),
    r#"
FROM related
JOIN "TaskRun" t ON t.id = related.id AND t."runtimeEnvironmentId" = related.environment_id
ORDER BY related.asked, t."createdAt", t.id
"#
);

/// One row of [`FIND_RUN_SQL`]: a run and how it relates to the one asked for.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RelatedRunRow {
    relation: String,
    #[sqlx(flatten)]
    run: RunRow,
}

/// Builds the graph from the rows of [`FIND_RUN_SQL`]; no row for the run itself means a miss.
pub(crate) fn assemble(
    rows: Vec<RelatedRunRow>,
    children_limit: u32,
    store: Residency,
) -> Result<Option<RunGraph>> {
    let mut run = None;
    let mut parent = None;
    let mut root = None;
    let mut children = Vec::with_capacity(rows.len());
    for row in rows {
        let record = RunRecord::try_from(row.run)?;
        match row.relation.as_str() {
            "run" => run = Some(record),
            "parent" => parent = Some(record),
            "root" => root = Some(record),
            "child" => children.push(record),
            other => return Err(Error::Internal(format!("unknown run relation `{other}`"))),
        }
    }
    let Some(run) = run else {
        return Ok(None);
    };
    // The rows come ordered by createdAt, so the children beyond the cap are the newest.
    let cap = usize::try_from(children_limit).unwrap_or(usize::MAX);
    let children_truncated = children.len() > cap;
    children.truncate(cap);
    Ok(Some(RunGraph {
        run,
        parent,
        root,
        children,
        children_truncated,
        store,
    }))
}

const FIND_RUN: Statement = Statement {
    name: "find_run",
    operation: "SELECT",
    summary: "SELECT TaskRun TaskRunAttempt",
};

/// One row of [`FIND_RUNS_SQL`]: a row of [`FIND_RUN_SQL`] and the lookup it answers.
#[derive(Debug, sqlx::FromRow)]
struct AskedRunRow {
    /// The lookup's place in the arrays, from 1.
    asked: i64,
    #[sqlx(flatten)]
    related: RelatedRunRow,
}

/// GetRun's lookup of a run in a store.
pub(crate) struct FindRun;

impl Lookup for FindRun {
    type Key = RunLookup;
    type Answer = Option<RunGraph>;
    const RECORD: &'static str = "run";

    async fn one(store: &PgRunStore, lookup: &RunLookup) -> Result<Option<RunGraph>> {
        let mut lease = store.lease(&FIND_RUN).await?;
        // A `&'static str` statement is prepared once per connection and then reused by sqlx.
        let rows = sqlx::query_as(FIND_RUN_SQL)
            .bind(lookup.run_id.as_str())
            .bind(lookup.environment_id.as_str())
            .bind(lookup.include_bodies)
            .bind(children_to_read(lookup))
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<RelatedRunRow> = lease.finish(rows)?;
        assemble(rows, lookup.children_limit, store.residency())
    }

    async fn many(
        store: &PgRunStore,
        lookups: &[RunLookup],
    ) -> Result<Vec<Result<Option<RunGraph>>>> {
        let mut lease = store.lease(&FIND_RUN).await?;
        let column = |of: fn(&RunLookup) -> &str| lookups.iter().map(of).collect::<Vec<_>>();
        let rows = sqlx::query_as(FIND_RUNS_SQL)
            .bind(column(|lookup| lookup.run_id.as_str()))
            .bind(column(|lookup| lookup.environment_id.as_str()))
            .bind(
                lookups
                    .iter()
                    .map(|lookup| lookup.include_bodies)
                    .collect::<Vec<_>>(),
            )
            .bind(lookups.iter().map(children_to_read).collect::<Vec<_>>())
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<AskedRunRow> = lease.finish(rows)?;
        let rows = rows_by_lookup(
            lookups.len(),
            rows.into_iter().map(|row| (row.asked, row.related)),
        )?;
        Ok(rows
            .into_iter()
            .zip(lookups)
            .map(|(rows, lookup)| assemble(rows, lookup.children_limit, store.residency()))
            .collect())
    }
}

/// The cap plus one, so an extra row says the children were truncated.
fn children_to_read(lookup: &RunLookup) -> i64 {
    i64::from(lookup.children_limit) + 1
}

impl PgRunStore {
    /// The run inside its environment with its parent, root and first children, or `None` when
    /// this store does not hold it there.
    pub async fn find_run(&self, lookup: &RunLookup) -> Result<Option<RunGraph>> {
        self.lookups().runs.look_up(self, lookup).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_row::fixtures::row;

    fn related(relation: &str, id: &str) -> RelatedRunRow {
        RelatedRunRow {
            relation: relation.to_owned(),
            run: row(id),
        }
    }

    #[test]
    fn no_row_for_the_run_itself_is_a_miss() {
        assert_eq!(assemble(Vec::new(), 3, Residency::New), Ok(None));
    }

    #[test]
    fn the_extra_child_is_cut_and_flags_truncation() {
        let rows = vec![
            related("run", "r"),
            related("child", "c1"),
            related("child", "c2"),
            related("child", "c3"),
        ];
        let graph = assemble(rows, 2, Residency::Legacy).ok().flatten();
        let children: Option<Vec<&str>> = graph
            .as_ref()
            .map(|g| g.children.iter().map(|c| c.id.as_str()).collect());
        assert_eq!(children, Some(vec!["c1", "c2"]));
        assert_eq!(
            graph.map(|g| (g.children_truncated, g.store)),
            Some((true, Residency::Legacy))
        );
    }

    #[test]
    fn an_unknown_relation_is_an_internal_error() {
        let rows = vec![related("run", "r"), related("cousin", "c")];
        assert!(matches!(
            assemble(rows, 3, Residency::New),
            Err(Error::Internal(_))
        ));
    }
}
