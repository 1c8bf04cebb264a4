//! runview under load, through runview-load's runner (the same code as the `runview-load`
//! binary, without a process of its own).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;
use runview_load::config::{GhzConfig, LoadOptions};
use runview_load::report::Report;
use runview_load::runner;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// Throughput and latency of one run, whichever tool made it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    pub calls: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
}

/// One call, with its request messages (used round-robin).
#[derive(Clone, Debug)]
pub struct Call {
    pub method: &'static str,
    pub data: Value,
}

/// Runs `call` at `concurrency` for `duration`; every call must answer OK.
pub async fn run(
    host: SocketAddr,
    call: &Call,
    concurrency: u32,
    duration: Duration,
) -> anyhow::Result<Sample> {
    let report = raw(host, call, concurrency, Bound::Duration(duration)).await?;
    if report.failures() > 0 {
        bail!(
            "{} of {} {} calls failed: {:?}",
            report.failures(),
            report.count,
            call.method,
            report.error_distribution
        );
    }
    Ok(sample(&report))
}

/// How long a run lasts.
pub enum Bound {
    Duration(Duration),
    Calls(u64),
}

/// Runs and returns runview-load's report as it is.
pub async fn raw(
    host: SocketAddr,
    call: &Call,
    concurrency: u32,
    bound: Bound,
) -> anyhow::Result<Report> {
    let (duration, total) = match bound {
        Bound::Duration(d) => (Some(format!("{}ms", d.as_millis())), None),
        Bound::Calls(n) => (None, Some(n)),
    };
    let config = GhzConfig {
        call: Some(call.method.to_owned()),
        host: Some(host.to_string()),
        insecure: Some(true),
        data: Some(call.data.clone()),
        concurrency: Some(concurrency),
        // One HTTP/2 connection per 16 workers, as a client pool would open.
        connections: Some(concurrency.div_ceil(16)),
        duration,
        total,
        // Far above any latency measured: a call that takes longer fails the run.
        timeout: Some("60s".to_owned()),
        ..GhzConfig::default()
    };
    let options = LoadOptions::try_from(config)?;
    runner::run(&options, CancellationToken::new()).await
}

fn sample(report: &Report) -> Sample {
    let percentile = |p: u32| {
        report
            .latency_distribution
            .iter()
            .flatten()
            .find(|point| point.percentage == p)
            .map(|point| point.latency)
            .unwrap_or_default()
    };
    Sample {
        calls: report.count,
        per_second: report.rps,
        p50: percentile(50),
        p90: percentile(90),
        p99: percentile(99),
    }
}
