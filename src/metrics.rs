//! Prometheus metrics on their own port. Libraries record through the `metrics` facade; this
//! module installs the one process-wide recorder, serves `/metrics`, and records what only the
//! edge sees: requests by method and code, client connections, connection pools and readiness.

use std::fmt::Debug;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::serve::Listener;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use runview_pg::ReadPool;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::Code;

/// Latency buckets (seconds) from sub-millisecond cache hits to the statement timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Lookups per coalesced statement, up to beyond the default cap of 64.
const COALESCED_LOOKUP_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
const POOL_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// The process-wide recorder; several servers in one process (tests) share it.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("duration_seconds".to_owned()),
                LATENCY_BUCKETS,
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full("runview_coalesced_lookups".to_owned()),
                    COALESCED_LOOKUP_BUCKETS,
                )
            })
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (an embedding process); then ours only renders.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Serves `GET /metrics` on the connections `listener` admits until shutdown.
pub fn serve(
    listener: impl Listener<Addr: Debug>,
    shutdown: CancellationToken,
) -> JoinHandle<std::io::Result<()>> {
    let handle = handle();
    let app = Router::new().route("/metrics", get(move || std::future::ready(handle.render())));
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    })
}

/// One finished RPC.
pub fn record_request(method: &'static str, code: Code, elapsed: Duration) {
    let code = code_name(code);
    metrics::counter!("runview_requests_total", "method" => method, "code" => code).increment(1);
    metrics::histogram!("runview_request_duration_seconds", "method" => method, "code" => code)
        .record(elapsed.as_secs_f64());
}

/// A connection admitted on `port` (`grpc`, `health`, `metrics`).
pub fn connection_opened(port: &'static str) {
    metrics::gauge!("runview_connections_open", "port" => port).increment(1);
}

pub fn connection_closed(port: &'static str) {
    metrics::gauge!("runview_connections_open", "port" => port).decrement(1);
}

/// A connection closed by runview: beyond the port's cap (`over_limit`), or silent too long
/// (`first_byte_timeout`, `idle_timeout`).
pub fn connection_dropped(port: &'static str, reason: &'static str) {
    metrics::counter!("runview_connections_dropped_total", "port" => port, "reason" => reason)
        .increment(1);
}

/// Whether readiness reports SERVING: a probe's verdict, kept where alerts can see it.
pub fn record_readiness(serving: bool) {
    metrics::gauge!("runview_ready").set(if serving { 1.0 } else { 0.0 });
}

/// A pool whose state is sampled.
pub enum SampledPool {
    /// The control plane's.
    Sqlx(PgPool),
    /// A run-ops store's, which also tells how long checkouts waited.
    Reads(ReadPool),
}

/// Samples each pool's connections and, for the run-ops stores, checkout waits, timeouts and
/// connections closed after a cut-off statement; `database` is a fixed name, never a URL.
pub fn sample_pools(
    pools: Vec<(&'static str, SampledPool)>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(POOL_SAMPLE_INTERVAL);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = shutdown.cancelled() => return,
            }
            for (database, pool) in &pools {
                let database = *database;
                let (size, idle, max) = match pool {
                    SampledPool::Sqlx(pool) => (
                        pool.size(),
                        u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                        pool.options().get_max_connections(),
                    ),
                    SampledPool::Reads(pool) => {
                        let state = pool.state();
                        metrics::counter!("runview_pool_acquire_waits_total", "database" => database)
                            .absolute(state.waits);
                        metrics::counter!("runview_pool_acquire_wait_microseconds_total", "database" => database)
                            .absolute(u64::try_from(state.wait_time.as_micros()).unwrap_or(u64::MAX));
                        metrics::counter!("runview_pool_acquire_timeouts_total", "database" => database)
                            .absolute(state.timeouts);
                        metrics::counter!("runview_pool_discarded_connections_total", "database" => database)
                            .absolute(state.discarded);
                        (state.connections, state.idle, state.max_connections)
                    }
                };
                metrics::gauge!("runview_pool_connections", "database" => database, "state" => "idle").set(idle);
                metrics::gauge!("runview_pool_connections", "database" => database, "state" => "in_use")
                    .set(size.saturating_sub(idle));
                metrics::gauge!("runview_pool_max_connections", "database" => database).set(max);
            }
        }
    })
}

/// The `code` label of a request's outcome: the code's name in the gRPC specification.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
