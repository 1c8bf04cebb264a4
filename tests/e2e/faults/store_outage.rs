//! A run-ops store that goes away under traffic: callers must learn that it is unavailable (and
//! may retry), never that their run does not exist; readiness must take the pod out meanwhile.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use runview::proto::GetRunRequest;
use runview::proto::read_service_client::ReadServiceClient;
use runview::server::{LIVENESS, READINESS};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{ProxiedStack, bounded, eventually, get_run, health_status, wait_for_health};
use crate::harness::{reason, test_config};

/// One GetRun of the traffic loop.
struct Outcome {
    started: Instant,
    finished: Instant,
    result: Result<String, tonic::Status>,
}

/// GetRun calls one after another on one channel, as a busy webapp process makes them.
struct Traffic {
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Traffic {
    fn start(mut client: ReadServiceClient<Channel>, request: GetRunRequest) -> Self {
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (outcomes, stop) = (Arc::clone(&outcomes), stop.clone());
            async move {
                while !stop.is_cancelled() {
                    let mut call = tonic::Request::new(request.clone());
                    call.set_timeout(Duration::from_secs(3));
                    let started = Instant::now();
                    let result = client.get_run(call).await.map(|run| run.into_inner().id);
                    let outcome = Outcome {
                        started,
                        finished: Instant::now(),
                        result,
                    };
                    lock(&outcomes).push(outcome);
                }
            }
        });
        Self {
            outcomes,
            stop,
            task,
        }
    }

    /// Waits for `count` calls that started at or after `since` and match `wanted`.
    async fn wait_for(
        &self,
        count: usize,
        since: Instant,
        what: &str,
        wanted: impl Fn(&Outcome) -> bool,
    ) {
        eventually(Duration::from_secs(5), what, async || {
            let outcomes = lock(&self.outcomes);
            let seen = outcomes
                .iter()
                .filter(|outcome| outcome.started >= since && wanted(outcome))
                .count();
            (seen >= count).then_some(())
        })
        .await;
    }

    async fn stop(self) -> Vec<Outcome> {
        self.stop.cancel();
        self.task.await.expect("the traffic loop does not panic");
        std::mem::take(&mut *lock(&self.outcomes))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[tokio::test]
async fn get_run_answers_unavailable_while_the_new_store_is_cut_and_recovers_once_restored() {
    bounded(async {
        let stack = ProxiedStack::start(test_config()).await;
        let demo = stack.demo();
        let run_id = demo.new_run_id.clone();
        let started = Instant::now();
        let traffic = Traffic::start(
            stack.client().await,
            get_run(&demo.production_environment_id, &run_id),
        );
        traffic
            .wait_for(3, started, "GetRun succeeds before the cut", |o| {
                o.result.is_ok()
            })
            .await;

        stack.new.cut().await;
        let cut = Instant::now();
        traffic
            .wait_for(5, cut, "calls are answered during the cut", |_| true)
            .await;
        let mut client = stack.client().await;
        let misfiled = client
            .get_run(get_run(
                &demo.production_environment_id,
                &demo.misfiled_new_run_id,
            ))
            .await
            .expect_err("a LEGACY-shaped id may live in NEW: its absence cannot be proven");
        assert_eq!(misfiled.code(), Code::Unavailable, "{misfiled:?}");
        client
            .get_run(get_run(
                &demo.production_environment_id,
                &demo.legacy_run_id,
            ))
            .await
            .expect("a run found in its LEGACY home needs no NEW store");
        stack.new.restore();
        let restored = Instant::now();
        traffic
            .wait_for(1, restored, "GetRun succeeds after the restore", |o| {
                o.result.is_ok()
            })
            .await;
        let outcomes = traffic.stop().await;

        for outcome in &outcomes {
            match &outcome.result {
                Ok(id) => assert_eq!(id, &run_id, "the right run, always"),
                Err(status) => {
                    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                    assert_eq!(reason(status), "STORE_UNAVAILABLE", "{status:?}");
                }
            }
        }
        let during_cut: Vec<_> = outcomes
            .iter()
            .filter(|o| o.started >= cut && o.finished <= restored)
            .collect();
        assert!(during_cut.len() >= 5);
        assert!(
            during_cut.iter().all(|o| o.result.is_err()),
            "no call is served while the NEW store is cut"
        );
        let after_restore: Vec<_> = outcomes.iter().filter(|o| o.started >= restored).collect();
        let recovered_in = after_restore
            .iter()
            .find(|o| o.result.is_ok())
            .map(|o| o.finished - restored);
        let slowest_failure = during_cut.iter().map(|o| o.finished - o.started).max();
        eprintln!(
            "NEW store cut: {} calls UNAVAILABLE during the cut (slowest {slowest_failure:?}); \
             after the restore {} failed before the first success, {recovered_in:?} after \
             restoring",
            during_cut.len(),
            after_restore.iter().filter(|o| o.result.is_err()).count(),
        );
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn readiness_follows_the_legacy_store_while_liveness_stays_serving() {
    bounded(async {
        let mut config = test_config();
        config.readiness_interval = Duration::from_millis(100);
        config.readiness_failure_threshold = 2;
        let stack = ProxiedStack::start(config).await;
        let health = stack.server.health_addr;
        wait_for_health(health, READINESS, ServingStatus::Serving).await;

        stack.legacy.cut().await;
        wait_for_health(health, READINESS, ServingStatus::NotServing).await;
        assert_eq!(
            health_status(health, LIVENESS).await,
            ServingStatus::Serving,
            "liveness never depends on a database"
        );

        stack.legacy.restore();
        wait_for_health(health, READINESS, ServingStatus::Serving).await;
        assert_eq!(
            health_status(health, LIVENESS).await,
            ServingStatus::Serving
        );
        stack.shutdown().await;
    })
    .await;
}
