//! What coalescing tests need: stores whose one connection a test can hold, futures polled once
//! in order, and the metrics a store records, read back as Prometheus renders them.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use runview_core::ids::Residency;
use runview_localdb::testing::TestDatabase;
use runview_store::{Coalescing, PgRunStore};
use sqlx::postgres::PgPoolOptions;

/// A store over `database` whose read pool holds at most one connection: a test that leases it
/// holds back every statement of the store until it lets go.
pub fn one_connection_store(database: &TestDatabase, residency: Residency) -> PgRunStore {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(database.url())
        .expect("a lazy pool");
    PgRunStore::new(pool, residency)
}

/// A store over `database` that sends every lookup as a statement of its own: the answers of
/// lone lookups, to compare coalesced ones with.
pub fn uncoalesced_store(database: &TestDatabase, residency: Residency) -> PgRunStore {
    PgRunStore::new(database.pool().clone(), residency).with_coalescing(Coalescing::Off)
}

/// Polls each call once, in order, and checks that none could finish: every one has started
/// (taken the statement in flight, or queued behind it) before any is let go.
pub async fn start_each<F: Future + Unpin>(calls: &mut [F]) {
    for (index, call) in calls.iter_mut().enumerate() {
        let polled = futures::poll!(Pin::new(call));
        assert!(
            matches!(polled, Poll::Pending),
            "call {index} waits for the held connection"
        );
    }
}

/// Runs `calls` started together while every store of `held` has its only connection held: the
/// first call of each kind in each store waits with its statement "in flight" while the others
/// arrive and queue. Then lets go and waits for every answer.
pub async fn started_together<F: Future + Unpin>(
    held: &[&PgRunStore],
    mut calls: Vec<F>,
) -> Vec<F::Output> {
    let mut leases = Vec::new();
    for store in held {
        leases.push(
            store
                .read_pool()
                .lease()
                .await
                .expect("the only connection"),
        );
    }
    start_each(&mut calls).await;
    drop(leases);
    futures::future::join_all(calls).await
}

/// A recorder for the metrics recorded on this thread: `#[tokio::test]` runs every task of the
/// test on it, and no other test's.
pub fn recorder() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// The value of the sample of `metric` whose labels include `labels`; zero when there is none.
pub fn sample(metrics: &PrometheusHandle, metric: &str, labels: &[&str]) -> f64 {
    metrics
        .render()
        .lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// Statements of `record` lookups sent to `store` while coalescing, and the lookups they
/// answered.
pub fn coalesced(metrics: &PrometheusHandle, store: &str, record: &str) -> (f64, f64) {
    let labels = [
        &format!("store=\"{store}\"") as &str,
        &format!("record=\"{record}\""),
    ];
    (
        sample(metrics, "runview_coalesced_lookups_count", &labels),
        sample(metrics, "runview_coalesced_lookups_sum", &labels),
    )
}
