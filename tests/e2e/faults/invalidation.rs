//! Invalidation across replicas: `CacheService/Invalidate` on one replica must reach the caches of
//! all of them, through the control-plane database's notification channel.

use std::time::Duration;

use runview::proto::cache_service_client::CacheServiceClient;
use runview::proto::invalidate_request::Scope;
use runview::proto::read_service_client::ReadServiceClient;
use runview::proto::{GetRunRequest, InvalidateRequest};
use runview::server::{self, RunningServer};
use tokio::time::Instant;
use tonic::transport::Channel;

use super::{alone, bounded, eventually, get_run, wait_until_listening};
use crate::harness::{SeededDatabases, channel, test_config};

const REPLICAS: usize = 3;
const ROUNDS: usize = 10;

/// How long a replica may take to hear an invalidation before the test fails.
const PROPAGATION_BUDGET: Duration = Duration::from_secs(5);

/// Invalidations of an environment that the replicas applied from the notification channel, as
/// the metrics count them: the test runs alone, so they are its replicas'.
fn environment_invalidations_heard() -> u64 {
    let rendered = runview::metrics::handle().render();
    let heard: f64 = rendered
        .lines()
        .filter(|line| {
            line.starts_with("runview_control_plane_invalidations_total{")
                && line.contains("scope=\"environment\"")
                && line.contains("origin=\"received\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    heard as u64
}

/// How long after `since` every replica had applied the invalidation: polled in memory, so
/// much finer than a GetRun round trip.
async fn time_until_all_heard(heard_before: u64, since: Instant) -> Duration {
    loop {
        if environment_invalidations_heard() >= heard_before + REPLICAS as u64 {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < PROPAGATION_BUDGET,
            "every replica hears the invalidation"
        );
        tokio::task::yield_now().await;
    }
}

/// Calls GetRun on `replica` until it loads the environment again: its entry was dropped.
async fn reloads_the_environment(
    replica: &RunningServer,
    mut client: ReadServiceClient<Channel>,
    request: GetRunRequest,
) {
    let loads_before = replica.resolver_stats().environments.loads;
    eventually(
        PROPAGATION_BUDGET,
        "the replica loads the environment again",
        async || {
            client
                .get_run(request.clone())
                .await
                .expect("GetRun answers while invalidations propagate");
            (replica.resolver_stats().environments.loads > loads_before).then_some(())
        },
    )
    .await;
}

// Several worker threads, so three servers and their callers do not take turns on one thread:
// that would lengthen every call and so the measurement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_sent_to_one_replica_makes_every_replica_reload_the_environment() {
    alone(bounded(async {
        let databases = SeededDatabases::create().await;
        let urls = databases.urls();
        let mut replicas = Vec::new();
        for _ in 0..REPLICAS {
            let replica = server::start(&test_config(), &urls)
                .await
                .expect("a replica starts");
            replicas.push(replica);
        }
        let demo = &databases.demo;
        let environment_id = demo.production_environment_id.clone();
        let request = get_run(&environment_id, &demo.legacy_run_id);
        let mut clients = Vec::new();
        for replica in &replicas {
            let mut client = ReadServiceClient::new(channel(replica.grpc_addr).await);
            client
                .get_run(request.clone())
                .await
                .expect("warms the cache");
            clients.push(client);
        }
        wait_until_listening(&databases.control_plane, REPLICAS).await;

        let mut propagation = Vec::new();
        for round in 0..ROUNDS {
            // Every replica's entry is fresh here (30 s TTL): only an invalidation reloads it.
            let receiver = &replicas[round % REPLICAS];
            let mut cache = CacheServiceClient::new(channel(receiver.grpc_addr).await);
            let heard_before = environment_invalidations_heard();
            cache
                .invalidate(InvalidateRequest {
                    scope: Some(Scope::EnvironmentId(environment_id.clone())),
                })
                .await
                .expect("the invalidation is accepted");
            let answered = Instant::now();
            propagation.push(time_until_all_heard(heard_before, answered).await);
            futures::future::join_all(replicas.iter().zip(&clients).map(|(replica, client)| {
                reloads_the_environment(replica, client.clone(), request.clone())
            }))
            .await;
        }
        let mut sorted = propagation.clone();
        sorted.sort();
        eprintln!(
            "invalidation: all {REPLICAS} replicas had dropped the entry after (from the Invalidate \
             answer) median {:?}, max {:?}; per round {propagation:?}",
            sorted[ROUNDS / 2],
            sorted[ROUNDS - 1]
        );
        for replica in replicas {
            replica.shutdown().await.expect("the replica stops cleanly");
        }
    }))
    .await;
}
