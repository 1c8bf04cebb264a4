//! GetRun: the request into a query, the run detail into a `Run`.

use runview_core::Error;
use runview_core::ids::RunId;
use runview_core::presenter::{GetRunQuery, RelatedRunView, RunDetail, RunViewKind};
use runview_core::run::TriggerFunction;
use runview_core::status::RunFlags;

use super::{api_version, environment_id, environment_type, packet_parts, run_status, timestamp};
use crate::proto as pb;

impl TryFrom<pb::GetRunRequest> for GetRunQuery {
    type Error = Error;

    fn try_from(request: pb::GetRunRequest) -> Result<Self, Error> {
        Ok(Self {
            environment_id: environment_id(&request.environment_id)?,
            run_id: RunId::parse(&request.run_id)
                .map_err(|e| Error::invalid_argument("run_id", e))?,
            api_version: api_version(request.api_version)?,
            view: match pb::RunView::try_from(request.view) {
                Ok(pb::RunView::Unspecified | pb::RunView::Basic) => RunViewKind::Basic,
                Ok(pb::RunView::Full) => RunViewKind::Full,
                Err(_) => {
                    return Err(Error::invalid_argument(
                        "view",
                        format!("unknown value {}", request.view),
                    ));
                }
            },
        })
    }
}

impl From<RunDetail> for pb::Run {
    fn from(detail: RunDetail) -> Self {
        let RunDetail {
            summary,
            environment,
            relations,
            ..
        } = &detail;
        let flags = summary.flags;
        let (metadata, metadata_type) = packet_parts(summary.metadata.clone());
        let (payload, payload_type) = packet_parts(detail.payload.clone());
        let (output, output_type) = packet_parts(detail.output.clone());
        Self {
            id: summary.id.friendly(),
            task_identifier: summary.task_identifier.clone(),
            status: run_status(summary.status) as i32,
            api_status: summary.public_status.as_str().to_owned(),
            is_queued: flags.is_queued,
            is_executing: flags.is_executing,
            is_waiting: flags.is_waiting,
            is_completed: flags.is_completed,
            is_success: flags.is_success,
            is_failed: flags.is_failed,
            is_cancelled: flags.is_cancelled,
            idempotency_key: summary.idempotency_key.clone(),
            version: summary.version.clone(),
            created_at: Some(timestamp(summary.created_at)),
            updated_at: Some(timestamp(summary.updated_at)),
            started_at: summary.started_at.map(timestamp),
            finished_at: summary.finished_at.map(timestamp),
            expired_at: summary.expired_at.map(timestamp),
            delayed_until: summary.delayed_until.map(timestamp),
            ttl: summary.ttl.clone(),
            cost_in_cents: summary.cost_in_cents,
            base_cost_in_cents: summary.base_cost_in_cents,
            duration_ms: i64::from(summary.duration_ms),
            is_test: summary.is_test,
            depth: summary.depth,
            tags: summary.tags.clone(),
            trigger_function: trigger_function(summary.trigger_function) as i32,
            batch_id: summary.batch_id.as_ref().map(|id| id.friendly()),
            region: summary.region.clone(),
            attempt_count: detail.attempt_count,
            metadata,
            metadata_type,
            error: detail.error.as_ref().map(|error| pb::RunError {
                name: error.name.clone(),
                message: error.message.clone(),
                stack_trace: error.stack_trace.clone(),
            }),
            schedule: detail.schedule.as_deref().map(|schedule| pb::RunSchedule {
                id: schedule.friendly_id.clone(),
                external_id: schedule.external_id.clone(),
                deduplication_key: schedule.deduplication_key.clone(),
                generator: Some(pb::ScheduleGenerator {
                    r#type: schedule.generator_type.clone(),
                    expression: schedule.generator_expression.clone(),
                    description: schedule.generator_description.clone(),
                }),
            }),
            environment: Some(pb::RunEnvironment {
                id: environment.id.clone(),
                slug: environment.slug.clone(),
                r#type: environment_type(environment.environment_type) as i32,
                project_ref: environment.project_ref.clone(),
                organization_slug: environment.organization_slug.clone(),
            }),
            relations: Some(pb::RunRelations {
                root: relations.root.as_ref().map(related_run),
                parent: relations.parent.as_ref().map(related_run),
                children: relations.children.iter().map(related_run).collect(),
                children_truncated: relations.children_truncated,
            }),
            payload,
            payload_type,
            output,
            output_type,
        }
    }
}

