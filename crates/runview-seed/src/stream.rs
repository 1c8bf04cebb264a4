//! The runs of one run-ops store, generated as a stream of groups (a lone run, a tree, a batch)
//! walking forward in time, so that any number of runs takes the same memory and rows arrive
//! roughly in `createdAt` order, as they would in production (the BRIN index relies on it).

use rand::distr::weighted::WeightedIndex;
use rand::{Rng, rngs::StdRng};
use runview_core::ids::mint_runops_body;
use runview_core::status::TaskRunStatus;

use crate::batch::BatchShape;
use crate::catalog::Catalog;
use crate::copy::{ChunkSender, WriterGone};
use crate::plan::SeedPlan;
use crate::reservoir::{Reservoir, SampledRun};
use crate::run::{Lineage, RunContext, RunOutcome, RunSpec, write_run};
use crate::showcase::{StoreHighlights, showcase_runs};
use crate::skew::RunPicks;
use crate::values::{RandomStream, cuid, hex, pick, unix_ms_u64};
use crate::waitpoints::{WaitpointRow, write_connection, write_waitpoint};

/// A run-ops store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Store {
    Legacy,
    New,
}

/// The two id shapes: LEGACY mints cuids, NEW mints run-ops ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Cuid,
    RunOps,
}

impl Store {
    pub fn native_shape(self) -> Shape {
        match self {
            Self::Legacy => Shape::Cuid,
            Self::New => Shape::RunOps,
        }
    }

    fn random_stream(self) -> RandomStream {
        match self {
            Self::Legacy => RandomStream::LegacyRuns,
            Self::New => RandomStream::NewRuns,
        }
    }

    /// Where the store's runs fall in the history, as fractions of it before `now`: LEGACY holds
    /// the older runs, NEW the newer ones, and they overlap.
    fn window(self) -> (f64, f64) {
        match self {
            Self::Legacy => (1.0, 1.0 / 6.0),
            Self::New => (0.5, 0.0),
        }
    }
}

/// What generating a store's runs leaves behind for the later phases.
pub(crate) struct StoreRuns {
    pub highlights: StoreHighlights,
    pub reservoir: Reservoir,
}

pub(crate) struct StoreGenerator<'a> {
    pub store: Store,
    pub rng: StdRng,
    pub catalog: &'a Catalog,
    pub plan: &'a SeedPlan,
    context: RunContext,
    pub sink: ChunkSender,
    environments: WeightedIndex<f64>,
    reservoir: Reservoir,
    target: usize,
    emitted: usize,
    window_start: i64,
    window_span: i64,
    last_root_at: i64,
}

impl<'a> StoreGenerator<'a> {
    pub fn new(store: Store, plan: &'a SeedPlan, catalog: &'a Catalog, sink: ChunkSender) -> Self {
        let mut rng = store.random_stream().rng(plan.seed);
        let now = plan.now.timestamp_millis();
        let history = plan.history.num_milliseconds() as f64;
        let (from, to) = store.window();
        // The newest runs stay a little before `now`, so that their children do too.
        let window_end = (now - (history * to) as i64).min(now - 600_000);
        let window_start = now - (history * from) as i64;
        let bulk_action_ids = (0..3).map(|_| cuid(&mut rng, window_start)).collect();
        // The oldest LEGACY runs predate the denormalized organization and environment type.
        let denormalized_since = now - (history * 0.75) as i64;
        let weights = catalog.environments.iter().map(|e| e.run_weight);
        Self {
            store,
            catalog,
            plan,
            context: RunContext {
                now,
                denormalized_since,
                bulk_action_ids,
                production: catalog.roles.production,
                picks: RunPicks::new(),
            },
            sink,
            environments: WeightedIndex::new(weights)
                .expect("the catalog has weighted environments"),
            reservoir: Reservoir::new(catalog.environments.len()),
            target: match store {
                Store::Legacy => plan.runs_legacy(),
                Store::New => plan.runs_new(),
            },
            emitted: 0,
            window_start,
            window_span: window_end - window_start,
            last_root_at: window_start,
            rng,
        }
    }

    /// Generates every run of the store; the showcase groups go in the middle of the history.
    pub fn run(mut self) -> Result<StoreRuns, WriterGone> {
        let regular = self.target - showcase_runs(self.plan, self.store);
        self.regular_groups(regular / 2)?;
        let highlights = self.showcase();
        self.sink.group_done()?;
        self.regular_groups(self.target)?;
        self.sink.finish()?;
        Ok(StoreRuns {
            highlights,
            reservoir: self.reservoir,
        })
    }

