//! What a run measured. Latencies go into HDR histograms, so memory stays fixed and percentiles
//! stay within 0.1% however many calls a run makes; statuses and error messages are counted the
//! way ghz names them (Go's gRPC code names and error strings), so reports read the same.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use tonic::{Code, Status};

/// Nanoseconds, from 1 ns to an hour (longer calls are recorded as an hour), 3 significant digits.
const SLOWEST_RECORDABLE_NANOS: u64 = 3_600_000_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// Latencies of one population of calls (only the OK ones, or all of them).
#[derive(Clone, Debug)]
pub struct Latencies {
    histogram: Histogram<u64>,
    sum_nanos: u128,
    fastest: u64,
    slowest: u64,
}

impl Latencies {
    fn new() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, SLOWEST_RECORDABLE_NANOS, SIGNIFICANT_DIGITS)
                .expect("constant histogram bounds are valid"),
            sum_nanos: 0,
            fastest: u64::MAX,
            slowest: 0,
        }
    }

    fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.histogram.saturating_record(nanos);
        self.sum_nanos += u128::from(nanos);
        self.fastest = self.fastest.min(nanos);
        self.slowest = self.slowest.max(nanos);
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// Exact: kept beside the histogram, not read from its buckets.
    pub fn fastest(&self) -> Option<Duration> {
        (self.count() > 0).then(|| Duration::from_nanos(self.fastest))
    }

    pub fn slowest(&self) -> Option<Duration> {
        (self.count() > 0).then(|| Duration::from_nanos(self.slowest))
    }

    pub fn average(&self) -> Option<Duration> {
        let count = self.count();
        (count > 0).then(|| Duration::from_nanos((self.sum_nanos / u128::from(count)) as u64))
    }

    /// The latency of the call at the nearest rank for `percent` (ghz's definition: rank
    /// ⌈percent × count / 100⌉), as the lower bound of its histogram bucket.
    pub fn percentile(&self, percent: u32) -> Option<Duration> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = (u64::from(percent) * count).div_ceil(100).max(1);
        let mut seen = 0;
        for bucket in self.histogram.iter_recorded() {
            seen += bucket.count_at_value();
            if seen >= rank {
                return Some(self.bucket_value(bucket.value_iterated_to()));
            }
        }
        self.slowest()
    }

    /// Each recorded value with how many calls took it, fastest first.
    pub fn values(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.histogram.iter_recorded().map(|bucket| {
            (
                self.bucket_value(bucket.value_iterated_to()),
                bucket.count_at_value(),
            )
        })
    }

    fn bucket_value(&self, value: u64) -> Duration {
        let lower = self.histogram.lowest_equivalent(value);
        Duration::from_nanos(lower.clamp(self.fastest, self.slowest))
    }
}

/// Everything measured in a run.
#[derive(Clone, Debug)]
pub struct Recorder {
    ok: Latencies,
    all: Latencies,
    statuses: BTreeMap<&'static str, u64>,
    errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            ok: Latencies::new(),
            all: Latencies::new(),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }
}

impl Recorder {
    pub fn record(&mut self, latency: Duration, outcome: &Result<(), Status>) {
        self.all.record(latency);
        match outcome {
            Ok(()) => {
                self.ok.record(latency);
                *self.statuses.entry(code_name(Code::Ok)).or_default() += 1;
            }
            Err(status) => {
                *self.statuses.entry(code_name(status.code())).or_default() += 1;
                *self.errors.entry(error_string(status)).or_default() += 1;
            }
        }
    }

    /// Every recorded call, successful or not.
    pub fn count(&self) -> u64 {
        self.all.count()
    }

    /// As ghz: latency statistics cover OK calls only, unless `count_errors`.
    pub fn latencies(&self, count_errors: bool) -> &Latencies {
        if count_errors { &self.all } else { &self.ok }
    }

    /// Calls per status code name (`OK`, `NotFound`, …).
    pub fn statuses(&self) -> &BTreeMap<&'static str, u64> {
        &self.statuses
    }

    /// Failed calls per error string.
    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }
}

/// The names of Go's `codes.Code`, which ghz prints (tonic's own spelling differs, e.g.
/// `Cancelled`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// grpc-go's rendering of a status error, the key of ghz's error distribution.
pub fn error_string(status: &Status) -> String {
    format!(
        "rpc error: code = {} desc = {}",
        code_name(status.code()),
        status.message()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn counts_every_status_and_error_message() {
        let mut recorder = Recorder::default();
        for _ in 0..3 {
            recorder.record(ms(1), &Ok(()));
        }
        recorder.record(ms(2), &Err(Status::not_found("run run_x not found")));
        recorder.record(ms(2), &Err(Status::not_found("run run_x not found")));
        recorder.record(ms(9), &Err(Status::unimplemented("")));
        recorder.record(ms(9), &Err(Status::cancelled("gone")));

        assert_eq!(recorder.count(), 7);
        let statuses: Vec<_> = recorder.statuses().iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(
            statuses,
            [
                ("Canceled", 1),
                ("NotFound", 2),
                ("OK", 3),
                ("Unimplemented", 1)
            ]
        );
        assert_eq!(
            recorder.errors()["rpc error: code = NotFound desc = run run_x not found"],
            2
        );
        assert!(
            recorder
                .errors()
                .contains_key("rpc error: code = Unimplemented desc = ")
        );
    }

    #[test]
    fn latency_statistics_cover_ok_calls_unless_errors_count() {
        let mut recorder = Recorder::default();
        recorder.record(ms(1), &Ok(()));
        recorder.record(ms(3), &Ok(()));
        recorder.record(ms(50), &Err(Status::internal("boom")));

        let ok = recorder.latencies(false);
        assert_eq!(
            (ok.count(), ok.slowest(), ok.average()),
            (2, Some(ms(3)), Some(ms(2)))
        );
        let all = recorder.latencies(true);
        assert_eq!(
            (all.count(), all.slowest(), all.fastest()),
            (3, Some(ms(50)), Some(ms(1)))
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut recorder = Recorder::default();
        // Multiples of 2^20 ns are bucket boundaries of the histogram, so they come back exact.
        for k in 1..=100u64 {
            recorder.record(Duration::from_nanos(k << 20), &Ok(()));
        }
        let latencies = recorder.latencies(false);
        for (percent, k) in [(10, 10u64), (50, 50), (99, 99), (100, 100)] {
            assert_eq!(
                latencies.percentile(percent),
                Some(Duration::from_nanos(k << 20))
            );
        }
        assert_eq!(Recorder::default().latencies(false).percentile(50), None);
    }
}
