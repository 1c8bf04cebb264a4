//! One organization and project with an environment of every shape, a worker and two schedules,
//! and a second organization with one environment.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runview_controlplane::{ControlPlaneResolver, ResolverSettings};
use runview_localdb::Schema;
use runview_localdb::testing::TestDatabase;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio_util::sync::{CancellationToken, DropGuard};

const FIXTURE: &str = r#"
INSERT INTO "User" ("id", "email", "authenticationMethod", "name", "displayName", "updatedAt") VALUES
    ('user_ada', 'ada@example.com', 'GITHUB', 'Ada Lovelace', 'Ada L', now()),
    ('user_grace', 'grace@example.com', 'MAGIC_LINK', 'Grace Hopper', '', now()),
    ('user_nameless', 'nameless@example.com', 'MAGIC_LINK', '', NULL, now());

INSERT INTO "OrgMember" ("id", "organizationId", "userId", "updatedAt") VALUES
    ('member_ada', 'org_1', 'user_ada', now()),
    ('member_grace', 'org_1', 'user_grace', now()),
    ('member_nameless', 'org_1', 'user_nameless', now());

INSERT INTO "Organization" ("id", "slug", "title", "updatedAt") VALUES
    ('org_1', 'acme', 'Acme', now()),
    ('org_2', 'globex', 'Globex', now());

INSERT INTO "Project" ("id", "slug", "name", "externalRef", "organizationId", "updatedAt") VALUES
    ('project_1', 'rockets', 'Rockets', 'proj_abcdefghijklmnopqrst', 'org_1', now()),
    ('project_2', 'drills', 'Drills', 'proj_globexglobexglobexgl', 'org_2', now());

INSERT INTO "RuntimeEnvironment"
    ("id", "slug", "type", "apiKey", "pkApiKey", "shortcode", "projectId", "organizationId",
     "parentEnvironmentId", "branchName", "orgMemberId", "updatedAt")
VALUES
    ('env_prod', 'prod', 'PRODUCTION', 'tr_prod_root', 'pk_prod_root', 'prod-1', 'project_1', 'org_1', NULL, NULL, NULL, now()),
    ('env_staging', 'staging', 'STAGING', 'tr_stg_root', 'pk_stg_root', 'stg-1', 'project_1', 'org_1', NULL, NULL, 'member_ada', now()),
    ('env_preview', 'preview', 'PREVIEW', 'tr_preview_root', 'pk_preview_root', 'preview-1', 'project_1', 'org_1', NULL, NULL, NULL, now()),
    ('env_branch', 'preview-feature', 'PREVIEW', 'tr_preview_branch', 'pk_preview_branch', 'branch-1', 'project_1', 'org_1', 'env_preview', 'feature-x', NULL, now()),
    ('env_dev_ada', 'dev', 'DEVELOPMENT', 'tr_dev_ada', 'pk_dev_ada', 'dev-ada', 'project_1', 'org_1', NULL, NULL, 'member_ada', now()),
    ('env_dev_grace', 'dev', 'DEVELOPMENT', 'tr_dev_grace', 'pk_dev_grace', 'dev-grace', 'project_1', 'org_1', NULL, NULL, 'member_grace', now()),
    ('env_dev_nameless', 'dev', 'DEVELOPMENT', 'tr_dev_nameless', 'pk_dev_nameless', 'dev-nameless', 'project_1', 'org_1', NULL, NULL, 'member_nameless', now()),
    ('env_dev_gone', 'dev', 'DEVELOPMENT', 'tr_dev_gone', 'pk_dev_gone', 'dev-gone', 'project_1', 'org_1', NULL, NULL, 'member_gone', now()),
    ('env_globex', 'prod', 'PRODUCTION', 'tr_globex', 'pk_globex', 'prod-2', 'project_2', 'org_2', NULL, NULL, NULL, now());

INSERT INTO "BackgroundWorker"
    ("id", "friendlyId", "version", "metadata", "contentHash", "runtimeEnvironmentId", "projectId",
     "updatedAt")
VALUES
    ('worker_1', 'worker_friendly_1', '20250101.1', '{"tasks":[]}', 'hash_1', 'env_prod', 'project_1', now());

INSERT INTO "TaskSchedule"
    ("id", "friendlyId", "type", "taskIdentifier", "deduplicationKey",
     "userProvidedDeduplicationKey", "generatorExpression", "generatorDescription", "externalId",
     "projectId", "updatedAt")
VALUES
    ('schedule_user', 'sched_user', 'IMPERATIVE', 'nightly', 'my-dedup-key', true, '0 3 * * *',
     'At 03:00 AM', 'customer-42', 'project_1', now()),
    ('schedule_generated', 'sched_generated', 'DECLARATIVE', 'hourly', 'generated-key', false,
     '0 * * * *', 'Every hour', NULL, 'project_1', now());
"#;

/// A seeded database and a resolver over it; the database lives as long as the returned value.
pub struct Seeded {
    pub resolver: ControlPlaneResolver,
    pub database: TestDatabase,
}

pub async fn seeded(settings: ResolverSettings) -> Seeded {
    let database = TestDatabase::create(&[Schema::Full]).await;
    sqlx::raw_sql(FIXTURE)
        .execute(database.pool())
        .await
        .expect("the fixture applies");
    Seeded {
        resolver: ControlPlaneResolver::new(database.pool().clone(), settings),
        database,
    }
}

pub async fn seeded_with_defaults() -> Seeded {
    seeded(ResolverSettings::default()).await
}

/// Settings whose entries expire quickly enough for a test to wait them out.
pub fn short_ttl() -> ResolverSettings {
    ResolverSettings {
        ttl: Duration::from_millis(200),
        ..ResolverSettings::default()
    }
}

pub fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|key| (*key).to_owned()).collect()
}

/// A resolver listening for invalidations on `database`, as one replica of runview runs it. The
/// listener stops when the replica is dropped.
pub struct Replica {
    pub resolver: Arc<ControlPlaneResolver>,
    _listening: DropGuard,
}

impl Replica {
    pub async fn start(database: &TestDatabase) -> Replica {
        let resolver = Arc::new(ControlPlaneResolver::new(
            database.pool().clone(),
            ResolverSettings::default(),
        ));
        let shutdown = CancellationToken::new();
        resolver.spawn_invalidation_listener(
            SecretString::from(database.url().to_owned()),
            shutdown.clone(),
        );
        Replica {
            resolver,
            _listening: shutdown.drop_guard(),
        }
    }
}

/// The sessions of `database` that listen for invalidations.
pub async fn listening_sessions(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database()
           AND application_name = 'runview-invalidation-listener'
           AND query ILIKE 'LISTEN%'",
    )
    .fetch_one(pool)
    .await
    .expect("pg_stat_activity is readable")
}

/// Waits until `count` listeners are in place, so that no notice published next is missed.
pub async fn wait_for_listeners(pool: &PgPool, count: i64) {
    eventually("the listeners are in place", || async {
        listening_sessions(pool).await == count
    })
    .await;
}

/// Polls `condition` until it holds; panics past a deadline.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
