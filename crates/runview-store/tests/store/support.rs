//! Fresh run-ops databases and compact fixtures.

mod batches;
mod coalescing;
mod lists;
mod plans;
mod waitpoints;
mod walk;
mod warnings;

pub use batches::{NewBatch, NewBatchError, batch, batch_error, insert_bulk_batches};
pub use coalescing::{
    coalesced, one_connection_store, recorder, sample, start_each, started_together,
    uncoalesced_store,
};
pub use lists::{batches_query, no_batch_filter, no_run_filter, runs_query};
pub use plans::{explain_analyzed, explain_generic_and_custom, plan_nodes, scans_of};
pub use waitpoints::{NewWaitpoint, connect, insert_bulk_tokens, new_year, waitpoint};
pub use walk::{PageWalk, walk_to_end};
pub use warnings::record_warnings;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use runview_core::ids::{EnvironmentId, Residency, RunId, mint_cuid_body, mint_runops_body};
use runview_core::ports::RunLookup;
use runview_localdb::Schema;
use runview_localdb::testing::TestDatabase;
use runview_pg::{PoolSettings, lazy_pool};
use runview_store::{Coalescing, PgRunStore, RunOpsTopology, TopologySettings};
use secrecy::SecretString;
use sqlx::PgPool;

pub const ENV: &str = "env_prod";
pub const OTHER_ENV: &str = "env_staging";

/// Nothing listens there, so every connection attempt is refused at once.
pub const CLOSED_PORT_URL: &str = "postgres://postgres@127.0.0.1:1/runops";

/// A legacy-shaped (cuid) id, distinct per `n`.
pub fn cuid(n: u8) -> String {
    mint_cuid_body(1_760_000_000_000 + u64::from(n), [n; 16])
}

/// A run-ops-shaped id, distinct per `n`.
pub fn runops_id(n: u8) -> String {
    mint_runops_body(1_760_000_000_000 + u64::from(n), [n; 9], 'e', '1')
}

/// A fresh database as the store of `residency` has it: LEGACY's holds the upstream's full schema
/// (connections in "_WaitpointRunConnections"), NEW's the run-ops schema ("WaitpointRunConnection").
pub async fn runops_database(residency: Residency) -> TestDatabase {
    let schema = match residency {
        Residency::Legacy => Schema::Full,
        Residency::New => Schema::RunOps,
    };
    TestDatabase::create(&[schema]).await
}

pub fn store_over(database: &TestDatabase, residency: Residency) -> PgRunStore {
    PgRunStore::new(database.pool().clone(), residency)
}

/// Two run-ops databases behind a split topology.
pub struct Split {
    pub legacy: TestDatabase,
    pub new: TestDatabase,
    pub topology: RunOpsTopology,
}

pub async fn split() -> Split {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    let topology = RunOpsTopology::split(
        store_over(&legacy, Residency::Legacy),
        store_over(&new, Residency::New),
    );
    Split {
        legacy,
        new,
        topology,
    }
}

impl Split {
    pub fn pool(&self, store: Residency) -> &PgPool {
        match store {
            Residency::Legacy => self.legacy.pool(),
            Residency::New => self.new.pool(),
        }
    }
}

/// A split whose `down` store refuses every connection.
pub async fn split_with_one_down(down: Residency) -> (TestDatabase, RunOpsTopology) {
    let up = runops_database(down.other()).await;
    let up_store = store_over(&up, down.other());
    let topology = match down {
        Residency::Legacy => RunOpsTopology::split(unreachable_store(Residency::Legacy), up_store),
        Residency::New => RunOpsTopology::split(up_store, unreachable_store(Residency::New)),
    };
    (up, topology)
}

pub fn environment(id: &str) -> EnvironmentId {
    EnvironmentId::parse(id).expect("a valid environment id")
}

/// Pool settings that give up quickly, so failure tests stay fast.
pub fn impatient_pool() -> PoolSettings {
    PoolSettings {
        acquire_timeout: Duration::from_millis(300),
        ..PoolSettings::default()
    }
}

