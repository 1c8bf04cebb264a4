//! "BatchTaskRun" and "BatchTaskRunError" fixtures.

use sqlx::PgPool;

use super::ENV;

/// One "BatchTaskRun" row; [`batch`] fills what a test does not care about, leaving every
/// column GetBatch reads that may be NULL as NULL.
pub struct NewBatch<'a> {
    pub id: &'a str,
    /// None: `batch_<id>`, as every batch since the oldest ones has it.
    pub friendly_id: Option<&'a str>,
    pub environment_id: &'a str,
    pub status: &'a str,
    pub created_second: i32,
    pub run_count: i32,
    pub completed: bool,
    pub batch_version: &'a str,
    pub idempotency_key: Option<&'a str>,
    /// None stores NULL, as some older rows have it.
    pub run_ids: Option<&'a [&'a str]>,
    /// "successfulRunCount" and "failedRunCount", set once the new engine processed the batch.
    pub run_outcomes: Option<(i32, i32)>,
    /// Processing started 10 s and completed 30 s after creation.
    pub processed: bool,
}

pub fn batch(id: &str) -> NewBatch<'_> {
    NewBatch {
        id,
        friendly_id: None,
        environment_id: ENV,
        status: "PROCESSING",
        created_second: 0,
        run_count: 2,
        completed: false,
        batch_version: "runengine:v2",
        idempotency_key: None,
        run_ids: None,
        run_outcomes: None,
        processed: false,
    }
}

impl NewBatch<'_> {
    pub async fn insert(&self, pool: &PgPool) {
        sqlx::query(
            r#"
            INSERT INTO "BatchTaskRun" (
                id, "friendlyId", "runtimeEnvironmentId", status, "runCount", "batchVersion",
                "createdAt", "updatedAt", "completedAt", "idempotencyKey", "runIds",
                "successfulRunCount", "failedRunCount", "processingStartedAt",
                "processingCompletedAt"
            )
            SELECT $1, coalesce($8, 'batch_' || $1), $2, $3::"BatchTaskRunStatus", $4, $7,
                   created, created + interval '1 minute',
                   CASE WHEN $6 THEN created + interval '2 minutes' END, $9, $10, $11, $12,
                   CASE WHEN $13 THEN created + interval '10 seconds' END,
                   CASE WHEN $13 THEN created + interval '30 seconds' END
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
        .bind(self.friendly_id)
        .bind(self.idempotency_key)
        .bind(self.run_ids)
        .bind(self.run_outcomes.map(|(successful, _)| successful))
        .bind(self.run_outcomes.map(|(_, failed)| failed))
        .bind(self.processed)
        .execute(pool)
        .await
        .expect("insert a batch");
    }
}

/// One "BatchTaskRunError" row; [`batch_error`] fills what a test does not care about, with
/// NULL payload, options and error code.
pub struct NewBatchError<'a> {
    pub batch_id: &'a str,
    pub index: i32,
    pub error: &'a str,
    pub error_code: Option<&'a str>,
}

pub fn batch_error(batch_id: &str, index: i32) -> NewBatchError<'_> {
    NewBatchError {
        batch_id,
        index,
        error: "Payload too large",
        error_code: None,
    }
}

impl NewBatchError<'_> {
    /// Its id is `<batch>:<index>`; it was created a minute after the epoch plus its index.
    pub async fn insert(&self, pool: &PgPool) {
        sqlx::query(
            r#"
            INSERT INTO "BatchTaskRunError" (
                id, "batchTaskRunId", index, "taskIdentifier", error, "errorCode", "createdAt"
            )
            VALUES ($1 || ':' || $2, $1, $2, 'import-csv', $3, $4,
                    timestamp '2026-01-01 00:01:00' + make_interval(secs => $2))
            "#,
        )
        .bind(self.batch_id)
        .bind(self.index)
        .bind(self.error)
        .bind(self.error_code)
        .execute(pool)
        .await
        .expect("insert a batch error");
    }
}

/// `count` batches `bulkbatch<n>` spread over five environments, one a second, statuses cycling.
/// Every tenth batch has ten item errors, as a batch that hit a limit does; the others none.
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
    sqlx::query(
        r#"
        INSERT INTO "BatchTaskRunError" (id, "batchTaskRunId", index, "taskIdentifier", error)
        SELECT 'bulkbatch' || g || ':' || i, 'bulkbatch' || g, i, 'import-csv', 'Queue is full'
        FROM generate_series(1, $1) AS g, generate_series(0, 9) AS i
        WHERE g % 10 = 3
        "#,
    )
    .bind(count)
    .execute(pool)
    .await
    .expect("insert bulk batch errors");
    sqlx::query(r#"ANALYZE "BatchTaskRun", "BatchTaskRunError""#)
        .execute(pool)
        .await
        .expect("analyze");
}
