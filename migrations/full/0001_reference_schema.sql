-- The upstream's full schema, as far as runview reads it: the control-plane tables and the LEGACY
-- run-ops tables. In production the control plane and LEGACY are one database holding all of them;
-- in passthrough mode that database is the only one. Every table has exactly the columns the
-- upstream's own migrations leave it with (names, types, nullability, defaults), named and typed as
-- the upstream ORM generates them, so runview can be pointed at a real deployment unchanged.
-- migrations/expected_columns.tsv and migrations/expected_indexes.tsv record what these tables must
-- look like, and crates/runview-localdb/tests/reference_schemas.rs checks them.
--
-- Many columns runview reads are nullable upstream ("runTags", "bulkActionGroupIds",
-- "Waitpoint".tags, "organizationId", ...): readers must take NULL there.

-- CreateEnum
CREATE TYPE "AuthenticationMethod" AS ENUM ('GITHUB', 'MAGIC_LINK', 'GOOGLE', 'SSO');

-- CreateEnum
CREATE TYPE "OrgMemberRole" AS ENUM ('ADMIN', 'MEMBER');

-- CreateEnum
CREATE TYPE "RuntimeEnvironmentType" AS ENUM ('PRODUCTION', 'STAGING', 'DEVELOPMENT', 'PREVIEW');

-- CreateEnum
CREATE TYPE "EnvironmentPauseSource" AS ENUM ('BILLING_LIMIT');

-- CreateEnum
CREATE TYPE "ProjectVersion" AS ENUM ('V2', 'V3');

-- CreateEnum
CREATE TYPE "ScheduleType" AS ENUM ('DECLARATIVE', 'IMPERATIVE');

-- CreateEnum
CREATE TYPE "ScheduleGeneratorType" AS ENUM ('CRON');

-- CreateEnum
CREATE TYPE "RunEngineVersion" AS ENUM ('V1', 'V2');

-- CreateEnum
CREATE TYPE "TaskRunStatus" AS ENUM (
    'DELAYED',
    'PENDING',
    'PENDING_VERSION',
    'WAITING_FOR_DEPLOY',
    'DEQUEUED',
    'EXECUTING',
    'WAITING_TO_RESUME',
    'RETRYING_AFTER_FAILURE',
    'PAUSED',
    'CANCELED',
    'INTERRUPTED',
    'COMPLETED_SUCCESSFULLY',
    'COMPLETED_WITH_ERRORS',
    'SYSTEM_FAILURE',
    'CRASHED',
    'EXPIRED',
    'TIMED_OUT'
);

-- CreateEnum
CREATE TYPE "TaskRunAttemptStatus" AS ENUM ('PENDING', 'EXECUTING', 'PAUSED', 'FAILED', 'CANCELED', 'COMPLETED');

-- CreateEnum
CREATE TYPE "WaitpointType" AS ENUM ('RUN', 'DATETIME', 'MANUAL', 'BATCH');

-- CreateEnum
CREATE TYPE "WaitpointStatus" AS ENUM ('PENDING', 'COMPLETED');

-- CreateEnum
CREATE TYPE "BatchTaskRunStatus" AS ENUM ('PENDING', 'PROCESSING', 'COMPLETED', 'PARTIAL_FAILED', 'ABORTED');

-- ---------------------------------------------------------------------------------------------
-- Control plane: the organizations, projects, environments, members, users, workers and
-- schedules runview resolves (domain.md).
-- ---------------------------------------------------------------------------------------------

