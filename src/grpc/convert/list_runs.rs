//! ListRuns: the request into a query, each list item into a `RunSummary`.

use runview_core::Error;
use runview_core::filter::RunAttributes;
use runview_core::page::page_size;
use runview_core::presenter::{ListPage, ListRunsQuery, RunListItem};
use runview_core::status::{PublicRunStatus, RunFlags};

use super::{
    api_version, batch_id, environment_id, filter_value, filter_values, list_length, packet_parts,
    run_status, status_filter_mode, time_filter, timestamp,
};
use crate::proto as pb;

const SCHEDULE_PREFIX: &str = "sched_";

impl TryFrom<pb::ListRunsRequest> for ListRunsQuery {
    type Error = Error;

    fn try_from(request: pb::ListRunsRequest) -> Result<Self, Error> {
        list_length("statuses", request.statuses.len())?;
        let statuses = request
            .statuses
            .iter()
            .enumerate()
            .map(|(index, name)| {
                PublicRunStatus::from_name(name).ok_or_else(|| {
                    Error::invalid_argument(
                        format!("statuses[{index}]"),
                        format!("`{name}` is not a run status"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schedule_id = match request.schedule_id {
            Some(id) if !id.starts_with(SCHEDULE_PREFIX) || id.len() == SCHEDULE_PREFIX.len() => {
                return Err(Error::invalid_argument(
                    "schedule_id",
                    "must be a schedule friendly id (`sched_…`)",
                ));
            }
            Some(id) => {
                filter_value("schedule_id", &id)?;
                Some(id)
            }
            None => None,
        };
        let bulk_action_id = request.bulk_action_id.map(bulk_action_id).transpose()?;
        Ok(Self {
            environment_id: environment_id(&request.environment_id)?,
            api_version: api_version(request.api_version)?,
            page_size: page_size(request.page_size)?,
            page_token: Some(request.page_token).filter(|token| !token.is_empty()),
            statuses,
            status_filter_mode: status_filter_mode(request.status_filter_mode)?,
            schedule_id,
            time: time_filter(
                request.created_after,
                request.created_before,
                request.period,
            )?,
            attributes: RunAttributes {
                task_identifiers: filter_values("task_identifiers", request.task_identifiers)?,
                versions: filter_values("versions", request.versions)?,
                tags: filter_values("tags", request.tags)?,
                batch_id: batch_id(request.batch_id)?,
                is_test: request.is_test,
                queues: filter_values("queues", request.queues)?,
                regions: filter_values("regions", request.regions)?,
                machines: filter_values("machines", request.machines)?,
                bulk_action_id,
            },
        })
    }
}

const BULK_ACTION_PREFIX: &str = "bulk_";

/// A bulk action id as the upstream takes it: friendly (`bulk_<id>`, the prefix stripped) or
/// bare.
fn bulk_action_id(id: String) -> Result<String, Error> {
    filter_value("bulk_action_id", &id)?;
    let invalid = |reason: &str| Err(Error::invalid_argument("bulk_action_id", reason));
    match id.strip_prefix(BULK_ACTION_PREFIX) {
        Some(body) if body.is_empty() || body.contains('_') => {
            invalid("a friendly id is `bulk_` followed by the id")
        }
        Some(body) => Ok(body.to_owned()),
        None => Ok(id),
    }
}

impl From<ListPage<RunListItem>> for pb::ListRunsResponse {
    fn from(page: ListPage<RunListItem>) -> Self {
        Self {
            runs: page.items.into_iter().map(run_summary).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
            previous_page_token: page.previous_page_token.unwrap_or_default(),
        }
    }
}

fn run_summary(run: RunListItem) -> pb::RunSummary {
    let RunFlags {
        is_queued,
        is_executing,
        is_waiting,
        is_completed,
        is_success,
        is_failed,
        is_cancelled,
    } = run.flags;
    let (metadata, metadata_type) = packet_parts(run.metadata);
    let environment = &run.environment;
    pb::RunSummary {
        id: run.id.friendly(),
        status: run_status(run.status) as i32,
        api_status: run.public_status.as_str().to_owned(),
        is_queued,
        is_executing,
        is_waiting,
        is_completed,
        is_success,
        is_failed,
        is_cancelled,
        task_identifier: run.task_identifier,
        idempotency_key: run.idempotency_key,
        version: run.version,
        created_at: Some(timestamp(run.created_at)),
        updated_at: Some(timestamp(run.updated_at)),
        started_at: run.started_at.map(timestamp),
        finished_at: run.finished_at.map(timestamp),
        delayed_until: run.delayed_until.map(timestamp),
        expired_at: run.expired_at.map(timestamp),
        ttl: run.ttl,
        is_test: run.is_test,
        tags: run.tags,
        cost_in_cents: run.cost_in_cents,
        base_cost_in_cents: run.base_cost_in_cents,
        duration_ms: i64::from(run.duration_ms),
        depth: run.depth,
        metadata,
        metadata_type,
        task_kind: run.task_kind,
        region: run.region,
        environment: Some(pb::RunSummaryEnvironment {
            id: environment.id.clone(),
            name: environment.slug.clone(),
            user: environment
                .owner
                .as_ref()
                .map(|owner| owner.display_name().to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use runview_core::status::{ApiVersion, StatusFilterMode};

    use super::*;

    fn request() -> pb::ListRunsRequest {
        pb::ListRunsRequest {
            environment_id: "cm0env0000000000000000001".into(),
            ..pb::ListRunsRequest::default()
        }
    }

    fn field_of(request: pb::ListRunsRequest) -> String {
        match ListRunsQuery::try_from(request) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn a_list_runs_request_becomes_a_query() {
        let query = ListRunsQuery::try_from(pb::ListRunsRequest {
            api_version: pb::ApiVersion::ApiVersion20250716 as i32,
            statuses: vec!["WAITING".into()],
            status_filter_mode: pb::StatusFilterMode::Complete as i32,
            batch_id: Some("batch_clxyz0123456789abcdefghij".into()),
            schedule_id: Some("sched_abc".into()),
            period: Some(prost_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
            ..request()
        })
        .expect("valid");
        assert_eq!(query.page_size, 25);
        assert_eq!(query.page_token, None);
        assert_eq!(query.api_version, ApiVersion::V2);
        assert_eq!(query.statuses, [PublicRunStatus::Waiting]);
        assert_eq!(query.status_filter_mode, StatusFilterMode::Complete);
        assert_eq!(
            query.attributes.batch_id.map(|id| id.friendly()),
            Some("batch_clxyz0123456789abcdefghij".to_owned())
        );
        assert_eq!(query.time.period, Some(chrono::TimeDelta::hours(1)));
    }

    #[test]
    fn bad_filters_name_their_field() {
        assert_eq!(
            field_of(pb::ListRunsRequest {
                page_size: -1,
                ..request()
            }),
            "page_size"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                statuses: vec!["DONE".into()],
                ..request()
            }),
            "statuses[0]"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                tags: vec!["a".into(), String::new()],
                ..request()
            }),
            "tags[1]"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                batch_id: Some("run_x".into()),
                ..request()
            }),
            "batch_id"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                schedule_id: Some("abc".into()),
                ..request()
            }),
            "schedule_id"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                status_filter_mode: 7,
                ..request()
            }),
            "status_filter_mode"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                environment_id: String::new(),
                ..request()
            }),
            "environment_id"
        );
    }

