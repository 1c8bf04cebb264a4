//! Graceful shutdown, as a rolling deploy exercises it: calls already in flight finish, and once
//! shutdown returns nothing listens any more.

use std::time::Duration;

use tokio::net::TcpStream;

use super::{ProxiedStack, bounded, eventually, quiet_readiness_config};

#[tokio::test]
async fn shutdown_lets_a_call_in_flight_finish_and_then_refuses_connections() {
    bounded(async {
        let stack = ProxiedStack::start(quiet_readiness_config()).await;
        let demo = stack.demo().clone();
        let (client, request) = stack.warmed_client().await;

        stack.new.hold();
        let slow = tokio::spawn({
            let mut client = client.clone();
            async move { client.get_run(request).await }
        });
        eventually(
            Duration::from_secs(5),
            "the slow call waits on the NEW store",
            async || (stack.new.delayed_connections() >= 1).then_some(()),
        )
        .await;

        // The proxies and databases stay with `stack` until the end; only the server moves.
        let server = stack.server;
        let addrs = [server.grpc_addr, server.health_addr, server.metrics_addr];
        // Released only once the listeners are closed, so the call is in flight all through the
        // shutdown, however long each step takes.
        let release_when_closed = async {
            eventually(
                Duration::from_secs(10),
                "the gRPC port stops accepting",
                async || TcpStream::connect(addrs[0]).await.is_err().then_some(()),
            )
            .await;
            stack.new.release();
        };
        let (call, stopped, ()) = tokio::join!(slow, server.shutdown(), release_when_closed);
        stopped.expect("the server stops cleanly");
        let run = call
            .expect("the call does not panic")
            .expect("the call in flight completes")
            .into_inner();
        assert_eq!(run.id, demo.new_run_id);

        for addr in addrs {
            assert!(
                TcpStream::connect(addr).await.is_err(),
                "{addr} refuses connections after shutdown"
            );
        }
    })
    .await;
}
