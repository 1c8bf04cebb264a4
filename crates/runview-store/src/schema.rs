//! What the store statements read from a run-ops database, for the boot-time schema check, and
//! the indexes runview recommends there. Keep it in step with the statements: a column read here
//! as a plain value must be decoded as one, a column that may hold NULL as an `Option`.

use runview_core::ids::Residency;
use runview_pg::ColumnType::{
    Boolean, DoublePrecision, Enum, Integer, Jsonb, Text, TextArray, Timestamp,
};
use runview_pg::columns::{nullable, required};
use runview_pg::{ColumnNeed, RecommendedIndex};

/// Both stores: runs (as GetRun and ListRuns read and filter them), V1 attempts, waitpoints,
/// batches and the errors of their items.
const EVERY_STORE: &[ColumnNeed] = &[
    required("TaskRun", "id", Text),
    required("TaskRun", "status", Enum("TaskRunStatus")),
    required("TaskRun", "engine", Enum("RunEngineVersion")),
    required("TaskRun", "taskIdentifier", Text),
    required("TaskRun", "runtimeEnvironmentId", Text),
    required("TaskRun", "projectId", Text),
    nullable("TaskRun", "idempotencyKey", Text),
    nullable("TaskRun", "idempotencyKeyOptions", Jsonb),
    required("TaskRun", "isTest", Boolean),
    required("TaskRun", "payload", Text),
    required("TaskRun", "payloadType", Text),
    nullable("TaskRun", "output", Text),
    required("TaskRun", "outputType", Text),
    nullable("TaskRun", "metadata", Text),
    required("TaskRun", "metadataType", Text),
    nullable("TaskRun", "error", Jsonb),
    required("TaskRun", "queue", Text),
    required("TaskRun", "masterQueue", Text),
    nullable("TaskRun", "region", Text),
    nullable("TaskRun", "machinePreset", Text),
    nullable("TaskRun", "taskVersion", Text),
    nullable("TaskRun", "lockedAt", Timestamp),
    nullable("TaskRun", "lockedToVersionId", Text),
    nullable("TaskRun", "scheduleId", Text),
    nullable("TaskRun", "batchId", Text),
    nullable("TaskRun", "parentTaskRunId", Text),
    nullable("TaskRun", "rootTaskRunId", Text),
    required("TaskRun", "depth", Integer),
    required("TaskRun", "resumeParentOnCompletion", Boolean),
    nullable("TaskRun", "runTags", TextArray),
    required("TaskRun", "costInCents", DoublePrecision),
    required("TaskRun", "baseCostInCents", DoublePrecision),
    required("TaskRun", "usageDurationMs", Integer),
    nullable("TaskRun", "attemptNumber", Integer),
    required("TaskRun", "createdAt", Timestamp),
    required("TaskRun", "updatedAt", Timestamp),
    nullable("TaskRun", "startedAt", Timestamp),
    nullable("TaskRun", "completedAt", Timestamp),
    nullable("TaskRun", "expiredAt", Timestamp),
    nullable("TaskRun", "delayUntil", Timestamp),
    nullable("TaskRun", "ttl", Text),
    nullable("TaskRun", "annotations", Jsonb),
    nullable("TaskRun", "bulkActionGroupIds", TextArray),
    required("TaskRunAttempt", "taskRunId", Text),
    required("Waitpoint", "id", Text),
    required("Waitpoint", "type", Enum("WaitpointType")),
    required("Waitpoint", "status", Enum("WaitpointStatus")),
    required("Waitpoint", "environmentId", Text),
    required("Waitpoint", "idempotencyKey", Text),
    required("Waitpoint", "userProvidedIdempotencyKey", Boolean),
    nullable("Waitpoint", "idempotencyKeyExpiresAt", Timestamp),
    nullable("Waitpoint", "inactiveIdempotencyKey", Text),
    nullable("Waitpoint", "completedAfter", Timestamp),
    nullable("Waitpoint", "completedAt", Timestamp),
    nullable("Waitpoint", "output", Text),
    required("Waitpoint", "outputType", Text),
    required("Waitpoint", "outputIsError", Boolean),
    nullable("Waitpoint", "tags", TextArray),
    required("Waitpoint", "createdAt", Timestamp),
    required("BatchTaskRun", "id", Text),
    required("BatchTaskRun", "runtimeEnvironmentId", Text),
    required("BatchTaskRun", "status", Enum("BatchTaskRunStatus")),
    required("BatchTaskRun", "runCount", Integer),
    required("BatchTaskRun", "batchVersion", Text),
    required("BatchTaskRun", "createdAt", Timestamp),
    required("BatchTaskRun", "updatedAt", Timestamp),
    nullable("BatchTaskRun", "completedAt", Timestamp),
    required("BatchTaskRun", "friendlyId", Text),
    nullable("BatchTaskRun", "idempotencyKey", Text),
    nullable("BatchTaskRun", "runIds", TextArray),
    nullable("BatchTaskRun", "successfulRunCount", Integer),
    nullable("BatchTaskRun", "failedRunCount", Integer),
    nullable("BatchTaskRun", "processingStartedAt", Timestamp),
    nullable("BatchTaskRun", "processingCompletedAt", Timestamp),
    required("BatchTaskRunError", "id", Text),
    required("BatchTaskRunError", "batchTaskRunId", Text),
    required("BatchTaskRunError", "index", Integer),
    required("BatchTaskRunError", "taskIdentifier", Text),
    required("BatchTaskRunError", "error", Text),
    nullable("BatchTaskRunError", "errorCode", Text),
    required("BatchTaskRunError", "createdAt", Timestamp),
];

/// LEGACY connects runs to waitpoints through the upstream ORM's implicit many-to-many table.
const LEGACY_CONNECTIONS: &[ColumnNeed] = &[
    required("_WaitpointRunConnections", "A", Text),
    required("_WaitpointRunConnections", "B", Text),
];

/// NEW has a table of its own for them.
const NEW_CONNECTIONS: &[ColumnNeed] = &[
    required("WaitpointRunConnection", "taskRunId", Text),
    required("WaitpointRunConnection", "waitpointId", Text),
];

/// Every column the statements read from `store`.
pub fn column_needs(store: Residency) -> Vec<ColumnNeed> {
    let connections = match store {
        Residency::Legacy => LEGACY_CONNECTIONS,
        Residency::New => NEW_CONNECTIONS,
    };
    [EVERY_STORE, connections].concat()
}

/// runview's own indexes (`migrations/recommended/`), the same in both stores. Optional: boot
/// warns about each one a store lacks, and serves.
pub const RECOMMENDED_INDEXES: &[RecommendedIndex] = &[
    RecommendedIndex {
        table: "TaskRun",
        key: r#""runtimeEnvironmentId", "createdAt" DESC, id COLLATE "C" DESC"#,
        serves: "ListRuns pages without a sort of runs that share a createdAt",
    },
    RecommendedIndex {
        table: "BatchTaskRun",
        key: r#""runtimeEnvironmentId", "createdAt" DESC, id COLLATE "C" DESC"#,
        serves: "ListBatches pages in index order",
    },
];
