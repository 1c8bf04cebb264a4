//! The one place a "TaskRun" row becomes a [`RunRecord`]. Queries select these columns under these
//! aliases (snake_case, so the SQL states every mapping from the upstream's camelCase names).

/// The columns of [`RunRow`] that every run query reads alike, from "TaskRun" aliased `t`. Packet
/// bodies and the error are each query's own choice: they are read only where they are shown.
macro_rules! run_columns {
    () => {
        r#"
    t.id,
    t.status::text AS status,
    t.engine::text AS engine,
    t."taskIdentifier" AS task_identifier,
    t."runtimeEnvironmentId" AS environment_id,
    t."projectId" AS project_id,
    t."idempotencyKey" AS idempotency_key,
    CASE WHEN jsonb_typeof(t."idempotencyKeyOptions" -> 'key') = 'string'
          AND t."idempotencyKeyOptions" ->> 'scope' IN ('run', 'attempt', 'global')
        THEN t."idempotencyKeyOptions" ->> 'key'
    END AS user_idempotency_key,
    t."isTest" AS is_test,
    t."payloadType" AS payload_type,
    t."outputType" AS output_type,
    t.metadata,
    t."metadataType" AS metadata_type,
    t."masterQueue" AS worker_queue,
    t.region,
    t."taskVersion" AS task_version,
    t."lockedAt" AS locked_at,
    t."lockedToVersionId" AS locked_to_version_id,
    t."scheduleId" AS schedule_id,
    t."batchId" AS batch_id,
    t."parentTaskRunId" AS parent_run_id,
    t."rootTaskRunId" AS root_run_id,
    t.depth,
    t."resumeParentOnCompletion" AS resume_parent_on_completion,
    t."runTags" AS tags,
    t."costInCents" AS cost_in_cents,
    t."baseCostInCents" AS base_cost_in_cents,
    t."usageDurationMs" AS usage_duration_ms,
    t."attemptNumber" AS attempt_number,
    t."createdAt" AS created_at,
    t."updatedAt" AS updated_at,
    t."startedAt" AS started_at,
    t."completedAt" AS completed_at,
    t."expiredAt" AS expired_at,
    t."delayUntil" AS delay_until,
    t.ttl,
    t.annotations ->> 'taskKind' AS task_kind"#
    };
}
pub(crate) use run_columns;

use chrono::NaiveDateTime;
use runview_core::Error;
use runview_core::ids::{BatchId, RunId};
use runview_core::packet::Packet;
use runview_core::run::{RunEngine, RunRecord};
use runview_core::status::TaskRunStatus;

/// Scalar columns of one "TaskRun" row. Packet bodies and the error are nullable here even where
/// the column is not, because a query leaves out what its caller does not show: as a NULL, or by
/// not selecting the column at all (`default`).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RunRow {
    id: String,
    /// `status::text`: the label keeps the decoding independent of the enum's type oid.
    status: String,
    /// `engine::text`, likewise.
    engine: String,
    task_identifier: String,
    environment_id: String,
    project_id: String,
    idempotency_key: Option<String>,
    user_idempotency_key: Option<String>,
    is_test: bool,
    #[sqlx(default)]
    payload: Option<String>,
    payload_type: String,
    #[sqlx(default)]
    output: Option<String>,
    output_type: String,
    metadata: Option<String>,
    metadata_type: String,
    #[sqlx(default)]
    error: Option<sqlx::types::JsonValue>,
    worker_queue: String,
    region: Option<String>,
    task_version: Option<String>,
    locked_at: Option<NaiveDateTime>,
    locked_to_version_id: Option<String>,
    schedule_id: Option<String>,
    batch_id: Option<String>,
    parent_run_id: Option<String>,
    root_run_id: Option<String>,
    depth: i32,
    resume_parent_on_completion: bool,
    /// NULL for an untagged run, as most are.
    tags: Option<Vec<String>>,
    cost_in_cents: f64,
    base_cost_in_cents: f64,
    usage_duration_ms: i32,
    attempt_number: Option<i32>,
    #[sqlx(default)]
    attempt_rows: Option<i32>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    started_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    expired_at: Option<NaiveDateTime>,
    delay_until: Option<NaiveDateTime>,
    ttl: Option<String>,
    task_kind: Option<String>,
}

impl TryFrom<RunRow> for RunRecord {
    type Error = Error;

