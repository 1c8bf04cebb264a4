//! The reference schemas of `migrations/`, embedded so that no file has to be found at run time.

use sqlx::PgPool;

/// One of the two schemas a database runview reads holds, with the upstream's indexes only.
///
/// In production the control plane and LEGACY are one database with [`Schema::Full`], and NEW is
/// a dedicated database with [`Schema::RunOps`]. Tests and the embedded default keep three
/// databases: the control plane and LEGACY each with [`Schema::Full`], NEW with
/// [`Schema::RunOps`]. Passthrough mode is one database with [`Schema::Full`].
///
/// Neither includes runview's recommended indexes ([`RECOMMENDED_INDEXES_SQL`]): runview must
/// serve on what the upstream creates, so tests and the embedded default run on that alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// The upstream's full schema: the control-plane tables and the LEGACY run-ops tables
    /// (connections in "_WaitpointRunConnections"), with runview's invalidation triggers.
    Full,
    /// NEW's run-ops schema (connections in "WaitpointRunConnection").
    RunOps,
}

impl Schema {
    /// The SQL that creates this schema in an empty database.
    pub fn sql(self) -> &'static str {
        match self {
            Schema::Full => concat!(
                include_str!("../../../migrations/full/0001_reference_schema.sql"),
                include_str!("../../../migrations/full/0002_invalidation_triggers.sql"),
            ),
            Schema::RunOps => include_str!("../../../migrations/runops/0001_reference_schema.sql"),
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

/// runview's optional indexes on the run-ops tables of either schema
/// (`migrations/recommended/0001_runview_indexes.sql`), for whoever wants to measure or deploy
/// them. runview reads correctly and within bounds without them; `docs/performance.md` states
/// what each one gains. Every statement is `CREATE INDEX IF NOT EXISTS`, so applying them twice
/// is harmless.
pub const RECOMMENDED_INDEXES_SQL: &str =
    include_str!("../../../migrations/recommended/0001_runview_indexes.sql");

/// Creates runview's recommended indexes ([`RECOMMENDED_INDEXES_SQL`]) in a database that holds
/// either reference schema. Optional: nothing runview does requires them.
///
/// This builds the indexes in one transaction, locking the tables against writes meanwhile: fine
/// for a test or a benchmark database, not for a live one (see the SQL file's header).
pub async fn apply_recommended_indexes(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(RECOMMENDED_INDEXES_SQL).execute(pool).await?;
    Ok(())
}
