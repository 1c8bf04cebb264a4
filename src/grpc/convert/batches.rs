//! ListBatches: the request into a query, each batch into a `BatchSummary`; the batch status and
//! environment conversions GetBatch shares.

use runview_core::Error;
use runview_core::batch::BatchStatus;
use runview_core::control_plane::Environment;
use runview_core::filter::BatchAttributes;
use runview_core::page::page_size;
use runview_core::presenter::{BatchListItem, BatchListPage, ListBatchesQuery};

use super::{batch_id, environment_id, environment_type, list_length, time_filter, timestamp};
use crate::proto as pb;

impl TryFrom<pb::ListBatchesRequest> for ListBatchesQuery {
    type Error = Error;

    fn try_from(request: pb::ListBatchesRequest) -> Result<Self, Error> {
        list_length("statuses", request.statuses.len())?;
        let statuses = request
            .statuses
            .iter()
            .enumerate()
            .map(|(index, value)| {
                pb::BatchStatus::try_from(*value)
                    .ok()
                    .and_then(batch_status)
                    .ok_or_else(|| {
                        Error::invalid_argument(
                            format!("statuses[{index}]"),
                            format!("{value} is not a batch status"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            environment_id: environment_id(&request.environment_id)?,
            page_size: page_size(request.page_size)?,
            page_token: Some(request.page_token).filter(|token| !token.is_empty()),
            time: time_filter(
                request.created_after,
                request.created_before,
                request.period,
            )?,
            include_run_counts: request.include_run_counts,
            attributes: BatchAttributes {
                statuses,
                batch_id: batch_id(request.batch_id)?,
            },
        })
    }
}

impl From<BatchListPage> for pb::ListBatchesResponse {
    fn from(list: BatchListPage) -> Self {
        Self {
            batches: list.page.items.into_iter().map(batch_summary).collect(),
            next_page_token: list.page.next_page_token.unwrap_or_default(),
            previous_page_token: list.page.previous_page_token.unwrap_or_default(),
            has_any_batches: list.has_any_batches,
        }
    }
}

fn batch_summary(item: BatchListItem) -> pb::BatchSummary {
    let BatchListItem {
        record,
        environment,
        run_counts,
    } = item;
    pb::BatchSummary {
        status: proto_batch_status(record.status) as i32,
        created_at: Some(timestamp(record.created_at)),
        updated_at: Some(timestamp(record.updated_at)),
        has_finished: record.status.has_finished(),
        finished_at: record.finished_at().map(timestamp),
        id: record.friendly_id,
        run_count: record.run_count,
        batch_version: record.batch_version,
        environment: Some(batch_environment(&environment)),
        run_counts: run_counts
            .unwrap_or_default()
            .into_iter()
            .map(|(status, count)| (status.as_str().to_owned(), count))
            .collect(),
    }
}

/// The environment as batches show it: the owner's name for DEVELOPMENT environments only.
pub(super) fn batch_environment(environment: &Environment) -> pb::BatchEnvironment {
    pb::BatchEnvironment {
        id: environment.id.clone(),
        r#type: environment_type(environment.environment_type) as i32,
        slug: environment.slug.clone(),
        user_name: environment
            .owner
            .as_ref()
            .map(|owner| owner.display_name().to_owned()),
    }
}

fn batch_status(status: pb::BatchStatus) -> Option<BatchStatus> {
    match status {
        pb::BatchStatus::Unspecified => None,
        pb::BatchStatus::Pending => Some(BatchStatus::Pending),
        pb::BatchStatus::Processing => Some(BatchStatus::Processing),
        pb::BatchStatus::Completed => Some(BatchStatus::Completed),
        pb::BatchStatus::PartialFailed => Some(BatchStatus::PartialFailed),
        pb::BatchStatus::Aborted => Some(BatchStatus::Aborted),
    }
}

pub(super) fn proto_batch_status(status: BatchStatus) -> pb::BatchStatus {
    match status {
        BatchStatus::Pending => pb::BatchStatus::Pending,
        BatchStatus::Processing => pb::BatchStatus::Processing,
        BatchStatus::Completed => pb::BatchStatus::Completed,
        BatchStatus::PartialFailed => pb::BatchStatus::PartialFailed,
        BatchStatus::Aborted => pb::BatchStatus::Aborted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_statuses_round_trip_through_proto() {
        for status in BatchStatus::ALL {
            assert_eq!(batch_status(proto_batch_status(status)), Some(status));
        }
        assert_eq!(batch_status(pb::BatchStatus::Unspecified), None);
    }

    #[test]
    fn an_unspecified_status_filter_names_its_position() {
        let request = pb::ListBatchesRequest {
            environment_id: "cm0env0000000000000000001".into(),
            statuses: vec![pb::BatchStatus::Completed as i32, 0],
            ..pb::ListBatchesRequest::default()
        };
        match ListBatchesQuery::try_from(request) {
            Err(Error::InvalidArgument { violations, .. }) => {
                assert_eq!(violations[0].field, "statuses[1]")
            }
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }
}
