//! GetWaitpoint's primary query against one store: the waitpoint with the runs connected to it
//! there, and the runs connected to it in a store that does not hold it. Connections live in the
//! store of the run they connect, so a waitpoint's runs may be spread over both stores.

use chrono::NaiveDateTime;
use runview_core::ids::{EnvironmentId, Residency, RunId, WaitpointId};
use runview_core::waitpoint::{ConnectedRun, MAX_CONNECTED_RUNS, WaitpointRecord, WaitpointType};
use runview_core::{Error, Result};
use runview_pg::Statement;

use crate::store::PgRunStore;

/// The most recent runs connected to waitpoint `$1` among the runs of environment `$2`, at most
/// `$3`, newest first (ids compared byte by byte on a tie, as the stores' answers are merged).
/// `$table` connects run `$run` to waitpoint `$waitpoint`: the two stores name it differently.
macro_rules! connected_runs_sql {
    ($table:literal, $run:literal, $waitpoint:literal) => {
        concat!(
            r#"
    SELECT r.id, r."createdAt" AS created_at
    FROM "#,
            $table,
            r#" c
    JOIN "TaskRun" r ON r.id = c."#,
            $run,
            r#" AND r."runtimeEnvironmentId" = $2
    WHERE c."#,
            $waitpoint,
            r#" = $1
    ORDER BY r."createdAt" DESC, r.id COLLATE "C" DESC
    LIMIT $3"#
        )
    };
}

/// LEGACY keeps connections in the upstream ORM's implicit many-to-many table: "A" is the run,
/// "B" the waitpoint.
macro_rules! legacy_connected_runs_sql {
    () => {
        connected_runs_sql!(r#""_WaitpointRunConnections""#, r#""A""#, r#""B""#)
    };
}

/// NEW has a table of its own for them.
macro_rules! new_connected_runs_sql {
    () => {
        connected_runs_sql!(
            r#""WaitpointRunConnection""#,
            r#""taskRunId""#,
            r#""waitpointId""#
        )
    };
}

/// `$1` waitpoint id, `$2` environment id, `$3` connected runs to read, with the connected runs
/// of this store from `$connected`. The connected runs are only read when the waitpoint is found.
macro_rules! find_waitpoint_sql {
    ($connected:expr) => {
        concat!(
            r#"
SELECT
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
FROM "Waitpoint" w
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
WHERE w.id = $1 AND w."environmentId" = $2
"#
        )
    };
}

/// The statements of one store, which differ in where it keeps connections.
struct WaitpointStatements {
    find_sql: &'static str,
    find: Statement,
    connected_runs_sql: &'static str,
    connected_runs: Statement,
}

const LEGACY: WaitpointStatements = WaitpointStatements {
    find_sql: find_waitpoint_sql!(legacy_connected_runs_sql!()),
    find: Statement {
        name: "find_waitpoint",
        operation: "SELECT",
        summary: "SELECT Waitpoint _WaitpointRunConnections TaskRun",
    },
    connected_runs_sql: legacy_connected_runs_sql!(),
    connected_runs: Statement {
        name: "connected_runs",
        operation: "SELECT",
        summary: "SELECT _WaitpointRunConnections TaskRun",
    },
};

const NEW: WaitpointStatements = WaitpointStatements {
    find_sql: find_waitpoint_sql!(new_connected_runs_sql!()),
    find: Statement {
        name: "find_waitpoint",
        operation: "SELECT",
        summary: "SELECT Waitpoint WaitpointRunConnection TaskRun",
    },
    connected_runs_sql: new_connected_runs_sql!(),
    connected_runs: Statement {
        name: "connected_runs",
        operation: "SELECT",
        summary: "SELECT WaitpointRunConnection TaskRun",
    },
};

fn statements(store: Residency) -> &'static WaitpointStatements {
    match store {
        Residency::Legacy => &LEGACY,
        Residency::New => &NEW,
    }
}

