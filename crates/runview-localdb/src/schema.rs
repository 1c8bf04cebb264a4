//! The reference schemas of `migrations/`, embedded so that no file has to be found at run time.

use sqlx::PgPool;

/// One of the two kinds of database runview reads (domain.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// Organizations, projects, environments, workers, schedules, members and users.
    ControlPlane,
    /// The run graph: runs, waitpoints, batches and their connections.
    RunOps,
}

impl Schema {
    /// The SQL that creates this schema in an empty database.
    pub fn sql(self) -> &'static str {
        match self {
            Schema::ControlPlane => concat!(
                include_str!("../../../migrations/controlplane/0001_reference_schema.sql"),
                include_str!("../../../migrations/controlplane/0002_invalidation_triggers.sql"),
            ),
            Schema::RunOps => concat!(
                include_str!("../../../migrations/runops/0001_reference_schema.sql"),
                include_str!("../../../migrations/runops/0002_runview_indexes.sql"),
            ),
        }
    }
}

/// Applies one reference schema to an empty database.
///
/// The statements go out as one simple-protocol batch, which PostgreSQL runs as a single implicit
/// transaction: a failure leaves nothing half-created.
pub async fn apply_schema(pool: &PgPool, schema: Schema) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(schema.sql()).execute(pool).await?;
    Ok(())
}
