//! Every conversion between proto messages and domain types lives in this module: one file per
//! RPC, and here what they share.

mod batches;
mod list_runs;
mod run;
mod waitpoint;

use chrono::{DateTime, TimeDelta, Utc};
use prost_types::Timestamp;
use runview_core::Error;
use runview_core::control_plane::EnvironmentType;
use runview_core::ids::{BatchId, EnvironmentId};
use runview_core::packet::Packet;
use runview_core::page::TimeFilter;
use runview_core::status::{ApiVersion, TaskRunStatus};

use crate::proto as pb;

pub fn environment_id(input: &str) -> Result<EnvironmentId, Error> {
    EnvironmentId::parse(input).map_err(|e| Error::invalid_argument("environment_id", e))
}

pub fn api_version(value: i32) -> Result<ApiVersion, Error> {
    match pb::ApiVersion::try_from(value) {
        Ok(pb::ApiVersion::Unspecified) => Ok(ApiVersion::V1),
        Ok(pb::ApiVersion::ApiVersion20250716) => Ok(ApiVersion::V2),
        Err(_) => Err(Error::invalid_argument(
            "api_version",
            format!("unknown value {value}"),
        )),
    }
}

pub fn packet_parts(packet: Option<Packet>) -> (Option<String>, Option<String>) {
    match packet {
        Some(Packet { data, data_type }) => (Some(data), Some(data_type)),
        None => (None, None),
    }
}

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn run_status(status: TaskRunStatus) -> pb::RunStatus {
    use TaskRunStatus as S;
    use pb::RunStatus as P;
    match status {
        S::Delayed => P::Delayed,
        S::Pending => P::Pending,
        S::PendingVersion => P::PendingVersion,
        S::WaitingForDeploy => P::WaitingForDeploy,
        S::Dequeued => P::Dequeued,
        S::Executing => P::Executing,
        S::WaitingToResume => P::WaitingToResume,
        S::RetryingAfterFailure => P::RetryingAfterFailure,
        S::Paused => P::Paused,
        S::Canceled => P::Canceled,
        S::Interrupted => P::Interrupted,
        S::CompletedSuccessfully => P::CompletedSuccessfully,
        S::CompletedWithErrors => P::CompletedWithErrors,
        S::SystemFailure => P::SystemFailure,
        S::Crashed => P::Crashed,
        S::Expired => P::Expired,
        S::TimedOut => P::TimedOut,
    }
}

pub fn environment_type(environment_type: EnvironmentType) -> pb::EnvironmentType {
    match environment_type {
        EnvironmentType::Production => pb::EnvironmentType::Production,
        EnvironmentType::Staging => pb::EnvironmentType::Staging,
        EnvironmentType::Development => pb::EnvironmentType::Development,
        EnvironmentType::Preview => pb::EnvironmentType::Preview,
    }
}

/// A request timestamp; out-of-range values are refused naming the field.
pub fn date_time(field: &str, value: &Timestamp) -> Result<DateTime<Utc>, Error> {
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| Error::invalid_argument(field, "is not a valid timestamp"))
}

pub fn time_delta(field: &str, value: &prost_types::Duration) -> Result<TimeDelta, Error> {
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| TimeDelta::new(value.seconds, nanos))
        .ok_or_else(|| Error::invalid_argument(field, "is not a valid duration"))
}

/// A friendly or bare batch id filter.
pub fn batch_id(value: Option<String>) -> Result<Option<BatchId>, Error> {
    value
        .map(|id| BatchId::parse(&id).map_err(|e| Error::invalid_argument("batch_id", e)))
        .transpose()
}

/// The createdAt filters of a list request.
pub fn time_filter(
    created_after: Option<Timestamp>,
    created_before: Option<Timestamp>,
    period: Option<prost_types::Duration>,
) -> Result<TimeFilter, Error> {
    Ok(TimeFilter {
        created_after: created_after
            .map(|at| date_time("created_after", &at))
            .transpose()?,
        created_before: created_before
            .map(|at| date_time("created_before", &at))
            .transpose()?,
        period: period
            .map(|period| time_delta("period", &period))
            .transpose()?,
    })
}

/// An empty string in a list filter is a mistake, not "match anything".
pub fn filter_values(field: &str, values: Vec<String>) -> Result<Vec<String>, Error> {
    match values.iter().position(String::is_empty) {
        Some(index) => Err(Error::invalid_argument(
            format!("{field}[{index}]"),
            "must not be empty",
        )),
        None => Ok(values),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use runview_core::control_plane::EnvironmentType;

    use super::*;

    #[test]
    fn every_run_status_has_its_proto_value_of_the_same_name() {
        for status in TaskRunStatus::ALL {
            let name = run_status(status).as_str_name();
            assert_eq!(name, format!("RUN_STATUS_{}", status.as_str()));
        }
    }

    #[test]
    fn every_environment_type_has_its_proto_value_of_the_same_name() {
        for label in ["PRODUCTION", "STAGING", "DEVELOPMENT", "PREVIEW"] {
            let domain = EnvironmentType::from_label(label).expect("known label");
            assert_eq!(
                environment_type(domain).as_str_name(),
                format!("ENVIRONMENT_TYPE_{label}")
            );
        }
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        let at = Utc
            .timestamp_millis_opt(1_763_800_000_123)
            .single()
            .expect("valid");
        let converted = timestamp(at);
        assert_eq!(
            (converted.seconds, converted.nanos),
            (1_763_800_000, 123_000_000)
        );
    }

    #[test]
    fn timestamps_round_trip_and_refuse_out_of_range_values() {
        let at = Utc
            .timestamp_millis_opt(1_763_800_000_123)
            .single()
            .expect("valid");
        assert_eq!(date_time("created_after", &timestamp(at)), Ok(at));
        let bad = Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert!(date_time("created_after", &bad).is_err());
    }

    #[test]
    fn durations_become_time_deltas() {
        let period = prost_types::Duration {
            seconds: 90,
            nanos: 0,
        };
        assert_eq!(time_delta("period", &period), Ok(TimeDelta::seconds(90)));
    }
}