/// The columns every waitpoint statement reads; `type::text` and `status::text`, as labels keep
/// the decoding independent of the enum oids.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WaitpointColumns {
    id: String,
    waitpoint_type: String,
    status: String,
    environment_id: String,
    idempotency_key: String,
    user_provided_idempotency_key: bool,
    idempotency_key_expires_at: Option<NaiveDateTime>,
    inactive_idempotency_key: Option<String>,
    completed_after: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    output_type: String,
    output_is_error: bool,
    /// NULL for a token created without tags.
    tags: Option<Vec<String>>,
    created_at: NaiveDateTime,
}

impl WaitpointColumns {
    pub(crate) fn into_record(
        self,
        output: Option<String>,
        connected_runs: Vec<ConnectedRun>,
    ) -> Result<WaitpointRecord> {
        let waitpoint_type = WaitpointType::from_label(&self.waitpoint_type).ok_or_else(|| {
            Error::Internal(format!("unknown waitpoint type `{}`", self.waitpoint_type))
        })?;
        let completed = match self.status.as_str() {
            "PENDING" => false,
            "COMPLETED" => true,
            other => {
                return Err(Error::Internal(format!(
                    "unknown waitpoint status `{other}`"
                )));
            }
        };
        Ok(WaitpointRecord {
            id: WaitpointId::from_stored(self.id),
            waitpoint_type,
            completed,
            environment_id: self.environment_id,
            idempotency_key: self.idempotency_key,
            user_provided_idempotency_key: self.user_provided_idempotency_key,
            idempotency_key_expires_at: self.idempotency_key_expires_at.map(|at| at.and_utc()),
            inactive_idempotency_key: self.inactive_idempotency_key,
            completed_after: self.completed_after.map(|at| at.and_utc()),
            completed_at: self.completed_at.map(|at| at.and_utc()),
            output,
            output_type: self.output_type,
            output_is_error: self.output_is_error,
            tags: self.tags.unwrap_or_default(),
            created_at: self.created_at.and_utc(),
            connected_runs,
        })
    }
}

/// One row of the find statements.
#[derive(Debug, sqlx::FromRow)]
struct WaitpointRow {
    #[sqlx(flatten)]
    columns: WaitpointColumns,
    output: Option<String>,
    connected_run_ids: Vec<String>,
    connected_run_created_at: Vec<NaiveDateTime>,
}

impl TryFrom<WaitpointRow> for WaitpointRecord {
    type Error = Error;

    fn try_from(row: WaitpointRow) -> Result<Self> {
        let connected_runs = row
            .connected_run_ids
            .into_iter()
            .zip(row.connected_run_created_at)
            .map(|(id, created_at)| ConnectedRun {
                id: RunId::from_stored(id),
                created_at: created_at.and_utc(),
            })
            .collect();
        row.columns.into_record(row.output, connected_runs)
    }
}

fn connected_runs_limit() -> i64 {
    i64::try_from(MAX_CONNECTED_RUNS).unwrap_or(i64::MAX)
}

impl PgRunStore {
    /// The waitpoint inside its environment with the runs connected to it in this store, or
    /// `None` when this store does not hold it there.
    pub(crate) async fn find_waitpoint(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> Result<Option<WaitpointRecord>> {
        let statements = statements(self.residency());
        let mut lease = self.lease(&statements.find).await?;
        let row = sqlx::query_as(statements.find_sql)
            .bind(waitpoint_id.as_str())
            .bind(environment_id.as_str())
            .bind(connected_runs_limit())
            .fetch_optional(lease.connection())
            .await;
        let row: Option<WaitpointRow> = lease.finish(row)?;
        row.map(WaitpointRecord::try_from).transpose()
    }

    /// The most recent runs of the environment connected to the waitpoint in this store.
    pub(crate) async fn connected_runs(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> Result<Vec<ConnectedRun>> {
        let statements = statements(self.residency());
        let mut lease = self.lease(&statements.connected_runs).await?;
        let rows = sqlx::query_as(statements.connected_runs_sql)
            .bind(waitpoint_id.as_str())
            .bind(environment_id.as_str())
            .bind(connected_runs_limit())
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<(String, NaiveDateTime)> = lease.finish(rows)?;
        Ok(rows
            .into_iter()
            .map(|(id, created_at)| ConnectedRun {
                id: RunId::from_stored(id),
                created_at: created_at.and_utc(),
            })
            .collect())
    }
}
