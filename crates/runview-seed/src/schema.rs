//! The columns the seeder fills, exactly as the reference schemas name them (`migrations/full`,
//! `migrations/runops`): every column runview reads and every column without a default, written
//! explicitly (defaults included) so that a seeded row never depends on what a schema happens to
//! default. The other columns are left as the upstream leaves them on most rows: NULL, or their
//! default.

use crate::copy::Table;

pub(crate) const USER: Table = Table {
    name: "User",
    columns: &[
        "id",
        "email",
        "authenticationMethod",
        "name",
        "displayName",
        "createdAt",
        "updatedAt",
    ],
};

pub(crate) const ORGANIZATION: Table = Table {
    name: "Organization",
    columns: &["id", "slug", "title", "createdAt", "updatedAt", "deletedAt"],
};

pub(crate) const ORG_MEMBER: Table = Table {
    name: "OrgMember",
    columns: &[
        "id",
        "organizationId",
        "userId",
        "role",
        "createdAt",
        "updatedAt",
    ],
};

pub(crate) const PROJECT: Table = Table {
    name: "Project",
    columns: &[
        "id",
        "slug",
        "name",
        "externalRef",
        "organizationId",
        "createdAt",
        "updatedAt",
        "deletedAt",
    ],
};

pub(crate) const RUNTIME_ENVIRONMENT: Table = Table {
    name: "RuntimeEnvironment",
    columns: &[
        "id",
        "slug",
        "type",
        "apiKey",
        "pkApiKey",
        "shortcode",
        "projectId",
        "organizationId",
        "parentEnvironmentId",
        "branchName",
        "archivedAt",
        "paused",
        "orgMemberId",
        "createdAt",
        "updatedAt",
    ],
};

pub(crate) const BACKGROUND_WORKER: Table = Table {
    name: "BackgroundWorker",
    columns: &[
        "id",
        "friendlyId",
        "version",
        "metadata",
        "contentHash",
        "sdkVersion",
        "cliVersion",
        "runtimeEnvironmentId",
        "projectId",
        "createdAt",
        "updatedAt",
    ],
};

pub(crate) const TASK_SCHEDULE: Table = Table {
    name: "TaskSchedule",
    columns: &[
        "id",
        "friendlyId",
        "type",
        "taskIdentifier",
        "deduplicationKey",
        "userProvidedDeduplicationKey",
        "generatorExpression",
        "generatorDescription",
        "timezone",
        "externalId",
        "projectId",
        "active",
        "createdAt",
        "updatedAt",
    ],
};

pub(crate) const TASK_RUN: Table = Table {
    name: "TaskRun",
    columns: &[
        "id",
        "friendlyId",
        "status",
        "taskIdentifier",
        "runtimeEnvironmentId",
        "projectId",
        "organizationId",
        "environmentType",
        "idempotencyKey",
        "idempotencyKeyOptions",
        "isTest",
        "payload",
        "payloadType",
        "output",
        "outputType",
        "metadata",
        "metadataType",
        "error",
        "traceId",
        "spanId",
        "queue",
        "masterQueue",
        "region",
        "machinePreset",
        "taskVersion",
        "lockedAt",
        "lockedToVersionId",
        "scheduleId",
        "batchId",
        "parentTaskRunId",
        "rootTaskRunId",
        "depth",
        "resumeParentOnCompletion",
        "runTags",
        "costInCents",
        "baseCostInCents",
        "usageDurationMs",
        "attemptNumber",
        "engine",
        "createdAt",
        "updatedAt",
        "startedAt",
        "completedAt",
        "expiredAt",
        "delayUntil",
        "ttl",
        "annotations",
        "bulkActionGroupIds",
    ],
};

pub(crate) const BATCH_TASK_RUN: Table = Table {
    name: "BatchTaskRun",
    columns: &[
        "id",
        "friendlyId",
        "runtimeEnvironmentId",
        "status",
        "runCount",
        "batchVersion",
        "idempotencyKey",
        "createdAt",
        "updatedAt",
        "completedAt",
        "successfulRunCount",
        "failedRunCount",
        "runIds",
        "processingStartedAt",
        "processingCompletedAt",
    ],
};

/// The items of a batch that could not be triggered.
pub(crate) const BATCH_TASK_RUN_ERROR: Table = Table {
    name: "BatchTaskRunError",
    columns: &[
        "id",
        "batchTaskRunId",
        "index",
        "taskIdentifier",
        "payload",
        "options",
        "error",
        "errorCode",
        "createdAt",
    ],
};

/// The attempts of an engine V1 run (engine V2 runs count them in "attemptNumber" instead).
pub(crate) const TASK_RUN_ATTEMPT: Table = Table {
    name: "TaskRunAttempt",
    columns: &[
        "id",
        "number",
        "friendlyId",
        "taskRunId",
        "backgroundWorkerId",
        "backgroundWorkerTaskId",
        "runtimeEnvironmentId",
        "queueId",
        "status",
        "createdAt",
        "updatedAt",
        "startedAt",
        "completedAt",
        "usageDurationMs",
        "error",
        "output",
        "outputType",
    ],
};

pub(crate) const WAITPOINT: Table = Table {
    name: "Waitpoint",
    columns: &[
        "id",
        "friendlyId",
        "type",
        "status",
        "environmentId",
        "projectId",
        "idempotencyKey",
        "userProvidedIdempotencyKey",
        "idempotencyKeyExpiresAt",
        "inactiveIdempotencyKey",
        "completedByTaskRunId",
        "completedByBatchId",
        "completedAfter",
        "completedAt",
        "output",
        "outputType",
        "outputIsError",
        "tags",
        "createdAt",
        "updatedAt",
    ],
};

/// NEW's connections of waitpoints to the runs they blocked.
pub(crate) const WAITPOINT_RUN_CONNECTION: Table = Table {
    name: "WaitpointRunConnection",
    columns: &["id", "taskRunId", "waitpointId"],
};

/// LEGACY's connections: the ORM's implicit many-to-many table, "A" the run and "B" the waitpoint.
pub(crate) const WAITPOINT_RUN_CONNECTIONS_IMPLICIT: Table = Table {
    name: "_WaitpointRunConnections",
    columns: &["A", "B"],
};

/// Refreshed after loading so the planner sees the seeded volumes at once.
pub(crate) const CONTROL_PLANE_TABLES: [&Table; 7] = [
    &USER,
    &ORGANIZATION,
    &ORG_MEMBER,
    &PROJECT,
    &RUNTIME_ENVIRONMENT,
    &BACKGROUND_WORKER,
    &TASK_SCHEDULE,
];
