//! GetBatch: the request into a query, the batch detail into a `Batch`.

use runview_core::Error;
use runview_core::batch::BatchItemError;
use runview_core::presenter::{BatchDetail, BatchViewKind, GetBatchQuery};

use super::batches::{batch_environment, proto_batch_status};
use super::{environment_id, required_batch_id, timestamp};
use crate::proto as pb;

impl TryFrom<pb::GetBatchRequest> for GetBatchQuery {
    type Error = Error;

    fn try_from(request: pb::GetBatchRequest) -> Result<Self, Error> {
        Ok(Self {
            environment_id: environment_id(&request.environment_id)?,
            batch_id: required_batch_id(&request.batch_id)?,
            view: match pb::BatchView::try_from(request.view) {
                Ok(pb::BatchView::Unspecified | pb::BatchView::Basic) => BatchViewKind::Basic,
                Ok(pb::BatchView::Full) => BatchViewKind::Full,
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

impl From<BatchDetail> for pb::Batch {
    fn from(detail: BatchDetail) -> Self {
        let BatchDetail {
            record,
            environment,
        } = detail;
        let summary = &record.summary;
        Self {
            id: summary.friendly_id.clone(),
            status: proto_batch_status(summary.status) as i32,
            idempotency_key: record.idempotency_key,
            created_at: Some(timestamp(summary.created_at)),
            updated_at: Some(timestamp(summary.updated_at)),
            completed_at: summary.completed_at.map(timestamp),
            processing_started_at: record.processing_started_at.map(timestamp),
            processing_completed_at: record.processing_completed_at.map(timestamp),
            has_finished: summary.status.has_finished(),
            finished_at: summary.finished_at().map(timestamp),
            run_count: summary.run_count,
            run_ids: record.run_ids,
            successful_run_count: record.successful_run_count,
            failed_run_count: record.failed_run_count,
            batch_version: summary.batch_version.clone(),
            errors: record.errors.into_iter().map(item_error).collect(),
            environment: Some(batch_environment(&environment)),
        }
    }
}

fn item_error(error: BatchItemError) -> pb::BatchItemError {
    pb::BatchItemError {
        id: error.id,
        index: error.index,
        task_identifier: error.task_identifier,
        error: error.error,
        error_code: error.error_code,
        created_at: Some(timestamp(error.created_at)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use runview_core::batch::{BatchDetailRecord, BatchRecord, BatchStatus};
    use runview_core::control_plane::{Environment, EnvironmentOwner, EnvironmentType, SigningKey};
    use runview_core::ids::BatchId;

    use super::*;

    const BODY: &str = "clxyz0123456789abcdefghij";

    fn request(batch_id: &str, view: i32) -> pb::GetBatchRequest {
        pb::GetBatchRequest {
            environment_id: "cm0env0000000000000000001".into(),
            batch_id: batch_id.into(),
            view,
        }
    }

    fn field_of(request: pb::GetBatchRequest) -> String {
        match GetBatchQuery::try_from(request) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    #[test]
    fn friendly_and_bare_ids_ask_for_the_same_batch_and_the_view_defaults_to_basic() {
        let friendly = GetBatchQuery::try_from(request(&format!("batch_{BODY}"), 0));
        let bare = GetBatchQuery::try_from(request(BODY, pb::BatchView::Basic as i32));
        assert_eq!(friendly, bare);
        let query = friendly.expect("valid");
        assert_eq!(query.batch_id.as_str(), BODY);
        assert_eq!(query.view, BatchViewKind::Basic);
        let full = GetBatchQuery::try_from(request(BODY, pb::BatchView::Full as i32));
        assert_eq!(full.map(|query| query.view), Ok(BatchViewKind::Full));
    }

    #[test]
    fn bad_request_fields_are_named() {
        assert_eq!(field_of(request("batch_x", 0)), "batch_id");
        assert_eq!(field_of(request(&format!("run_{BODY}"), 0)), "batch_id");
        assert_eq!(field_of(request("", 0)), "batch_id");
        assert_eq!(field_of(request(BODY, 7)), "view");
        assert_eq!(
            field_of(pb::GetBatchRequest {
                environment_id: String::new(),
                ..request(BODY, 0)
            }),
            "environment_id"
        );
    }

    fn development_environment(owner: Option<EnvironmentOwner>) -> Arc<Environment> {
        Arc::new(Environment {
            id: "cm0env0000000000000000001".into(),
            slug: "dev".into(),
            environment_type: EnvironmentType::Development,
            organization_id: "org".into(),
            organization_slug: "acme".into(),
            project_id: "project".into(),
            project_slug: "shop".into(),
            project_ref: "proj_shop".into(),
            branch_name: None,
            owner,
            signing_key: SigningKey::new("tr_dev_key".into()),
        })
    }

    fn detail(record: BatchDetailRecord, owner: Option<EnvironmentOwner>) -> BatchDetail {
        BatchDetail {
            record,
            environment: development_environment(owner),
        }
    }

    /// A batch that left every nullable column NULL.
    fn bare_record() -> BatchDetailRecord {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single();
        let at = at.expect("a valid date");
        BatchDetailRecord {
            summary: BatchRecord {
                id: BatchId::from_stored(BODY),
                friendly_id: format!("batch_{BODY}"),
                environment_id: "cm0env0000000000000000001".into(),
                status: BatchStatus::Processing,
                run_count: 3,
                batch_version: "v3".into(),
                created_at: at,
                updated_at: at,
                completed_at: None,
            },
            idempotency_key: None,
            processing_started_at: None,
            processing_completed_at: None,
            run_ids: Vec::new(),
            successful_run_count: None,
            failed_run_count: None,
            errors: Vec::new(),
        }
    }

    #[test]
    fn null_columns_are_absent_from_the_batch() {
        let batch = pb::Batch::from(detail(bare_record(), None));
        assert_eq!(batch.id, format!("batch_{BODY}"));
        assert_eq!(batch.status(), pb::BatchStatus::Processing);
        assert_eq!(batch.idempotency_key, None);
        assert_eq!(
            (
                batch.completed_at,
                batch.finished_at,
                batch.processing_started_at
            ),
            (None, None, None)
        );
        assert_eq!(batch.processing_completed_at, None);
        assert_eq!(
            (batch.successful_run_count, batch.failed_run_count),
            (None, None)
        );
        assert!(!batch.has_finished);
        assert!(batch.run_ids.is_empty() && batch.errors.is_empty());
        let environment = batch.environment.expect("always filled");
        assert_eq!(environment.r#type(), pb::EnvironmentType::Development);
        assert_eq!(environment.user_name, None);
    }

    #[test]
    fn every_stored_value_reaches_the_batch() {
        let mut record = bare_record();
        let later = record.summary.created_at + chrono::TimeDelta::seconds(90);
        record.summary.status = BatchStatus::PartialFailed;
        record.summary.updated_at = later;
        record.idempotency_key = Some("nightly-import".into());
        record.processing_started_at = Some(later);
        record.processing_completed_at = Some(later);
        record.run_ids = vec!["run_b".into(), "run_a".into()];
        record.successful_run_count = Some(2);
        record.failed_run_count = Some(1);
        record.errors = vec![BatchItemError {
            id: "error1".into(),
            index: 1,
            task_identifier: "import-csv".into(),
            error: "Payload too large".into(),
            error_code: None,
            created_at: later,
        }];
        let batch = pb::Batch::from(detail(record, Some(EnvironmentOwner::Deleted)));
        assert_eq!(batch.status(), pb::BatchStatus::PartialFailed);
        assert_eq!(batch.idempotency_key.as_deref(), Some("nightly-import"));
        assert!(batch.has_finished);
        // Not completed: a finished batch shows when it was last updated.
        assert_eq!(batch.finished_at, Some(timestamp(later)));
        assert_eq!(batch.processing_completed_at, Some(timestamp(later)));
        assert_eq!(batch.run_ids, ["run_b", "run_a"]);
        assert_eq!(
            (batch.successful_run_count, batch.failed_run_count),
            (Some(2), Some(1))
        );
        assert_eq!(
            batch.errors,
            [pb::BatchItemError {
                id: "error1".into(),
                index: 1,
                task_identifier: "import-csv".into(),
                error: "Payload too large".into(),
                error_code: None,
                created_at: Some(timestamp(later)),
            }]
        );
        let environment = batch.environment.expect("always filled");
        assert_eq!(environment.user_name.as_deref(), Some("Deleted"));
    }
}
