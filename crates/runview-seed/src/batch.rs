//! Batches: a "BatchTaskRun" with its runs (and the errors of the items that did not become runs)
//! in the same store, optionally triggered (and waited for) by a parent run, with run statuses
//! that agree with the batch status.

use rand::{Rng, rngs::StdRng};
use runview_core::batch::BatchStatus;
use runview_core::status::TaskRunStatus;

use crate::batch_errors::FailedItems;
use crate::copy::RunOpsTable;
use crate::run::Lineage;
use crate::stream::{Shape, StoreGenerator};
use crate::values::{cuid, hex, pick};
use crate::waitpoints::{WaitpointRow, write_connection, write_waitpoint};

/// The status of the `index`-th run of a batch in `status`. The first run always shows
/// why the batch is in it (one still running, one failed, one canceled).
fn run_status(status: BatchStatus, rng: &mut StdRng, index: usize) -> TaskRunStatus {
    use TaskRunStatus as S;
    match (status, index) {
        (BatchStatus::Pending, _) => S::Pending,
        (BatchStatus::Processing, 0) => S::Executing,
        (BatchStatus::Processing, _) => pick(
            rng,
            &[
                S::CompletedSuccessfully,
                S::CompletedSuccessfully,
                S::Executing,
                S::Pending,
                S::Dequeued,
            ],
        ),
        (BatchStatus::Completed, _) => S::CompletedSuccessfully,
        (BatchStatus::PartialFailed, 0) => S::CompletedWithErrors,
        (BatchStatus::PartialFailed, _) if rng.random_bool(0.2) => S::CompletedWithErrors,
        (BatchStatus::Aborted, 0) => S::Canceled,
        (BatchStatus::Aborted, _) if rng.random_bool(0.5) => S::Canceled,
        (BatchStatus::PartialFailed | BatchStatus::Aborted, _) => S::CompletedSuccessfully,
    }
}

fn random_batch_status(rng: &mut StdRng) -> BatchStatus {
    match rng.random_range(0..100) {
        0..50 => BatchStatus::Completed,
        50..65 => BatchStatus::Processing,
        65..80 => BatchStatus::PartialFailed,
        80..90 => BatchStatus::Pending,
        _ => BatchStatus::Aborted,
    }
}

/// "batchVersion" of batches the new engine's batch queue processed: the only ones with
/// processing times, trigger outcome counts and item errors.
pub(crate) const RUN_ENGINE_V2: &str = "runengine:v2";

/// The "batchVersion" of a batch of runs on engine V1 or V2: the trigger paths of each engine, the
/// batch queue's being the newest.
pub(crate) fn random_batch_version(rng: &mut StdRng, engine_v2: bool) -> &'static str {
    if engine_v2 {
        pick(rng, &[RUN_ENGINE_V2, RUN_ENGINE_V2, "runengine:v1"])
    } else {
        pick(rng, &["v1", "v2", "v3"])
    }
}

/// What a batch looks like; its id takes `shape` whatever the store.
pub(crate) struct BatchShape {
    pub status: BatchStatus,
    /// Its items that became runs.
    pub size: usize,
    pub with_parent: bool,
    pub shape: Shape,
    pub version: &'static str,
    /// Items that could not be triggered ([`RUN_ENGINE_V2`] only).
    pub failed_items: FailedItems,
}

impl BatchShape {
    /// A batch of a regular group, of its runs' engine.
    pub fn random(rng: &mut StdRng, size: usize, shape: Shape, engine_v2: bool) -> Self {
        let status = random_batch_status(rng);
        let version = random_batch_version(rng, engine_v2);
        // The batch queue marks a batch PARTIAL_FAILED when some of its items failed to trigger.
        let failed_items = if version == RUN_ENGINE_V2 && status == BatchStatus::PartialFailed {
            FailedItems::random(rng)
        } else {
            FailedItems::None
        };
        Self {
            status,
            size,
            with_parent: rng.random_bool(0.5),
            shape,
            version,
            failed_items,
        }
    }
}

/// The ids of a generated batch.
pub(crate) struct BatchIds {
    pub batch_id: String,
    pub parent_run_id: Option<String>,
}

