//! ListRuns: one keyset page of runs across the stores, hydrated with the caller's environment.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::Instrument;

use super::hydration::caller_environment;
use super::paging::{DEFAULT_LIST_PERIOD, ListPage, Paging, TimeFingerprint};
use crate::batch::BatchLookup;
use crate::control_plane::Environment;
use crate::error::{Error, Result};
use crate::filter::{RunAttributes, RunFilter, RunListQuery};
use crate::ids::{BatchId, EnvironmentId, RunId};
use crate::packet::Packet;
use crate::page::{Keyset, Scan, TimeFilter};
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
    /// A schedule friendly id (`sched_…`).
    pub schedule_id: Option<String>,
    pub time: TimeFilter,
    pub attributes: RunAttributes,
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
    scan_budget: usize,
}

impl<S: RunOpsStores, C: ControlPlane> ListRuns<S, C> {
    pub fn new(
        stores: Arc<S>,
        control_plane: Arc<C>,
        signer: Arc<PageTokenSigner>,
        scan_budget: usize,
    ) -> Self {
        Self {
            stores,
            control_plane,
            signer,
            scan_budget,
        }
    }

    pub async fn present(&self, query: ListRunsQuery) -> Result<ListPage<RunListItem>> {
        let environment_id = query.environment_id.clone();
        let scope = TokenScope::new(environment_id.as_str(), &Fingerprint::of(&query));
        let paging = Paging::start(
            &self.signer,
            scope,
            query.page_token.as_deref(),
            query.page_size,
            |now| query.time.resolve(now, DEFAULT_LIST_PERIOD),
        )?;
        let statuses = stored_statuses(&query)?;
        let schedule_id = match &query.schedule_id {
            None => None,
            Some(friendly_id) => match self.resolve_schedule(friendly_id).await? {
                Some(id) => Some(id),
                // An unknown schedule triggered no run: the page is empty, not an error.
                None => {
                    return Ok(
                        paging.finish(Scan::complete(Vec::new()), |run: &RunListItem| {
                            key(&run.id, run.created_at)
                        }),
                    );
                }
            },
        };
        let batch_id = match &query.attributes.batch_id {
            None => None,
            Some(batch_id) => Some(self.resolve_batch(&environment_id, batch_id).await?),
        };
        let list = RunListQuery {
            environment_id: environment_id.clone(),
            filter: RunFilter {
                statuses,
                schedule_id,
                batch_id,
                window: paging.window,
                attributes: query.attributes,
            },
            page: paging.request.clone(),
            scan_budget: self.scan_budget,
        };
        let Scan { rows, stopped_at } = self
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
        let scan = Scan {
            rows: items,
            stopped_at,
        };
        Ok(paging.finish(scan, |run| key(&run.id, run.created_at)))
    }

