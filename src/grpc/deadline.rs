//! The caller's deadline (`grpc-timeout`) bounds the whole RPC.
//!
//! tonic enforces the header too, but answers CANCELLED; runview answers DEADLINE_EXCEEDED, so
//! its own timer fires a little earlier than tonic's, which started just before the handler.

use std::future::Future;
use std::time::Duration;

use runview_core::Error;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;

const MAX_MARGIN: Duration = Duration::from_millis(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    pub fn from_metadata(metadata: &MetadataMap) -> Self {
        let timeout = metadata
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_grpc_timeout);
        Self(timeout.map(|timeout| Instant::now() + timeout - (timeout / 20).min(MAX_MARGIN)))
    }

    /// Runs `work`, answering DEADLINE_EXCEEDED once the deadline passes; dropping the work
    /// cancels its database waits.
    pub async fn run<T>(self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.0 {
            None => work.await,
            Some(at) => tokio::time::timeout_at(at, work)
                .await
                .unwrap_or(Err(Error::DeadlineExceeded)),
        }
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
        let result = Deadline::from_metadata(&metadata).run(slow).await;
        assert_eq!(result, Err(Error::DeadlineExceeded));
    }

    #[tokio::test]
    async fn without_a_deadline_work_runs_to_completion() {
        let result = Deadline::from_metadata(&MetadataMap::new())
            .run(async { Ok(7) })
            .await;
        assert_eq!(result, Ok(7));
    }
}
