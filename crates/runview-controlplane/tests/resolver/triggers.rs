//! The control-plane triggers of migration 0002 (part of the reference control-plane schema):
//! upstream writes reach a listening resolver with no Invalidate call, and writes to columns
//! runview does not read send nothing.

use runview_core::control_plane::EnvironmentOwner;
use runview_core::ports::ControlPlane;
use runview_localdb::testing::TestDatabase;

use crate::fixture::{Replica, eventually, keys, seeded_with_defaults, wait_for_listeners};

async fn execute(database: &TestDatabase, statement: &str) {
    sqlx::query(statement)
        .execute(database.pool())
        .await
        .expect("the statement runs");
}

#[tokio::test]
async fn an_environment_update_reaches_a_listening_resolver() {
    let seeded = seeded_with_defaults().await;
    let replica = Replica::start(&seeded.database).await;
    wait_for_listeners(seeded.database.pool(), 1).await;
    let resolver = &replica.resolver;
    let page = keys(&["env_prod", "env_staging"]);
    resolver.environments(page.clone()).await.expect("loaded");

    // Notices arrive in commit order: once the rename is heard, a notice for the pause would have
    // been heard too.
    execute(
        &seeded.database,
        r#"UPDATE "RuntimeEnvironment" SET "paused" = true WHERE "id" = 'env_staging'"#,
    )
    .await;
    execute(
        &seeded.database,
        r#"UPDATE "RuntimeEnvironment" SET "slug" = 'production' WHERE "id" = 'env_prod'"#,
    )
    .await;
    eventually("the rename is seen", || async {
        let resolved = resolver
            .environments(keys(&["env_prod"]))
            .await
            .expect("resolved");
        resolved["env_prod"].slug == "production"
    })
    .await;

    resolver.environments(page).await.expect("resolved");
    let stats = resolver.stats().environments;
    assert_eq!((stats.loads, stats.misses), (2, 3), "{stats:?}");
}

#[tokio::test]
async fn renaming_a_user_refreshes_the_owner_of_their_development_environments() {
    let seeded = seeded_with_defaults().await;
    let replica = Replica::start(&seeded.database).await;
    wait_for_listeners(seeded.database.pool(), 1).await;
    let resolver = &replica.resolver;
    let page = keys(&["env_dev_ada", "env_globex"]);
    resolver.environments(page.clone()).await.expect("loaded");

    execute(
        &seeded.database,
        r#"UPDATE "User" SET "displayName" = 'Countess' WHERE "id" = 'user_ada'"#,
    )
    .await;
    eventually("the new owner name is seen", || async {
        let resolved = resolver
            .environments(keys(&["env_dev_ada"]))
            .await
            .expect("resolved");
        resolved["env_dev_ada"].owner == Some(EnvironmentOwner::Named("Countess".to_owned()))
    })
    .await;

    // The other organization's environment is still cached.
    let hits = resolver.stats().environments.hits;
    resolver
        .environments(keys(&["env_globex"]))
        .await
        .expect("resolved");
    assert_eq!(resolver.stats().environments.hits, hits + 1);
}
