//! One run-ops database.

use runview_core::Result;
use runview_core::ids::Residency;
use runview_pg::{Lease, ReadPool, Statement, TracedDatabase, map_error, record_outcome};
use sqlx::{PgConnection, PgPool};

use crate::coalesce::{Coalescer, Coalescing};
use crate::find_run::FindRun;
use crate::telemetry::count_query;
use crate::waitpoint::{ConnectedRuns, FindWaitpoint};

/// A run-ops database and the residency it stands for. In passthrough mode the one store is the
/// LEGACY one.
#[derive(Clone, Debug)]
pub struct PgRunStore {
    /// For the boot check and readiness.
    pool: PgPool,
    /// For every read, sized and timed like `pool`.
    reads: ReadPool,
    residency: Residency,
    /// The primary of the store, asked only after its replica missed.
    primary: bool,
    /// How its statements' spans name it.
    traced: TracedDatabase,
    lookups: Lookups,
}

/// How each kind of lookup by id reaches the store, alone or coalesced.
#[derive(Clone, Debug)]
pub(crate) struct Lookups {
    pub(crate) runs: Coalescer<FindRun>,
    pub(crate) waitpoints: Coalescer<FindWaitpoint>,
    pub(crate) connected_runs: Coalescer<ConnectedRuns>,
}

impl Lookups {
    fn new(coalescing: Coalescing) -> Self {
        Self {
            runs: Coalescer::new(coalescing),
            waitpoints: Coalescer::new(coalescing),
            connected_runs: Coalescer::new(coalescing),
        }
    }
}

impl PgRunStore {
    /// Reads go through a [`ReadPool`] made from `pool`'s settings, lookups by id are coalesced
    /// as [`Coalescing::default`] says; call it inside a tokio runtime, where that pool starts its
    /// reaper and coalesced statements run.
    pub fn new(pool: PgPool, residency: Residency) -> Self {
        Self::with_role(pool, residency, false)
    }

    /// The primary of the `residency` store, for lookups that missed on every replica.
    pub fn primary(pool: PgPool, residency: Residency) -> Self {
        Self::with_role(pool, residency, true)
    }

    fn with_role(pool: PgPool, residency: Residency, primary: bool) -> Self {
        let reads = ReadPool::from_sqlx(&pool, dependency(residency, primary));
        let traced = TracedDatabase::new(&pool, label(residency, primary));
        Self {
            pool,
            reads,
            residency,
            primary,
            traced,
            lookups: Lookups::new(Coalescing::default()),
        }
    }

    /// The store with its lookups by id coalesced as `coalescing` says.
    pub fn with_coalescing(self, coalescing: Coalescing) -> Self {
        Self {
            lookups: Lookups::new(coalescing),
            ..self
        }
    }

    pub fn residency(&self) -> Residency {
        self.residency
    }

    pub fn is_primary(&self) -> bool {
        self.primary
    }

    /// The database's name in boot messages.
    pub fn role(&self) -> &'static str {
        role(self.residency, self.primary)
    }

    /// The store's name in metrics: its residency, `_primary` for a primary.
    pub fn label(&self) -> &'static str {
        label(self.residency, self.primary)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn read_pool(&self) -> &ReadPool {
        &self.reads
    }

    pub(crate) fn lookups(&self) -> &Lookups {
        &self.lookups
    }

    /// The name errors carry: which store failed, never how it is reached.
    pub(crate) fn dependency(&self) -> &'static str {
        dependency(self.residency, self.primary)
    }

    /// A connection for `statement`, counted, and its span: the span starts before the wait for
    /// a connection, so a trace shows the wait, and ends when the lease is finished or dropped.
    pub(crate) async fn lease(&self, statement: &Statement) -> Result<StoreLease<'_>> {
        count_query(self.residency, statement.name);
        let span = self.traced.span(statement);
        let lease = self.reads.lease().await.inspect_err(|_| {
            span.record("otel.status_code", "ERROR");
        })?;
        Ok(StoreLease {
            lease,
            store: self,
            span,
        })
    }
}

/// A store's connection for one statement; its errors are named after the store.
pub(crate) struct StoreLease<'s> {
    lease: Lease,
    store: &'s PgRunStore,
    span: tracing::Span,
}

impl StoreLease<'_> {
    pub(crate) fn connection(&mut self) -> &mut PgConnection {
        self.lease.connection()
    }

    /// The connection for a further statement on the same lease, `statement`: counted, with a
    /// span of its own (the previous statement's ends here).
    pub(crate) fn next(&mut self, statement: &Statement) -> &mut PgConnection {
        count_query(self.store.residency, statement.name);
        self.span = self.store.traced.span(statement);
        self.lease.connection()
    }

    /// The statement's result, with the connection handed back.
    pub(crate) fn finish<T>(self, result: Result<T, sqlx::Error>) -> Result<T> {
        record_outcome(&self.span, &result);
        self.lease
            .finish(result)
            .map_err(|error| map_error(self.store.dependency(), error))
    }
}

fn label(residency: Residency, primary: bool) -> &'static str {
    match (residency, primary) {
        (Residency::Legacy, false) => "legacy",
        (Residency::Legacy, true) => "legacy_primary",
        (Residency::New, false) => "new",
        (Residency::New, true) => "new_primary",
    }
}

fn dependency(residency: Residency, primary: bool) -> &'static str {
    match (residency, primary) {
        (Residency::Legacy, false) => "legacy run-ops store",
        (Residency::Legacy, true) => "legacy run-ops primary",
        (Residency::New, false) => "new run-ops store",
        (Residency::New, true) => "new run-ops primary",
    }
}

/// How operators know the database: "LEGACY run-ops", "NEW run-ops primary".
pub(crate) fn role(residency: Residency, primary: bool) -> &'static str {
    match (residency, primary) {
        (Residency::Legacy, false) => "LEGACY run-ops",
        (Residency::Legacy, true) => "LEGACY run-ops primary",
        (Residency::New, false) => "NEW run-ops",
        (Residency::New, true) => "NEW run-ops primary",
    }
}
