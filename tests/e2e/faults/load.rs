//! Slow databases under load: a deadline bounds each call, and beyond the concurrency
//! limit calls are shed at once instead of queueing behind the slow ones.

use std::time::Duration;

use runview::config::Config;
use runview::server::READINESS;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

use super::{ProxiedStack, bounded, health_status, quiet_readiness_config, wait_for_health};
use crate::harness::reason;

/// The server's own deadline, `request_timeout`, rather than a caller's `grpc-timeout`: tonic's
/// client enforces the caller's deadline too, answering CANCELLED at about the moment the server
/// answers, so only a deadline the client does not share shows the server's answer every time.
/// Long enough for the warm-up call on a busy machine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_reply_held_past_the_deadline_is_deadline_exceeded_and_a_fresh_connection_serves_again() {
    bounded(async {
        let config = Config {
            pool_max_connections: 1,
            request_timeout: REQUEST_TIMEOUT,
            ..quiet_readiness_config()
        };
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let (mut client, request) = stack.warmed_client().await;
        let connections = stack.new.accepted_connections();

        // Held until released below: an answer now came at the deadline, not with the database.
        stack.new.hold();
        let status = client
            .get_run(request.clone())
            .await
            .expect_err("the reply is held past the deadline");
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert_eq!(reason(&status), "DEADLINE_EXCEEDED");

        stack.new.release();
        let run = client
            .get_run(request)
            .await
            .expect("the pool's one slot serves again")
            .into_inner();
        assert_eq!(run.id, demo.new_run_id);
        // The abandoned statement's connection was closed, not handed to the next call with the
        // rest of its reply still to come: the call after the deadline opened a new one.
        assert_eq!(
            stack.new.accepted_connections(),
            connections + 1,
            "one new connection for the abandoned statement"
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

        stack.new.release();
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
