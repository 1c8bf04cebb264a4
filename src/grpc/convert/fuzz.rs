//! Hostile requests against the request conversions: whatever a client sends, a conversion never
//! panics, and refuses only with INVALID_ARGUMENT naming at least one field. Runs 256 cases per
//! property by default; set `PROPTEST_CASES` for a longer run.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use prost::Message;
use prost_types::{Duration, Timestamp};
use runview_core::Error;
use runview_core::presenter::{
    GetBatchQuery, GetRunQuery, GetWaitpointQuery, ListBatchesQuery, ListRunsQuery,
    ListWaitpointsQuery,
};
use runview_core::status::PublicRunStatus;

use super::{MAX_FILTER_VALUE_BYTES, MAX_FILTER_VALUES};
use crate::proto as pb;

/// The property every conversion keeps, whatever it was given.
fn refused_only_as_invalid_argument<T>(converted: Result<T, Error>) -> Result<(), TestCaseError> {
    match converted {
        Ok(_) => Ok(()),
        Err(Error::InvalidArgument { violations, .. }) => {
            prop_assert!(!violations.is_empty(), "no field violation");
            for violation in &violations {
                prop_assert!(!violation.field.is_empty(), "unnamed field: {violation:?}");
            }
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!(
            "expected INVALID_ARGUMENT, got {other:?}"
        ))),
    }
}

/// Mostly a value that passes its own check, so that a case reaches the checks of the fields
/// after it too; sometimes a hostile one.
fn mostly<T: std::fmt::Debug>(
    valid: impl Strategy<Value = T>,
    hostile: impl Strategy<Value = T>,
) -> impl Strategy<Value = T> {
    prop_oneof![7 => valid, 1 => hostile]
}

/// Strings a hostile client sends: arbitrary unicode, NULs, well-formed prefixes with bad
/// bodies, and values far past every limit.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "(run|env|waitpoint|batch|bulk|sched)_[a-z0-9_\\x00é]{0,30}",
        1 => "[a-z0-9]{20,30}",
        1 => (0..3 * MAX_FILTER_VALUE_BYTES, any::<char>())
            .prop_map(|(length, c)| c.to_string().repeat(length)),
        1 => (0..100_000usize).prop_map(|length| "x".repeat(length)),
    ]
}

/// A friendly id with `prefix`, or without one, or a hostile string.
fn id(prefix: &'static str) -> impl Strategy<Value = String> {
    mostly(
        ("[a-z0-9]{25}", any::<bool>()).prop_map(move |(body, friendly)| {
            if friendly {
                format!("{prefix}{body}")
            } else {
                body
            }
        }),
        hostile_string(),
    )
}

fn filter_value() -> impl Strategy<Value = String> {
    mostly("[a-z0-9._-]{1,20}", hostile_string())
}

fn filter_values() -> impl Strategy<Value = Vec<String>> {
    mostly(
        prop::collection::vec(filter_value(), 0..4),
        prop::collection::vec(filter_value(), 0..3 * MAX_FILTER_VALUES),
    )
}

fn run_statuses() -> impl Strategy<Value = Vec<String>> {
    let names: Vec<String> = PublicRunStatus::ALL
        .iter()
        .map(|status| status.as_str().to_owned())
        .collect();
    let name = mostly(prop::sample::select(names), hostile_string()).boxed();
    mostly(
        prop::collection::vec(name.clone(), 0..4),
        prop::collection::vec(name, 0..3 * MAX_FILTER_VALUES),
    )
}

/// Known enum values, the values just past them, and any other integer.
fn enum_value() -> impl Strategy<Value = i32> {
    mostly(0..3i32, prop_oneof![-2..20i32, any::<i32>()])
}

fn page_size() -> impl Strategy<Value = i32> {
    mostly(0..200i32, any::<i32>())
}

fn hostile_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        -62_135_596_900..253_402_300_900i64,
        any::<i64>(),
    ]
}

fn hostile_nanos() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(i32::MIN),
        Just(i32::MAX),
        Just(-1),
        0..1_000_000_000i32,
        any::<i32>(),
    ]
}

fn timestamp() -> impl Strategy<Value = Option<Timestamp>> {
    let valid = (0..4_000_000_000i64, 0..1_000_000_000i32);
    let seconds_and_nanos = mostly(valid, (hostile_i64(), hostile_nanos()));
    proptest::option::of(
        seconds_and_nanos.prop_map(|(seconds, nanos)| Timestamp { seconds, nanos }),
    )
}

