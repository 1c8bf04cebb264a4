//! Invalidation across replicas: a notice published on the control-plane database reaches every
//! listening resolver, and a listener that lost its connection drops the cache and comes back.

use std::time::Instant;

use runview_controlplane::InvalidationScope;
use runview_core::ports::ControlPlane;

use crate::fixture::{
    Replica, eventually, keys, listening_sessions, seeded_with_defaults, wait_for_listeners,
};

fn env_prod() -> InvalidationScope {
    InvalidationScope::Environment("env_prod".to_owned())
}

/// Whether `replica` loaded `env_prod` `loads` times by now, resolving it once more to find out.
async fn has_loaded(replica: &Replica, loads: u64) -> bool {
    replica
        .resolver
        .environments(keys(&["env_prod"]))
        .await
        .expect("resolved");
    replica.resolver.stats().environments.loads == loads
}

#[tokio::test]
async fn an_invalidation_published_on_one_replica_drops_the_entry_on_another() {
    let seeded = seeded_with_defaults().await;
    let publisher = Replica::start(&seeded.database).await;
    let other = Replica::start(&seeded.database).await;
    wait_for_listeners(seeded.database.pool(), 2).await;
    assert!(has_loaded(&other, 1).await);

    let published = Instant::now();
    publisher
        .resolver
        .publish(&env_prod())
        .await
        .expect("published");
    eventually("the other replica loads the entry again", || {
        has_loaded(&other, 2)
    })
    .await;
    eprintln!(
        "an invalidation published on one replica reached another in {:?}",
        published.elapsed()
    );
}

#[tokio::test]
async fn a_listener_whose_connection_is_terminated_drops_the_cache_and_listens_again() {
    let seeded = seeded_with_defaults().await;
    let pool = seeded.database.pool();
    let replica = Replica::start(&seeded.database).await;
    wait_for_listeners(pool, 1).await;
    assert!(has_loaded(&replica, 1).await);

    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database()
           AND application_name = 'runview-invalidation-listener'",
    )
    .fetch_all(pool)
    .await
    .expect("terminated");
    assert_eq!(terminated, [true]);

    eventually("the cache is dropped once the listener is back", || {
        has_loaded(&replica, 2)
    })
    .await;
    assert_eq!(listening_sessions(pool).await, 1);
    replica
        .resolver
        .publish(&env_prod())
        .await
        .expect("published");
    eventually("a later invalidation is heard", || has_loaded(&replica, 3)).await;
}

#[tokio::test]
async fn a_malformed_notice_is_ignored_and_the_listener_goes_on() {
    let seeded = seeded_with_defaults().await;
    let pool = seeded.database.pool();
    let replica = Replica::start(&seeded.database).await;
    wait_for_listeners(pool, 1).await;
    assert!(has_loaded(&replica, 1).await);

    for notice in ["not json", r#"{"scope":"project","id":"project_1"}"#] {
        sqlx::query("SELECT pg_notify('runview_invalidate', $1)")
            .bind(notice)
            .execute(pool)
            .await
            .expect("notified");
    }
    replica
        .resolver
        .publish(&env_prod())
        .await
        .expect("published");

    eventually("the valid notice is applied", || has_loaded(&replica, 2)).await;
}