    /// Emits groups until exactly `until` runs have been emitted.
    fn regular_groups(&mut self, until: usize) -> Result<(), WriterGone> {
        while self.emitted < until {
            self.regular_group(until - self.emitted);
            self.sink.group_done()?;
        }
        Ok(())
    }

    /// One group of at most `budget` runs.
    fn regular_group(&mut self, budget: usize) {
        let environment = self.rng.sample(&self.environments);
        let at = self.root_time();
        // Engine V1 runs are mostly older, LEGACY ones; projects still on V1 also have some in NEW.
        let v1_share = match self.store {
            Store::Legacy => 0.15,
            Store::New => 0.03,
        };
        let engine_v2 = !self.rng.random_bool(v1_share);
        let kind = self.rng.random::<f64>();
        if kind < self.plan.tree_share && budget >= 2 {
            self.tree(environment, at, engine_v2, budget, false);
        } else if kind < self.plan.tree_share + self.plan.batch_share && budget >= 3 {
            let size = self.rng.random_range(2..=20).min(budget - 1);
            let shape =
                BatchShape::random(&mut self.rng, size, self.store.native_shape(), engine_v2);
            self.batch(environment, at, engine_v2, shape);
        } else {
            let project = self.catalog.environments[environment].project;
            let schedules = self.catalog.projects[project].schedules.clone();
            let schedule = self
                .rng
                .random_bool(self.plan.scheduled_share)
                .then(|| self.rng.random_range(schedules));
            let status = random_status(&mut self.rng);
            let mut spec = self.spec(environment, at, status, engine_v2, None);
            if let Some(schedule) = schedule {
                spec.task = self.catalog.schedules[schedule].task;
                spec.schedule = Some(schedule);
            }
            self.emit(&spec);
        }
    }

    /// A root with 1–6 children, some of which have grandchildren. Returns the first grandchild.
    pub fn tree(
        &mut self,
        environment: usize,
        at: i64,
        engine_v2: bool,
        budget: usize,
        showcase: bool,
    ) -> Option<String> {
        let status = parent_status(&mut self.rng);
        let root = self.spec(environment, at, status, engine_v2, None);
        self.emit(&root);
        let mut left = budget - 1;
        let children = if showcase {
            3
        } else {
            self.rng.random_range(1..=6)
        };
        let mut child_at = at;
        let mut first_grandchild = None;
        for index in 0..children {
            if left == 0 {
                break;
            }
            left -= 1;
            let grandchildren = match (showcase, index) {
                (true, 0) => 2,
                (true, _) => 0,
                _ if self.rng.random_bool(0.3) => self.rng.random_range(1..=3),
                _ => 0,
            }
            .min(left);
            child_at += self.rng.random_range(20..3_000);
            let child = self.child(&root, &root, child_at, grandchildren > 0);
            self.emit_child(&child, &root.id);
            let mut grandchild_at = child_at;
            for _ in 0..grandchildren {
                left -= 1;
                grandchild_at += self.rng.random_range(20..3_000);
                let grandchild = self.child(&child, &root, grandchild_at, false);
                self.emit_child(&grandchild, &child.id);
                first_grandchild.get_or_insert(grandchild.id);
            }
        }
        first_grandchild
    }

    /// A run triggered by `parent`, in its environment and on its engine.
    fn child(&mut self, parent: &RunSpec, root: &RunSpec, at: i64, has_children: bool) -> RunSpec {
        let status = if has_children {
            parent_status(&mut self.rng)
        } else {
            random_status(&mut self.rng)
        };
        let lineage = Lineage {
            parent_id: parent.id.clone(),
            root_id: root.id.clone(),
            depth: parent.lineage.as_ref().map_or(0, |l| l.depth) + 1,
            resume_parent: self.rng.random_bool(0.7),
        };
        self.spec(
            parent.environment,
            at,
            status,
            parent.engine_v2,
            Some(lineage),
        )
    }

    /// A run with the store's own id shape and a random task.
    pub fn spec(
        &mut self,
        environment: usize,
        at: i64,
        status: TaskRunStatus,
        engine_v2: bool,
        lineage: Option<Lineage>,
    ) -> RunSpec {
        RunSpec {
            id: self.mint(self.store.native_shape(), at),
            environment,
            task: self.random_task(),
            status,
            created_at: at,
            engine_v2,
            schedule: None,
            batch_id: None,
            lineage,
            showcase: false,
        }
    }