    /// The internal id of the batch the request names, as the upstream finds it: by friendly id
    /// in the caller's environment (the oldest batches have one that is not their internal id
    /// with a prefix), else the id as given.
    async fn resolve_batch(
        &self,
        environment_id: &EnvironmentId,
        batch_id: &BatchId,
    ) -> Result<String> {
        let lookup = BatchLookup {
            environment_id: environment_id.clone(),
            batch_id: batch_id.clone(),
            include_run_ids: false,
        };
        let found = self
            .stores
            .find_batch(&lookup)
            .instrument(tracing::debug_span!("resolve_batch"))
            .await?;
        Ok(found.map_or_else(
            || batch_id.as_str().to_owned(),
            |batch| batch.summary.id.as_str().to_owned(),
        ))
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
    schedule_id: Option<&'a str>,
    time: TimeFingerprint,
    attributes: &'a RunAttributes,
}

impl<'a> Fingerprint<'a> {
    /// Names every field of the query, so that a new one cannot be left out unnoticed.
    fn of(query: &'a ListRunsQuery) -> Self {
        let ListRunsQuery {
            // The scope binds the environment by itself; page size may change between pages; the
            // token is what the scope verifies.
            environment_id: _,
            page_size: _,
            page_token: _,
            api_version,
            statuses,
            status_filter_mode,
            schedule_id,
            time,
            attributes,
        } = query;
        Self {
            api_version: *api_version == ApiVersion::V2,
            statuses: statuses.iter().map(|status| status.as_str()).collect(),
            mode: *status_filter_mode,
            schedule_id: schedule_id.as_deref(),
            time: TimeFingerprint::from(time),
            attributes,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::ids::BatchId;
    use crate::presenter::paging::one_time_filter_each;

    fn unfiltered() -> ListRunsQuery {
        ListRunsQuery {
            environment_id: EnvironmentId::parse("cm0env0000000000000000001").expect("valid"),
            api_version: ApiVersion::V1,
            page_size: 25,
            page_token: None,
            statuses: Vec::new(),
            status_filter_mode: StatusFilterMode::Upstream,
            schedule_id: None,
            time: TimeFilter::default(),
            attributes: RunAttributes::default(),
        }
    }

    fn digest(query: &ListRunsQuery) -> String {
        TokenScope::new(query.environment_id.as_str(), &Fingerprint::of(query)).filter_digest
    }

    /// Each query differs from [`unfiltered`] in one filter; all digests must differ.
    fn assert_distinct_digests(narrowed: Vec<ListRunsQuery>) {
        let count = narrowed.len() + 1;
        let digests: HashSet<String> = narrowed.iter().chain([&unfiltered()]).map(digest).collect();
        assert_eq!(digests.len(), count);
    }

    #[test]
    fn every_run_attribute_changes_the_token_scope() {
        // Named without `..`: a new attribute does not compile here until it is covered.
        let RunAttributes {
            task_identifiers,
            versions,
            tags,
            batch_id,
            is_test,
            queues,
            regions,
            machines,
            bulk_action_id,
        } = RunAttributes {
            task_identifiers: vec!["billing/charge".into()],
            versions: vec!["20260101.1".into()],
            tags: vec!["vip".into()],
            batch_id: Some(BatchId::from_stored("cbatch0000000000000000001")),
            is_test: Some(false),
            queues: vec!["task/billing/charge".into()],
            regions: vec!["eu-central-1".into()],
            machines: vec!["large-1x".into()],
            bulk_action_id: Some("cm1abc".into()),
        };
        let one_each = [
            RunAttributes {
                task_identifiers,
                ..RunAttributes::default()
            },
            RunAttributes {
                versions,
                ..RunAttributes::default()
            },
            RunAttributes {
                tags,
                ..RunAttributes::default()
            },
            RunAttributes {
                batch_id,
                ..RunAttributes::default()
            },
            RunAttributes {
                is_test,
                ..RunAttributes::default()
            },
            RunAttributes {
                queues,
                ..RunAttributes::default()
            },
            RunAttributes {
                regions,
                ..RunAttributes::default()
            },
            RunAttributes {
                machines,
                ..RunAttributes::default()
            },
            RunAttributes {
                bulk_action_id,
                ..RunAttributes::default()
            },
        ];
        assert_distinct_digests(
            one_each
                .into_iter()
                .map(|attributes| ListRunsQuery {
                    attributes,
                    ..unfiltered()
                })
                .collect(),
        );
    }

    #[test]
    fn every_resolved_filter_changes_the_token_scope() {
        let resolved = [
            ListRunsQuery {
                api_version: ApiVersion::V2,
                ..unfiltered()
            },
            ListRunsQuery {
                statuses: vec![PublicRunStatus::Waiting],
                ..unfiltered()
            },
            ListRunsQuery {
                status_filter_mode: StatusFilterMode::Complete,
                ..unfiltered()
            },
            ListRunsQuery {
                schedule_id: Some("sched_abc".into()),
                ..unfiltered()
            },
        ];
        let times = one_time_filter_each().map(|time| ListRunsQuery {
            time,
            ..unfiltered()
        });
        assert_distinct_digests(resolved.into_iter().chain(times).collect());
    }

    #[test]
    fn page_size_and_token_leave_the_token_scope_alone() {
        let next_page = ListRunsQuery {
            page_size: 100,
            page_token: Some("token".into()),
            ..unfiltered()
        };
        assert_eq!(digest(&next_page), digest(&unfiltered()));
    }
}
