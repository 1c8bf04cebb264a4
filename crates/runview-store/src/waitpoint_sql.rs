//! The statements GetWaitpoint runs against a store, for one waitpoint or for many coalesced
//! lookups. The two stores keep the connections of waitpoints to runs in tables of their own, so
//! each has its own statements, made from the same text.

use runview_core::ids::Residency;
use runview_pg::Statement;

/// The most recent runs connected to waitpoint `$waitpoint_id` among the runs of environment
/// `$environment_id`, at most `$3`, newest first (ids compared byte by byte on a tie, as the
/// stores' answers are merged). `$table` connects run `$run` to waitpoint `$waitpoint`: the two
/// stores name it differently.
macro_rules! connected_runs_sql {
    (
        $table:literal,
        $run:literal,
        $waitpoint:literal,
        $waitpoint_id:literal,
        $environment_id:literal
    ) => {
        concat!(
            r#"
    SELECT r.id, r."createdAt" AS created_at
    FROM "#,
            $table,
            r#" c
    JOIN "TaskRun" r ON r.id = c."#,
            $run,
            r#" AND r."runtimeEnvironmentId" = "#,
            $environment_id,
            r#"
    WHERE c."#,
            $waitpoint,
            " = ",
            $waitpoint_id,
            r#"
    ORDER BY r."createdAt" DESC, r.id COLLATE "C" DESC
    LIMIT $3"#
        )
    };
}

/// LEGACY keeps connections in the upstream ORM's implicit many-to-many table: "A" is the run,
/// "B" the waitpoint.
macro_rules! legacy_connected_runs_sql {
    ($waitpoint_id:literal, $environment_id:literal) => {
        connected_runs_sql!(
            r#""_WaitpointRunConnections""#,
            r#""A""#,
            r#""B""#,
            $waitpoint_id,
            $environment_id
        )
    };
}

/// NEW has a table of its own for them.
macro_rules! new_connected_runs_sql {
    ($waitpoint_id:literal, $environment_id:literal) => {
        connected_runs_sql!(
            r#""WaitpointRunConnection""#,
            r#""taskRunId""#,
            r#""waitpointId""#,
            $waitpoint_id,
            $environment_id
        )
    };
}

/// The lookups of a statement for many: `$1` waitpoint ids and `$2` environment ids, numbered
/// from 1 by their place in the arrays, which reach the planner as scalar subqueries so that the
/// statement keeps its generic plan (see [`crate::FIND_RUNS_SQL`]).
macro_rules! asked_sql {
    () => {
        r#"unnest((SELECT $1::text[]), (SELECT $2::text[])) WITH ORDINALITY AS asked (id, environment_id, ord)"#
    };
}

/// The waitpoints of `$from` that `$where` keeps, each with its connected runs of this store from
/// `$connected`, after the columns `$asked`. The connected runs are only read for a waitpoint
/// found.
macro_rules! find_waitpoint_sql {
    ($asked:literal, $from:expr, $connected:expr, $where:literal) => {
        concat!(
            r#"
SELECT"#,
            $asked,
            r#"
    w.id,
    w.type::text AS waitpoint_type,
    w.status::text AS status,
    w."environmentId" AS environment_id,
    w."idempotencyKey" AS idempotency_key,
    w."userProvidedIdempotencyKey" AS user_provided_idempotency_key,
    w."idempotencyKeyExpiresAt" AS idempotency_key_expires_at,
    w."inactiveIdempotencyKey" AS inactive_idempotency_key,
    w."completedAfter" AS completed_after,
    w."completedAt" AS completed_at,
    w.output,
    w."outputType" AS output_type,
    w."outputIsError" AS output_is_error,
    w.tags,
    w."createdAt" AS created_at,
    connected.run_ids AS connected_run_ids,
    connected.created_at AS connected_run_created_at
FROM "#,
            $from,
            r#"
CROSS JOIN LATERAL (
    SELECT
        coalesce(array_agg(run.id ORDER BY run.created_at DESC, run.id COLLATE "C" DESC), '{}')
            AS run_ids,
        coalesce(array_agg(run.created_at ORDER BY run.created_at DESC, run.id COLLATE "C" DESC), '{}')
            AS created_at
    FROM ("#,
            $connected,
            r#"
    ) run
) connected
"#,
            $where,
            "\n"
        )
    };
}

