//! Slow databases under load: the caller's deadline bounds each call, and beyond the concurrency
//! limit calls are shed at once instead of queueing behind the slow ones.

use std::time::Duration;

use runview::config::Config;
use runview::server::READINESS;
use tokio::time::Instant;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

use super::{
    ProxiedStack, bounded, eventually, health_status, quiet_readiness_config, wait_for_health,
};
use crate::harness::reason;

/// A tonic client times the deadline out itself too, answering CANCELLED: the server answers
/// only a few milliseconds earlier, so on a busy machine the client's timer can win the race.
fn timed_out_in_the_client(status: &tonic::Status) -> bool {
    status.code() == Code::Cancelled && status.message() == "Timeout expired"
}

#[tokio::test]
async fn a_deadline_shorter_than_a_delayed_reply_is_deadline_exceeded_and_a_fresh_connection_serves_again()
 {
    bounded(async {
        let config = Config {
            pool_max_connections: 1,
            ..quiet_readiness_config()
        };
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let (mut client, request) = stack.warmed_client().await;
        let connections = stack.new.accepted_connections();

        let delay = Duration::from_millis(500);
        stack.new.delay(delay);
        let mut local_timeouts = 0;
        let (status, answered_in) = loop {
            let mut hurried = tonic::Request::new(request.clone());
            hurried.set_timeout(Duration::from_millis(150));
            let started = Instant::now();
            let status = client
                .get_run(hurried)
                .await
                .expect_err("the reply comes after the deadline");
            if !timed_out_in_the_client(&status) {
                break (status, started.elapsed());
            }
            local_timeouts += 1;
            assert!(local_timeouts < 5, "the server never answered in time");
            // The next attempt should wait on a query again, not on the pool's only connection.
            eventually(
                Duration::from_secs(2),
                "the held reply arrives",
                async || (stack.new.delayed_connections() == 0).then_some(()),
            )
            .await;
        };
        eprintln!(
            "deadline: the client's own timer won {local_timeouts} time(s) before the server \
             answered"
        );
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert_eq!(reason(&status), "DEADLINE_EXCEEDED");
        assert!(
            answered_in < delay,
            "the server answers at the deadline, not with the database: {answered_in:?}"
        );

        stack.new.delay(Duration::ZERO);
        let run = client
            .get_run(request)
            .await
            .expect("the pool's one slot serves again")
            .into_inner();
        assert_eq!(run.id, demo.new_run_id);
        // Every abandoned statement's connection was closed, not handed to the next call with
        // the rest of its reply still to come; the call after the deadline opened a new one.
        assert_eq!(
            stack.new.accepted_connections(),
            connections + 1 + local_timeouts,
            "one new connection per abandoned statement"
        );
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn calls_beyond_the_concurrency_limit_are_shed_at_once_while_readiness_stays_serving() {
    bounded(async {
        let config = Config {
            max_concurrent_requests: 2,
            // Each held call waits on a statement of its own, where the proxy can see it.
            lookup_coalescing: false,
            ..quiet_readiness_config()
        };
        let stack = ProxiedStack::start(config).await;
        let health = stack.server.health_addr;
        wait_for_health(health, READINESS, ServingStatus::Serving).await;
        let demo = stack.demo();
        let (client, request) = stack.warmed_client().await;

        let in_flight = stack.hold_get_runs(&client, &request, 2).await;

        let status = client
            .clone()
            .get_run(request.clone())
            .await
            .expect_err("a third call is shed");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(reason(&status), "OVERLOADED");
        assert!(status.get_error_details().retry_info().is_some());
        // The admitted calls are held until the delay is lifted below, so a shed answer that
        // arrives while they are all unfinished did not queue behind them.
        assert!(
            in_flight.iter().all(|call| !call.is_finished()),
            "shed at once, not queued behind the held calls"
        );
        assert_eq!(
            health_status(health, READINESS).await,
            ServingStatus::Serving,
            "probes are not shed"
        );

        stack.new.delay(Duration::ZERO);
        for call in in_flight {
            let run = call
                .await
                .expect("the call does not panic")
                .expect("admitted calls complete")
                .into_inner();
            assert_eq!(run.id, demo.new_run_id);
        }
        stack.shutdown().await;
    })
    .await;
}
