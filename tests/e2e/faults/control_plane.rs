//! The control plane going away: cached records keep answering; once they expire, stale-if-error
//! decides between serving the last known record and UNAVAILABLE.

use std::time::Duration;

use tonic::Code;

use super::{ProxiedStack, bounded, eventually, get_run};
use crate::harness::{reason, test_config};

/// Short enough to expire within a test, long enough to outlive a call or two after the warm-up.
const SHORT_TTL: Duration = Duration::from_millis(300);

#[tokio::test]
async fn get_run_answers_from_the_cache_and_then_stale_while_the_control_plane_is_cut() {
    bounded(async {
        let mut config = test_config();
        config.cache_ttl = SHORT_TTL;
        assert!(!config.cache_stale_if_error.is_zero(), "on by default");
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let request = get_run(&demo.production_environment_id, &demo.legacy_run_id);
        let mut client = stack.client().await;
        client
            .get_run(request.clone())
            .await
            .expect("warms the cache");

        stack.control_plane.cut().await;
        let before = stack.server.resolver_stats().environments;
        let run = client
            .get_run(request.clone())
            .await
            .expect("a cached environment needs no control plane")
            .into_inner();
        assert_eq!(run.id, demo.legacy_run_id);
        let cached = stack.server.resolver_stats().environments;
        assert!(cached.hits > before.hits, "{cached:?}");
        assert_eq!(cached.stale, before.stale, "still fresh: {cached:?}");

        // Past the TTL the entry has to be loaded again, which fails: every call still answers.
        let stale = eventually(Duration::from_secs(5), "a stale answer", async || {
            let run = client
                .get_run(request.clone())
                .await
                .expect("served stale past the TTL")
                .into_inner();
            assert!(run.environment.is_some(), "hydrated from the stale entry");
            let now = stack.server.resolver_stats().environments;
            (now.stale > cached.stale).then_some(now)
        })
        .await;
        eprintln!("control plane cut, stale-if-error on: {stale:?}");
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn without_stale_if_error_get_run_answers_unavailable_once_the_ttl_passes_with_the_control_plane_cut()
 {
    bounded(async {
        let mut config = test_config();
        config.cache_ttl = SHORT_TTL;
        config.cache_stale_if_error = Duration::ZERO;
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let request = get_run(&demo.production_environment_id, &demo.legacy_run_id);
        let mut client = stack.client().await;
        client
            .get_run(request.clone())
            .await
            .expect("warms the cache");

        stack.control_plane.cut().await;
        client
            .get_run(request.clone())
            .await
            .expect("a cached environment needs no control plane");
        let status = eventually(Duration::from_secs(5), "an expired entry", async || {
            client.get_run(request.clone()).await.err()
        })
        .await;
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(reason(&status), "STORE_UNAVAILABLE");

        stack.control_plane.restore();
        eventually(Duration::from_secs(5), "GetRun serves again", async || {
            client.get_run(request.clone()).await.ok()
        })
        .await;
        stack.shutdown().await;
    })
    .await;
}