-- CreateTable
CREATE TABLE "Organization" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "maximumExecutionTimePerRunInMs" INTEGER NOT NULL DEFAULT 900000,
    "companySize" TEXT,
    "runsEnabled" BOOLEAN NOT NULL DEFAULT true,
    "deletedAt" TIMESTAMP(3),
    "v3Enabled" BOOLEAN NOT NULL DEFAULT false,
    "maximumConcurrencyLimit" INTEGER NOT NULL DEFAULT 10,
    "v2Enabled" BOOLEAN NOT NULL DEFAULT false,
    "hasRequestedV3" BOOLEAN NOT NULL DEFAULT false,
    "v2MarqsEnabled" BOOLEAN NOT NULL DEFAULT false,
    "maximumSchedulesLimit" INTEGER NOT NULL DEFAULT 5,
    "apiRateLimiterConfig" JSONB,
    "realtimeRateLimiterConfig" JSONB,
    "maximumDeployedQueueSize" INTEGER,
    "maximumDevQueueSize" INTEGER,
    "avatar" JSONB,
    "featureFlags" JSONB,
    "maximumProjectCount" INTEGER NOT NULL DEFAULT 25,
    "batchQueueConcurrencyConfig" JSONB,
    "batchRateLimitConfig" JSONB,
    "onboardingData" JSONB,
    "maxSessionDuration" INTEGER,
    "streamBasinName" TEXT,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Project" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "slug" TEXT NOT NULL,
    "externalRef" TEXT NOT NULL,
    "deletedAt" TIMESTAMP(3),
    "version" "ProjectVersion" NOT NULL DEFAULT 'V2',
    "builderProjectId" TEXT,
    "defaultWorkerGroupId" TEXT,
    "engine" "RunEngineVersion" NOT NULL DEFAULT 'V1',
    "allowedMasterQueues" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "buildSettings" JSONB,
    "onboardingData" JSONB,
    "initializedAt" TIMESTAMP(3),
    "defaultRuntime" TEXT,

    CONSTRAINT "Project_pkey" PRIMARY KEY ("id")
);

