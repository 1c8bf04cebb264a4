//! Which reference schema a run-ops database holds: it decides where connection rows go.

use sqlx::PgPool;

/// The schema of a run-ops database. Its run-ops tables have the same columns either way, except
/// the connections of waitpoints to the runs they blocked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreSchema {
    /// The upstream's full schema, LEGACY's: connections in the ORM's implicit
    /// "_WaitpointRunConnections".
    Full,
    /// NEW's run-ops schema: connections in "WaitpointRunConnection".
    RunOps,
}

impl StoreSchema {
    /// Read from the database rather than assumed from the store: in passthrough the NEW rows land
    /// in the LEGACY database, and their connections must go to its table.
    pub async fn of(pool: &PgPool) -> Result<Self, sqlx::Error> {
        let (implicit, explicit): (bool, bool) = sqlx::query_as(
            r#"SELECT to_regclass('"_WaitpointRunConnections"') IS NOT NULL,
                      to_regclass('"WaitpointRunConnection"') IS NOT NULL"#,
        )
        .fetch_one(pool)
        .await?;
        match (implicit, explicit) {
            (true, false) => Ok(Self::Full),
            (false, true) => Ok(Self::RunOps),
            _ => Err(sqlx::Error::Configuration(
                "a run-ops database must hold one reference schema: the full schema (with \
                 \"_WaitpointRunConnections\") or the run-ops schema (with \
                 \"WaitpointRunConnection\")"
                    .into(),
            )),
        }
    }
}