fn duration() -> impl Strategy<Value = Option<Duration>> {
    let valid = (0..4_000_000_000i64, 0..1_000_000_000i32);
    let seconds_and_nanos = mostly(valid, (hostile_i64(), hostile_nanos()));
    proptest::option::of(seconds_and_nanos.prop_map(|(seconds, nanos)| Duration { seconds, nanos }))
}

fn get_run_request() -> impl Strategy<Value = pb::GetRunRequest> {
    (
        hostile_string(),
        hostile_string(),
        enum_value(),
        enum_value(),
    )
        .prop_map(
            |(environment_id, run_id, api_version, view)| pb::GetRunRequest {
                environment_id,
                run_id,
                api_version,
                view,
            },
        )
}

fn list_runs_request() -> impl Strategy<Value = pb::ListRunsRequest> {
    let identity = (
        id("env_"),
        enum_value(),
        page_size(),
        hostile_string(),
        enum_value(),
    );
    let lists = (
        run_statuses(),
        filter_values(),
        filter_values(),
        filter_values(),
        filter_values(),
        filter_values(),
        filter_values(),
    );
    let optionals = (
        proptest::option::of(id("batch_")),
        proptest::option::of(id("sched_")),
        proptest::option::of(any::<bool>()),
        proptest::option::of(id("bulk_")),
    );
    let times = (timestamp(), timestamp(), duration());
    (identity, lists, optionals, times).prop_map(
        |(
            (environment_id, api_version, page_size, page_token, status_filter_mode),
            (statuses, task_identifiers, versions, tags, queues, regions, machines),
            (batch_id, schedule_id, is_test, bulk_action_id),
            (created_after, created_before, period),
        )| pb::ListRunsRequest {
            environment_id,
            api_version,
            page_size,
            page_token,
            statuses,
            status_filter_mode,
            task_identifiers,
            versions,
            tags,
            batch_id,
            schedule_id,
            is_test,
            created_after,
            created_before,
            period,
            queues,
            regions,
            machines,
            bulk_action_id,
        },
    )
}

fn get_waitpoint_request() -> impl Strategy<Value = pb::GetWaitpointRequest> {
    (id("env_"), id("waitpoint_")).prop_map(|(environment_id, waitpoint_id)| {
        pb::GetWaitpointRequest {
            environment_id,
            waitpoint_id,
        }
    })
}

/// Values of a proto enum whose known values are `known`: mostly those, sometimes anything, in
/// lists up to well past the cap.
fn enum_values(known: std::ops::Range<i32>) -> impl Strategy<Value = Vec<i32>> {
    let value = mostly(known, prop_oneof![-2..20i32, any::<i32>()]).boxed();
    mostly(
        prop::collection::vec(value.clone(), 0..4),
        prop::collection::vec(value, 0..3 * MAX_FILTER_VALUES),
    )
}

fn list_batches_request() -> impl Strategy<Value = pb::ListBatchesRequest> {
    (
        (id("env_"), page_size(), hostile_string(), enum_values(1..6)),
        proptest::option::of(id("batch_")),
        (timestamp(), timestamp(), duration()),
        any::<bool>(),
    )
        .prop_map(
            |(
                (environment_id, page_size, page_token, statuses),
                batch_id,
                (created_after, created_before, period),
                include_run_counts,
            )| pb::ListBatchesRequest {
                environment_id,
                page_size,
                page_token,
                statuses,
                batch_id,
                created_after,
                created_before,
                period,
                include_run_counts,
            },
        )
}

fn list_waitpoints_request() -> impl Strategy<Value = pb::ListWaitpointsRequest> {
    (
        (id("env_"), page_size(), hostile_string(), enum_values(1..4)),
        (
            enum_value(),
            proptest::option::of(hostile_string()),
            filter_values(),
        ),
        (timestamp(), timestamp(), duration()),
        proptest::option::of(id("waitpoint_")),
    )
        .prop_map(
            |(
                (environment_id, page_size, page_token, statuses),
                (status_filter_mode, idempotency_key, tags),
                (created_after, created_before, period),
                waitpoint_id,
            )| pb::ListWaitpointsRequest {
                environment_id,
                page_size,
                page_token,
                statuses,
                status_filter_mode,
                idempotency_key,
                tags,
                created_after,
                created_before,
                period,
                waitpoint_id,
            },
        )
}