-- CreateTable
-- "orgMemberId" deliberately has no foreign key: a development environment may outlive its owner,
-- and runview must show such an environment without an owner name rather than fail.
CREATE TABLE "RuntimeEnvironment" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "apiKey" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "orgMemberId" TEXT,
    "projectId" TEXT NOT NULL,
    "type" "RuntimeEnvironmentType" NOT NULL DEFAULT 'DEVELOPMENT',
    "autoEnableInternalSources" BOOLEAN NOT NULL DEFAULT true,
    "pkApiKey" TEXT NOT NULL,
    "shortcode" TEXT NOT NULL,
    "tunnelId" TEXT,
    "maximumConcurrencyLimit" INTEGER NOT NULL DEFAULT 5,
    "currentSessionId" TEXT,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "archivedAt" TIMESTAMP(3),
    "branchName" TEXT,
    "git" JSONB,
    "parentEnvironmentId" TEXT,
    "isBranchableEnvironment" BOOLEAN NOT NULL DEFAULT false,
    "builtInEnvironmentVariableOverrides" JSONB,
    "concurrencyLimitBurstFactor" DECIMAL(4,2) NOT NULL DEFAULT 2.00,
    "pauseSource" "EnvironmentPauseSource",

    CONSTRAINT "RuntimeEnvironment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OrgMember" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "role" "OrgMemberRole" NOT NULL DEFAULT 'MEMBER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OrgMember_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "admin" BOOLEAN NOT NULL DEFAULT false,
    "authenticationExtraParams" JSONB,
    "authenticationMethod" "AuthenticationMethod" NOT NULL,
    "authenticationProfile" JSONB,
    "avatarUrl" TEXT,
    "displayName" TEXT,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "isOnCloudWaitlist" BOOLEAN NOT NULL DEFAULT false,
    "featureCloud" BOOLEAN NOT NULL DEFAULT false,
    "isOnHostedRepoWaitlist" BOOLEAN NOT NULL DEFAULT false,
    "marketingEmails" BOOLEAN NOT NULL DEFAULT true,
    "confirmedBasicDetails" BOOLEAN NOT NULL DEFAULT false,
    "invitationCodeId" TEXT,
    "authIdentifier" TEXT,
    "referralSource" TEXT,
    "dashboardPreferences" JSONB,
    "mfaEnabledAt" TIMESTAMP(3),
    "mfaLastUsedCode" TEXT,
    "mfaSecretReferenceId" TEXT,
    "onboardingData" JSONB,
    "sessionDuration" INTEGER NOT NULL DEFAULT 31556952,
    "nextSessionEnd" TIMESTAMP(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BackgroundWorker" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "metadata" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "contentHash" TEXT NOT NULL,
    "friendlyId" TEXT NOT NULL,
    "cliVersion" TEXT NOT NULL DEFAULT 'unknown',
    "sdkVersion" TEXT NOT NULL DEFAULT 'unknown',
    "supportsLazyAttempts" BOOLEAN NOT NULL DEFAULT false,
    "workerGroupId" TEXT,
    "engine" "RunEngineVersion" NOT NULL DEFAULT 'V1',
    "runtime" TEXT,
    "runtimeVersion" TEXT,

    CONSTRAINT "BackgroundWorker_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TaskSchedule" (
    "id" TEXT NOT NULL,
    "friendlyId" TEXT NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "deduplicationKey" TEXT NOT NULL,
    "userProvidedDeduplicationKey" BOOLEAN NOT NULL DEFAULT false,
    "generatorExpression" TEXT NOT NULL,
    "externalId" TEXT,
    "projectId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "generatorDescription" TEXT NOT NULL DEFAULT '',
    "generatorType" "ScheduleGeneratorType" NOT NULL DEFAULT 'CRON',
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "type" "ScheduleType" NOT NULL DEFAULT 'IMPERATIVE',
    "lastRunTriggeredAt" TIMESTAMP(3),
    "windowDurationSeconds" INTEGER,
    "windowPercentage" INTEGER,

    CONSTRAINT "TaskSchedule_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Organization_slug_key" ON "Organization"("slug");

-- CreateIndex
CREATE INDEX "OrgMember_userId_idx" ON "OrgMember"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Project_externalRef_key" ON "Project"("externalRef");

-- CreateIndex
CREATE UNIQUE INDEX "Project_organizationId_slug_key" ON "Project"("organizationId", "slug");

-- CreateIndex
CREATE UNIQUE INDEX "RuntimeEnvironment_apiKey_key" ON "RuntimeEnvironment"("apiKey");

-- CreateIndex
-- Development environments share a slug within a project, one per member, hence the owner column.
CREATE UNIQUE INDEX "RuntimeEnvironment_projectId_slug_orgMemberId_key" ON "RuntimeEnvironment"("projectId", "slug", "orgMemberId");

-- CreateIndex
CREATE INDEX "RuntimeEnvironment_organizationId_idx" ON "RuntimeEnvironment"("organizationId");

-- CreateIndex
CREATE INDEX "RuntimeEnvironment_parentEnvironmentId_idx" ON "RuntimeEnvironment"("parentEnvironmentId");

-- CreateIndex
CREATE UNIQUE INDEX "BackgroundWorker_friendlyId_key" ON "BackgroundWorker"("friendlyId");

-- CreateIndex
CREATE UNIQUE INDEX "BackgroundWorker_projectId_runtimeEnvironmentId_version_key" ON "BackgroundWorker"("projectId", "runtimeEnvironmentId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "TaskSchedule_friendlyId_key" ON "TaskSchedule"("friendlyId");

-- CreateIndex
CREATE UNIQUE INDEX "TaskSchedule_projectId_deduplicationKey_key" ON "TaskSchedule"("projectId", "deduplicationKey");

-- AddForeignKey
ALTER TABLE "OrgMember" ADD CONSTRAINT "OrgMember_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Project" ADD CONSTRAINT "Project_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RuntimeEnvironment" ADD CONSTRAINT "RuntimeEnvironment_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RuntimeEnvironment" ADD CONSTRAINT "RuntimeEnvironment_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RuntimeEnvironment" ADD CONSTRAINT "RuntimeEnvironment_parentEnvironmentId_fkey" FOREIGN KEY ("parentEnvironmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackgroundWorker" ADD CONSTRAINT "BackgroundWorker_runtimeEnvironmentId_fkey" FOREIGN KEY ("runtimeEnvironmentId") REFERENCES "RuntimeEnvironment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BackgroundWorker" ADD CONSTRAINT "BackgroundWorker_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TaskSchedule" ADD CONSTRAINT "TaskSchedule_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------
-- LEGACY run-ops tables: the run graph (domain.md).
--
-- No foreign keys: the seeder bulk-loads these tables in any order, and loads them into databases
-- that do not hold the control-plane rows they point at (the LEGACY database of a test or of the
-- embedded default is separate from its control plane). Columns that point at control-plane
-- entities are plain text for the same reason.
-- ---------------------------------------------------------------------------------------------

-- CreateTable
CREATE TABLE "TaskRun" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT,
    "payload" TEXT NOT NULL,
    "payloadType" TEXT NOT NULL DEFAULT 'application/json',
    "context" JSONB,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "lockedAt" TIMESTAMP(3),
    "lockedById" TEXT,
    "friendlyId" TEXT NOT NULL,
    "lockedToVersionId" TEXT,
    "traceContext" JSONB,
    "spanId" TEXT NOT NULL,
    "traceId" TEXT NOT NULL,
    "concurrencyKey" TEXT,
    "queue" TEXT NOT NULL,
    "number" INTEGER NOT NULL DEFAULT 0,
    "isTest" BOOLEAN NOT NULL DEFAULT false,
    "status" "TaskRunStatus" NOT NULL DEFAULT 'PENDING',
    "scheduleId" TEXT,
    "scheduleInstanceId" TEXT,
    "startedAt" TIMESTAMP(3),
    "usageDurationMs" INTEGER NOT NULL DEFAULT 0,
    "costInCents" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "baseCostInCents" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "machinePreset" TEXT,
    "delayUntil" TIMESTAMP(3),
    "queuedAt" TIMESTAMP(3),
    "expiredAt" TIMESTAMP(3),
    "ttl" TEXT,
    "maxAttempts" INTEGER,
    "completedAt" TIMESTAMP(3),
    "logsDeletedAt" TIMESTAMP(3),
    "batchId" TEXT,
    "depth" INTEGER NOT NULL DEFAULT 0,
    "parentTaskRunAttemptId" TEXT,
    "parentTaskRunId" TEXT,
    "resumeParentOnCompletion" BOOLEAN NOT NULL DEFAULT false,
    "rootTaskRunId" TEXT,
    "parentSpanId" TEXT,
    "metadata" TEXT,
    "metadataType" TEXT NOT NULL DEFAULT 'application/json',
    "output" TEXT,
    "outputType" TEXT NOT NULL DEFAULT 'application/json',
    "error" JSONB,
    "seedMetadata" TEXT,
    "seedMetadataType" TEXT NOT NULL DEFAULT 'application/json',
    "runTags" TEXT[],
    "maxDurationInSeconds" INTEGER,
    "idempotencyKeyExpiresAt" TIMESTAMP(3),
    "taskVersion" TEXT,
    "cliVersion" TEXT,
    "sdkVersion" TEXT,
    "oneTimeUseToken" TEXT,
    "metadataVersion" INTEGER NOT NULL DEFAULT 1,
    "attemptNumber" INTEGER,
    "engine" "RunEngineVersion" NOT NULL DEFAULT 'V1',
    "masterQueue" TEXT NOT NULL DEFAULT 'main',
    "priorityMs" INTEGER NOT NULL DEFAULT 0,
    "secondaryMasterQueue" TEXT,
    "queueTimestamp" TIMESTAMP(3),
    "taskEventStore" TEXT NOT NULL DEFAULT 'taskEvent',
    "executedAt" TIMESTAMP(3),
    "lockedQueueId" TEXT,
    "statusReason" TEXT,
    "runChainState" JSONB,
    "environmentType" "RuntimeEnvironmentType",
    "organizationId" TEXT,
    "bulkActionGroupIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "replayedFromTaskRunFriendlyId" TEXT,
    "planType" TEXT,
    "lockedRetryConfig" JSONB,
    "realtimeStreamsVersion" TEXT NOT NULL DEFAULT 'v1',
    "realtimeStreams" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "debounce" JSONB,
    "idempotencyKeyOptions" JSONB,
    "annotations" JSONB,
    "isWarmStart" BOOLEAN,
    "streamBasinName" TEXT,
    "region" TEXT,

    CONSTRAINT "TaskRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TaskRunAttempt" (
    "id" TEXT NOT NULL,
    "number" INTEGER NOT NULL DEFAULT 0,
    "taskRunId" TEXT NOT NULL,
    "backgroundWorkerId" TEXT NOT NULL,
    "backgroundWorkerTaskId" TEXT NOT NULL,
    "status" "TaskRunAttemptStatus" NOT NULL DEFAULT 'PENDING',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "output" TEXT,
    "outputType" TEXT NOT NULL DEFAULT 'application/json',
    "friendlyId" TEXT NOT NULL,
    "error" JSONB,
    "queueId" TEXT NOT NULL,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "usageDurationMs" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "TaskRunAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Waitpoint" (
    "id" TEXT NOT NULL,
    "friendlyId" TEXT NOT NULL,
    "type" "WaitpointType" NOT NULL,
    "status" "WaitpointStatus" NOT NULL DEFAULT 'PENDING',
    "completedAt" TIMESTAMP(3),
    "idempotencyKey" TEXT NOT NULL,
    "userProvidedIdempotencyKey" BOOLEAN NOT NULL,
    "inactiveIdempotencyKey" TEXT,
    "completedByTaskRunId" TEXT,
    "completedAfter" TIMESTAMP(3),
    "output" TEXT,
    "outputType" TEXT NOT NULL DEFAULT 'application/json',
    "outputIsError" BOOLEAN NOT NULL DEFAULT false,
    "projectId" TEXT NOT NULL,
    "environmentId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedByBatchId" TEXT,
    "idempotencyKeyExpiresAt" TIMESTAMP(3),
    "tags" TEXT[],

    CONSTRAINT "Waitpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
-- The connected runs of a waitpoint: the ORM's implicit many-to-many table, "A" = "TaskRun".id and
-- "B" = "Waitpoint".id. It has no id and no primary key, only the unique pair.
CREATE TABLE "_WaitpointRunConnections" (
    "A" TEXT NOT NULL,
    "B" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "TaskRunWaitpoint" (
    "id" TEXT NOT NULL,
    "taskRunId" TEXT NOT NULL,
    "waitpointId" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "spanIdToComplete" TEXT,
    "batchId" TEXT,
    "batchIndex" INTEGER,

    CONSTRAINT "TaskRunWaitpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchTaskRun" (
    "id" TEXT NOT NULL,
    "friendlyId" TEXT NOT NULL,
    "idempotencyKey" TEXT,
    "taskIdentifier" TEXT,
    "runtimeEnvironmentId" TEXT NOT NULL,
    "dependentTaskAttemptId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "status" "BatchTaskRunStatus" NOT NULL DEFAULT 'PENDING',
    "checkpointEventId" TEXT,
    "runCount" INTEGER NOT NULL DEFAULT 0,
    "runIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "idempotencyKeyExpiresAt" TIMESTAMP(3),
    "payload" TEXT,
    "payloadType" TEXT NOT NULL DEFAULT 'application/json',
    "options" JSONB,
    "batchVersion" TEXT NOT NULL DEFAULT 'v1',
    "oneTimeUseToken" TEXT,
    "completedAt" TIMESTAMP(3),
    "completedCount" INTEGER NOT NULL DEFAULT 0,
    "expectedCount" INTEGER NOT NULL DEFAULT 0,
    "sealed" BOOLEAN NOT NULL DEFAULT false,
    "sealedAt" TIMESTAMP(3),
    "processingJobsCount" INTEGER NOT NULL DEFAULT 0,
    "processingJobsExpectedCount" INTEGER NOT NULL DEFAULT 0,
    "resumedAt" TIMESTAMP(3),
    "failedRunCount" INTEGER,
    "processingStartedAt" TIMESTAMP(3),
    "successfulRunCount" INTEGER,
    "processingCompletedAt" TIMESTAMP(3),

    CONSTRAINT "BatchTaskRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchTaskRunError" (
    "id" TEXT NOT NULL,
    "batchTaskRunId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "taskIdentifier" TEXT NOT NULL,
    "payload" TEXT,
    "options" JSONB,
    "error" TEXT NOT NULL,
    "errorCode" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BatchTaskRunError_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "TaskRun_friendlyId_key" ON "TaskRun"("friendlyId");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRun_oneTimeUseToken_key" ON "TaskRun"("oneTimeUseToken");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRun_runtimeEnvironmentId_taskIdentifier_idempotencyKey_key" ON "TaskRun"("runtimeEnvironmentId", "taskIdentifier", "idempotencyKey");

-- CreateIndex
-- LEGACY's variant of the environment list index; NEW's has neither INCLUDE nor fillfactor.
CREATE INDEX "TaskRun_runtimeEnvironmentId_createdAt_idx" ON "TaskRun"("runtimeEnvironmentId", "createdAt" DESC) INCLUDE ("id") WITH (fillfactor = 90);

-- CreateIndex
CREATE INDEX "TaskRun_runtimeEnvironmentId_batchId_idx" ON "TaskRun"("runtimeEnvironmentId", "batchId");

-- CreateIndex
CREATE INDEX "TaskRun_parentTaskRunId_idx" ON "TaskRun"("parentTaskRunId");

-- CreateIndex
CREATE INDEX "TaskRun_spanId_idx" ON "TaskRun"("spanId");

-- CreateIndex
CREATE INDEX "TaskRun_parentSpanId_idx" ON "TaskRun"("parentSpanId");

-- CreateIndex
CREATE INDEX "TaskRun_runTags_idx" ON "TaskRun" USING GIN ("runTags" array_ops);

-- CreateIndex
CREATE INDEX "TaskRun_createdAt_idx" ON "TaskRun" USING BRIN ("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRunAttempt_friendlyId_key" ON "TaskRunAttempt"("friendlyId");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRunAttempt_taskRunId_number_key" ON "TaskRunAttempt"("taskRunId", "number");

-- CreateIndex
CREATE INDEX "TaskRunAttempt_taskRunId_idx" ON "TaskRunAttempt"("taskRunId");

-- CreateIndex
CREATE UNIQUE INDEX "Waitpoint_friendlyId_key" ON "Waitpoint"("friendlyId");

-- CreateIndex
CREATE UNIQUE INDEX "Waitpoint_completedByTaskRunId_key" ON "Waitpoint"("completedByTaskRunId");

-- CreateIndex
CREATE UNIQUE INDEX "Waitpoint_environmentId_idempotencyKey_key" ON "Waitpoint"("environmentId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "Waitpoint_completedByBatchId_idx" ON "Waitpoint"("completedByBatchId");

-- CreateIndex
CREATE INDEX "Waitpoint_environmentId_type_createdAt_idx" ON "Waitpoint"("environmentId", "type", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Waitpoint_environmentId_type_status_idx" ON "Waitpoint"("environmentId", "type", "status");

-- CreateIndex
CREATE INDEX "Waitpoint_environmentId_type_id_idx" ON "Waitpoint"("environmentId", "type", "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "_WaitpointRunConnections_AB_unique" ON "_WaitpointRunConnections"("A", "B");

-- CreateIndex
CREATE INDEX "_WaitpointRunConnections_B_index" ON "_WaitpointRunConnections"("B");

-- CreateIndex
CREATE INDEX "TaskRunWaitpoint_taskRunId_idx" ON "TaskRunWaitpoint"("taskRunId");

-- CreateIndex
CREATE INDEX "TaskRunWaitpoint_waitpointId_idx" ON "TaskRunWaitpoint"("waitpointId");

-- CreateIndex
CREATE UNIQUE INDEX "TaskRunWaitpoint_taskRunId_waitpointId_batchIndex_key" ON "TaskRunWaitpoint"("taskRunId", "waitpointId", "batchIndex");

-- CreateIndex
-- A unique index treats NULLs as distinct, so a waitpoint without a batch index needs its own.
CREATE UNIQUE INDEX "TaskRunWaitpoint_taskRunId_waitpointId_batchIndex_null_key" ON "TaskRunWaitpoint"("taskRunId", "waitpointId") WHERE "batchIndex" IS NULL;

-- CreateIndex
CREATE UNIQUE INDEX "BatchTaskRun_friendlyId_key" ON "BatchTaskRun"("friendlyId");

-- CreateIndex
CREATE UNIQUE INDEX "BatchTaskRun_checkpointEventId_key" ON "BatchTaskRun"("checkpointEventId");

-- CreateIndex
CREATE UNIQUE INDEX "BatchTaskRun_oneTimeUseToken_key" ON "BatchTaskRun"("oneTimeUseToken");

-- CreateIndex
CREATE UNIQUE INDEX "BatchTaskRun_runtimeEnvironmentId_idempotencyKey_key" ON "BatchTaskRun"("runtimeEnvironmentId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "BatchTaskRun_dependentTaskAttemptId_idx" ON "BatchTaskRun"("dependentTaskAttemptId");

-- CreateIndex
CREATE INDEX "BatchTaskRun_runtimeEnvironmentId_createdAt_id_idx" ON "BatchTaskRun"("runtimeEnvironmentId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "BatchTaskRun_runtimeEnvironmentId_id_idx" ON "BatchTaskRun"("runtimeEnvironmentId", "id" DESC);

-- CreateIndex
CREATE INDEX "BatchTaskRunError_batchTaskRunId_idx" ON "BatchTaskRunError"("batchTaskRunId");

-- CreateIndex
CREATE UNIQUE INDEX "BatchTaskRunError_batchTaskRunId_index_key" ON "BatchTaskRunError"("batchTaskRunId", "index");