pub fn unreachable_store(residency: Residency) -> PgRunStore {
    let pool = lazy_pool(&SecretString::from(CLOSED_PORT_URL), &impatient_pool())
        .expect("the closed-port URL is valid");
    PgRunStore::new(pool, residency)
}

pub fn topology_settings(legacy_url: &str, new_url: Option<&str>, split: bool) -> TopologySettings {
    TopologySettings {
        legacy_url: SecretString::from(legacy_url),
        new_url: new_url.map(SecretString::from),
        legacy_primary_url: None,
        new_primary_url: None,
        split,
        pool: impatient_pool(),
        coalescing: Coalescing::default(),
    }
}

/// A lookup in [`ENV`] without bodies and with the default cap.
pub fn lookup(id: &str) -> RunLookup {
    RunLookup {
        environment_id: environment(ENV),
        run_id: RunId::from_stored(id),
        include_bodies: false,
        children_limit: 100,
    }
}

/// When a fixture created `created_second` seconds into the test epoch was created.
pub fn created_at(created_second: i32) -> DateTime<Utc> {
    let epoch = NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|day| day.and_hms_opt(0, 0, 0));
    epoch.expect("a valid date").and_utc() + chrono::Duration::seconds(created_second.into())
}

/// One "TaskRun" row; [`run`] fills what a test does not care about.
pub struct NewRun<'a> {
    pub id: &'a str,
    pub environment_id: &'a str,
    pub status: &'a str,
    pub created_second: i32,
    pub parent: Option<&'a str>,
    pub root: Option<&'a str>,
    pub payload: &'a str,
    pub output: Option<&'a str>,
    pub metadata: Option<&'a str>,
    pub error: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub idempotency_key_options: Option<&'a str>,
    pub task_identifier: &'a str,
    pub task_version: Option<&'a str>,
    pub tags: &'a [&'a str],
    pub batch_id: Option<&'a str>,
    pub schedule_id: Option<&'a str>,
    pub is_test: bool,
    pub queue: &'a str,
    pub region: Option<&'a str>,
    pub machine_preset: Option<&'a str>,
    pub bulk_action_ids: &'a [&'a str],
    pub annotations: Option<&'a str>,
    pub engine: &'a str,
    pub attempt_number: Option<i32>,
    pub worker_queue: &'a str,
}

pub fn run(id: &str) -> NewRun<'_> {
    NewRun {
        id,
        environment_id: ENV,
        status: "EXECUTING",
        created_second: 0,
        parent: None,
        root: None,
        payload: r#"{"to":"a@example.com"}"#,
        output: None,
        metadata: None,
        error: None,
        idempotency_key: None,
        idempotency_key_options: None,
        task_identifier: "email/send",
        task_version: None,
        tags: &[],
        batch_id: None,
        schedule_id: None,
        is_test: false,
        queue: "task/email/send",
        region: None,
        machine_preset: None,
        bulk_action_ids: &[],
        annotations: None,
        engine: "V2",
        attempt_number: None,
        worker_queue: "main",
    }
}

