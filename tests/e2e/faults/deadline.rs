//! A caller's deadline as the webapp's client sees it: runview answers DEADLINE_EXCEEDED a margin
//! before the deadline, so grpc-js reports the server's answer rather than racing its own timer
//! against tonic's CANCELLED.

use std::time::Duration;

use super::{ProxiedStack, bounded, eventually};
use crate::harness::test_config;
use crate::node;

/// DEADLINE_EXCEEDED, in grpc-js as in every gRPC library.
const DEADLINE_EXCEEDED: i64 = 4;

#[tokio::test]
async fn a_grpc_js_caller_whose_deadline_passes_gets_deadline_exceeded_from_runview() {
    bounded(async {
        let stack = ProxiedStack::start(test_config()).await;
        // Warm, so the only thing the call waits for is the held store.
        stack.warmed_client().await;
        let demo = stack.demo();
        stack.new.hold();
        let address = stack.server.grpc_addr.to_string();
        let args = [
            address.as_str(),
            &demo.production_environment_id,
            &demo.new_run_id,
            "1000",
        ];
        let outcome = node::run("get_run_with_deadline.js", &args).await;
        assert_eq!(outcome["code"], DEADLINE_EXCEEDED, "{outcome}");
        assert_eq!(outcome["from_server"], true, "runview answered: {outcome}");

        stack.new.release();
        eventually(
            Duration::from_secs(15),
            "the held statement is released",
            async || (stack.new.delayed_connections() == 0).then_some(()),
        )
        .await;
        stack.shutdown().await;
    })
    .await;
}
