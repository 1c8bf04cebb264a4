//! Databases to seed into, and queries that inspect what was seeded.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use runview_localdb::Schema;
use runview_localdb::testing::TestDatabase;
use runview_seed::{SeedPlan, SeedReport, SeedTargets, seed};
use sqlx::PgPool;

/// Small enough to seed in about a second, large enough for every showcase row.
pub fn small_plan() -> SeedPlan {
    let now = Utc.with_ymd_and_hms(2026, 11, 5, 12, 0, 0).single();
    SeedPlan {
        runs: 3_000,
        ..SeedPlan::demo(now.expect("a valid date"))
    }
}

pub struct Split {
    pub control_plane: TestDatabase,
    pub legacy: TestDatabase,
    pub new: TestDatabase,
}

impl Split {
    pub async fn create() -> Self {
        Self {
            control_plane: TestDatabase::create(&[Schema::Full]).await,
            legacy: TestDatabase::create(&[Schema::Full]).await,
            new: TestDatabase::create(&[Schema::RunOps]).await,
        }
    }

    pub async fn seed(&self, plan: &SeedPlan) -> SeedReport {
        let targets = SeedTargets {
            control_plane: self.control_plane.pool(),
            legacy: self.legacy.pool(),
            new: self.new.pool(),
        };
        seed(targets, plan).await.expect("seeding succeeds")
    }

    pub fn stores(&self) -> [&PgPool; 2] {
        [self.legacy.pool(), self.new.pool()]
    }
}

pub async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub async fn count(pool: &PgPool, table: &str) -> u64 {
    scalar(pool, &format!("SELECT count(*) FROM \"{table}\"")).await as u64
}

/// The control plane's environments (with project and organization), workers and schedules.
pub struct ControlPlane {
    pub environments: HashMap<String, (String, String)>,
    pub workers: HashMap<String, (String, String)>,
    pub schedules: HashMap<String, String>,
}

impl ControlPlane {
    pub async fn load(pool: &PgPool) -> Self {
        let environments: Vec<(String, String, String)> =
            sqlx::query_as(r#"SELECT id, "projectId", "organizationId" FROM "RuntimeEnvironment""#)
                .fetch_all(pool)
                .await
                .expect("environments");
        let workers: Vec<(String, String, String)> =
            sqlx::query_as(r#"SELECT id, "runtimeEnvironmentId", version FROM "BackgroundWorker""#)
                .fetch_all(pool)
                .await
                .expect("workers");
        let schedules: Vec<(String, String)> =
            sqlx::query_as(r#"SELECT id, "projectId" FROM "TaskSchedule""#)
                .fetch_all(pool)
                .await
                .expect("schedules");
        Self {
            environments: environments
                .into_iter()
                .map(|(id, p, o)| (id, (p, o)))
                .collect(),
            workers: workers.into_iter().map(|(id, e, v)| (id, (e, v))).collect(),
            schedules: schedules.into_iter().collect(),
        }
    }
}

/// A digest of every row of `table`, in id order.
pub async fn digest(pool: &PgPool, table: &str) -> String {
    let sql = format!("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM \"{table}\" t");
    sqlx::query_scalar(&sql)
        .fetch_one(pool)
        .await
        .expect("digest")
}