impl NewRun<'_> {
    pub async fn insert(&self, pool: &PgPool) {
        sqlx::query(
            r#"
            INSERT INTO "TaskRun" (
                id, "friendlyId", status, "taskIdentifier", "runtimeEnvironmentId", "projectId",
                "createdAt", "parentTaskRunId", "rootTaskRunId", payload, output, metadata, error,
                "idempotencyKey", "idempotencyKeyOptions", "traceId", "spanId", queue, "updatedAt",
                "taskVersion", "runTags", "batchId", "scheduleId", "isTest", region,
                "machinePreset", "bulkActionGroupIds", annotations, engine, "attemptNumber",
                "masterQueue"
            )
            VALUES (
                $1, 'run_' || $1, $2::"TaskRunStatus", $13, $3, 'proj_1',
                timestamp '2026-01-01' + make_interval(secs => $4), $5, $6, $7, $8, $9, $10::jsonb,
                $11, $12::jsonb, 'trace', 'span', $14, now(),
                $15, $16, $17, $18, $19, $20, $21, $22, $23::jsonb, $24::"RunEngineVersion", $25,
                $26
            )
            "#,
        )
        .bind(self.id)
        .bind(self.status)
        .bind(self.environment_id)
        .bind(self.created_second)
        .bind(self.parent)
        .bind(self.root)
        .bind(self.payload)
        .bind(self.output)
        .bind(self.metadata)
        .bind(self.error)
        .bind(self.idempotency_key)
        .bind(self.idempotency_key_options)
        .bind(self.task_identifier)
        .bind(self.queue)
        .bind(self.task_version)
        .bind(array_or_null(self.tags))
        .bind(self.batch_id)
        .bind(self.schedule_id)
        .bind(self.is_test)
        .bind(self.region)
        .bind(self.machine_preset)
        .bind(array_or_null(self.bulk_action_ids))
        .bind(self.annotations)
        .bind(self.engine)
        .bind(self.attempt_number)
        .bind(self.worker_queue)
        .execute(pool)
        .await
        .expect("insert a run");
    }
}

/// `count` "TaskRunAttempt" rows of the run, numbered from 1, as an engine V1 run records them.
pub async fn insert_attempts(pool: &PgPool, run_id: &str, count: i32) {
    sqlx::query(
        r#"
        INSERT INTO "TaskRunAttempt" (
            id, number, "friendlyId", "taskRunId", "backgroundWorkerId", "backgroundWorkerTaskId",
            "runtimeEnvironmentId", "queueId", "updatedAt"
        )
        SELECT $1 || ':' || n, n, 'attempt_' || $1 || n, $1, 'worker_1', 'worker_task_1', $2,
               'queue_1', now()
        FROM generate_series(1, $3) AS n
        "#,
    )
    .bind(run_id)
    .bind(ENV)
    .bind(count)
    .execute(pool)
    .await
    .expect("insert attempts");
}

/// An empty list as the upstream stores it when it has nothing to put there: NULL.
fn array_or_null<'a>(items: &'a [&'a str]) -> Option<&'a [&'a str]> {
    (!items.is_empty()).then_some(items)
}

/// `count` runs `bulk<n>` spread over five environments, in trees of ten: `bulk<10k>` is the
/// parent and root of the nine runs after it. Statuses cycle through every status; a third of
/// the runs are untagged (NULL), the others have `tag1` or `tag2`.
pub async fn insert_bulk_runs(pool: &PgPool, count: i32) {
    sqlx::query(
        r#"
        INSERT INTO "TaskRun" (
            id, "friendlyId", "taskIdentifier", "runtimeEnvironmentId", "projectId", payload,
            "traceId", "spanId", queue, "parentTaskRunId", "rootTaskRunId", "createdAt", "updatedAt",
            status, "runTags"
        )
        SELECT 'bulk' || g, 'run_bulk' || g, 'email/send', 'env_' || (g / 10 % 5), 'proj_1', '{}',
               'trace', 'span' || g, 'task/email/send', tree.root, tree.root,
               timestamp '2026-01-01' + make_interval(secs => g), now(),
               (enum_range(NULL::"TaskRunStatus"))[1 + g % 17],
               CASE WHEN g % 3 <> 0 THEN ARRAY['tag' || g % 3] END
        FROM generate_series(1, $1) AS g,
             LATERAL (SELECT CASE WHEN g % 10 <> 0 THEN 'bulk' || (g - g % 10) END AS root) AS tree
        "#,
    )
    .bind(count)
    .execute(pool)
    .await
    .expect("insert bulk runs");
    sqlx::query(r#"ANALYZE "TaskRun""#)
        .execute(pool)
        .await
        .expect("analyze");
}
