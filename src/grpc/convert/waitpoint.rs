//! GetWaitpoint: the request into a query, the view into a `Waitpoint`.

use runview_core::Error;
use runview_core::ids::WaitpointId;
use runview_core::presenter::{GetWaitpointQuery, WaitpointView};
use runview_core::waitpoint::{WaitpointStatus, WaitpointType};

use super::{environment_id, packet_parts, timestamp};
use crate::proto as pb;

impl TryFrom<pb::GetWaitpointRequest> for GetWaitpointQuery {
    type Error = Error;

    fn try_from(request: pb::GetWaitpointRequest) -> Result<Self, Error> {
        Ok(Self {
            environment_id: environment_id(&request.environment_id)?,
            waitpoint_id: WaitpointId::parse(&request.waitpoint_id)
                .map_err(|e| Error::invalid_argument("waitpoint_id", e))?,
        })
    }
}

impl From<WaitpointView> for pb::Waitpoint {
    fn from(view: WaitpointView) -> Self {
        let (output, output_type) = packet_parts(view.output.clone());
        let connected_run_ids = view
            .record
            .connected_runs
            .iter()
            .map(|run| run.id.friendly())
            .collect();
        let output_type = output_type.or_else(|| Some(view.record.output_type.clone()));
        Self {
            output,
            output_type,
            connected_run_ids,
            ..listed_waitpoint(view)
        }
    }
}

/// A token as lists show it: no output and no connected runs.
pub fn listed_waitpoint(view: WaitpointView) -> pb::Waitpoint {
    let record = view.record;
    pb::Waitpoint {
        user_idempotency_key: record.user_idempotency_key().map(str::to_owned),
        id: record.id.friendly(),
        r#type: waitpoint_type(record.waitpoint_type) as i32,
        status: waitpoint_status(view.status) as i32,
        url: view.url,
        idempotency_key: record.idempotency_key,
        user_provided_idempotency_key: record.user_provided_idempotency_key,
        idempotency_key_expires_at: record.idempotency_key_expires_at.map(timestamp),
        inactive_idempotency_key: record.inactive_idempotency_key,
        output: None,
        output_type: None,
        output_is_error: record.output_is_error,
        timeout_at: record.completed_after.map(timestamp),
        completed_at: record.completed_at.map(timestamp),
        created_at: Some(timestamp(record.created_at)),
        tags: record.tags,
        connected_run_ids: Vec::new(),
    }
}

fn waitpoint_type(waitpoint_type: WaitpointType) -> pb::WaitpointType {
    match waitpoint_type {
        WaitpointType::Run => pb::WaitpointType::Run,
        WaitpointType::DateTime => pb::WaitpointType::Datetime,
        WaitpointType::Manual => pb::WaitpointType::Manual,
        WaitpointType::Batch => pb::WaitpointType::Batch,
    }
}

pub fn waitpoint_status(status: WaitpointStatus) -> pb::WaitpointStatus {
    match status {
        WaitpointStatus::Waiting => pb::WaitpointStatus::Waiting,
        WaitpointStatus::Completed => pb::WaitpointStatus::Completed,
        WaitpointStatus::TimedOut => pb::WaitpointStatus::TimedOut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waitpoint_type_and_status_has_its_proto_value_of_the_same_name() {
        for (label, name) in [
            ("RUN", "RUN"),
            ("DATETIME", "DATETIME"),
            ("MANUAL", "MANUAL"),
            ("BATCH", "BATCH"),
        ] {
            let domain = WaitpointType::from_label(label).expect("known label");
            assert_eq!(
                waitpoint_type(domain).as_str_name(),
                format!("WAITPOINT_TYPE_{name}")
            );
        }
        for (status, name) in [
            (WaitpointStatus::Waiting, "WAITING"),
            (WaitpointStatus::Completed, "COMPLETED"),
            (WaitpointStatus::TimedOut, "TIMED_OUT"),
        ] {
            assert_eq!(
                waitpoint_status(status).as_str_name(),
                format!("WAITPOINT_STATUS_{name}")
            );
        }
    }

    #[test]
    fn a_malformed_waitpoint_id_names_the_field() {
        let request = pb::GetWaitpointRequest {
            environment_id: "cm0env0000000000000000001".into(),
            waitpoint_id: "run_clxyz0123456789abcdefghij".into(),
        };
        match GetWaitpointQuery::try_from(request) {
            Err(Error::InvalidArgument { violations, .. }) => {
                assert_eq!(violations[0].field, "waitpoint_id")
            }
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }
}
