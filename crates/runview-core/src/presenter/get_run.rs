//! GetRun: one run with its relations, hydrated with its environment, worker version and schedule.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::hydration::distinct_keys;
use crate::control_plane::{Environment, Schedule};
use crate::error::{Error, Resource, Result};
use crate::ids::{BatchId, EnvironmentId, RunId};
use crate::packet::Packet;
use crate::ports::{ControlPlane, Resolved, RunLookup, RunOpsStores};
use crate::run::{RunGraph, RunRecord, TriggerFunction};
use crate::run_error::RunError;
use crate::status::{ApiVersion, PublicRunStatus, RunFlags, TaskRunStatus};
use crate::tags::sort_tags;

/// How much of a run to return (AIP-157).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunViewKind {
    /// Without payload and output bodies.
    #[default]
    Basic,
    /// With payload, and output when the run succeeded.
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetRunQuery {
    pub environment_id: EnvironmentId,
    pub run_id: RunId,
    pub api_version: ApiVersion,
    pub view: RunViewKind,
}

/// The fields every run carries, including each related run.
#[derive(Clone, Debug, PartialEq)]
pub struct RelatedRunView {
    pub id: RunId,
    pub status: TaskRunStatus,
    pub public_status: PublicRunStatus,
    pub flags: RunFlags,
    pub task_identifier: String,
    /// The user's own key when valid options hold one, else the stored hash.
    pub idempotency_key: Option<String>,
    /// The locked worker's version string.
    pub version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub delayed_until: Option<DateTime<Utc>>,
    pub ttl: Option<String>,
    pub cost_in_cents: f64,
    pub base_cost_in_cents: f64,
    pub duration_ms: i32,
    pub is_test: bool,
    /// Sorted as the upstream sorts them ([`sort_tags`]).
    pub tags: Vec<String>,
    pub depth: i32,
    pub trigger_function: TriggerFunction,
    pub batch_id: Option<BatchId>,
    pub metadata: Option<Packet>,
    pub region: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct RunRelations {
    pub root: Option<RelatedRunView>,
    pub parent: Option<RelatedRunView>,
    pub children: Vec<RelatedRunView>,
    pub children_truncated: bool,
}

/// The run as GetRun returns it.
#[derive(Clone, Debug)]
pub struct RunDetail {
    pub summary: RelatedRunView,
    pub attempt_count: i32,
    pub error: Option<RunError>,
    pub schedule: Option<Arc<Schedule>>,
    pub environment: Arc<Environment>,
    pub relations: RunRelations,
    pub payload: Option<Packet>,
    pub output: Option<Packet>,
}

/// The GetRun presenter.
pub struct GetRun<S, C> {
    stores: Arc<S>,
    control_plane: Arc<C>,
    children_limit: u32,
}

impl<S: RunOpsStores, C: ControlPlane> GetRun<S, C> {
    pub fn new(stores: Arc<S>, control_plane: Arc<C>, children_limit: u32) -> Self {
        Self {
            stores,
            control_plane,
            children_limit,
        }
    }

    pub async fn present(&self, query: GetRunQuery) -> Result<RunDetail> {
        let lookup = RunLookup {
            environment_id: query.environment_id.clone(),
            run_id: query.run_id.clone(),
            include_bodies: query.view == RunViewKind::Full,
            children_limit: self.children_limit,
        };
        let not_found = || Error::not_found(Resource::Run, query.run_id.friendly());
        let graph = self
            .stores
            .find_run(&lookup)
            .instrument(tracing::debug_span!("primary_query"))
            .await?
            .ok_or_else(not_found)?;

        let hydration = Hydration::load(self.control_plane.as_ref(), &graph)
            .instrument(tracing::debug_span!("hydrate"))
            .await?;
        // An environment the control plane does not know holds nothing the caller may see.
        let environment = hydration
            .environments
            .get(query.environment_id.as_str())
            .cloned()
            .ok_or_else(not_found)?;
        Ok(hydration.detail(graph, environment, query.api_version, query.view))
    }
}

/// The control-plane records one run graph needs, resolved in one batch per kind.
struct Hydration {
    environments: Resolved<Environment>,
    worker_versions: Resolved<crate::control_plane::WorkerVersion>,
    schedules: Resolved<Schedule>,
}

impl Hydration {
    async fn load<C: ControlPlane>(control_plane: &C, graph: &RunGraph) -> Result<Self> {
        let environment_ids = distinct_keys([Some(graph.run.environment_id.as_str())]);
        let version_ids = distinct_keys(graph.records().map(|r| r.locked_to_version_id.as_deref()));
        let schedule_ids = distinct_keys([graph.run.schedule_id.as_deref()]);
        let (environments, worker_versions, schedules) = futures::try_join!(
            control_plane.environments(environment_ids),
            control_plane.worker_versions(version_ids),
            control_plane.schedules(schedule_ids),
        )?;
        Ok(Self {
            environments,
            worker_versions,
            schedules,
        })
    }

    fn summary(
        &self,
        record: &RunRecord,
        api_version: ApiVersion,
        environment: &Environment,
    ) -> RelatedRunView {
        let public_status = record.status.public(api_version);
        let mut tags = record.tags.clone();
        sort_tags(&mut tags);
        RelatedRunView {
            id: record.id.clone(),
            status: record.status,
            public_status,
            flags: RunFlags::of(public_status),
            task_identifier: record.task_identifier.clone(),
            idempotency_key: record.display_idempotency_key().map(str::to_owned),
            version: record
                .locked_to_version_id
                .as_deref()
                .and_then(|id| self.worker_versions.get(id))
                .map(|worker| worker.version.clone()),
            created_at: record.created_at,
            updated_at: record.updated_at,
            started_at: record.started_at,
            finished_at: record.completed_at,
            expired_at: record.expired_at,
            delayed_until: record.delay_until,
            ttl: record.ttl.clone(),
            cost_in_cents: record.cost_in_cents,
            base_cost_in_cents: record.base_cost_in_cents,
            duration_ms: record.usage_duration_ms,
            is_test: record.is_test,
            tags,
            depth: record.depth,
            trigger_function: record.trigger_function(),
            batch_id: record.batch_id.clone(),
            metadata: record
                .metadata
                .clone()
                .map(|packet| packet.with_object_key(&environment.project_ref, &environment.slug)),
            region: record.display_region().map(str::to_owned),
        }
    }

    fn detail(
        &self,
        graph: RunGraph,
        environment: Arc<Environment>,
        api_version: ApiVersion,
        view: RunViewKind,
    ) -> RunDetail {
        let summarize = |record: &RunRecord| self.summary(record, api_version, &environment);
        let relations = RunRelations {
            root: graph.root.as_ref().map(summarize),
            parent: graph.parent.as_ref().map(summarize),
            children: graph.children.iter().map(summarize).collect(),
            children_truncated: graph.children_truncated,
        };
        let run = &graph.run;
        let object_key = |packet: &Packet| {
            packet
                .clone()
                .with_object_key(&environment.project_ref, &environment.slug)
        };
        let (payload, output) = match view {
            RunViewKind::Basic => (None, None),
            RunViewKind::Full => (
                run.payload.as_ref().map(object_key),
                run.visible_output().map(object_key),
            ),
        };
        RunDetail {
            summary: summarize(run),
            attempt_count: run.attempt_count(),
            error: run.api_error(),
            schedule: run
                .schedule_id
                .as_deref()
                .and_then(|id| self.schedules.get(id))
                .cloned(),
            relations,
            payload,
            output,
            environment,
        }
    }
}
