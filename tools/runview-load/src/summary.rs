//! ghz's default text output (`-O summary`): totals, a response-time histogram, the latency
//! distribution and the status and error distributions, laid out as ghz lays them out.

use std::fmt::Write as _;
use std::time::Duration;

use crate::report::{Bucket, Report};

const BAR: char = '∎';
const BAR_WIDTH: u64 = 40;

pub fn render(report: &Report) -> String {
    let mut out = String::from("\nSummary:\n");
    if let Some(name) = &report.name {
        line(&mut out, "Name:", name);
    }
    line(&mut out, "Count:", &report.count.to_string());
    line(&mut out, "Total:", &format_nanos(report.total));
    line(&mut out, "Slowest:", &format_nanos(report.slowest));
    line(&mut out, "Fastest:", &format_nanos(report.fastest));
    line(&mut out, "Average:", &format_nanos(report.average));
    line(&mut out, "Requests/sec:", &format!("{:.2}", report.rps));

    out.push_str("\nResponse time histogram:\n");
    out.push_str(&histogram(report.histogram.as_deref().unwrap_or_default()));

    out.push_str("\nLatency distribution:\n");
    for point in report.latency_distribution.iter().flatten() {
        let _ = writeln!(
            out,
            "  {} % in {}",
            point.percentage,
            format_nanos(point.latency)
        );
    }

    if !report.status_code_distribution.is_empty() {
        out.push_str("\nStatus code distribution:\n");
        let rows = by_count_descending(&report.status_code_distribution)
            .map(|(code, n)| [format!("[{code}]"), format!("{n} responses")]);
        out.push_str(&table(rows));
    }
    if !report.error_distribution.is_empty() {
        out.push_str("\nError distribution:\n");
        let rows = by_count_descending(&report.error_distribution)
            .map(|(error, n)| [format!("[{n}]"), error.to_owned()]);
        out.push_str(&table(rows));
    }
    out
}

/// ghz's unit choice: nanoseconds below 10 µs, then milliseconds, then seconds above 1000 ms.
pub fn format_nanos(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos < 10_000 {
        return format!("{nanos} ns");
    }
    let millis = nanos as f64 / 1e6;
    if millis < 1000.0 {
        format!("{millis:.2} ms")
    } else {
        format!("{:.2} s", millis / 1000.0)
    }
}

fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "  {label:<14}{value}");
}

fn histogram(buckets: &[Bucket]) -> String {
    let mark = |b: &Bucket| format!("{:.3}", b.mark * 1000.0);
    let max_count = buckets.iter().map(|b| b.count).max().unwrap_or(0);
    let mark_width = buckets.iter().map(|b| mark(b).len()).max().unwrap_or(0);
    let count_width = max_count.to_string().len();
    let mut out = String::new();
    for bucket in buckets {
        // Proportional to the fullest bucket, which gets BAR_WIDTH bars, rounded to the nearest.
        let bars = (bucket.count * BAR_WIDTH + max_count / 2)
            .checked_div(max_count)
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "  {:<mark_width$} {:<count_width$} |{}",
            mark(bucket),
            format!("[{}]", bucket.count),
            BAR.to_string().repeat(bars as usize),
            count_width = count_width + 2,
        );
    }
    out
}