    /// A task, the popular ones far more often than the rest.
    pub fn random_task(&mut self) -> &'static str {
        self.context.picks.tasks.pick(&mut self.rng)
    }

    pub fn emit(&mut self, spec: &RunSpec) -> RunOutcome {
        let outcome = write_run(
            &mut self.rng,
            self.catalog,
            &self.context,
            spec,
            &mut self.sink,
        );
        self.emitted += 1;
        self.reservoir
            .offer(&mut self.rng, spec.environment, || SampledRun {
                id: spec.id.clone(),
                created_at: spec.created_at,
            });
        outcome
    }

    /// Emits a child and, when its parent waits for it on the new engine, sometimes the RUN
    /// waitpoint that blocks the parent.
    pub fn emit_child(&mut self, child: &RunSpec, parent_id: &str) -> RunOutcome {
        let outcome = self.emit(child);
        let waits = child.lineage.as_ref().is_some_and(|l| l.resume_parent);
        if waits && child.engine_v2 && self.rng.random_bool(self.plan.run_waitpoint_share) {
            let catalog = self.catalog;
            let env = &catalog.environments[child.environment];
            let waitpoint = WaitpointRow {
                id: cuid(&mut self.rng, child.created_at),
                kind: "RUN",
                environment_id: &env.id,
                project_id: &catalog.projects[env.project].id,
                idempotency_key: hex(&mut self.rng, 12),
                user_provided_key: false,
                key_expires_at: None,
                inactive_key: None,
                completed_by_run: Some(&child.id),
                completed_by_batch: None,
                completed_after: None,
                completed_at: outcome.completed_at,
                output: outcome.result.as_ref(),
                tags: &[],
                created_at: child.created_at,
            };
            write_waitpoint(&mut self.sink, &waitpoint);
            let connection_id = cuid(&mut self.rng, child.created_at);
            write_connection(&mut self.sink, &connection_id, parent_id, &waitpoint.id);
        }
        outcome
    }

    /// The next root's creation time: steadily forward through the window, sometimes exactly the
    /// previous root's (ties must be ordered by id by readers).
    pub fn root_time(&mut self) -> i64 {
        if self.emitted > 0 && self.rng.random_bool(0.03) {
            return self.last_root_at;
        }
        let progress = self.emitted as f64 / self.target as f64;
        let spacing = (self.window_span / self.target as i64).max(1);
        let at = self.window_start + (self.window_span as f64 * progress) as i64;
        self.last_root_at = at + self.rng.random_range(0..spacing);
        self.last_root_at
    }

    pub fn mint(&mut self, shape: Shape, at: i64) -> String {
        match shape {
            Shape::Cuid => cuid(&mut self.rng, at),
            Shape::RunOps => {
                // Mostly generation 1 (a region char); some generation 2 (a shard char).
                let (marker, version) = if self.rng.random_bool(0.1) {
                    (
                        pick(&mut self.rng, b"0123456789abcdefghijklmnopqrstuvwxyz"),
                        '2',
                    )
                } else {
                    (pick(&mut self.rng, b"aeu"), '1')
                };
                mint_runops_body(
                    unix_ms_u64(at),
                    self.rng.random(),
                    char::from(marker),
                    version,
                )
            }
        }
    }
}

/// The status of a run that triggered others: it must have executed.
fn parent_status(rng: &mut StdRng) -> TaskRunStatus {
    use TaskRunStatus as S;
    match random_status(rng) {
        S::Delayed
        | S::Pending
        | S::PendingVersion
        | S::WaitingForDeploy
        | S::Dequeued
        | S::Expired
        | S::Canceled => S::WaitingToResume,
        status => status,
    }
}

/// Statuses as a busy environment shows them: mostly successes, running and queued runs, and a
/// tail of every other status.
pub(crate) fn random_status(rng: &mut StdRng) -> TaskRunStatus {
    use TaskRunStatus as S;
    const WEIGHTED: [(TaskRunStatus, u32); 17] = [
        (S::CompletedSuccessfully, 550),
        (S::Executing, 120),
        (S::Pending, 100),
        (S::CompletedWithErrors, 50),
        (S::Canceled, 30),
        (S::WaitingToResume, 30),
        (S::Dequeued, 20),
        (S::Delayed, 20),
        (S::RetryingAfterFailure, 10),
        (S::Paused, 10),
        (S::PendingVersion, 10),
        (S::WaitingForDeploy, 10),
        (S::Interrupted, 10),
        (S::SystemFailure, 10),
        (S::Crashed, 10),
        (S::Expired, 10),
        (S::TimedOut, 10),
    ];
    let mut roll = rng.random_range(0..WEIGHTED.iter().map(|(_, w)| w).sum::<u32>());
    for (status, weight) in WEIGHTED {
        if roll < weight {
            return status;
        }
        roll -= weight;
    }
    S::CompletedSuccessfully
}