    fn try_from(row: RunRow) -> Result<Self, Error> {
        let status = TaskRunStatus::from_label(&row.status)
            .ok_or_else(|| Error::Internal(format!("unknown run status `{}`", row.status)))?;
        let engine = RunEngine::from_label(&row.engine)
            .ok_or_else(|| Error::Internal(format!("unknown run engine `{}`", row.engine)))?;
        // The upstream writes `timestamp(3) without time zone` in UTC.
        let utc = |at: NaiveDateTime| at.and_utc();
        let packet =
            |data: Option<String>, data_type: String| data.map(|data| Packet { data, data_type });
        Ok(Self {
            id: RunId::from_stored(row.id),
            status,
            engine,
            task_identifier: row.task_identifier,
            environment_id: row.environment_id,
            project_id: row.project_id,
            idempotency_key: row.idempotency_key,
            user_idempotency_key: row.user_idempotency_key,
            is_test: row.is_test,
            payload: packet(row.payload, row.payload_type),
            output: packet(row.output, row.output_type),
            metadata: packet(row.metadata, row.metadata_type),
            error: row.error,
            worker_queue: row.worker_queue,
            region: row.region,
            task_version: row.task_version,
            locked_at: row.locked_at.map(utc),
            locked_to_version_id: row.locked_to_version_id,
            schedule_id: row.schedule_id,
            batch_id: row.batch_id.map(BatchId::from_stored),
            parent_run_id: row.parent_run_id.map(RunId::from_stored),
            root_run_id: row.root_run_id.map(RunId::from_stored),
            depth: row.depth,
            resume_parent_on_completion: row.resume_parent_on_completion,
            tags: row.tags.unwrap_or_default(),
            cost_in_cents: row.cost_in_cents,
            base_cost_in_cents: row.base_cost_in_cents,
            usage_duration_ms: row.usage_duration_ms,
            attempt_number: row.attempt_number,
            attempt_rows: row.attempt_rows,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            started_at: row.started_at.map(utc),
            completed_at: row.completed_at.map(utc),
            expired_at: row.expired_at.map(utc),
            delay_until: row.delay_until.map(utc),
            ttl: row.ttl,
            task_kind: row.task_kind,
        })
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::DateTime;

    use super::RunRow;

    /// A minimal row as a query would return it, for tests that need no database.
    pub(crate) fn row(id: &str) -> RunRow {
        let created = DateTime::from_timestamp(1_790_000_000, 0)
            .unwrap_or_default()
            .naive_utc();
        RunRow {
            id: id.to_owned(),
            status: "EXECUTING".to_owned(),
            engine: "V2".to_owned(),
            task_identifier: "email/send".to_owned(),
            environment_id: "env_prod".to_owned(),
            project_id: "proj_1".to_owned(),
            idempotency_key: None,
            user_idempotency_key: None,
            is_test: false,
            payload: None,
            payload_type: "application/json".to_owned(),
            output: None,
            output_type: "application/json".to_owned(),
            metadata: None,
            metadata_type: "application/json".to_owned(),
            error: None,
            worker_queue: "main".to_owned(),
            region: None,
            task_version: None,
            locked_at: None,
            locked_to_version_id: None,
            schedule_id: None,
            batch_id: None,
            parent_run_id: None,
            root_run_id: None,
            depth: 0,
            resume_parent_on_completion: false,
            tags: None,
            cost_in_cents: 0.0,
            base_cost_in_cents: 0.0,
            usage_duration_ms: 0,
            attempt_number: None,
            attempt_rows: None,
            created_at: created,
            updated_at: created,
            started_at: None,
            completed_at: None,
            expired_at: None,
            delay_until: None,
            ttl: None,
            task_kind: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::row;
    use super::*;

    #[test]
    fn an_unknown_status_label_is_an_internal_error_not_a_panic() {
        let mut unknown = row("clxyz0123456789abcdefghij");
        unknown.status = "HIBERNATING".to_owned();
        let error = RunRecord::try_from(unknown).err();
        assert!(matches!(error, Some(Error::Internal(message)) if message.contains("HIBERNATING")));
    }

    #[test]
    fn packets_exist_only_with_a_body_and_keep_their_type() {
        let mut stored = row("clxyz0123456789abcdefghij");
        stored.metadata = Some("meta/1.json".to_owned());
        stored.metadata_type = "application/store".to_owned();
        let record = RunRecord::try_from(stored).ok();
        let record = record.as_ref();
        assert_eq!(record.and_then(|r| r.payload.as_ref()), None);
        assert_eq!(
            record
                .and_then(|r| r.metadata.as_ref())
                .map(|p| p.data_type.as_str()),
            Some("application/store")
        );
    }

    #[test]
    fn an_unknown_engine_is_an_internal_error_not_a_panic() {
        let mut unknown = row("clxyz0123456789abcdefghij");
        unknown.engine = "V3".to_owned();
        let error = RunRecord::try_from(unknown).err();
        assert!(matches!(error, Some(Error::Internal(message)) if message.contains("V3")));
    }
}
