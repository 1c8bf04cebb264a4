//! "Waitpoint" fixtures, and the connections of waitpoints to the runs they blocked.

use chrono::{DateTime, NaiveDate, Utc};
use runview_core::ids::Residency;
use sqlx::PgPool;

use super::ENV;

/// One "Waitpoint" row; [`waitpoint`] fills what a test does not care about.
pub struct NewWaitpoint<'a> {
    pub id: &'a str,
    pub environment_id: &'a str,
    /// "MANUAL" for a token.
    pub waitpoint_type: &'a str,
    pub status: &'a str,
    /// None: `approval-<id>`.
    pub idempotency_key: Option<&'a str>,
    pub user_provided_idempotency_key: bool,
    pub inactive_idempotency_key: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub output: Option<&'a str>,
    pub output_is_error: bool,
    /// None stores NULL, as the upstream does for a token created without tags.
    pub tags: Option<&'a [&'a str]>,
}

pub fn waitpoint(id: &str) -> NewWaitpoint<'_> {
    NewWaitpoint {
        id,
        environment_id: ENV,
        waitpoint_type: "MANUAL",
        status: "PENDING",
        idempotency_key: None,
        user_provided_idempotency_key: true,
        inactive_idempotency_key: Some("old-approval"),
        created_at: new_year(),
        output: None,
        output_is_error: false,
        tags: None,
    }
}

impl NewWaitpoint<'_> {
    /// By default a MANUAL waitpoint (a token) with a user-provided idempotency key, a reset one
    /// and a timeout, so that every column but the tags has something to read.
    pub async fn insert(&self, pool: &PgPool) {
        sqlx::query(
            r#"
            INSERT INTO "Waitpoint" (
                id, "friendlyId", type, status, "environmentId", "projectId", "idempotencyKey",
                "userProvidedIdempotencyKey", "idempotencyKeyExpiresAt", "inactiveIdempotencyKey",
                "completedAfter", "completedAt", output, "outputIsError", tags, "createdAt",
                "updatedAt"
            )
            VALUES (
                $1, 'waitpoint_' || $1, $7::"WaitpointType", $2::"WaitpointStatus", $3, 'proj_1',
                coalesce($8, 'approval-' || $1), $9, timestamp '2026-01-02', $10,
                timestamp '2026-01-01 01:00', CASE WHEN $2 = 'COMPLETED' THEN timestamp '2026-01-01 00:30' END,
                $4, $5, $6, $11, now()
            )
            "#,
        )
        .bind(self.id)
        .bind(self.status)
        .bind(self.environment_id)
        .bind(self.output)
        .bind(self.output_is_error)
        .bind(self.tags)
        .bind(self.waitpoint_type)
        .bind(self.idempotency_key)
        .bind(self.user_provided_idempotency_key)
        .bind(self.inactive_idempotency_key)
        .bind(self.created_at.naive_utc())
        .execute(pool)
        .await
        .expect("insert a waitpoint");
    }
}

/// Records that the waitpoint blocked the run. The row lives in the run's store, `store`, whose
/// table it is: LEGACY's "_WaitpointRunConnections" ("A" the run, "B" the waitpoint) or NEW's
/// "WaitpointRunConnection".
pub async fn connect(pool: &PgPool, store: Residency, waitpoint_id: &str, run_id: &str) {
    let sql = match store {
        Residency::Legacy => r#"INSERT INTO "_WaitpointRunConnections" ("A", "B") VALUES ($2, $1)"#,
        Residency::New => {
            r#"INSERT INTO "WaitpointRunConnection" (id, "taskRunId", "waitpointId")
               VALUES ($1 || ':' || $2, $2, $1)"#
        }
    };
    sqlx::query(sql)
        .bind(waitpoint_id)
        .bind(run_id)
        .execute(pool)
        .await
        .expect("connect a run to a waitpoint");
}

/// 2026-01-01 00:00 UTC, when fixture tokens are created unless a test says otherwise.
pub fn new_year() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .unwrap_or_default()
}

/// 20,000 tokens over a month in 40 environments, env_1 holding a tenth of them: a tenth tagged,
/// most completed, NULL tags and NULL inactive keys as the upstream leaves them.
pub async fn insert_bulk_tokens(pool: &PgPool) {
    sqlx::raw_sql(
        r#"
        INSERT INTO "Waitpoint" (
            id, "friendlyId", type, status, "environmentId", "projectId", "idempotencyKey",
            "userProvidedIdempotencyKey", "outputIsError", tags, "createdAt", "updatedAt"
        )
        SELECT 'c' || lpad(to_hex(n), 24, '0'), 'waitpoint_c' || lpad(to_hex(n), 24, '0'),
               'MANUAL', CASE WHEN n % 5 = 0 THEN 'PENDING' ELSE 'COMPLETED' END::"WaitpointStatus",
               CASE WHEN n % 10 = 0 THEN 'env_1' ELSE 'env_' || (2 + n % 39) END, 'proj_1', md5(n::text),
               n % 3 = 0, n % 50 = 0, CASE WHEN n % 10 = 0 THEN ARRAY['user:' || (n % 7)] END,
               timestamp '2026-01-01' + n * interval '2 minutes', now()
        FROM generate_series(1, 20000) n;
        ANALYZE "Waitpoint";
        "#,
    )
    .execute(pool)
    .await
    .expect("insert tokens");
}
