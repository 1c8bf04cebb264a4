//! The caller's deadline (`grpc-timeout`) bounds the whole RPC, and so does the server's own
//! `request_timeout`: a database that stalls without refusing must not hold a request (and its
//! concurrency permit) for as long as the stall lasts.
//!
//! tonic enforces the header too, but answers CANCELLED; runview answers DEADLINE_EXCEEDED, so
//! its own timer fires a little earlier than tonic's, which started just before the handler.

use std::future::Future;
use std::time::Duration;

use runview_core::Error;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;

const MAX_MARGIN: Duration = Duration::from_millis(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// The caller's `grpc-timeout`, capped at `limit`.
    pub fn from_metadata(metadata: &MetadataMap, limit: Duration) -> Self {
        let requested = metadata
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_grpc_timeout);
        match requested {
            Some(timeout) if timeout <= limit => {
                Self(Instant::now() + timeout - (timeout / 10).min(MAX_MARGIN))
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
        let mut metadata = MetadataMap::new();
        metadata.insert("grpc-timeout", "20m".parse().expect("ascii"));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let result = Deadline::from_metadata(&metadata, LIMIT).run(slow).await;
        assert_eq!(result, Err(Error::DeadlineExceeded));
    }

    #[tokio::test]
    async fn work_within_the_deadline_completes() {
        let result = Deadline::from_metadata(&MetadataMap::new(), LIMIT)
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
        let limited = Deadline::from_metadata(&MetadataMap::new(), Duration::from_millis(20));
        assert_eq!(limited.run(slow).await, Err(Error::DeadlineExceeded));
    }

    #[tokio::test]
    async fn a_caller_deadline_beyond_the_server_limit_is_capped() {
        let mut metadata = MetadataMap::new();
        metadata.insert("grpc-timeout", "1H".parse().expect("ascii"));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(())
        };
        let capped = Deadline::from_metadata(&metadata, Duration::from_millis(20));
        assert_eq!(capped.run(slow).await, Err(Error::DeadlineExceeded));
    }
}
