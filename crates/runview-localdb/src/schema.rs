//! The reference schemas of `migrations/`, embedded so that no file has to be found at run time.

use sqlx::PgPool;

/// One of the two schemas a database runview reads holds.
///
/// In production the control plane and LEGACY are one database with [`Schema::Full`], and NEW is
/// a dedicated database with [`Schema::RunOps`]. Tests and the embedded default keep three
/// databases: the control plane and LEGACY each with [`Schema::Full`], NEW with
/// [`Schema::RunOps`]. Passthrough mode is one database with [`Schema::Full`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// The upstream's full schema: the control-plane tables and the LEGACY run-ops tables
    /// (connections in "_WaitpointRunConnections"), with runview's invalidation triggers and its
    /// recommended run-ops indexes.
    Full,
    /// NEW's run-ops schema (connections in "WaitpointRunConnection"), with runview's recommended
    /// run-ops indexes.
    RunOps,
}

impl Schema {
    /// The SQL that creates this schema in an empty database.
    pub fn sql(self) -> &'static str {
        match self {
            Schema::Full => concat!(
                include_str!("../../../migrations/full/0001_reference_schema.sql"),
                include_str!("../../../migrations/full/0002_invalidation_triggers.sql"),
                include_str!("../../../migrations/recommended/0001_runview_indexes.sql"),
            ),
            Schema::RunOps => concat!(
                include_str!("../../../migrations/runops/0001_reference_schema.sql"),
                include_str!("../../../migrations/recommended/0001_runview_indexes.sql"),
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
