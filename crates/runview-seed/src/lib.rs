//! Seeds the reference schemas with a realistic, deterministic dataset: a control plane, and runs,
//! batches and waitpoints in the LEGACY and NEW run-ops stores.
//!
//! Rows are generated on blocking threads (one per store) and streamed to PostgreSQL with `COPY`
//! in bounded chunks, so memory stays flat from the ten-thousand-run demo to tens of millions of
//! runs. The databases must hold the reference schemas and no seeded rows yet: the control plane
//! the full schema, LEGACY the full schema, NEW the run-ops schema (or the full one, when it is the
//! LEGACY database). Values are as the upstream leaves them: most runs and tokens are untagged
//! (NULL tags), the oldest LEGACY runs have no organization, engine V1 runs have attempt rows.
//! Volumes are skewed as in production: one environment holds most runs
//! ([`SeedPlan::largest_environment_share`]), and tasks, queues and tags follow Zipf's law.

mod attempts;
mod batch;
mod batch_errors;
mod catalog;
mod control_plane;
mod copy;
mod deployment;
mod layout;
mod plan;
mod reservoir;
mod run;
mod schema;
mod showcase;
mod skew;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod values;
mod waitpoints;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::task::{JoinError, spawn_blocking};

use crate::catalog::Catalog;
use crate::copy::{ChunkSender, RunOpsTable, Table, WriterGone, write_chunks};
use crate::layout::StoreSchema;
use crate::showcase::StoreHighlights;
use crate::stream::{Store, StoreGenerator};
use crate::waitpoints::{TokenHighlights, generate_tokens};

pub use crate::control_plane::ControlPlaneCounts;
pub use crate::deployment::{Deployment, DeploymentError, DeploymentUrls, create_and_seed};
pub use crate::plan::SeedPlan;

/// The databases to seed. Passthrough works: `legacy` and `control_plane` may be the same pool,
/// and so may `new` and `legacy` (every row then lands in one database, ids still unique, and the
/// connections of NEW's runs go to LEGACY's connection table).
#[derive(Clone, Copy)]
pub struct SeedTargets<'a> {
    pub control_plane: &'a PgPool,
    pub legacy: &'a PgPool,
    pub new: &'a PgPool,
}

/// Rows loaded, as PostgreSQL counted them, and where to look first.
#[derive(Clone, Debug)]
pub struct SeedReport {
    pub runs_legacy: u64,
    pub runs_new: u64,
    /// "TaskRunAttempt" rows: engine V1 runs have one per attempt.
    pub attempts_legacy: u64,
    pub attempts_new: u64,
    pub batches_legacy: u64,
    pub batches_new: u64,
    /// "BatchTaskRunError" rows: items of batches that could not be triggered.
    pub batch_errors_legacy: u64,
    pub batch_errors_new: u64,
    /// Tokens and the RUN and BATCH waitpoints of waited-for children and batches.
    pub waitpoints_legacy: u64,
    pub waitpoints_new: u64,
    /// Connections of waitpoints to the runs they blocked, which live in the store of the blocked
    /// run: in "_WaitpointRunConnections" in LEGACY, "WaitpointRunConnection" in NEW.
    pub waitpoint_connections_legacy: u64,
    pub waitpoint_connections_new: u64,
    pub control_plane: ControlPlaneCounts,
    pub highlights: DemoHighlights,
}

