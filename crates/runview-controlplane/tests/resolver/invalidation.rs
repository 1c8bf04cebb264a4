//! Invalidation on one replica: each scope drops what it covers and nothing else, including the
//! entries of a load that was in flight when the invalidation came.

use runview_controlplane::{InvalidationScope, KindStats};
use runview_core::ports::ControlPlane;

use crate::fixture::{eventually, keys, seeded_with_defaults};

fn environment(id: &str) -> InvalidationScope {
    InvalidationScope::Environment(id.to_owned())
}

#[tokio::test]
async fn invalidating_an_environment_reloads_that_environment_only() {
    let seeded = seeded_with_defaults().await;
    let resolver = &seeded.resolver;
    let page = keys(&["env_prod", "env_staging"]);
    resolver.environments(page.clone()).await.expect("first");
    sqlx::query(r#"UPDATE "RuntimeEnvironment" SET "slug" = 'production' WHERE "id" = 'env_prod'"#)
        .execute(seeded.database.pool())
        .await
        .expect("renamed");

    resolver.invalidate(&environment("env_prod"));
    let resolved = resolver.environments(page).await.expect("second");

    assert_eq!(resolved["env_prod"].slug, "production");
    assert_eq!(
        resolver.stats().environments,
        KindStats {
            hits: 1,
            misses: 3,
            stale: 0,
            loads: 2
        }
    );
}

#[tokio::test]
async fn an_invalidated_absence_is_looked_up_again() {
    let seeded = seeded_with_defaults().await;
    let resolver = &seeded.resolver;
    let page = keys(&["env_new"]);
    let before = resolver.environments(page.clone()).await.expect("first");
    sqlx::query(
        r#"INSERT INTO "RuntimeEnvironment"
               ("id", "slug", "type", "apiKey", "pkApiKey", "shortcode", "projectId",
                "organizationId", "updatedAt")
           VALUES ('env_new', 'staging-2', 'STAGING', 'tr_new', 'pk_new', 'stg-2', 'project_1',
                   'org_1', now())"#,
    )
    .execute(seeded.database.pool())
    .await
    .expect("created");

    resolver.invalidate(&environment("env_new"));
    let after = resolver.environments(page).await.expect("second");

    assert!(before.is_empty());
    assert_eq!(after["env_new"].slug, "staging-2");
}

#[tokio::test]
async fn invalidating_an_organization_reloads_its_environments_only() {
    let seeded = seeded_with_defaults().await;
    let resolver = &seeded.resolver;
    let page = keys(&["env_prod", "env_dev_ada", "env_globex"]);
    resolver.environments(page.clone()).await.expect("first");

    resolver.invalidate(&InvalidationScope::Organization("org_1".to_owned()));
    resolver.environments(page).await.expect("second");

    assert_eq!(
        resolver.stats().environments,
        KindStats {
            hits: 1,
            misses: 5,
            stale: 0,
            loads: 2
        }
    );
}

#[tokio::test]
async fn invalidating_everything_reloads_every_kind() {
    let seeded = seeded_with_defaults().await;
    let resolver = &seeded.resolver;
    let resolve_every_kind = || async {
        resolver
            .environments(keys(&["env_prod", "env_deleted"]))
            .await
            .expect("environments");
        resolver
            .worker_versions(keys(&["worker_1"]))
            .await
            .expect("worker versions");
        resolver
            .schedules(keys(&["schedule_user"]))
            .await
            .expect("schedules");
        resolver
            .schedule_ids(keys(&["sched_user"]))
            .await
            .expect("schedule ids");
    };
    resolve_every_kind().await;

    resolver.invalidate(&InvalidationScope::All);
    resolve_every_kind().await;

    let stats = resolver.stats();
    for kind in [
        stats.environments,
        stats.worker_versions,
        stats.schedules,
        stats.schedule_ids,
    ] {
        assert_eq!((kind.hits, kind.loads), (0, 2), "{stats:?}");
    }
}

#[tokio::test]
async fn a_load_in_flight_when_an_invalidation_comes_is_not_served_after_it() {
    let seeded = seeded_with_defaults().await;
    let resolver = &seeded.resolver;
    let pool = seeded.database.pool();
    // The lock holds the resolver's statement until the invalidation has come.
    let mut lock = pool.begin().await.expect("a transaction");
    sqlx::query(r#"LOCK TABLE "RuntimeEnvironment" IN ACCESS EXCLUSIVE MODE"#)
        .execute(&mut *lock)
        .await
        .expect("locked");

    let in_flight = resolver.environments(keys(&["env_prod"]));
    let invalidate = async {
        eventually("the load waits for the lock", || async {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(pool)
            .await
            .expect("pg_stat_activity is readable");
            waiting == 1
        })
        .await;
        resolver.invalidate(&environment("env_prod"));
        lock.rollback().await.expect("unlocked");
    };
    let (in_flight, ()) = tokio::join!(in_flight, invalidate);
    // The call that started before the invalidation may take what its load read...
    assert!(in_flight.expect("resolved").contains_key("env_prod"));

    // ...but a call after it may not.
    resolver
        .environments(keys(&["env_prod"]))
        .await
        .expect("after the invalidation");
    assert_eq!(resolver.stats().environments.loads, 2);
}
