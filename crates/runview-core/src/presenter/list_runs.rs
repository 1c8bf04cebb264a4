//! ListRuns: one keyset page of runs across the stores, hydrated with the caller's environment.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::Instrument;

use super::hydration::caller_environment;
use super::paging::{ListPage, Paging};
use crate::control_plane::Environment;
use crate::error::{Error, Result};
use crate::filter::{RunFilter, RunListQuery};
use crate::ids::{BatchId, EnvironmentId, RunId};
use crate::packet::Packet;
use crate::page::{Keyset, TimeFilter};
use crate::page_token::{PageTokenSigner, TokenScope};
use crate::ports::{ControlPlane, RunOpsStores};
use crate::run::RunRecord;
use crate::status::{ApiVersion, PublicRunStatus, RunFlags, StatusFilterMode, TaskRunStatus};
use crate::tags::sort_tags;

/// A ListRuns request, validated; statuses are still public names for `api_version`.
#[derive(Clone, Debug, PartialEq)]
pub struct ListRunsQuery {
    pub environment_id: EnvironmentId,
    pub api_version: ApiVersion,
    pub page_size: usize,
    pub page_token: Option<String>,
    pub statuses: Vec<PublicRunStatus>,
    pub status_filter_mode: StatusFilterMode,
    pub task_identifiers: Vec<String>,
    pub versions: Vec<String>,
    pub tags: Vec<String>,
    pub batch_id: Option<BatchId>,
    /// A schedule friendly id (`sched_…`).
    pub schedule_id: Option<String>,
    pub is_test: Option<bool>,
    pub time: TimeFilter,
    pub queues: Vec<String>,
    pub regions: Vec<String>,
    pub machines: Vec<String>,
    pub bulk_action_id: Option<String>,
}

/// A run as lists show it.
#[derive(Clone, Debug)]
pub struct RunListItem {
    pub id: RunId,
    pub status: TaskRunStatus,
    pub public_status: PublicRunStatus,
    pub flags: RunFlags,
    pub task_identifier: String,
    /// The stored hash, as upstream lists show it.
    pub idempotency_key: Option<String>,
    /// taskVersion.
    pub version: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub delayed_until: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub ttl: Option<String>,
    pub is_test: bool,
    pub tags: Vec<String>,
    pub cost_in_cents: f64,
    pub base_cost_in_cents: f64,
    pub duration_ms: i32,
    pub depth: i32,
    pub metadata: Option<Packet>,
    pub task_kind: String,
    pub region: Option<String>,
    pub environment: Arc<Environment>,
}

pub struct ListRuns<S, C> {
    stores: Arc<S>,
    control_plane: Arc<C>,
    signer: Arc<PageTokenSigner>,
}

impl<S: RunOpsStores, C: ControlPlane> ListRuns<S, C> {
    pub fn new(stores: Arc<S>, control_plane: Arc<C>, signer: Arc<PageTokenSigner>) -> Self {
        Self {
            stores,
            control_plane,
            signer,
        }
    }

    pub async fn present(&self, query: ListRunsQuery) -> Result<ListPage<RunListItem>> {
        let environment_id = query.environment_id.clone();
        let scope = TokenScope::new(environment_id.as_str(), &Fingerprint::of(&query));
        let paging = Paging::start(
            &self.signer,
            scope,
            query.page_token.as_deref(),
            &query.time,
            query.page_size,
        )?;
        let statuses = stored_statuses(&query)?;
        let schedule_id = match &query.schedule_id {
            None => None,
            Some(friendly_id) => match self.resolve_schedule(friendly_id).await? {
                Some(id) => Some(id),
                // An unknown schedule triggered no run: the page is empty, not an error.
                None => {
                    return Ok(
                        paging.finish(Vec::new(), |run: &RunListItem| key(&run.id, run.created_at))
                    );
                }
            },
        };
        let list = RunListQuery {
            environment_id: environment_id.clone(),
            filter: RunFilter {
                statuses,
                task_identifiers: query.task_identifiers,
                versions: query.versions,
                tags: query.tags,
                batch_id: query.batch_id,
                schedule_id,
                is_test: query.is_test,
                window: paging.window,
                queues: query.queues,
                regions: query.regions,
                machines: query.machines,
                bulk_action_id: query.bulk_action_id,
            },
            page: paging.request.clone(),
        };
        let rows = self
            .stores
            .list_runs(&list)
            .instrument(tracing::debug_span!("primary_query"))
            .await?;
        let items = if rows.is_empty() {
            Vec::new()
        } else {
            let environment = caller_environment(self.control_plane.as_ref(), &environment_id)
                .instrument(tracing::debug_span!("hydrate"))
                .await?;
            rows.into_iter()
                .map(|row| list_item(row, query.api_version, &environment))
                .collect()
        };
        Ok(paging.finish(items, |run| key(&run.id, run.created_at)))
    }

