//! A span per SQL statement, named and described with OpenTelemetry's database semantic
//! conventions. Everything a span says is fixed where the statement is written or where the pool
//! is made: no parameter value and nothing of a URL but the database's name can reach a trace.

use std::sync::Arc;

use sqlx::PgPool;
use tracing::field::Empty;

/// One statement as traces know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement {
    /// runview's name for it, as its metrics label it (`find_run`, `environment`).
    pub name: &'static str,
    /// `db.operation.name`: `SELECT`.
    pub operation: &'static str,
    /// `db.query.summary`, which also names the span: the operation and the tables it reads in
    /// order of appearance (`SELECT TaskRun TaskRunAttempt`).
    pub summary: &'static str,
}

/// The database a pool reaches, as its statements' spans name it.
#[derive(Clone, Debug)]
pub struct TracedDatabase {
    /// `runview.database`: the role, as the `database` label of the pool metrics names it.
    role: &'static str,
    /// `db.namespace`: the database name PostgreSQL connects to (the user name when the URL names
    /// none, as PostgreSQL does).
    namespace: Arc<str>,
}

impl TracedDatabase {
    pub fn new(pool: &PgPool, role: &'static str) -> Self {
        let options = pool.connect_options();
        let namespace = options
            .get_database()
            .unwrap_or_else(|| options.get_username());
        Self {
            role,
            namespace: namespace.into(),
        }
    }

    /// A span for `statement`, a child of the current span. It lasts as long as it is held: hold
    /// it from before waiting for a connection until the statement's result is in.
    pub fn span(&self, statement: &Statement) -> tracing::Span {
        tracing::debug_span!(
            "sql",
            otel.name = statement.summary,
            otel.kind = "client",
            otel.status_code = Empty,
            db.system.name = "postgresql",
            db.namespace = &*self.namespace,
            db.operation.name = statement.operation,
            db.query.summary = statement.summary,
            db.response.status_code = Empty,
            runview.database = self.role,
            runview.statement = statement.name,
        )
    }
}

/// Marks `span` failed when `result` is an error, with the SQLSTATE when the database answered
/// one. The error's text is left out: a database message can quote the values it refused. No row
/// where one was fetched is an answer, not a failure.
pub fn record_outcome<T>(span: &tracing::Span, result: &Result<T, sqlx::Error>) {
    let Err(error) = result else { return };
    if matches!(error, sqlx::Error::RowNotFound) {
        return;
    }
    span.record("otel.status_code", "ERROR");
    if let Some(code) = error.as_database_error().and_then(|db| db.code()) {
        span.record("db.response.status_code", &*code);
    }
}