impl StoreGenerator<'_> {
    /// A batch of `size` runs of one task, created in the same few milliseconds. With a parent,
    /// the parent waits for the batch through a BATCH waitpoint.
    pub fn batch(
        &mut self,
        environment: usize,
        at: i64,
        engine_v2: bool,
        batch: BatchShape,
    ) -> BatchIds {
        use TaskRunStatus as S;
        let BatchShape {
            status,
            size,
            with_parent,
            shape,
            version,
            failed_items,
        } = batch;
        let parent = with_parent.then(|| {
            let parent_status = match status {
                BatchStatus::Pending | BatchStatus::Processing => S::WaitingToResume,
                BatchStatus::PartialFailed => S::CompletedWithErrors,
                _ => S::CompletedSuccessfully,
            };
            let parent = self.spec(environment, at, parent_status, engine_v2, None);
            self.emit(&parent);
            parent
        });
        let batch_at = at
            + if with_parent {
                self.rng.random_range(10..500)
            } else {
                0
            };
        let batch_id = self.mint(shape, batch_at);
        let task = self.random_task();
        let (mut last_created, mut last_completed) = (batch_at, batch_at);
        let mut run_ids = Vec::with_capacity(size);
        for index in 0..size {
            // Items are created together, ten per millisecond: ties readers must order by id.
            let run_at = batch_at + 1 + (index / 10) as i64;
            let run_status = run_status(status, &mut self.rng, index);
            let lineage = parent.as_ref().map(|parent| Lineage {
                parent_id: parent.id.clone(),
                root_id: parent.id.clone(),
                depth: 1,
                resume_parent: true,
            });
            let mut spec = self.spec(environment, run_at, run_status, engine_v2, lineage);
            spec.task = task;
            spec.batch_id = Some(batch_id.clone());
            let outcome = self.emit(&spec);
            run_ids.push(format!("run_{}", spec.id));
            last_created = run_at;
            last_completed = last_completed.max(outcome.completed_at.unwrap_or(run_at));
        }
        let items = size + failed_items.count();
        // The batch queue processes a batch's items one after another, then records the outcome
        // of the whole batch, its run ids included; the older trigger paths record neither.
        let processing = (version == RUN_ENGINE_V2).then(|| {
            let done = status != BatchStatus::Processing;
            (batch_at, done.then_some(last_created + 1))
        });
        let processed_at = processing.and_then(|(_, completed)| completed);
        let completed_at = status
            .has_finished()
            .then(|| last_completed.max(processed_at.unwrap_or(batch_at)));
        let updated_at = completed_at.unwrap_or(processed_at.unwrap_or(last_created));
        let outcome_counts = processed_at.map(|_| (size, failed_items.count()));
        // The friendly ids of the items in order; NULL on some older rows, none until the batch
        // queue has processed the batch.
        let run_ids = match processing {
            Some((_, None)) => Some(Vec::new()),
            _ => (!self.rng.random_bool(0.15)).then_some(run_ids),
        };
        let idempotency_key = self.rng.random_bool(0.1).then(|| hex(&mut self.rng, 16));
        let catalog = self.catalog;
        let mut row = self.sink.row(RunOpsTable::BatchTaskRun);
        row.text(&batch_id)
            .text(&format!("batch_{batch_id}"))
            .text(&catalog.environments[environment].id)
            .plain(status.as_str())
            .plain(items)
            .text(version)
            .opt_text(idempotency_key.as_deref())
            .timestamp(batch_at)
            .timestamp(updated_at)
            .opt_timestamp(completed_at)
            .opt_plain(outcome_counts.map(|(successful, _)| successful))
            .opt_plain(outcome_counts.map(|(_, failed)| failed))
            .opt_text_array(run_ids.as_deref())
            .opt_timestamp(processing.map(|(started, _)| started))
            .opt_timestamp(processed_at);
        row.end();
        if let Some(processed_at) = processed_at {
            let failed = self.failed_item_indexes(items, failed_items);
            self.item_errors(&batch_id, task, failed_items, &failed, processed_at);
        }
        if let Some(parent) = &parent {
            self.batch_waitpoint(environment, batch_at, completed_at, &parent.id, &batch_id);
        }
        BatchIds {
            batch_id,
            parent_run_id: parent.map(|parent| parent.id),
        }
    }

    fn batch_waitpoint(
        &mut self,
        environment: usize,
        at: i64,
        completed_at: Option<i64>,
        parent_id: &str,
        batch_id: &str,
    ) {
        let catalog = self.catalog;
        let env = &catalog.environments[environment];
        let waitpoint = WaitpointRow {
            id: cuid(&mut self.rng, at),
            kind: "BATCH",
            environment_id: &env.id,
            project_id: &catalog.projects[env.project].id,
            idempotency_key: hex(&mut self.rng, 12),
            user_provided_key: false,
            key_expires_at: None,
            inactive_key: None,
            completed_by_run: None,
            completed_by_batch: Some(batch_id),
            completed_after: None,
            completed_at,
            output: None,
            tags: &[],
            created_at: at,
        };
        write_waitpoint(&mut self.sink, &waitpoint);
        let connection_id = cuid(&mut self.rng, at);
        write_connection(&mut self.sink, &connection_id, parent_id, &waitpoint.id);
    }
}
