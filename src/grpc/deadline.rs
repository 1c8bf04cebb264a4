//! The caller's deadline (`grpc-timeout`) bounds the whole RPC, and so does the server's own
//! `request_timeout`: a database that stalls without refusing must not hold a request (and its
//! concurrency permit) for as long as the stall lasts.
//!
//! runview gives up `deadline_margin` before the caller's deadline. tonic enforces the header
//! too, but answers CANCELLED, and an answer sent at the very end of the caller's budget races
//! the caller's own timer: grpc-js then reports whichever of tonic's CANCELLED and its own timeout
//! its event loop gets to first. Stopping a margin earlier has runview's DEADLINE_EXCEEDED reach
//! the caller while it still waits.

use std::future::Future;
use std::time::Duration;

use runview_core::Error;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `margin` before the caller's `grpc-timeout`, capped at `limit`. The margin is at most a
    /// tenth of the caller's budget, so that a short deadline still leaves most of it to the work.
    pub fn from_metadata(metadata: &MetadataMap, limit: Duration, margin: Duration) -> Self {
        let requested = metadata
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_grpc_timeout);
        match requested {
            Some(timeout) if timeout <= limit => {
                Self(Instant::now() + timeout - margin.min(timeout / 10))
            }
            _ => Self(Instant::now() + limit),
        }
    }

    /// Runs `work`, answering DEADLINE_EXCEEDED once the deadline passes; dropping the work
    /// cancels its database waits.
    pub async fn run<T>(self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        tokio::time::timeout_at(self.0, work)
            .await
            .unwrap_or(Err(Error::DeadlineExceeded))
    }
}

/// `grpc-timeout` is at most 8 digits and a unit (gRPC over HTTP/2 spec).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);
    const MARGIN: Duration = Duration::from_millis(50);

    fn with_timeout(value: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        metadata.insert("grpc-timeout", value.parse().expect("ascii"));
        metadata
    }

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
    }

    #[test]
    fn malformed_timeouts_are_ignored() {
        for value in ["", "S", "123456789S", "10x", "-1S", "1.5S"] {
            assert_eq!(parse_grpc_timeout(value), None, "{value}");
        }
    }

    #[tokio::test]
    async fn work_past_the_deadline_is_deadline_exceeded() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let deadline = Deadline::from_metadata(&with_timeout("20m"), LIMIT, MARGIN);
        assert_eq!(deadline.run(slow).await, Err(Error::DeadlineExceeded));
    }

    /// When a deadline for `grpc-timeout: value` is: it is read between the two instants.
    fn deadline_after(value: &str) -> (Duration, Duration) {
        let before = Instant::now();
        let Deadline(at) = Deadline::from_metadata(&with_timeout(value), LIMIT, MARGIN);
        let after = Instant::now();
        (at - after, at - before)
    }

    #[test]
    fn the_answer_leaves_the_margin_before_the_callers_deadline() {
        let (earliest, latest) = deadline_after("2S");
        let expected = Duration::from_millis(1950);
        assert!(
            earliest <= expected && expected <= latest,
            "{earliest:?}..{latest:?}"
        );
    }

    #[test]
    fn a_short_deadline_keeps_nine_tenths_of_its_budget() {
        let (earliest, latest) = deadline_after("100m");
        let expected = Duration::from_millis(90);
        assert!(
            earliest <= expected && expected <= latest,
            "{earliest:?}..{latest:?}"
        );
    }

    #[tokio::test]
    async fn work_within_the_deadline_completes() {
        let result = Deadline::from_metadata(&MetadataMap::new(), LIMIT, MARGIN)
            .run(async { Ok(7) })
            .await;
        assert_eq!(result, Ok(7));
    }

    #[tokio::test]
    async fn without_a_caller_deadline_the_server_limit_applies() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let limited =
            Deadline::from_metadata(&MetadataMap::new(), Duration::from_millis(20), MARGIN);
        assert_eq!(limited.run(slow).await, Err(Error::DeadlineExceeded));
    }

    #[tokio::test]
    async fn a_caller_deadline_beyond_the_server_limit_is_capped() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let capped =
            Deadline::from_metadata(&with_timeout("1H"), Duration::from_millis(20), MARGIN);
        assert_eq!(capped.run(slow).await, Err(Error::DeadlineExceeded));
    }
}
