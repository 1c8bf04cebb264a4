//! The fixed groups each store holds in its production environment, whatever the plan's size:
//! every run status, every batch status, a parent with more children than a reader shows, a
//! tree with grandchildren, a scheduled run and ids of the other store's shape. The highlights
//! point at them.

use runview_core::status::TaskRunStatus;

use runview_core::batch::BatchStatus;

use crate::batch::{BatchShape, RUN_ENGINE_V2};
use crate::batch_errors::FailedItems;
use crate::plan::SeedPlan;
use crate::stream::{Shape, Store, StoreGenerator};
use crate::values::TASKS;

/// Friendly ids of one store's showcase rows, all in the production environment.
pub(crate) struct StoreHighlights {
    /// COMPLETED_SUCCESSFULLY, with JSON payload, output and metadata.
    pub run_id: String,
    /// A run whose id has the other store's shape.
    pub misfiled_run_id: String,
    pub wide_parent_run_id: String,
    /// A grandchild: its parent and its root differ.
    pub child_run_id: String,
    /// A PARTIAL_FAILED batch of the batch queue with the store's own id shape, whose lost items
    /// have errors: one each in LEGACY, one collapsed error in NEW.
    pub batch_id: String,
    /// A cuid batch (NEW only).
    pub other_shape_batch_id: Option<String>,
}

const BATCH_SIZE: usize = 3;
/// Root, three children, two grandchildren under the first child.
const TREE_SIZE: usize = 6;

/// How many runs [`StoreGenerator::showcase`] emits in `store`.
pub(crate) fn showcase_runs(plan: &SeedPlan, store: Store) -> usize {
    let other_shape_batches = match store {
        Store::Legacy => 0,
        Store::New => plan.cuid_batches_in_new,
    };
    let status_parade = TaskRunStatus::ALL.len();
    let batches = BatchStatus::ALL.len() * BATCH_SIZE;
    let wide_parent_and_children = 1 + plan.wide_parent_children;
    let scheduled_run = 1;
    status_parade
        + batches
        + wide_parent_and_children
        + TREE_SIZE
        + scheduled_run
        + plan.misfiled_runs_per_store
        + other_shape_batches * BATCH_SIZE
}

impl StoreGenerator<'_> {
    pub fn showcase(&mut self) -> StoreHighlights {
        let production = self.catalog.roles.production;
        let native = self.store.native_shape();
        let other = match native {
            Shape::Cuid => Shape::RunOps,
            Shape::RunOps => Shape::Cuid,
        };

        let run_id = self.showcase_run(TaskRunStatus::CompletedSuccessfully, native);
        for status in TaskRunStatus::ALL {
            if status != TaskRunStatus::CompletedSuccessfully {
                self.showcase_run(status, native);
            }
        }

        let mut batch_id = None;
        for status in BatchStatus::ALL {
            let at = self.root_time();
            // The PARTIAL_FAILED batch lost items as the batch queue records it: LEGACY's each
            // with its own error, NEW's all to a full queue, in one collapsed error.
            let failed_items = match (status, self.store) {
                (BatchStatus::PartialFailed, Store::Legacy) => FailedItems::Each(4),
                (BatchStatus::PartialFailed, Store::New) => FailedItems::QueueSizeLimit(12),
                _ => FailedItems::None,
            };
            let shape = BatchShape {
                status,
                size: BATCH_SIZE,
                with_parent: false,
                shape: native,
                version: RUN_ENGINE_V2,
                failed_items,
            };
            let ids = self.batch(production, at, true, shape);
            if status == BatchStatus::PartialFailed {
                batch_id = Some(ids.batch_id);
            }
        }

        let at = self.root_time();
        let wide = BatchShape {
            status: BatchStatus::Processing,
            size: self.plan.wide_parent_children,
            with_parent: true,
            shape: native,
            version: RUN_ENGINE_V2,
            failed_items: FailedItems::None,
        };
        let wide_parent = self.batch(production, at, true, wide).parent_run_id;

        let at = self.root_time();
        let grandchild = self.tree(production, at, true, TREE_SIZE, true);

        let at = self.root_time();
        let mut scheduled = self.spec(
            production,
            at,
            TaskRunStatus::CompletedSuccessfully,
            true,
            None,
        );
        let first_schedule = self.catalog.project_of(production).schedules.start;
        scheduled.task = self.catalog.schedules[first_schedule].task;
        scheduled.schedule = Some(first_schedule);
        self.emit(&scheduled);

        let misfiled_run_id = self.showcase_run(TaskRunStatus::CompletedSuccessfully, other);
        for _ in 1..self.plan.misfiled_runs_per_store {
            let status = crate::stream::random_status(&mut self.rng);
            self.showcase_run(status, other);
        }

        let mut other_shape_batch_id = None;
        if self.store == Store::New {
            for _ in 0..self.plan.cuid_batches_in_new {
                let at = self.root_time();
                let shape = BatchShape {
                    status: BatchStatus::Completed,
                    size: BATCH_SIZE,
                    with_parent: false,
                    shape: Shape::Cuid,
                    version: "runengine:v1",
                    failed_items: FailedItems::None,
                };
                let ids = self.batch(production, at, true, shape);
                other_shape_batch_id.get_or_insert(ids.batch_id);
            }
        }

        StoreHighlights {
            run_id,
            misfiled_run_id,
            wide_parent_run_id: format!(
                "run_{}",
                wide_parent.expect("the wide batch has a parent")
            ),
            child_run_id: format!(
                "run_{}",
                grandchild.expect("the showcase tree has grandchildren")
            ),
            batch_id: format!(
                "batch_{}",
                batch_id.expect("every batch status is showcased")
            ),
            other_shape_batch_id: other_shape_batch_id.map(|id| format!("batch_{id}")),
        }
    }

    /// A lone production run of the showcase task with plain packets; returns its friendly id.
    fn showcase_run(&mut self, status: TaskRunStatus, shape: Shape) -> String {
        let at = self.root_time();
        let mut spec = self.spec(self.catalog.roles.production, at, status, true, None);
        spec.id = self.mint(shape, at);
        spec.task = TASKS[0];
        spec.showcase = true;
        self.emit(&spec);
        format!("run_{}", spec.id)
    }
}