    #[test]
    fn a_bulk_action_id_may_be_friendly_or_bare() {
        let bulk = |id: &str| {
            ListRunsQuery::try_from(pb::ListRunsRequest {
                bulk_action_id: Some(id.into()),
                ..request()
            })
            .map(|query| query.attributes.bulk_action_id)
        };
        assert_eq!(bulk("bulk_cm1abc"), Ok(Some("cm1abc".to_owned())));
        assert_eq!(bulk("cm1abc"), Ok(Some("cm1abc".to_owned())));
        for malformed in ["", "bulk_", "bulk_a_b", "bulk_a\0"] {
            let field = field_of(pb::ListRunsRequest {
                bulk_action_id: Some(malformed.into()),
                ..request()
            });
            assert_eq!(field, "bulk_action_id", "{malformed:?}");
        }
    }

    #[test]
    fn hostile_single_values_and_long_status_lists_are_refused_by_field() {
        assert_eq!(
            field_of(pb::ListRunsRequest {
                schedule_id: Some("sched_a\0b".into()),
                ..request()
            }),
            "schedule_id"
        );
        assert_eq!(
            field_of(pb::ListRunsRequest {
                statuses: vec!["COMPLETED".into(); 101],
                ..request()
            }),
            "statuses"
        );
    }
}
