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

/// Where a store keeps the connections of waitpoints to the runs they blocked.
pub struct Connections {
    pub table: &'static str,
    pub run: &'static str,
    pub waitpoint: &'static str,
}

/// LEGACY's and NEW's connection tables, in [`Split::stores`] order.
pub const CONNECTIONS: [Connections; 2] = [
    Connections {
        table: "_WaitpointRunConnections",
        run: "A",
        waitpoint: "B",
    },
    Connections {
        table: "WaitpointRunConnection",
        run: "taskRunId",
        waitpoint: "waitpointId",
    },
];

/// A control plane and LEGACY with the full schema, NEW with the run-ops schema.
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

pub async fn table_exists(pool: &PgPool, table: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass(quote_ident($1)) IS NOT NULL")
        .bind(table)
        .fetch_one(pool)
        .await
        .expect("look the table up")
}

/// The control plane's environments (with project, organization and type), workers and schedules.
pub struct ControlPlane {
    pub environments: HashMap<String, (String, String, String)>,
    pub workers: HashMap<String, (String, String)>,
    pub schedules: HashMap<String, String>,
}

impl ControlPlane {
    pub async fn load(pool: &PgPool) -> Self {
        let environments: Vec<(String, String, String, String)> = sqlx::query_as(
            r#"SELECT id, "projectId", "organizationId", type::text FROM "RuntimeEnvironment""#,
        )
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
                .map(|(id, p, o, t)| (id, (p, o, t)))
                .collect(),
            workers: workers.into_iter().map(|(id, e, v)| (id, (e, v))).collect(),
            schedules: schedules.into_iter().collect(),
        }
    }
}

/// A digest of every row of `table`, in the order of the rows' text (not every table has ids).
pub async fn digest(pool: &PgPool, table: &str) -> String {
    let sql =
        format!("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM \"{table}\" t");
    sqlx::query_scalar(&sql)
        .fetch_one(pool)
        .await
        .expect("digest")
}