/// Most frequent first; ties in name order, so output is stable.
fn by_count_descending<K: AsRef<str>>(
    counts: &std::collections::BTreeMap<K, u64>,
) -> impl Iterator<Item = (&str, u64)> {
    let mut rows: Vec<_> = counts.iter().map(|(k, n)| (k.as_ref(), *n)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    rows.into_iter()
}

/// Two columns, the first padded like ghz's tab writer (widest cell plus three spaces).
fn table(rows: impl Iterator<Item = [String; 2]>) -> String {
    let rows: Vec<_> = rows.collect();
    let width = rows
        .iter()
        .map(|[first, _]| first.chars().count())
        .max()
        .unwrap_or(0)
        + 3;
    let mut out = String::new();
    for [first, second] in rows {
        let _ = writeln!(out, "  {first:<width$}{second}");
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use tonic::Status;

    use super::*;
    use crate::report::{EndReason, ReportOptions};
    use crate::stats::Recorder;

    /// 100 OK calls of k × 2^20 ns (k = 1..=100; exact in the histogram) and 3 failures.
    fn known_report() -> Report {
        let mut recorder = Recorder::default();
        for k in 1..=100u64 {
            recorder.record(Duration::from_nanos(k << 20), &Ok(()));
        }
        for _ in 0..2 {
            recorder.record(
                Duration::from_millis(1),
                &Err(Status::not_found("no such run")),
            );
        }
        recorder.record(
            Duration::from_millis(1),
            &Err(Status::unavailable("store down")),
        );
        let options = ReportOptions {
            call: "runview.v1.ReadService.GetRun".into(),
            host: "127.0.0.1:50051".into(),
            insecure: true,
            concurrency: 4,
            total: Some(103),
            connections: 1,
            timeout: Some(Duration::from_secs(20)),
            dial_timeout: Duration::from_secs(10),
            name: Some("known".into()),
            ..ReportOptions::default()
        };
        let mut report = Report::new(
            &recorder,
            Duration::from_secs(2),
            EndReason::Normal,
            options,
            false,
        );
        report.date = Utc
            .with_ymd_and_hms(2025, 7, 16, 12, 0, 0)
            .single()
            .expect("a valid date");
        report
    }

    #[test]
    fn summary_of_a_known_histogram() {
        let expected = "
Summary:
  Name:         known
  Count:        103
  Total:        2.00 s
  Slowest:      104.86 ms
  Fastest:      1.05 ms
  Average:      52.95 ms
  Requests/sec: 51.50

Response time histogram:
  1.049   [1]  |∎∎∎∎
  11.429  [9]  |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  21.810  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  32.191  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  42.572  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  52.953  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  63.334  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  73.715  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  84.096  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  94.477  [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
  104.858 [10] |∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎

Latency distribution:
  10 % in 10.49 ms
  25 % in 26.21 ms
  50 % in 52.43 ms
  75 % in 78.64 ms
  90 % in 94.37 ms
  95 % in 99.61 ms
  99 % in 103.81 ms

Status code distribution:
  [OK]            100 responses
  [NotFound]      2 responses
  [Unavailable]   1 responses

Error distribution:
  [2]   rpc error: code = NotFound desc = no such run
  [1]   rpc error: code = Unavailable desc = store down
";
        assert_eq!(render(&known_report()), expected);
    }

    #[test]
    fn json_of_a_known_histogram_uses_ghz_fields_and_nanoseconds() -> anyhow::Result<()> {
        let json: serde_json::Value = serde_json::from_str(&known_report().to_json(false))?;
        assert_eq!(json["date"], "2025-07-16T12:00:00Z");
        assert_eq!(json["count"], 103);
        assert_eq!(json["total"], 2_000_000_000u64);
        assert_eq!(json["fastest"], 1u64 << 20);
        assert_eq!(json["slowest"], 100u64 << 20);
        assert_eq!(json["rps"], 51.5);
        assert_eq!(json["endReason"], "normal");
        assert_eq!(json["latencyDistribution"][2]["percentage"], 50);
        assert_eq!(json["latencyDistribution"][2]["latency"], 50u64 << 20);
        assert_eq!(json["statusCodeDistribution"]["OK"], 100);
        assert_eq!(json["statusCodeDistribution"]["NotFound"], 2);
        assert_eq!(
            json["errorDistribution"]["rpc error: code = Unavailable desc = store down"],
            1
        );
        assert_eq!(json["histogram"].as_array().map(Vec::len), Some(11));
        assert_eq!(json["histogram"][1]["count"], 9);
        assert_eq!(json["histogram"][10]["count"], 10);
        assert_eq!(json["options"]["call"], "runview.v1.ReadService.GetRun");
        assert_eq!(json["options"]["timeout"], 20_000_000_000u64);
        assert_eq!(json["options"]["dial-timeout"], 10_000_000_000u64);
        Ok(())
    }

    #[test]
    fn units_follow_ghz() {
        assert_eq!(format_nanos(Duration::from_nanos(9_999)), "9999 ns");
        assert_eq!(format_nanos(Duration::from_micros(181_570)), "181.57 ms");
        assert_eq!(format_nanos(Duration::from_millis(1_500)), "1.50 s");
    }
}
