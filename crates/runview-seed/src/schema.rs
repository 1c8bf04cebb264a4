//! The columns the seeder fills, exactly as the reference schemas name them
//! (`migrations/controlplane`, `migrations/runops`). Every column is written explicitly, defaults
//! included, so that a seeded row never depends on what a schema happens to default.

use crate::copy::Table;

pub(crate) const USER: Table = Table {
    name: "User",
    columns: &["id", "name", "displayName", "createdAt", "updatedAt"],
};

pub(crate) const ORGANIZATION: Table = Table {
    name: "Organization",
    columns: &["id", "slug", "title", "createdAt", "updatedAt", "deletedAt"],
};

pub(crate) const ORG_MEMBER: Table = Table {
    name: "OrgMember",
    columns: &["id", "userId", "createdAt", "updatedAt"],
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

pub(crate) const WAITPOINT_RUN_CONNECTION: Table = Table {
    name: "WaitpointRunConnection",
    columns: &["id", "taskRunId", "waitpointId"],
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