fn get_batch_request() -> impl Strategy<Value = pb::GetBatchRequest> {
    (id("env_"), id("batch_"), enum_value()).prop_map(|(environment_id, batch_id, view)| {
        pb::GetBatchRequest {
            environment_id,
            batch_id,
            view,
        }
    })
}

/// Bytes off the wire: arbitrary ones, and a well-formed message with arbitrary bytes after it
/// (which prost merges into the message field by field).
fn wire_bytes<M: Message>(message: impl Strategy<Value = M>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        (message, prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(message, tail)| {
            let mut bytes = message.encode_to_vec();
            bytes.extend(tail);
            bytes
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn get_run_requests_from_any_bytes_are_converted_or_refused_as_invalid(
        bytes in wire_bytes(get_run_request()),
    ) {
        if let Ok(request) = pb::GetRunRequest::decode(bytes.as_slice()) {
            refused_only_as_invalid_argument(GetRunQuery::try_from(request))?;
        }
    }

    #[test]
    fn any_get_run_request_is_converted_or_refused_as_invalid(request in get_run_request()) {
        refused_only_as_invalid_argument(GetRunQuery::try_from(request))?;
    }

    #[test]
    fn list_runs_requests_from_any_bytes_are_converted_or_refused_as_invalid(
        bytes in wire_bytes(list_runs_request()),
    ) {
        if let Ok(request) = pb::ListRunsRequest::decode(bytes.as_slice()) {
            refused_only_as_invalid_argument(ListRunsQuery::try_from(request))?;
        }
    }

    #[test]
    fn any_list_runs_request_is_converted_or_refused_as_invalid(request in list_runs_request()) {
        refused_only_as_invalid_argument(ListRunsQuery::try_from(request))?;
    }

    #[test]
    fn get_waitpoint_requests_from_any_bytes_are_converted_or_refused_as_invalid(
        bytes in wire_bytes(get_waitpoint_request()),
    ) {
        if let Ok(request) = pb::GetWaitpointRequest::decode(bytes.as_slice()) {
            refused_only_as_invalid_argument(GetWaitpointQuery::try_from(request))?;
        }
    }

    #[test]
    fn any_get_waitpoint_request_is_converted_or_refused_as_invalid(
        request in get_waitpoint_request(),
    ) {
        refused_only_as_invalid_argument(GetWaitpointQuery::try_from(request))?;
    }

    #[test]
    fn list_batches_requests_from_any_bytes_are_converted_or_refused_as_invalid(
        bytes in wire_bytes(list_batches_request()),
    ) {
        if let Ok(request) = pb::ListBatchesRequest::decode(bytes.as_slice()) {
            refused_only_as_invalid_argument(ListBatchesQuery::try_from(request))?;
        }
    }

    #[test]
    fn any_list_batches_request_is_converted_or_refused_as_invalid(
        request in list_batches_request(),
    ) {
        refused_only_as_invalid_argument(ListBatchesQuery::try_from(request))?;
    }

    #[test]
    fn list_waitpoints_requests_from_any_bytes_are_converted_or_refused_as_invalid(
        bytes in wire_bytes(list_waitpoints_request()),
    ) {
        if let Ok(request) = pb::ListWaitpointsRequest::decode(bytes.as_slice()) {
            refused_only_as_invalid_argument(ListWaitpointsQuery::try_from(request))?;
        }
    }

    #[test]
    fn any_list_waitpoints_request_is_converted_or_refused_as_invalid(
        request in list_waitpoints_request(),
    ) {
        refused_only_as_invalid_argument(ListWaitpointsQuery::try_from(request))?;
    }

    #[test]
    fn get_batch_requests_from_any_bytes_are_converted_or_refused_as_invalid(
        bytes in wire_bytes(get_batch_request()),
    ) {
        if let Ok(request) = pb::GetBatchRequest::decode(bytes.as_slice()) {
            refused_only_as_invalid_argument(GetBatchQuery::try_from(request))?;
        }
    }

    #[test]
    fn any_get_batch_request_is_converted_or_refused_as_invalid(request in get_batch_request()) {
        refused_only_as_invalid_argument(GetBatchQuery::try_from(request))?;
    }
}
