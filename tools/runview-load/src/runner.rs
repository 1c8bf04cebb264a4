//! Runs the calls: `concurrency` workers share `connections` HTTP/2 channels round-robin, take
//! request numbers from one counter (so `total` is exact however fast each worker is), keep to a
//! global `rps` schedule, and send each outcome to one collector that builds the statistics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tonic::Status;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};

use crate::codec::RawCodec;
use crate::config::LoadOptions;
use crate::contract::{Method, descriptor_pool};
use crate::report::{EndReason, Report, ReportOptions};
use crate::request::{Call, Requests};
use crate::stats::Recorder;

/// Resolves the call, checks the data, connects, runs and reports. Errors are problems that
/// stop a run from starting or continuing (unknown method, bad data, unreachable host); failed
/// calls are not errors, they are counted in the report.
pub async fn run(options: &LoadOptions, cancel: CancellationToken) -> anyhow::Result<Report> {
    let method = Method::resolve(&descriptor_pool()?, &options.call)?;
    let requests = Requests::new(&method, options.data.as_ref(), &options.metadata)?;
    let channels = connect(options).await?;

    let started = Instant::now();
    let schedule = Arc::new(Schedule {
        requests,
        path: method.path,
        next_request: AtomicU64::new(0),
        total: options.total,
        pace: options.rps.map(|rps| Duration::from_secs(1) / rps),
        timeout: options.timeout,
        started,
        deadline: options.duration.map(|d| started + d),
        cancel: cancel.clone(),
    });
    let (outcomes, collected) = mpsc::channel(4096);
    let collector = tokio::spawn(collect(collected, options.skip_first));

    let mut workers = JoinSet::new();
    for index in 0..options.concurrency {
        let connection = index % options.connections;
        let mut worker_id = format!("g{index}c{connection}");
        if let Some(name) = &options.name {
            worker_id = format!("{name}:{worker_id}");
        }
        let grpc = Grpc::new(channels[connection as usize].clone());
        workers.spawn(work(schedule.clone(), grpc, worker_id, outcomes.clone()));
    }
    drop(outcomes);
    while let Some(finished) = workers.join_next().await {
        // Returning drops the JoinSet, which stops the other workers.
        finished.context("a worker panicked")??;
    }
    let total = started.elapsed();
    let recorder = collector.await.context("the collector panicked")?;

    let end_reason = if cancel.is_cancelled() {
        EndReason::Cancel
    } else if schedule.deadline.is_some_and(|d| Instant::now() >= d) {
        EndReason::Timeout
    } else {
        EndReason::Normal
    };
    Ok(Report::new(
        &recorder,
        total,
        end_reason,
        report_options(options),
        options.count_errors,
    ))
}

/// What the workers share.
struct Schedule {
    requests: Requests,
    path: PathAndQuery,
    next_request: AtomicU64,
    total: Option<u64>,
    /// Time between two calls of the whole run, from `rps`.
    pace: Option<Duration>,
    timeout: Option<Duration>,
    started: Instant,
    deadline: Option<Instant>,
    cancel: CancellationToken,
}

impl Schedule {
    /// Resolves when the run must stop early: interrupted, or out of time.
    async fn stopped(&self) {
        match self.deadline {
            Some(deadline) => tokio::select! {
                () = self.cancel.cancelled() => {}
                () = sleep_until(deadline) => {}
            },
            None => self.cancel.cancelled().await,
        }
    }
}

struct Outcome {
    latency: Duration,
    result: Result<(), Status>,
}

async fn connect(options: &LoadOptions) -> anyhow::Result<Vec<Channel>> {
    let endpoint = Endpoint::from_shared(format!("http://{}", options.host))
        .with_context(|| format!("invalid host {:?}", options.host))?
        .connect_timeout(options.connect_timeout);
    let mut channels = Vec::with_capacity(options.connections as usize);
    for _ in 0..options.connections {
        // Each connect() opens its own HTTP/2 connection.
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("cannot connect to {}", options.host))?;
        channels.push(channel);
    }
    Ok(channels)
}

async fn work(
    schedule: Arc<Schedule>,
    mut grpc: Grpc<Channel>,
    worker_id: String,
    outcomes: mpsc::Sender<Outcome>,
) -> anyhow::Result<()> {
    loop {
        let number = schedule.next_request.fetch_add(1, Ordering::Relaxed);
        if schedule.total.is_some_and(|total| number >= total) {
            return Ok(());
        }
        if let Some(pace) = schedule.pace {
            // The slot of this call on the run's timeline: together, the workers keep to rps.
            let slot = schedule.started + pace * u32::try_from(number).unwrap_or(u32::MAX);
            tokio::select! {
                biased;
                () = schedule.stopped() => return Ok(()),
                () = sleep_until(slot) => {}
            }
        }
        let call = schedule.requests.call(&worker_id, number)?;
        let began = Instant::now();
        // A call still in flight when the run stops is dropped, not counted (ghz's `ignore`).
        let result = tokio::select! {
            biased;
            () = schedule.stopped() => return Ok(()),
            result = unary(&mut grpc, &schedule.path, call, schedule.timeout) => result,
        };
        let outcome = Outcome {
            latency: began.elapsed(),
            result,
        };
        if outcomes.send(outcome).await.is_err() {
            return Ok(());
        }
    }
}

async fn unary(
    grpc: &mut Grpc<Channel>,
    path: &PathAndQuery,
    call: Call,
    timeout: Option<Duration>,
) -> Result<(), Status> {
    let mut request = tonic::Request::new(call.body);
    *request.metadata_mut() = call.metadata;
    if let Some(timeout) = timeout {
        // Sent as grpc-timeout, so the server's deadline handling is exercised too.
        request.set_timeout(timeout);
    }
    let exchange = async {
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(format!("connection error: {e}")))?;
        grpc.unary(request, path.clone(), RawCodec).await.map(drop)
    };
    match timeout {
        Some(timeout) => tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(Status::deadline_exceeded("context deadline exceeded"))),
        None => exchange.await,
    }
}

/// Records outcomes in arrival order, leaving out the first `skip_first` (warm-up).
async fn collect(mut outcomes: mpsc::Receiver<Outcome>, skip_first: u64) -> Recorder {
    let mut recorder = Recorder::default();
    let mut skipped = 0;
    while let Some(outcome) = outcomes.recv().await {
        if skipped < skip_first {
            skipped += 1;
            continue;
        }
        recorder.record(outcome.latency, &outcome.result);
    }
    recorder
}

fn report_options(options: &LoadOptions) -> ReportOptions {
    ReportOptions {
        call: options.call.clone(),
        host: options.host.clone(),
        insecure: true,
        rps: options.rps,
        concurrency: options.concurrency,
        total: options.total,
        connections: options.connections,
        duration: options.duration,
        timeout: options.timeout,
        dial_timeout: options.connect_timeout,
        data: options.data.clone(),
        metadata: options.metadata.clone(),
        name: options.name.clone(),
        skip_first: options.skip_first,
    }
}
