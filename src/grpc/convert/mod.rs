//! Every conversion between proto messages and domain types lives in this module: one file per
//! RPC, and here what they share.

mod batches;
#[cfg(test)]
mod fuzz;
mod get_batch;
mod list_runs;
mod list_waitpoints;
mod run;
mod waitpoint;

use chrono::{DateTime, TimeDelta, Utc};
use prost_types::Timestamp;
use runview_core::Error;
use runview_core::control_plane::EnvironmentType;
use runview_core::ids::{BatchId, EnvironmentId};
use runview_core::packet::Packet;
use runview_core::page::TimeFilter;
use runview_core::status::{ApiVersion, StatusFilterMode, TaskRunStatus};

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

pub fn status_filter_mode(value: i32) -> Result<StatusFilterMode, Error> {
    match pb::StatusFilterMode::try_from(value) {
        Ok(pb::StatusFilterMode::Unspecified | pb::StatusFilterMode::Upstream) => {
            Ok(StatusFilterMode::Upstream)
        }
        Ok(pb::StatusFilterMode::Complete) => Ok(StatusFilterMode::Complete),
        Err(_) => Err(Error::invalid_argument(
            "status_filter_mode",
            "unknown value",
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

/// The range `google.protobuf.Timestamp` is defined for, 0001-01-01 to 9999-12-31: inside what
/// PostgreSQL's timestamps hold, so a bound never reaches the database as an error.
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// The longest `period` a list takes: far beyond any dashboard's "all time", and short enough
/// that now minus it stays a valid timestamp.
const MAX_PERIOD: TimeDelta = TimeDelta::days(100 * 365);

/// The most values one list filter takes. A dashboard never comes near it; a longer list is a
/// mistake or an attack, and would only make a statement that no index serves.
pub const MAX_FILTER_VALUES: usize = 100;

/// The longest single filter value, in bytes.
pub const MAX_FILTER_VALUE_BYTES: usize = 1_024;

/// A request timestamp; values outside the protobuf range are refused naming the field.
pub fn date_time(field: &str, value: &Timestamp) -> Result<DateTime<Utc>, Error> {
    u32::try_from(value.nanos)
        .ok()
        .filter(|_| TIMESTAMP_SECONDS.contains(&value.seconds))
        .and_then(|nanos| DateTime::from_timestamp(value.seconds, nanos))
        .ok_or_else(|| {
            Error::invalid_argument(
                field,
                "must be a timestamp between 0001-01-01 and 9999-12-31",
            )
        })
}

pub fn time_delta(field: &str, value: &prost_types::Duration) -> Result<TimeDelta, Error> {
    u32::try_from(value.nanos)
        .ok()
        .and_then(|nanos| TimeDelta::new(value.seconds, nanos))
        .ok_or_else(|| Error::invalid_argument(field, "is not a valid duration"))
}

/// A friendly or bare batch id filter.
pub fn batch_id(value: Option<String>) -> Result<Option<BatchId>, Error> {
    value.as_deref().map(required_batch_id).transpose()
}

/// A friendly or bare batch id that the request must carry.
pub fn required_batch_id(value: &str) -> Result<BatchId, Error> {
    BatchId::parse(value).map_err(|e| Error::invalid_argument("batch_id", e))
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
        period: period.map(|period| list_period(&period)).transpose()?,
    })
}

fn list_period(value: &prost_types::Duration) -> Result<TimeDelta, Error> {
    let period = time_delta("period", value)?;
    if period > MAX_PERIOD {
        return Err(Error::invalid_argument(
            "period",
            "must be at most 100 years",
        ));
    }
    Ok(period)
}

/// A list filter: at most [`MAX_FILTER_VALUES`] values, each a valid [`filter_value`].
pub fn filter_values(field: &str, values: Vec<String>) -> Result<Vec<String>, Error> {
    list_length(field, values.len())?;
    for (index, value) in values.iter().enumerate() {
        filter_value(&format!("{field}[{index}]"), value)?;
    }
    Ok(values)
}

/// A list of at most [`MAX_FILTER_VALUES`] entries.
pub fn list_length(field: &str, length: usize) -> Result<(), Error> {
    if length > MAX_FILTER_VALUES {
        return Err(Error::invalid_argument(
            field,
            format!("takes at most {MAX_FILTER_VALUES} values"),
        ));
    }
    Ok(())
}

/// One filter value. An empty string is a mistake, not "match anything"; PostgreSQL text cannot
/// hold a NUL character; and no stored value comes near [`MAX_FILTER_VALUE_BYTES`].
pub fn filter_value(field: &str, value: &str) -> Result<(), Error> {
    let problem = if value.is_empty() {
        "must not be empty".to_owned()
    } else if value.contains('\0') {
        "must not contain a NUL character".to_owned()
    } else if value.len() > MAX_FILTER_VALUE_BYTES {
        format!("must be at most {MAX_FILTER_VALUE_BYTES} bytes")
    } else {
        return Ok(());
    };
    Err(Error::invalid_argument(field, problem))
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
    fn timestamps_outside_the_protobuf_range_are_refused_before_any_database_sees_them() {
        let at = |seconds| Timestamp { seconds, nanos: 0 };
        assert!(date_time("created_after", &at(-62_135_596_800)).is_ok());
        assert!(date_time("created_after", &at(253_402_300_799)).is_ok());
        for seconds in [-62_135_596_801, 253_402_300_800, -300_000_000_000] {
            let refused = date_time("created_before", &at(seconds));
            assert!(
                matches!(&refused, Err(Error::InvalidArgument { violations, .. })
                    if violations[0].field == "created_before"),
                "{seconds}: {refused:?}"
            );
        }
    }

    #[test]
    fn a_period_beyond_a_hundred_years_is_refused() {
        let years = |years: i64| prost_types::Duration {
            seconds: years * 365 * 86_400,
            nanos: 0,
        };
        assert!(time_filter(None, None, Some(years(100))).is_ok());
        for huge in [
            years(101),
            prost_types::Duration {
                seconds: 10_000_000_000_000,
                nanos: 0,
            },
        ] {
            assert!(matches!(
                time_filter(None, None, Some(huge)),
                Err(Error::InvalidArgument { violations, .. }) if violations[0].field == "period"
            ));
        }
    }

    #[test]
    fn filter_values_are_capped_and_refuse_nul_empty_and_oversized_values() {
        let field = |values: Vec<String>| match filter_values("tags", values) {
            Err(Error::InvalidArgument { violations, .. }) => violations[0].field.clone(),
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        };
        let fine: Vec<String> = (0..MAX_FILTER_VALUES).map(|n| format!("tag-{n}")).collect();
        assert!(filter_values("tags", fine.clone()).is_ok());
        let too_many: Vec<String> = (0..=MAX_FILTER_VALUES).map(|n| n.to_string()).collect();
        assert_eq!(field(too_many), "tags");
        assert_eq!(field(vec!["ok".into(), "a\0b".into()]), "tags[1]");
        assert_eq!(field(vec![String::new()]), "tags[0]");
        assert_eq!(
            field(vec!["x".repeat(MAX_FILTER_VALUE_BYTES + 1)]),
            "tags[0]"
        );
        assert!(filter_values("tags", vec!["x".repeat(MAX_FILTER_VALUE_BYTES)]).is_ok());
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