/// The statements of one store, which differ in where it keeps connections: its
/// `$connected_runs_sql` macro, and `$connections` as span summaries name the table.
macro_rules! waitpoint_statements {
    ($connected_runs_sql:ident, $connections:literal) => {
        WaitpointStatements {
            find_sql: find_waitpoint_sql!(
                "",
                r#""Waitpoint" w"#,
                $connected_runs_sql!("$1", "$2"),
                r#"WHERE w.id = $1 AND w."environmentId" = $2"#
            ),
            find_many_sql: find_waitpoint_sql!(
                "\n    asked.ord AS asked,",
                concat!(
                    asked_sql!(),
                    r#"
JOIN "Waitpoint" w ON w.id = asked.id AND w."environmentId" = asked.environment_id"#
                ),
                $connected_runs_sql!("asked.id", "asked.environment_id"),
                ""
            ),
            find: Statement {
                name: "find_waitpoint",
                operation: "SELECT",
                summary: concat!("SELECT Waitpoint ", $connections, " TaskRun"),
            },
            connected_runs_sql: $connected_runs_sql!("$1", "$2"),
            connected_runs_many_sql: concat!(
                r#"
SELECT asked.ord AS asked, run.id, run.created_at
FROM "#,
                asked_sql!(),
                r#"
CROSS JOIN LATERAL ("#,
                $connected_runs_sql!("asked.id", "asked.environment_id"),
                r#"
) run
ORDER BY asked.ord, run.created_at DESC, run.id COLLATE "C" DESC
"#
            ),
            connected_runs: Statement {
                name: "connected_runs",
                operation: "SELECT",
                summary: concat!("SELECT ", $connections, " TaskRun"),
            },
        }
    };
}

/// The statements of one store. `$3` is always the connected runs to read. A statement for one
/// lookup and its form for many are the same statement to metrics and traces.
pub(crate) struct WaitpointStatements {
    /// The waitpoint `$1` in environment `$2` with its connected runs of this store.
    pub(crate) find_sql: &'static str,
    /// `find_sql` for many waitpoints: `$1` and `$2` are arrays (`asked_sql`).
    pub(crate) find_many_sql: &'static str,
    pub(crate) find: Statement,
    /// The connected runs alone, with the parameters of `find_sql`.
    pub(crate) connected_runs_sql: &'static str,
    /// `connected_runs_sql` for many waitpoints, by lookup.
    pub(crate) connected_runs_many_sql: &'static str,
    pub(crate) connected_runs: Statement,
}

const LEGACY: WaitpointStatements =
    waitpoint_statements!(legacy_connected_runs_sql, "_WaitpointRunConnections");

const NEW: WaitpointStatements =
    waitpoint_statements!(new_connected_runs_sql, "WaitpointRunConnection");

/// The statements coalesced GetWaitpoint lookups send to `store`, for plan checks: the waitpoints
/// with their connected runs, then the connected runs of waitpoints the store does not hold.
/// `$1` waitpoint ids and `$2` environment ids, one element per lookup; `$3` the connected runs
/// to read per waitpoint.
pub fn coalesced_waitpoint_sql(store: Residency) -> [&'static str; 2] {
    let statements = statements(store);
    [statements.find_many_sql, statements.connected_runs_many_sql]
}

pub(crate) fn statements(store: Residency) -> &'static WaitpointStatements {
    match store {
        Residency::Legacy => &LEGACY,
        Residency::New => &NEW,
    }
}
