//! GetBatch's primary query against one store: the batch by friendly id inside its environment,
//! with the errors of its items, which live beside it in the same store.

use chrono::NaiveDateTime;
use runview_core::batch::{BatchDetailRecord, BatchItemError, BatchLookup, BatchRecord};
use runview_core::{Error, Result};
use runview_pg::Statement;

use crate::batches::BatchRow;
use crate::store::PgRunStore;

/// `$1` batch id body, `$2` environment id, `$3` whether to read "runIds".
///
/// The upstream matches the friendly id, which the unique ("friendlyId") index serves: the oldest
/// batches have a friendly id that is not their internal id with a prefix, so a lookup by id
/// would miss them. The environment is checked on the one row that index finds. Item errors are
/// read by the unique ("batchTaskRunId", index) index; they are aggregated into parallel arrays,
/// each ordered by index, so that a batch and its errors are one row.
pub const FIND_BATCH_SQL: &str = r#"
SELECT
    b.id,
    b."friendlyId" AS friendly_id,
    b."runtimeEnvironmentId" AS environment_id,
    b.status::text AS status,
    b."idempotencyKey" AS idempotency_key,
    b."runCount" AS run_count,
    CASE WHEN $3 THEN b."runIds" END AS run_ids,
    b."successfulRunCount" AS successful_run_count,
    b."failedRunCount" AS failed_run_count,
    b."batchVersion" AS batch_version,
    b."createdAt" AS created_at,
    b."updatedAt" AS updated_at,
    b."completedAt" AS completed_at,
    b."processingStartedAt" AS processing_started_at,
    b."processingCompletedAt" AS processing_completed_at,
    errors.ids AS error_ids,
    errors.indexes AS error_indexes,
    errors.task_identifiers AS error_task_identifiers,
    errors.messages AS error_messages,
    errors.codes AS error_codes,
    errors.created_at AS error_created_at
FROM "BatchTaskRun" b
CROSS JOIN LATERAL (
    SELECT
        coalesce(array_agg(e.id ORDER BY e.index), '{}') AS ids,
        coalesce(array_agg(e.index ORDER BY e.index), '{}') AS indexes,
        coalesce(array_agg(e."taskIdentifier" ORDER BY e.index), '{}') AS task_identifiers,
        coalesce(array_agg(e.error ORDER BY e.index), '{}') AS messages,
        coalesce(array_agg(e."errorCode" ORDER BY e.index), '{}') AS codes,
        coalesce(array_agg(e."createdAt" ORDER BY e.index), '{}') AS created_at
    FROM "BatchTaskRunError" e
    WHERE e."batchTaskRunId" = b.id
) errors
WHERE b."friendlyId" = 'batch_' || $1 AND b."runtimeEnvironmentId" = $2
"#;

/// One row of [`FIND_BATCH_SQL`]: the columns a list shows, then the rest.
#[derive(Debug, sqlx::FromRow)]
struct BatchDetailRow {
    #[sqlx(flatten)]
    summary: BatchRow,
    idempotency_key: Option<String>,
    /// NULL on some older rows, and whenever not asked for.
    run_ids: Option<Vec<String>>,
    successful_run_count: Option<i32>,
    failed_run_count: Option<i32>,
    processing_started_at: Option<NaiveDateTime>,
    processing_completed_at: Option<NaiveDateTime>,
    error_ids: Vec<String>,
    error_indexes: Vec<i32>,
    error_task_identifiers: Vec<String>,
    error_messages: Vec<String>,
    error_codes: Vec<Option<String>>,
    error_created_at: Vec<NaiveDateTime>,
}

impl TryFrom<BatchDetailRow> for BatchDetailRecord {
    type Error = Error;

    fn try_from(row: BatchDetailRow) -> Result<Self> {
        let errors = row
            .error_ids
            .into_iter()
            .zip(row.error_indexes)
            .zip(row.error_task_identifiers)
            .zip(row.error_messages)
            .zip(row.error_codes)
            .zip(row.error_created_at)
            .map(
                |(((((id, index), task_identifier), error), error_code), created_at)| {
                    BatchItemError {
                        id,
                        index,
                        task_identifier,
                        error,
                        error_code,
                        created_at: created_at.and_utc(),
                    }
                },
            )
            .collect();
        Ok(Self {
            summary: BatchRecord::try_from(row.summary)?,
            idempotency_key: row.idempotency_key,
            processing_started_at: row.processing_started_at.map(|at| at.and_utc()),
            processing_completed_at: row.processing_completed_at.map(|at| at.and_utc()),
            run_ids: row.run_ids.unwrap_or_default(),
            successful_run_count: row.successful_run_count,
            failed_run_count: row.failed_run_count,
            errors,
        })
    }
}

const FIND_BATCH: Statement = Statement {
    name: "find_batch",
    operation: "SELECT",
    summary: "SELECT BatchTaskRun BatchTaskRunError",
};

impl PgRunStore {
    /// The batch inside its environment with its item errors, or `None` when this store does not
    /// hold it there.
    pub(crate) async fn find_batch(
        &self,
        lookup: &BatchLookup,
    ) -> Result<Option<BatchDetailRecord>> {
        let mut lease = self.lease(&FIND_BATCH).await?;
        let row = sqlx::query_as(FIND_BATCH_SQL)
            .bind(lookup.batch_id.as_str())
            .bind(lookup.environment_id.as_str())
            .bind(lookup.include_run_ids)
            .fetch_optional(lease.connection())
            .await;
        let row: Option<BatchDetailRow> = lease.finish(row)?;
        row.map(BatchDetailRecord::try_from).transpose()
    }
}
