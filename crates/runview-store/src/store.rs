//! One run-ops database.

use std::future::Future;

use runview_core::Result;
use runview_core::ids::Residency;
use runview_core::ports::RunLookup;
use runview_core::run::RunGraph;
use runview_pg::map_error;
use sqlx::PgPool;

use crate::find_run::{FIND_RUN_SQL, RelatedRunRow, assemble};
use crate::telemetry::count_query;

/// A run-ops database and the residency it stands for. In passthrough mode the one store is the
/// LEGACY one.
#[derive(Clone, Debug)]
pub struct PgRunStore {
    pool: PgPool,
    residency: Residency,
}

impl PgRunStore {
    pub fn new(pool: PgPool, residency: Residency) -> Self {
        Self { pool, residency }
    }

    pub fn residency(&self) -> Residency {
        self.residency
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The name errors carry: which store failed, never how it is reached.
    pub(crate) fn dependency(&self) -> &'static str {
        match self.residency {
            Residency::Legacy => "legacy run-ops store",
            Residency::New => "new run-ops store",
        }
    }

    /// Runs one statement of `operation` against this store: counted, and its error named after
    /// the store.
    pub(crate) async fn run<T>(
        &self,
        operation: &'static str,
        statement: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T> {
        count_query(self.residency, operation);
        statement
            .await
            .map_err(|error| map_error(self.dependency(), error))
    }

    /// The run inside its environment with its parent, root and first children, or `None` when
    /// this store does not hold it there.
    pub async fn find_run(&self, lookup: &RunLookup) -> Result<Option<RunGraph>> {
        // A `&'static str` statement is prepared once per connection and then reused by sqlx.
        let statement = sqlx::query_as(FIND_RUN_SQL)
            .bind(lookup.run_id.as_str())
            .bind(lookup.environment_id.as_str())
            .bind(lookup.include_bodies)
            .bind(i64::from(lookup.children_limit) + 1)
            .fetch_all(&self.pool);
        let rows: Vec<RelatedRunRow> = self.run("find_run", statement).await?;
        assemble(rows, lookup.children_limit, self.residency)
    }
}