fn related_run(run: &RelatedRunView) -> pb::RelatedRun {
    let RunFlags {
        is_queued,
        is_executing,
        is_waiting,
        is_completed,
        is_success,
        is_failed,
        is_cancelled,
    } = run.flags;
    let (metadata, metadata_type) = packet_parts(run.metadata.clone());
    pb::RelatedRun {
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
        task_identifier: run.task_identifier.clone(),
        version: run.version.clone(),
        created_at: Some(timestamp(run.created_at)),
        updated_at: Some(timestamp(run.updated_at)),
        started_at: run.started_at.map(timestamp),
        finished_at: run.finished_at.map(timestamp),
        expired_at: run.expired_at.map(timestamp),
        delayed_until: run.delayed_until.map(timestamp),
        tags: run.tags.clone(),
        depth: run.depth,
        trigger_function: trigger_function(run.trigger_function) as i32,
        batch_id: run.batch_id.as_ref().map(|id| id.friendly()),
        metadata,
        metadata_type,
        idempotency_key: run.idempotency_key.clone(),
        ttl: run.ttl.clone(),
        cost_in_cents: run.cost_in_cents,
        base_cost_in_cents: run.base_cost_in_cents,
        duration_ms: i64::from(run.duration_ms),
        is_test: run.is_test,
        region: run.region.clone(),
    }
}

fn trigger_function(function: TriggerFunction) -> pb::TriggerFunction {
    match function {
        TriggerFunction::Trigger => pb::TriggerFunction::Trigger,
        TriggerFunction::TriggerAndWait => pb::TriggerFunction::TriggerAndWait,
        TriggerFunction::BatchTrigger => pb::TriggerFunction::BatchTrigger,
        TriggerFunction::BatchTriggerAndWait => pb::TriggerFunction::BatchTriggerAndWait,
    }
}

#[cfg(test)]
mod tests {
    use runview_core::status::ApiVersion;

    use super::*;

    fn request(run_id: &str) -> pb::GetRunRequest {
        pb::GetRunRequest {
            environment_id: "cm0env0000000000000000001".into(),
            run_id: run_id.into(),
            api_version: pb::ApiVersion::ApiVersion20250716 as i32,
            view: pb::RunView::Full as i32,
        }
    }

    #[test]
    fn a_get_run_request_becomes_a_query() {
        let query = GetRunQuery::try_from(request("run_clxyz0123456789abcdefghij")).expect("valid");
        assert_eq!(query.run_id.as_str(), "clxyz0123456789abcdefghij");
        assert_eq!(query.api_version, ApiVersion::V2);
        assert_eq!(query.view, RunViewKind::Full);
    }

    #[test]
    fn bad_request_fields_are_named() {
        let field_of = |request: pb::GetRunRequest| match GetRunQuery::try_from(request) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        };
        assert_eq!(field_of(request("run_x")), "run_id");
        assert_eq!(
            field_of(pb::GetRunRequest {
                environment_id: String::new(),
                ..request("run_clxyz0123456789abcdefghij")
            }),
            "environment_id"
        );
        assert_eq!(
            field_of(pb::GetRunRequest {
                api_version: 9,
                ..request("run_clxyz0123456789abcdefghij")
            }),
            "api_version"
        );
        assert_eq!(
            field_of(pb::GetRunRequest {
                view: 9,
                ..request("run_clxyz0123456789abcdefghij")
            }),
            "view"
        );
    }
}
