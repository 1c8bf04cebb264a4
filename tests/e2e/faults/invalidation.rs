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

use super::{bounded, eventually, get_run};
use crate::harness::{SeededDatabases, channel, test_config};

const REPLICAS: usize = 3;
const ROUNDS: usize = 5;

/// How long a replica may take to hear an invalidation before the test fails.
const PROPAGATION_BUDGET: Duration = Duration::from_secs(5);

/// Waits until every replica's listener has run LISTEN: a notice published before that is lost
/// to the replica, and nothing else tells when a replica starts hearing them.
async fn wait_until_all_listen(databases: &SeededDatabases) {
    eventually(
        Duration::from_secs(10),
        "every replica listens for invalidations",
        async || {
            let listening: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'runview-invalidation-listener' AND query LIKE 'LISTEN%'",
            )
            .fetch_one(databases.control_plane.pool())
            .await
            .expect("pg_stat_activity answers");
            (listening == REPLICAS as i64).then_some(())
        },
    )
    .await;
}

/// When, after `since`, a replica dropped its entry: after the last call it still answered from
/// the cache started, and before the first call that loaded the environment again answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct DroppedBetween {
    after: Duration,
    before: Duration,
}

/// Calls GetRun on `replica` until it loads the environment again (its entry was dropped).
async fn time_until_reload(
    replica: &RunningServer,
    mut client: ReadServiceClient<Channel>,
    request: GetRunRequest,
    since: Instant,
) -> DroppedBetween {
    let loads_before = replica.resolver_stats().environments.loads;
    let mut after = Duration::ZERO;
    // No pause between calls: each is a real round trip, and a pause would blur the measurement.
    loop {
        let started = since.elapsed();
        client
            .get_run(request.clone())
            .await
            .expect("GetRun answers while invalidations propagate");
        if replica.resolver_stats().environments.loads > loads_before {
            let before = since.elapsed();
            return DroppedBetween { after, before };
        }
        after = started;
        assert!(
            since.elapsed() < PROPAGATION_BUDGET,
            "the replica hears the invalidation"
        );
    }
}

// Several worker threads, so three servers and their callers do not take turns on one thread:
// that would lengthen every call and so the measurement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_sent_to_one_replica_makes_every_replica_reload_the_environment() {
    bounded(async {
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
        wait_until_all_listen(&databases).await;

        let mut rounds = Vec::new();
        for round in 0..ROUNDS {
            // A stale reload would not count: every replica's entry is fresh (30 s TTL) here.
            let receiver = &replicas[round % REPLICAS];
            let mut cache = CacheServiceClient::new(channel(receiver.grpc_addr).await);
            cache
                .invalidate(InvalidateRequest {
                    scope: Some(Scope::EnvironmentId(environment_id.clone())),
                })
                .await
                .expect("the invalidation is accepted");
            let answered = Instant::now();
            let reloads = futures::future::join_all(replicas.iter().zip(&clients).map(
                |(replica, client)| {
                    time_until_reload(replica, client.clone(), request.clone(), answered)
                },
            ))
            .await;
            eprintln!(
                "invalidation round {round} (sent to replica {}): dropped per replica {reloads:?}",
                round % REPLICAS
            );
            let all_dropped = DroppedBetween {
                after: reloads.iter().map(|r| r.after).max().unwrap_or_default(),
                before: reloads.iter().map(|r| r.before).max().unwrap_or_default(),
            };
            rounds.push(all_dropped);
        }
        rounds.sort_by_key(|round| round.before);
        eprintln!(
            "invalidation reached all {REPLICAS} replicas: median round {:?}, slowest round {:?}",
            rounds[ROUNDS / 2],
            rounds[ROUNDS - 1]
        );
        for replica in replicas {
            replica.shutdown().await.expect("the replica stops cleanly");
        }
    })
    .await;
}
