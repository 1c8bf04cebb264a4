//! GetWaitpoint's primary query against one store: the waitpoint with the runs connected to it
//! there, and the runs connected to it in a store that does not hold it. Connections live in the
//! store of the run they connect, so a waitpoint's runs may be spread over both stores. Each is
//! looked up alone or with other coalesced lookups (`waitpoint_sql`).

use chrono::NaiveDateTime;
use runview_core::ids::{EnvironmentId, RunId, WaitpointId};
use runview_core::waitpoint::{ConnectedRun, MAX_CONNECTED_RUNS, WaitpointRecord, WaitpointType};
use runview_core::{Error, Result};

use crate::coalesce::{Lookup, rows_by_lookup};
use crate::store::PgRunStore;
use crate::waitpoint_sql::statements;

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
            .map(|(id, created_at)| connected_run(id, created_at))
            .collect();
        row.columns.into_record(row.output, connected_runs)
    }
}

fn connected_runs_limit() -> i64 {
    i64::try_from(MAX_CONNECTED_RUNS).unwrap_or(i64::MAX)
}

/// One row of a `find_many` statement: a row of `find` and the lookup it answers.
#[derive(Debug, sqlx::FromRow)]
struct AskedWaitpointRow {
    asked: i64,
    #[sqlx(flatten)]
    row: WaitpointRow,
}

fn connected_run(id: String, created_at: NaiveDateTime) -> ConnectedRun {
    ConnectedRun {
        id: RunId::from_stored(id),
        created_at: created_at.and_utc(),
    }
}

/// A waitpoint asked for in its environment.
#[derive(Clone, Debug)]
pub(crate) struct WaitpointLookup {
    environment_id: EnvironmentId,
    waitpoint_id: WaitpointId,
}

impl WaitpointLookup {
    fn new(environment_id: &EnvironmentId, waitpoint_id: &WaitpointId) -> Self {
        Self {
            environment_id: environment_id.clone(),
            waitpoint_id: waitpoint_id.clone(),
        }
    }
}

/// The arrays of a statement for many lookups: waitpoint ids, then environment ids.
fn asked_arrays(lookups: &[WaitpointLookup]) -> (Vec<&str>, Vec<&str>) {
    lookups
        .iter()
        .map(|lookup| (lookup.waitpoint_id.as_str(), lookup.environment_id.as_str()))
        .unzip()
}

/// GetWaitpoint's lookup of a waitpoint, with its connected runs, in the store that holds it.
pub(crate) struct FindWaitpoint;

impl Lookup for FindWaitpoint {
    type Key = WaitpointLookup;
    type Answer = Option<WaitpointRecord>;
    const RECORD: &'static str = "waitpoint";

    async fn one(store: &PgRunStore, lookup: &WaitpointLookup) -> Result<Self::Answer> {
        let statements = statements(store.residency());
        let mut lease = store.lease(&statements.find).await?;
        let row = sqlx::query_as(statements.find_sql)
            .bind(lookup.waitpoint_id.as_str())
            .bind(lookup.environment_id.as_str())
            .bind(connected_runs_limit())
            .fetch_optional(lease.connection())
            .await;
        let row: Option<WaitpointRow> = lease.finish(row)?;
        row.map(WaitpointRecord::try_from).transpose()
    }

    async fn many(
        store: &PgRunStore,
        lookups: &[WaitpointLookup],
    ) -> Result<Vec<Result<Self::Answer>>> {
        let (waitpoint_ids, environment_ids) = asked_arrays(lookups);
        let statements = statements(store.residency());
        let mut lease = store.lease(&statements.find).await?;
        let rows = sqlx::query_as(statements.find_many_sql)
            .bind(waitpoint_ids)
            .bind(environment_ids)
            .bind(connected_runs_limit())
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<AskedWaitpointRow> = lease.finish(rows)?;
        let rows = rows_by_lookup(
            lookups.len(),
            rows.into_iter().map(|row| (row.asked, row.row)),
        )?;
        // A waitpoint id is its primary key: one row at most per lookup.
        Ok(rows
            .into_iter()
            .map(|rows| {
                rows.into_iter()
                    .next()
                    .map(WaitpointRecord::try_from)
                    .transpose()
            })
            .collect())
    }
}

/// The runs connected to a waitpoint in a store that does not hold it.
pub(crate) struct ConnectedRuns;

impl Lookup for ConnectedRuns {
    type Key = WaitpointLookup;
    type Answer = Vec<ConnectedRun>;
    const RECORD: &'static str = "connected_runs";

    async fn one(store: &PgRunStore, lookup: &WaitpointLookup) -> Result<Self::Answer> {
        let statements = statements(store.residency());
        let mut lease = store.lease(&statements.connected_runs).await?;
        let rows = sqlx::query_as(statements.connected_runs_sql)
            .bind(lookup.waitpoint_id.as_str())
            .bind(lookup.environment_id.as_str())
            .bind(connected_runs_limit())
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<(String, NaiveDateTime)> = lease.finish(rows)?;
        Ok(rows
            .into_iter()
            .map(|(id, created_at)| connected_run(id, created_at))
            .collect())
    }

    async fn many(
        store: &PgRunStore,
        lookups: &[WaitpointLookup],
    ) -> Result<Vec<Result<Self::Answer>>> {
        let (waitpoint_ids, environment_ids) = asked_arrays(lookups);
        let statements = statements(store.residency());
        let mut lease = store.lease(&statements.connected_runs).await?;
        let rows = sqlx::query_as(statements.connected_runs_many_sql)
            .bind(waitpoint_ids)
            .bind(environment_ids)
            .bind(connected_runs_limit())
            .fetch_all(lease.connection())
            .await;
        let rows: Vec<(i64, String, NaiveDateTime)> = lease.finish(rows)?;
        let rows = rows_by_lookup(
            lookups.len(),
            rows.into_iter()
                .map(|(asked, id, created_at)| (asked, connected_run(id, created_at))),
        )?;
        Ok(rows.into_iter().map(Ok).collect())
    }
}

impl PgRunStore {
    /// The waitpoint inside its environment with the runs connected to it in this store, or
    /// `None` when this store does not hold it there.
    pub(crate) async fn find_waitpoint(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> Result<Option<WaitpointRecord>> {
        let lookup = WaitpointLookup::new(environment_id, waitpoint_id);
        self.lookups().waitpoints.look_up(self, &lookup).await
    }

    /// The most recent runs of the environment connected to the waitpoint in this store.
    pub(crate) async fn connected_runs(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> Result<Vec<ConnectedRun>> {
        let lookup = WaitpointLookup::new(environment_id, waitpoint_id);
        self.lookups().connected_runs.look_up(self, &lookup).await
    }
}
