//! The result of a run in the shape of ghz's JSON report (`-O json`): durations as integer
//! nanoseconds, histogram marks in seconds, distributions keyed by Go code names and error
//! strings. Tools that read ghz reports can read these.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::stats::Recorder;

/// ghz's fixed set of percentiles.
pub const PERCENTILES: [u32; 7] = [10, 25, 50, 75, 90, 95, 99];
const HISTOGRAM_BUCKETS: usize = 10;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub end_reason: EndReason,
    pub options: ReportOptions,
    #[serde(serialize_with = "rfc3339")]
    pub date: DateTime<Utc>,
    pub count: u64,
    #[serde(serialize_with = "nanos")]
    pub total: Duration,
    #[serde(serialize_with = "nanos")]
    pub average: Duration,
    #[serde(serialize_with = "nanos")]
    pub fastest: Duration,
    #[serde(serialize_with = "nanos")]
    pub slowest: Duration,
    pub rps: f64,
    pub error_distribution: BTreeMap<String, u64>,
    pub status_code_distribution: BTreeMap<String, u64>,
    /// Absent (null), as in ghz, when no call counted towards latencies.
    pub latency_distribution: Option<Vec<LatencyPoint>>,
    pub histogram: Option<Vec<Bucket>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// Every requested call was made.
    Normal,
    /// The duration (`-z`/`-x`) ran out.
    Timeout,
    /// Interrupted.
    Cancel,
}

/// The options of the run, as ghz echoes them in its report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReportOptions {
    pub call: String,
    pub host: String,
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<u32>,
    pub concurrency: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    pub connections: u32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_nanos"
    )]
    pub duration: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_nanos"
    )]
    pub timeout: Option<Duration>,
    #[serde(rename = "dial-timeout", serialize_with = "nanos")]
    pub dial_timeout: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "skipFirst", skip_serializing_if = "is_zero")]
    pub skip_first: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatencyPoint {
    pub percentage: u32,
    #[serde(serialize_with = "nanos")]
    pub latency: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    /// Upper bound of the bucket, in seconds.
    pub mark: f64,
    pub count: u64,
    /// Share of the counted calls in this bucket, from 0 to 1.
    pub frequency: f64,
}

impl Report {
    pub fn new(
        recorder: &Recorder,
        total: Duration,
        end_reason: EndReason,
        options: ReportOptions,
        count_errors: bool,
    ) -> Self {
        let count = recorder.count();
        let latencies = recorder.latencies(count_errors);
        let zero = Duration::ZERO;
        let latency_distribution = (latencies.count() > 0).then(|| {
            PERCENTILES
                .iter()
                .filter_map(|&percentage| {
                    latencies
                        .percentile(percentage)
                        .map(|latency| LatencyPoint {
                            percentage,
                            latency,
                        })
                })
                .collect()
        });
        let histogram = match (latencies.fastest(), latencies.slowest()) {
            (Some(fastest), Some(slowest)) => Some(buckets(
                fastest,
                slowest,
                latencies.count(),
                latencies.values(),
            )),
            _ => None,
        };
        Self {
            name: options.name.clone(),
            end_reason,
            options,
            date: Utc::now(),
            count,
            total,
            average: latencies.average().unwrap_or(zero),
            fastest: latencies.fastest().unwrap_or(zero),
            slowest: latencies.slowest().unwrap_or(zero),
            rps: if total.is_zero() {
                0.0
            } else {
                count as f64 / total.as_secs_f64()
            },
            error_distribution: recorder.errors().clone(),
            status_code_distribution: recorder
                .statuses()
                .iter()
                .map(|(code, n)| ((*code).to_owned(), *n))
                .collect(),
            latency_distribution,
            histogram,
        }
    }

    /// Calls that did not answer OK.
    pub fn failures(&self) -> u64 {
        self.error_distribution.values().sum()
    }

    pub fn to_json(&self, pretty: bool) -> String {
        let json = if pretty {
            serde_json::to_string_pretty(self)
        } else {
            serde_json::to_string(self)
        };
        json.expect("a report always serializes")
    }
}

/// ghz's response-time histogram: ten equal steps from the fastest to the slowest call, plus the
/// slowest itself; each call lands in the first bucket whose mark is not below it.
fn buckets(
    fastest: Duration,
    slowest: Duration,
    total: u64,
    values: impl Iterator<Item = (Duration, u64)>,
) -> Vec<Bucket> {
    let step = (slowest - fastest) / HISTOGRAM_BUCKETS as u32;
    let mut marks: Vec<Duration> = (0..HISTOGRAM_BUCKETS as u32)
        .map(|i| fastest + step * i)
        .collect();
    marks.push(slowest);
    let mut counts = vec![0u64; marks.len()];
    for (value, n) in values {
        let index = marks
            .iter()
            .position(|mark| value <= *mark)
            .unwrap_or(marks.len() - 1);
        counts[index] += n;
    }
    marks
        .into_iter()
        .zip(counts)
        .map(|(mark, count)| Bucket {
            mark: mark.as_secs_f64(),
            count,
            frequency: count as f64 / total as f64,
        })
        .collect()
}

fn nanos<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX))
}

fn optional_nanos<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    nanos(&duration.unwrap_or_default(), serializer)
}

fn rfc3339<S: Serializer>(date: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&date.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