/// Ids of real seeded rows, for ready-to-paste example calls. Run, batch and waitpoint ids are
/// friendly (`run_…`, `batch_…`, `waitpoint_…`); environment ids are bare. Every record is in
/// the production environment unless its name says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoHighlights {
    pub production_environment_id: String,
    pub staging_environment_id: String,
    /// Owned by a member whose user has a display name.
    pub development_environment_id: String,
    /// Owned by a member who no longer exists.
    pub orphaned_development_environment_id: String,
    /// A branch of the preview environment (its callback URLs use the parent's key).
    pub branch_environment_id: String,
    /// COMPLETED_SUCCESSFULLY with JSON payload, output and metadata (for the FULL view); cuid.
    pub legacy_run_id: String,
    /// As `legacy_run_id`, in NEW with a run-ops id.
    pub new_run_id: String,
    /// A cuid-shaped run that lives in NEW: found only by the fallback lookup.
    pub misfiled_new_run_id: String,
    /// A run-ops-shaped run that lives in LEGACY.
    pub misfiled_legacy_run_id: String,
    /// In NEW, with more children than a reader shows (see `SeedPlan::wide_parent_children`).
    pub wide_parent_run_id: String,
    /// In NEW, at depth 2: it has a parent and a different root.
    pub child_run_id: String,
    /// PENDING, with a timeout and seven connected runs (more than the five shown).
    pub legacy_waitpoint_id: String,
    pub new_waitpoint_id: String,
    /// PARTIAL_FAILED batches of the batch queue, with a mix of run statuses and items that
    /// failed to trigger: LEGACY's four with an error each, NEW's twelve in one collapsed
    /// QUEUE_SIZE_LIMIT_EXCEEDED error.
    pub legacy_batch_id: String,
    pub new_batch_id: String,
    /// A cuid batch that lives in NEW.
    pub cuid_batch_in_new_id: String,
    /// `sched_…` of a schedule with runs in production.
    pub schedule_id: String,
}

/// Chunks in flight per store: one being loaded, one being filled.
const CHANNEL_DEPTH: usize = 2;

/// Seeds `targets` with the dataset `plan` describes, then refreshes planner statistics.
pub async fn seed(targets: SeedTargets<'_>, plan: &SeedPlan) -> Result<SeedReport, sqlx::Error> {
    seed_with_progress(targets, plan, &AtomicU64::new(0)).await
}

/// As [`seed`], adding to `runs_written` the runs of every chunk once it is loaded, so that a
/// caller can show progress against `plan.runs` (the final ANALYZE comes after the last one).
pub async fn seed_with_progress(
    targets: SeedTargets<'_>,
    plan: &SeedPlan,
    runs_written: &AtomicU64,
) -> Result<SeedReport, sqlx::Error> {
    plan.validate().map_err(|reason| {
        sqlx::Error::Configuration(format!("invalid seed plan: {reason}").into())
    })?;
    let schemas = [
        StoreSchema::of(targets.legacy).await?,
        StoreSchema::of(targets.new).await?,
    ];
    let catalog = Arc::new(Catalog::generate(plan));
    let control_plane = control_plane::write_catalog(targets.control_plane, &catalog).await?;

    let (legacy_tx, legacy_rx) = mpsc::channel(CHANNEL_DEPTH);
    let (new_tx, new_rx) = mpsc::channel(CHANNEL_DEPTH);
    let generation = generate(
        Arc::new(plan.clone()),
        Arc::clone(&catalog),
        [(legacy_tx, schemas[0]), (new_tx, schemas[1])],
    );
    let (generated, legacy, new) = tokio::join!(
        generation,
        write_chunks(targets.legacy, schemas[0], legacy_rx, runs_written),
        write_chunks(targets.new, schemas[1], new_rx, runs_written),
    );
    // A writer's own error explains why the generators saw it go away.
    let (legacy, new) = (legacy?, new?);
    let (legacy_runs, new_runs, tokens) = generated
        .map_err(|WriterGone| sqlx::Error::Protocol("a run-ops writer stopped early".into()))?;

    analyze(targets.control_plane, &schema::CONTROL_PLANE_TABLES).await?;
    for (pool, schema) in [targets.legacy, targets.new].into_iter().zip(schemas) {
        analyze(pool, &RunOpsTable::ALL.map(|table| table.table(schema))).await?;
    }

    let roles = &catalog.roles;
    let environment_id = |index: usize| catalog.environments[index].id.clone();
    let first_schedule = catalog.project_of(roles.production).schedules.start;
    Ok(SeedReport {
        runs_legacy: legacy.runs,
        runs_new: new.runs,
        attempts_legacy: legacy.attempts,
        attempts_new: new.attempts,
        batches_legacy: legacy.batches,
        batches_new: new.batches,
        batch_errors_legacy: legacy.batch_errors,
        batch_errors_new: new.batch_errors,
        waitpoints_legacy: legacy.waitpoints,
        waitpoints_new: new.waitpoints,
        waitpoint_connections_legacy: legacy.waitpoint_connections,
        waitpoint_connections_new: new.waitpoint_connections,
        control_plane,
        highlights: DemoHighlights {
            production_environment_id: environment_id(roles.production),
            staging_environment_id: environment_id(roles.staging),
            development_environment_id: environment_id(roles.development),
            orphaned_development_environment_id: environment_id(roles.orphaned_development),
            branch_environment_id: environment_id(roles.branch),
            legacy_run_id: legacy_runs.run_id,
            new_run_id: new_runs.run_id,
            misfiled_new_run_id: new_runs.misfiled_run_id,
            misfiled_legacy_run_id: legacy_runs.misfiled_run_id,
            wide_parent_run_id: new_runs.wide_parent_run_id,
            child_run_id: new_runs.child_run_id,
            legacy_waitpoint_id: tokens.legacy_waitpoint_id,
            new_waitpoint_id: tokens.new_waitpoint_id,
            legacy_batch_id: legacy_runs.batch_id,
            new_batch_id: new_runs.batch_id,
            cuid_batch_in_new_id: new_runs
                .other_shape_batch_id
                .expect("validated plans put a cuid batch in NEW"),
            schedule_id: catalog.schedules[first_schedule].friendly_id.clone(),
        },
    })
}

