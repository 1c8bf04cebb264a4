//! Stale-if-error: an expired entry is still served, for a bounded time, while the control plane
//! is unavailable to load it again; an invalidated one never is.

use std::time::Duration;

use runview_controlplane::{ControlPlaneResolver, InvalidationScope, KindStats, ResolverSettings};
use runview_core::Error;
use runview_core::ports::ControlPlane;
use sqlx::PgPool;
use tokio::time::{Instant, sleep_until};

use crate::fixture::{Seeded, keys, seeded_with_defaults};

const TTL: Duration = Duration::from_millis(100);
const STALE_IF_ERROR: Duration = Duration::from_millis(300);

/// A resolver over a pool of its own, which the test closes to make the control plane
/// unavailable to it.
async fn resolver(seeded: &Seeded, stale_if_error: Duration) -> (ControlPlaneResolver, PgPool) {
    let pool = PgPool::connect(seeded.database.url())
        .await
        .expect("a pool");
    let settings = ResolverSettings {
        ttl: TTL,
        stale_if_error,
        ..ResolverSettings::default()
    };
    (ControlPlaneResolver::new(pool.clone(), settings), pool)
}

fn assert_unavailable(result: runview_core::Result<impl std::fmt::Debug>) {
    let error = result.expect_err("the control plane is unavailable");
    assert!(matches!(error, Error::Unavailable { .. }), "{error:?}");
}

#[tokio::test]
async fn expired_entries_are_served_while_the_control_plane_is_unavailable_within_the_bound() {
    let seeded = seeded_with_defaults().await;
    let (resolver, pool) = resolver(&seeded, STALE_IF_ERROR).await;
    let page = keys(&["env_prod", "env_deleted"]);
    let before_load = Instant::now();
    resolver.environments(page.clone()).await.expect("loaded");
    let after_load = Instant::now();
    pool.close().await;

    sleep_until(after_load + TTL).await;
    let stale = resolver.environments(page.clone()).await.expect("stale");
    assert_eq!(stale["env_prod"].slug, "prod");
    assert!(!stale.contains_key("env_deleted"));
    assert_eq!(
        resolver.stats().environments,
        KindStats {
            hits: 0,
            misses: 2,
            stale: 2,
            loads: 2
        }
    );

    sleep_until(before_load + TTL + STALE_IF_ERROR).await;
    assert_unavailable(resolver.environments(page).await);
}

#[tokio::test]
async fn an_invalidated_entry_is_never_served_stale() {
    let seeded = seeded_with_defaults().await;
    let (resolver, pool) = resolver(&seeded, STALE_IF_ERROR).await;
    resolver
        .environments(keys(&["env_prod", "env_staging"]))
        .await
        .expect("loaded");
    let after_load = Instant::now();
    pool.close().await;

    resolver.invalidate(&InvalidationScope::Environment("env_prod".to_owned()));
    assert_unavailable(resolver.environments(keys(&["env_prod"])).await);

    sleep_until(after_load + TTL).await;
    let stale = resolver
        .environments(keys(&["env_staging"]))
        .await
        .expect("the other entry is still served stale");
    assert!(stale.contains_key("env_staging"));
}

#[tokio::test]
async fn a_zero_bound_serves_nothing_stale() {
    let seeded = seeded_with_defaults().await;
    let (resolver, pool) = resolver(&seeded, Duration::ZERO).await;
    resolver
        .environments(keys(&["env_prod"]))
        .await
        .expect("loaded");
    let after_load = Instant::now();
    pool.close().await;

    sleep_until(after_load + TTL).await;
    assert_unavailable(resolver.environments(keys(&["env_prod"])).await);
}