    async fn resolve_schedule(&self, friendly_id: &str) -> Result<Option<String>> {
        let resolved = self
            .control_plane
            .schedule_ids(vec![friendly_id.to_owned()])
            .await?;
        Ok(resolved.get(friendly_id).map(|id| id.as_str().to_owned()))
    }
}

fn key(id: &RunId, created_at: DateTime<Utc>) -> Keyset {
    Keyset {
        created_at,
        id: id.as_str().to_owned(),
    }
}

/// Public statuses become stored ones; the union, without repeats.
fn stored_statuses(query: &ListRunsQuery) -> Result<Vec<TaskRunStatus>> {
    let mut statuses = Vec::new();
    for public in &query.statuses {
        let stored = public
            .stored_statuses(query.status_filter_mode, query.api_version)
            .ok_or_else(|| {
                Error::invalid_argument(
                    "statuses",
                    format!(
                        "{} is not a status of the requested API version",
                        public.as_str()
                    ),
                )
            })?;
        statuses.extend(stored);
    }
    statuses.sort_unstable();
    statuses.dedup();
    Ok(statuses)
}

fn list_item(
    run: RunRecord,
    api_version: ApiVersion,
    environment: &Arc<Environment>,
) -> RunListItem {
    let public_status = run.status.public(api_version);
    let mut tags = run.tags.clone();
    sort_tags(&mut tags);
    // The upstream's list shows an empty key or ttl as absent.
    let non_empty = |value: Option<String>| value.filter(|value| !value.is_empty());
    RunListItem {
        public_status,
        flags: RunFlags::of(public_status),
        started_at: run.list_started_at(),
        finished_at: run.list_finished_at(),
        task_kind: run.task_kind().to_owned(),
        region: run.display_region().map(str::to_owned),
        metadata: run.metadata.clone().map(|packet| {
            packet
                .without_stream_keys()
                .with_object_key(&environment.project_ref, &environment.slug)
        }),
        id: run.id,
        status: run.status,
        task_identifier: run.task_identifier,
        idempotency_key: non_empty(run.idempotency_key),
        version: run.task_version,
        created_at: run.created_at,
        updated_at: run.updated_at,
        delayed_until: run.delay_until,
        expired_at: run.expired_at,
        ttl: non_empty(run.ttl),
        is_test: run.is_test,
        tags,
        cost_in_cents: run.cost_in_cents,
        base_cost_in_cents: run.base_cost_in_cents,
        duration_ms: run.usage_duration_ms,
        depth: run.depth,
        environment: environment.clone(),
    }
}

/// Every filter of the request, as a token binds them (page size is deliberately absent).
#[derive(Serialize)]
struct Fingerprint<'a> {
    api_version: bool,
    statuses: Vec<&'static str>,
    mode: StatusFilterMode,
    task_identifiers: &'a [String],
    versions: &'a [String],
    tags: &'a [String],
    batch_id: Option<&'a str>,
    schedule_id: Option<&'a str>,
    is_test: Option<bool>,
    created_after: Option<i64>,
    created_before: Option<i64>,
    period_ms: Option<i64>,
    queues: &'a [String],
    regions: &'a [String],
    machines: &'a [String],
    bulk_action_id: Option<&'a str>,
}

impl<'a> Fingerprint<'a> {
    fn of(query: &'a ListRunsQuery) -> Self {
        Self {
            api_version: query.api_version == ApiVersion::V2,
            statuses: query
                .statuses
                .iter()
                .map(|status| status.as_str())
                .collect(),
            mode: query.status_filter_mode,
            task_identifiers: &query.task_identifiers,
            versions: &query.versions,
            tags: &query.tags,
            batch_id: query.batch_id.as_ref().map(BatchId::as_str),
            schedule_id: query.schedule_id.as_deref(),
            is_test: query.is_test,
            created_after: query.time.created_after.map(|at| at.timestamp_millis()),
            created_before: query.time.created_before.map(|at| at.timestamp_millis()),
            period_ms: query.time.period.map(|period| period.num_milliseconds()),
            queues: &query.queues,
            regions: &query.regions,
            machines: &query.machines,
            bulk_action_id: query.bulk_action_id.as_deref(),
        }
    }
}
