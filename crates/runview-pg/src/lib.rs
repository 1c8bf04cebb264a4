//! PostgreSQL plumbing shared by the run-ops stores and the control-plane resolver: pools whose
//! waits stay inside a request's budget, the one mapping of sqlx errors into domain errors, a span
//! per statement, and the fingerprint that tells two databases apart.

mod read_pool;
mod schema_check;
mod statement;

use std::time::Duration;

use runview_core::Error;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use read_pool::{Lease, ReadPool, ReadPoolState};
pub use schema_check::{
    ColumnNeed, ColumnType, Mismatch, Nulls, RecommendedIndex, SchemaCheckError, check_schema,
    missing_indexes, schema_mismatches,
};
pub use statement::{Statement, TracedDatabase, record_outcome};

/// Declaring the columns a crate reads: `required("TaskRun", "id", Text)`.
pub mod columns {
    pub use crate::schema_check::{nullable, required};
}

/// How a pool waits. Both timeouts are short on purpose: a caller's deadline is usually a few
/// seconds, and a database that cannot answer within them is better reported as unavailable.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// Shown in `pg_stat_activity`, so an operator can tell runview's sessions apart.
    pub application_name: String,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            application_name: "runview".to_owned(),
        }
    }
}

/// A pool that connects on first use, so a database that is down at boot makes readiness fail
/// rather than the process.
pub fn lazy_pool(url: &SecretString, settings: &PoolSettings) -> Result<PgPool, Error> {
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        // The parse error may quote the URL, password included: never pass it on.
        .map_err(|_| Error::Internal("a database URL could not be parsed".to_owned()))?;
    let statement_timeout = settings.statement_timeout.as_millis().to_string();
    let options = options
        .application_name(&settings.application_name)
        .options([("statement_timeout", statement_timeout.as_str())]);
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(settings.acquire_timeout)
        // A ping before every checkout doubles the round trips of a one-statement read; a dead
        // connection shows up as an I/O error instead, which maps to UNAVAILABLE.
        .test_before_acquire(false)
        .connect_lazy_with(options))
}

/// Maps a sqlx error from `dependency` (a name such as "new run-ops store", never a URL) into
/// the domain error: anything that says the database cannot serve now is UNAVAILABLE; the rest
/// is a bug or a schema mismatch, so INTERNAL.
///
/// An UNAVAILABLE detail is a fixed description of what went wrong: callers see no library
/// text, no database message and no user name. The database's own words are logged here, once.
pub fn map_error(dependency: &str, error: sqlx::Error) -> Error {
    let unavailable = |detail: &str| {
        tracing::warn!(dependency, cause = %error, "{detail}");
        Error::unavailable(dependency, detail)
    };
    match &error {
        sqlx::Error::PoolTimedOut => unavailable("no connection became free in time"),
        sqlx::Error::PoolClosed => unavailable("the pool is closed"),
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            unavailable(CONNECTION_FAILED)
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // The statement ran past `statement_timeout`: asking again would take as long, so it
            // is no retryable outage.
            Some(STATEMENT_TIMEOUT) => Error::DeadlineExceeded,
            Some(code) => match unavailable_detail(code) {
                Some(detail) => unavailable(detail),
                None => Error::Internal(format!("{dependency}: {error}")),
            },
            None => Error::Internal(format!("{dependency}: {error}")),
        },
        // Configuration errors can quote connection settings; keep them out of messages.
        sqlx::Error::Configuration(_) => {
            Error::Internal(format!("{dependency}: invalid database configuration"))
        }
        _ => Error::Internal(format!("{dependency}: {error}")),
    }
}

const CONNECTION_FAILED: &str = "the connection to the database failed";

/// query_canceled: what PostgreSQL answers when `statement_timeout` ends a statement.
const STATEMENT_TIMEOUT: &str = "57014";

/// What a SQLSTATE that means "cannot serve now" says, in words safe for any caller:
/// connection exceptions (08), insufficient resources (53), operator intervention such as a
/// shutdown (57), refused authentication (28) and a missing database (3D000).
fn unavailable_detail(code: &str) -> Option<&'static str> {
    match code {
        "3D000" => Some("the database does not exist"),
        _ if code.starts_with("08") => Some(CONNECTION_FAILED),
        _ if code.starts_with("53") => Some("the database is out of resources"),
        _ if code.starts_with("57") => Some("the database is shutting down or restarting"),
        _ if code.starts_with("28") => Some("the database refused the credentials"),
        _ => None,
    }
}

/// Identifies a database: the cluster's system identifier and the database name. Two URLs with
/// the same fingerprint reach the same data, whatever their hosts say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseFingerprint {
    pub system_identifier: i64,
    pub database: String,
}

pub async fn fingerprint(pool: &PgPool) -> Result<DatabaseFingerprint, sqlx::Error> {
    let (system_identifier, database): (i64, String) = sqlx::query_as(
        "SELECT system_identifier, current_database()::text FROM pg_control_system()",
    )
    .fetch_one(pool)
    .await?;
    Ok(DatabaseFingerprint {
        system_identifier,
        database,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_that_mean_the_database_cannot_serve_are_unavailable() {
        for code in ["08006", "53300", "57P01", "3D000", "28P01"] {
            assert!(unavailable_detail(code).is_some(), "{code}");
        }
        for code in ["42P01", "22P02", "23505"] {
            assert_eq!(unavailable_detail(code), None, "{code}");
        }
    }

    #[test]
    fn an_unavailable_answer_carries_a_fixed_description_not_the_librarys_words() {
        let cause = std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connect to /var/run/postgresql/.s.PGSQL.5432 as user runview_ro",
        );
        let error = map_error("legacy run-ops store", sqlx::Error::Io(cause));
        assert_eq!(
            error.to_string(),
            "legacy run-ops store is unavailable: the connection to the database failed"
        );
    }

    #[test]
    fn pool_exhaustion_is_unavailable_and_names_the_dependency() {
        let error = map_error("new run-ops store", sqlx::Error::PoolTimedOut);
        assert!(
            matches!(&error, Error::Unavailable { dependency, .. } if dependency == "new run-ops store")
        );
    }

    #[test]
    fn an_unparsable_url_does_not_echo_the_password() {
        let url = SecretString::from("postgres://user:hunter2@[bad/db");
        let error = lazy_pool(&url, &PoolSettings::default())
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|message| !message.contains("hunter2")));
    }
}
