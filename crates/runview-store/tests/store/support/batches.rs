//! "BatchTaskRun" fixtures.

use sqlx::PgPool;

use super::ENV;

/// One "BatchTaskRun" row; [`batch`] fills what a test does not care about.
pub struct NewBatch<'a> {
    pub id: &'a str,
    pub environment_id: &'a str,
    pub status: &'a str,
    pub created_second: i32,
    pub run_count: i32,
    pub completed: bool,
    pub batch_version: &'a str,
}

pub fn batch(id: &str) -> NewBatch<'_> {
    NewBatch {
        id,
        environment_id: ENV,
        status: "PROCESSING",
        created_second: 0,
        run_count: 2,
        completed: false,
        batch_version: "runengine:v2",
    }
}

impl NewBatch<'_> {
    pub async fn insert(&self, pool: &PgPool) {
        sqlx::query(
            r#"
            INSERT INTO "BatchTaskRun" (
                id, "friendlyId", "runtimeEnvironmentId", status, "runCount", "batchVersion",
                "createdAt", "updatedAt", "completedAt"
            )
            SELECT $1, 'batch_' || $1, $2, $3::"BatchTaskRunStatus", $4, $7,
                   created, created + interval '1 minute',
                   CASE WHEN $6 THEN created + interval '2 minutes' END
            FROM (SELECT timestamp '2026-01-01' + make_interval(secs => $5) AS created) AS at
            "#,
        )
        .bind(self.id)
        .bind(self.environment_id)
        .bind(self.status)
        .bind(self.run_count)
        .bind(self.created_second)
        .bind(self.completed)
        .bind(self.batch_version)
        .execute(pool)
        .await
        .expect("insert a batch");
    }
}

/// `count` batches `bulkbatch<n>` spread over five environments, one a second, statuses cycling.
pub async fn insert_bulk_batches(pool: &PgPool, count: i32) {
    sqlx::query(
        r#"
        INSERT INTO "BatchTaskRun" (
            id, "friendlyId", "runtimeEnvironmentId", status, "batchVersion", "createdAt",
            "updatedAt"
        )
        SELECT 'bulkbatch' || g, 'batch_bulkbatch' || g, 'env_' || (g % 5),
               (enum_range(NULL::"BatchTaskRunStatus"))[1 + g % 5],
               -- Batches of the old engine are a small, old minority.
               CASE WHEN g % 10 = 0 THEN 'v1' ELSE 'runengine:v2' END,
               timestamp '2026-01-01' + make_interval(secs => g), now()
        FROM generate_series(1, $1) AS g
        "#,
    )
    .bind(count)
    .execute(pool)
    .await
    .expect("insert bulk batches");
    sqlx::query(r#"ANALYZE "BatchTaskRun""#)
        .execute(pool)
        .await
        .expect("analyze");
}
