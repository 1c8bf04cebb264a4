//! The pool the run-ops reads go through.
//!
//! sqlx's own pool tests every connection it takes back with a round trip to the database
//! (`Sync`, then waiting for `ReadyForQuery`). For a service whose every call is one short
//! statement that doubles the round trips; it measured as a sixth of runview's CPU per GetRun
//! (docs/benchmarking.md). Here a connection whose statement ran to its end goes straight back:
//! it is known to be in step with its server. One whose statement was cut off (a cancelled call,
//! a failure on its socket) is closed instead, so that no caller inherits the rest of someone
//! else's statement.

use std::sync::Arc;
use std::time::Duration;

use runview_core::Error;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::watch;

use crate::map_error;

/// Connections for one statement at a time, sized and timed like the sqlx pool they are made from.
#[derive(Clone)]
pub struct ReadPool {
    pool: bb8::Pool<Connector>,
    dependency: &'static str,
    /// Why the latest connection attempt failed; callers waiting for a connection give up on it
    /// at once instead of waiting out the acquire timeout.
    connect_failures: watch::Sender<Option<Error>>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool")
            .field("dependency", &self.dependency)
            .field("state", &self.state())
            .finish()
    }
}

/// What the pool has done so far, for metrics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReadPoolState {
    pub connections: u32,
    pub idle: u32,
    pub max_connections: u32,
    /// Checkouts that had to wait for a connection, and for how long in all.
    pub waits: u64,
    pub wait_time: Duration,
    /// Checkouts that gave up after the acquire timeout.
    pub timeouts: u64,
    /// Connections closed because their statement was cut off.
    pub discarded: u64,
}

impl ReadPool {
    /// A pool that connects on first use, with `settings`' size, acquire timeout and connection
    /// options (statement timeout and application name included). `dependency` names the
    /// database in errors and logs (a name, never a URL).
    pub fn from_sqlx(settings: &PgPool, dependency: &'static str) -> Self {
        let options = settings.options();
        let (connect_failures, _) = watch::channel(None);
        let pool = bb8::Pool::builder()
            .max_size(options.get_max_connections().max(1))
            .min_idle(Some(options.get_min_connections()).filter(|&n| n > 0))
            .connection_timeout(options.get_acquire_timeout())
            .idle_timeout(options.get_idle_timeout())
            .max_lifetime(options.get_max_lifetime())
            // A checkout costs no round trip: a dead connection shows up as an I/O error, which
            // callers report as UNAVAILABLE, and it is then closed.
            .test_on_check_out(false)
            // A failed attempt is reported to the waiting callers (below), who retry on their own
            // terms, rather than retried for the whole acquire timeout.
            .retry_connection(false)
            .error_sink(Box::new(ConnectFailures {
                dependency,
                latest: connect_failures.clone(),
            }))
            .build_unchecked(Connector {
                options: settings.connect_options(),
            });
        Self {
            pool,
            dependency,
            connect_failures,
        }
    }

    /// A connection for one statement: UNAVAILABLE when a connection attempt fails while waiting,
    /// or when none becomes free within the acquire timeout.
    pub async fn lease(&self) -> Result<Lease, Error> {
        let mut failures = self.connect_failures.subscribe();
        failures.mark_unchanged();
        tokio::select! {
            leased = self.pool.get_owned() => leased
                .map(|connection| Lease { connection })
                .map_err(|_| Error::unavailable(self.dependency, "no connection became free in time")),
            Ok(()) = failures.changed() => {
                let failure = failures.borrow().clone();
                Err(failure.unwrap_or_else(|| {
                    Error::unavailable(self.dependency, "a connection attempt failed")
                }))
            }
        }
    }

    pub fn state(&self) -> ReadPoolState {
        let state = self.pool.state();
        let stats = state.statistics;
        ReadPoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max_connections: self.pool.config().max_size,
            waits: stats.get_waited,
            wait_time: stats.get_wait_time,
            timeouts: stats.get_timed_out,
            discarded: stats.connections_closed_broken,
        }
    }
}

/// One checked-out connection for one statement. Dropped before [`Lease::finish`], as when the
/// call it serves is cancelled mid-statement, its connection is closed.
pub struct Lease {
    connection: bb8::PooledConnection<'static, Connector>,
}

impl Lease {
    /// The connection, for one statement.
    pub fn connection(&mut self) -> &mut PgConnection {
        self.connection.in_step = false;
        &mut self.connection.connection
    }

    /// Hands the connection back with the statement's result. It is reused when the statement ran
    /// to its end or the database refused it (sqlx reads up to `ReadyForQuery` before the next
    /// statement either way), and closed after a failure on the socket.
    pub fn finish<T>(mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        self.connection.in_step = matches!(
            result,
            Ok(_) | Err(sqlx::Error::Database(_) | sqlx::Error::RowNotFound)
        );
        result
    }
}

/// Publishes why a connection attempt failed to the callers waiting for one, and logs it.
#[derive(Clone, Debug)]
struct ConnectFailures {
    dependency: &'static str,
    latest: watch::Sender<Option<Error>>,
}

impl bb8::ErrorSink<sqlx::Error> for ConnectFailures {
    fn sink(&self, error: sqlx::Error) {
        // Mapping logs the database's own words and keeps them out of the answer.
        self.latest
            .send_replace(Some(map_error(self.dependency, error)));
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<sqlx::Error>> {
        Box::new(self.clone())
    }
}

struct Connector {
    options: Arc<PgConnectOptions>,
}

/// A connection and whether it is in step with its server: no statement of it is under way.
struct Tracked {
    connection: PgConnection,
    in_step: bool,
}

impl bb8::ManageConnection for Connector {
    type Connection = Tracked;
    type Error = sqlx::Error;

    async fn connect(&self) -> Result<Tracked, sqlx::Error> {
        Ok(Tracked {
            connection: self.options.connect().await?,
            in_step: true,
        })
    }

    async fn is_valid(&self, tracked: &mut Tracked) -> Result<(), sqlx::Error> {
        tracked.connection.ping().await
    }

    fn has_broken(&self, tracked: &mut Tracked) -> bool {
        !tracked.in_step
    }
}
