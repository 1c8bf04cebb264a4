//! What the resolver reads from the control plane, for the boot-time schema check. Keep it in
//! step with the `BY_IDS` statements of each kind.

use runview_pg::ColumnNeed;
use runview_pg::ColumnType::{Boolean, Enum, Text};
use runview_pg::columns::{nullable, required};

/// Every control-plane column the resolver reads.
pub const COLUMN_NEEDS: &[ColumnNeed] = &[
    required("RuntimeEnvironment", "id", Text),
    required("RuntimeEnvironment", "slug", Text),
    required("RuntimeEnvironment", "type", Enum("RuntimeEnvironmentType")),
    nullable("RuntimeEnvironment", "branchName", Text),
    required("RuntimeEnvironment", "organizationId", Text),
    required("RuntimeEnvironment", "projectId", Text),
    nullable("RuntimeEnvironment", "parentEnvironmentId", Text),
    nullable("RuntimeEnvironment", "orgMemberId", Text),
    required("RuntimeEnvironment", "apiKey", Text),
    required("Project", "id", Text),
    required("Project", "slug", Text),
    required("Project", "externalRef", Text),
    required("Organization", "id", Text),
    required("Organization", "slug", Text),
    required("OrgMember", "id", Text),
    required("OrgMember", "userId", Text),
    required("User", "id", Text),
    nullable("User", "displayName", Text),
    nullable("User", "name", Text),
    required("BackgroundWorker", "id", Text),
    required("BackgroundWorker", "version", Text),
    required("TaskSchedule", "id", Text),
    required("TaskSchedule", "friendlyId", Text),
    nullable("TaskSchedule", "externalId", Text),
    required("TaskSchedule", "deduplicationKey", Text),
    required("TaskSchedule", "userProvidedDeduplicationKey", Boolean),
    required("TaskSchedule", "generatorExpression", Text),
    required("TaskSchedule", "generatorDescription", Text),
];