/// A store's end of its writer's channel, and the schema of the database the writer loads.
type StoreChannel = (mpsc::Sender<copy::Chunk>, StoreSchema);

/// Runs both stores' generators side by side, then the tokens, which need runs of both.
async fn generate(
    plan: Arc<SeedPlan>,
    catalog: Arc<Catalog>,
    [legacy, new]: [StoreChannel; 2],
) -> Result<(StoreHighlights, StoreHighlights, TokenHighlights), WriterGone> {
    let store_runs = |store: Store, (tx, schema): StoreChannel| {
        let (plan, catalog) = (Arc::clone(&plan), Arc::clone(&catalog));
        spawn_blocking(move || {
            let sink = ChunkSender::new(tx, plan.chunk_bytes, schema);
            StoreGenerator::new(store, &plan, &catalog, sink).run()
        })
    };
    let (legacy_runs, new_runs) = tokio::join!(
        store_runs(Store::Legacy, legacy.clone()),
        store_runs(Store::New, new.clone()),
    );
    let (legacy_runs, new_runs) = (joined(legacy_runs)?, joined(new_runs)?);
    let tokens = spawn_blocking(move || {
        let sinks =
            [legacy, new].map(|(tx, schema)| ChunkSender::new(tx, plan.chunk_bytes, schema));
        let reservoirs = [&legacy_runs.reservoir, &new_runs.reservoir];
        let tokens = generate_tokens(&plan, &catalog, reservoirs, sinks)?;
        Ok((legacy_runs.highlights, new_runs.highlights, tokens))
    });
    joined(tokens.await)
}

/// A generator's result; its panic, if it panicked, becomes this task's.
fn joined<T>(result: Result<T, JoinError>) -> T {
    result.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
}

async fn analyze(pool: &PgPool, tables: &[&Table]) -> Result<(), sqlx::Error> {
    let names: Vec<String> = tables.iter().map(|t| format!("\"{}\"", t.name)).collect();
    sqlx::raw_sql(&format!("ANALYZE {}", names.join(", ")))
        .execute(pool)
        .await?;
    Ok(())
}
