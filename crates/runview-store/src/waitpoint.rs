//! GetWaitpoint's primary query against one store: the waitpoint with the runs connected to it
//! there, and the runs connected to it in a store that does not hold it. Connections live in the
//! store of the run they connect, so a waitpoint's runs may be spread over both stores.

use chrono::NaiveDateTime;
use runview_core::ids::{EnvironmentId, RunId, WaitpointId};
use runview_core::waitpoint::{MAX_CONNECTED_RUNS, WaitpointRecord, WaitpointType};
use runview_core::{Error, Result};

use crate::store::PgRunStore;

/// The runs connected to waitpoint `$1` among the runs of environment `$2`, at most `$3`, in id
/// order compared byte by byte, as the stores' answers are merged.
macro_rules! connected_runs_sql {
    () => {
        r#"
    SELECT c."taskRunId"
    FROM "WaitpointRunConnection" c
    JOIN "TaskRun" r ON r.id = c."taskRunId" AND r."runtimeEnvironmentId" = $2
    WHERE c."waitpointId" = $1
    ORDER BY c."taskRunId" COLLATE "C"
    LIMIT $3"#
    };
}

const CONNECTED_RUNS_SQL: &str = connected_runs_sql!();

/// `$1` waitpoint id, `$2` environment id, `$3` connected runs to read. The connected runs are
/// only read when the waitpoint is found.
const FIND_WAITPOINT_SQL: &str = concat!(
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
    ARRAY("#,
    connected_runs_sql!(),
    r#"
    ) AS connected_run_ids
FROM "Waitpoint" w
WHERE w.id = $1 AND w."environmentId" = $2
"#
);

/// One row of [`FIND_WAITPOINT_SQL`].
#[derive(Debug, sqlx::FromRow)]
struct WaitpointRow {
    id: String,
    /// `type::text` and `status::text`: labels keep the decoding independent of the enum oids.
    waitpoint_type: String,
    status: String,
    environment_id: String,
    idempotency_key: String,
    user_provided_idempotency_key: bool,
    idempotency_key_expires_at: Option<NaiveDateTime>,
    inactive_idempotency_key: Option<String>,
    completed_after: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    output: Option<String>,
    output_type: String,
    output_is_error: bool,
    tags: Vec<String>,
    created_at: NaiveDateTime,
    connected_run_ids: Vec<String>,
}

impl TryFrom<WaitpointRow> for WaitpointRecord {
    type Error = Error;

    fn try_from(row: WaitpointRow) -> Result<Self> {
        let waitpoint_type = WaitpointType::from_label(&row.waitpoint_type).ok_or_else(|| {
            Error::Internal(format!("unknown waitpoint type `{}`", row.waitpoint_type))
        })?;
        let completed = match row.status.as_str() {
            "PENDING" => false,
            "COMPLETED" => true,
            other => {
                return Err(Error::Internal(format!(
                    "unknown waitpoint status `{other}`"
                )));
            }
        };
        Ok(Self {
            id: WaitpointId::from_stored(row.id),
            waitpoint_type,
            completed,
            environment_id: row.environment_id,
            idempotency_key: row.idempotency_key,
            user_provided_idempotency_key: row.user_provided_idempotency_key,
            idempotency_key_expires_at: row.idempotency_key_expires_at.map(|at| at.and_utc()),
            inactive_idempotency_key: row.inactive_idempotency_key,
            completed_after: row.completed_after.map(|at| at.and_utc()),
            completed_at: row.completed_at.map(|at| at.and_utc()),
            output: row.output,
            output_type: row.output_type,
            output_is_error: row.output_is_error,
            tags: row.tags,
            created_at: row.created_at.and_utc(),
            connected_run_ids: row
                .connected_run_ids
                .into_iter()
                .map(RunId::from_stored)
                .collect(),
        })
    }
}

/// Adds runs connected in another store, keeping the first [`MAX_CONNECTED_RUNS`] by id.
pub(crate) fn add_connected_runs(waitpoint: &mut WaitpointRecord, more: Vec<RunId>) {
    let runs = &mut waitpoint.connected_run_ids;
    runs.extend(more);
    runs.sort();
    runs.dedup();
    runs.truncate(MAX_CONNECTED_RUNS);
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
        let mut lease = self.lease("find_waitpoint").await?;
        let row = sqlx::query_as(FIND_WAITPOINT_SQL)
            .bind(waitpoint_id.as_str())
            .bind(environment_id.as_str())
            .bind(connected_runs_limit())
            .fetch_optional(lease.connection())
            .await;
        let row: Option<WaitpointRow> = lease.finish(row)?;
        row.map(WaitpointRecord::try_from).transpose()
    }

    /// The runs of the environment connected to the waitpoint in this store.
    pub(crate) async fn connected_run_ids(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> Result<Vec<RunId>> {
        let mut lease = self.lease("connected_runs").await?;
        let ids = sqlx::query_scalar(CONNECTED_RUNS_SQL)
            .bind(waitpoint_id.as_str())
            .bind(environment_id.as_str())
            .bind(connected_runs_limit())
            .fetch_all(lease.connection())
            .await;
        let ids: Vec<String> = lease.finish(ids)?;
        Ok(ids.into_iter().map(RunId::from_stored).collect())
    }
}
