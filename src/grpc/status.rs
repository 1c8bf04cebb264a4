//! The one mapping from domain errors to gRPC statuses (AIP-193): every status carries an
//! `ErrorInfo` with domain `runview`, a reason, and the message's dynamic values as metadata.

use std::collections::HashMap;
use std::time::Duration;

use runview_core::Error;
use runview_core::error::{InvalidReason, Resource};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

const DOMAIN: &str = "runview";
/// How long a caller should wait before retrying a shed or unavailable request.
const RETRY_DELAY: Duration = Duration::from_secs(1);

pub fn to_status(error: Error) -> Status {
    let message = error.to_string();
    let mut details = ErrorDetails::new();
    let code = match error {
        Error::NotFound { resource, id } => {
            let named = metadata([("id", id.clone()), (id_field(resource), id)]);
            details.set_error_info(not_found_reason(resource), DOMAIN, named);
            Code::NotFound
        }
        Error::InvalidArgument { reason, violations } => {
            let reason = match reason {
                InvalidReason::Argument => "INVALID_ARGUMENT",
                InvalidReason::PageToken => "INVALID_PAGE_TOKEN",
            };
            let fields = violations
                .iter()
                .map(|v| v.field.as_str())
                .collect::<Vec<_>>()
                .join(",");
            details.set_error_info(reason, DOMAIN, metadata([("fields", fields)]));
            for violation in violations {
                details.add_bad_request_violation(violation.field, violation.description);
            }
            Code::InvalidArgument
        }
        Error::Unavailable { dependency, detail } => {
            tracing::warn!(%dependency, %detail, "dependency unavailable");
            details
                .set_error_info(
                    "STORE_UNAVAILABLE",
                    DOMAIN,
                    metadata([("dependency", dependency), ("detail", detail)]),
                )
                .set_retry_info(Some(RETRY_DELAY));
            Code::Unavailable
        }
        Error::DeadlineExceeded => {
            details.set_error_info("DEADLINE_EXCEEDED", DOMAIN, HashMap::new());
            Code::DeadlineExceeded
        }
        Error::Overloaded => {
            details
                .set_error_info("OVERLOADED", DOMAIN, HashMap::new())
                .set_retry_info(Some(RETRY_DELAY));
            Code::ResourceExhausted
        }
        Error::Internal(cause) => {
            // Logged once here; the caller only learns that something failed.
            tracing::error!(%cause, "internal error");
            details.set_error_info("INTERNAL", DOMAIN, HashMap::new());
            return Status::with_error_details(Code::Internal, "internal error", details);
        }
    };
    Status::with_error_details(code, message, details)
}

/// Authentication is the edge's own concern, so its status is built here rather than from a
/// domain error.
pub fn unauthenticated(message: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info("UNAUTHENTICATED", DOMAIN, HashMap::new());
    Status::with_error_details(Code::Unauthenticated, message, details)
}

/// A request message that does not decode. The decoder's own text would describe our schema and
/// the decoder's internals, so the caller learns only that the message is not one.
pub fn undecodable() -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info("INVALID_ARGUMENT", DOMAIN, HashMap::new());
    Status::with_error_details(
        Code::InvalidArgument,
        "the request is not a valid protobuf message for this method",
        details,
    )
}

/// A request larger than `limit` bytes, refused before it is buffered (RESOURCE_EXHAUSTED, as
/// gRPC servers answer messages over their limit).
pub fn request_too_large(limit: usize) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(
        "REQUEST_TOO_LARGE",
        DOMAIN,
        metadata([("limit_bytes", limit.to_string())]),
    );
    Status::with_error_details(
        Code::ResourceExhausted,
        format!("the request is larger than {limit} bytes"),
        details,
    )
}

fn not_found_reason(resource: Resource) -> &'static str {
    match resource {
        Resource::Run => "RUN_NOT_FOUND",
        Resource::Waitpoint => "WAITPOINT_NOT_FOUND",
        Resource::Batch => "BATCH_NOT_FOUND",
        Resource::Environment => "ENVIRONMENT_NOT_FOUND",
    }
}

/// The request field that carries the id of a missing `resource`, as a metadata key beside `id`,
/// so that a caller can tell which of its ids was not found.
fn id_field(resource: Resource) -> &'static str {
    match resource {
        Resource::Run => "run_id",
        Resource::Waitpoint => "waitpoint_id",
        Resource::Batch => "batch_id",
        Resource::Environment => "environment_id",
    }
}

fn metadata<const N: usize>(pairs: [(&str, String); N]) -> HashMap<String, String> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

#[cfg(test)]
mod tests {
    use runview_core::error::Resource;

    use super::*;

    fn error_info(status: &Status) -> (String, HashMap<String, String>) {
        let details = status.get_error_details();
        let info = details
            .error_info()
            .cloned()
            .expect("every status carries ErrorInfo");
        assert_eq!(info.domain, DOMAIN);
        (info.reason, info.metadata)
    }

    #[test]
    fn not_found_names_the_resource_and_id() {
        let status = to_status(Error::not_found(Resource::Waitpoint, "waitpoint_x"));
        assert_eq!(status.code(), Code::NotFound);
        let (reason, metadata) = error_info(&status);
        assert_eq!(reason, "WAITPOINT_NOT_FOUND");
        assert_eq!(metadata.get("id").map(String::as_str), Some("waitpoint_x"));
        assert_eq!(
            metadata.get("waitpoint_id").map(String::as_str),
            Some("waitpoint_x")
        );
    }

    #[test]
    fn a_missing_batch_names_its_batch_id() {
        let status = to_status(Error::not_found(Resource::Batch, "batch_x"));
        assert_eq!(status.code(), Code::NotFound);
        let (reason, metadata) = error_info(&status);
        assert_eq!(reason, "BATCH_NOT_FOUND");
        assert_eq!(
            metadata.get("batch_id").map(String::as_str),
            Some("batch_x")
        );
    }

    #[test]
    fn invalid_arguments_carry_field_violations() {
        let status = to_status(Error::invalid_argument("run_id", "must not be empty"));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(error_info(&status).0, "INVALID_ARGUMENT");
        let details = status.get_error_details();
        let violations = &details.bad_request().expect("bad request").field_violations;
        assert_eq!(violations[0].field, "run_id");
    }

    #[test]
    fn unavailable_and_overloaded_ask_callers_to_retry() {
        for (error, code, reason) in [
            (
                Error::unavailable("new run-ops store", "refused"),
                Code::Unavailable,
                "STORE_UNAVAILABLE",
            ),
            (Error::Overloaded, Code::ResourceExhausted, "OVERLOADED"),
        ] {
            let status = to_status(error);
            assert_eq!(status.code(), code);
            assert_eq!(error_info(&status).0, reason);
            assert!(status.get_error_details().retry_info().is_some());
        }
    }

    #[test]
    fn internal_errors_are_masked() {
        let status = to_status(Error::Internal("column \"x\" does not exist".into()));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
        assert_eq!(error_info(&status).0, "INTERNAL");
    }

    #[test]
    fn deadline_exceeded_keeps_its_code() {
        assert_eq!(
            to_status(Error::DeadlineExceeded).code(),
            Code::DeadlineExceeded
        );
    }
}
