//! Readiness follows the cache invalidation listener: a replica is not ready until its LISTEN is
//! established, and turns NOT_SERVING once the listener has been down for the cache TTL, since
//! its cache may then hold what the other replicas have dropped.

use std::net::SocketAddr;
use std::time::Duration;

use runview::server::READINESS;
use secrecy::SecretString;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{bounded, eventually, health_status};
use crate::harness::{SeededDatabases, TestStack, test_config};
use crate::proxy::Proxy;

/// Short, so that an outage outlasts it within the test.
const CACHE_TTL: Duration = Duration::from_secs(1);

/// Generous: between attempts, the listener backs off for up to seconds.
const WITHIN: Duration = Duration::from_secs(15);

async fn turns(health: SocketAddr, expected: ServingStatus) {
    eventually(
        WITHIN,
        &format!("readiness turns {expected:?}"),
        async || (health_status(health, READINESS).await == expected).then_some(()),
    )
    .await;
}

#[tokio::test]
async fn readiness_waits_for_the_listener_and_drops_once_it_is_down_past_the_cache_ttl() {
    bounded(async {
        let databases = SeededDatabases::create().await;
        // Only the listener (and publishing, unused here) reaches the control-plane primary:
        // every database readiness checks stays reachable throughout.
        let primary = Proxy::start(databases.control_plane.url()).await;
        primary.cut().await;
        let primary_url = SecretString::from(primary.url_for(databases.control_plane.url()));
        let mut config = test_config();
        config.cache_ttl = CACHE_TTL;
        config.readiness_interval = Duration::from_millis(100);
        let stack = TestStack::over(databases, config, |urls| {
            urls.control_plane_primary = Some(primary_url);
        })
        .await;
        let health = stack.server.health_addr;

        // The first readiness check passes at once; by the listener's third refused attempt
        // several have.
        eventually(WITHIN, "the listener is refused three times", async || {
            (primary.refused_connections() >= 3).then_some(())
        })
        .await;
        assert_eq!(
            health_status(health, READINESS).await,
            ServingStatus::NotServing,
            "not ready while LISTEN cannot be established"
        );

        primary.restore();
        turns(health, ServingStatus::Serving).await;

        primary.cut().await;
        turns(health, ServingStatus::NotServing).await;

        primary.restore();
        turns(health, ServingStatus::Serving).await;
        stack.shutdown().await;
    })
    .await;
}
