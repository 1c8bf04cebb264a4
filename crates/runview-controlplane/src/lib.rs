//! The control-plane resolver: the only reader of the control-plane database. Presenters hand it
//! the distinct keys of a page; it answers from a per-kind cache and loads the misses of each kind
//! in one statement. Invalidations reach the caches of every replica through PostgreSQL
//! notifications.

mod backoff;
mod cache;
mod environments;
mod epochs;
mod kind;
mod listener;
mod listener_state;
mod schedule_ids;
mod schedules;
mod schema;
mod scope;
mod stats;
mod worker_versions;

use std::sync::Arc;
use std::time::Duration;

use runview_core::control_plane::{Environment, Schedule, WorkerVersion};
use runview_core::ports::{ControlPlane, Resolved};
use runview_core::{Error, Result};
use runview_pg::{Statement, TracedDatabase, record_outcome};
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::cache::KindCache;
use crate::environments::Environments;
use crate::epochs::Epochs;
use crate::kind::{CONTROL_PLANE, TRACED_AS};
pub use crate::listener_state::{ListenerState, ListenerWatch};
use crate::schedule_ids::ScheduleIds;
use crate::schedules::Schedules;
pub use crate::schema::COLUMN_NEEDS;
pub use crate::scope::InvalidationScope;
pub use crate::stats::KindStats;
use crate::stats::Origin;
use crate::worker_versions::WorkerVersions;

/// How long and how much each kind's cache remembers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolverSettings {
    /// How long a record (or its absence) is served without asking the control plane again; it
    /// bounds how stale a renamed or deleted record can look.
    pub ttl: Duration,
    /// How much longer than the TTL an entry is still served when the control plane is
    /// unavailable to load it again; zero serves none.
    pub stale_if_error: Duration,
    /// The most keys remembered per kind, and as many last known entries for stale-if-error.
    pub max_entries: u64,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(5 * 60),
            max_entries: 100_000,
        }
    }
}

/// A snapshot of the resolver's counters, per kind, since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResolverStats {
    pub environments: KindStats,
    pub worker_versions: KindStats,
    pub schedules: KindStats,
    pub schedule_ids: KindStats,
}

/// The invalidation notice: a function call, which reads no table.
const PUBLISH: Statement = Statement {
    name: "publish_invalidation",
    operation: "SELECT",
    summary: "SELECT pg_notify",
};

/// Resolves control-plane records through a cache per kind.
pub struct ControlPlaneResolver {
    /// Where invalidations are published: the control-plane primary (NOTIFY cannot run on a
    /// standby). The read pool unless [`ControlPlaneResolver::publish_through`] says otherwise.
    publisher: PgPool,
    publisher_traced: TracedDatabase,
    epochs: Arc<Epochs>,
    /// Where the invalidation listener stands, told to readiness.
    listener: watch::Sender<ListenerState>,
    /// How long a listener outage is tolerated: the cache's TTL.
    ttl: Duration,
    environments: KindCache<Environments>,
    worker_versions: KindCache<WorkerVersions>,
    schedules: KindCache<Schedules>,
    schedule_ids: KindCache<ScheduleIds>,
}

impl ControlPlaneResolver {
    /// `pool` reaches the control-plane database (a replica is fine for reads). Invalidations
    /// are published on it too, unless [`ControlPlaneResolver::publish_through`] names the primary.
    pub fn new(pool: PgPool, settings: ResolverSettings) -> Self {
        // No entry is served longer than this after its load started.
        let epochs = Arc::new(Epochs::new(settings.ttl + settings.stale_if_error));
        Self {
            environments: KindCache::new(pool.clone(), Arc::clone(&epochs), &settings),
            worker_versions: KindCache::new(pool.clone(), Arc::clone(&epochs), &settings),
            schedules: KindCache::new(pool.clone(), Arc::clone(&epochs), &settings),
            schedule_ids: KindCache::new(pool.clone(), Arc::clone(&epochs), &settings),
            publisher_traced: TracedDatabase::new(&pool, TRACED_AS),
            publisher: pool,
            epochs,
            listener: watch::Sender::new(ListenerState::Connecting),
            ttl: settings.ttl,
        }
    }

    /// Publishes invalidations through `primary`, for when the read pool is a replica.
    pub fn publish_through(mut self, primary: PgPool) -> Self {
        self.publisher_traced = TracedDatabase::new(&primary, TRACED_AS);
        self.publisher = primary;
        self
    }

    pub fn stats(&self) -> ResolverStats {
        ResolverStats {
            environments: self.environments.stats(),
            worker_versions: self.worker_versions.stats(),
            schedules: self.schedules.stats(),
            schedule_ids: self.schedule_ids.stats(),
        }
    }

    /// Follows the invalidation listener, for readiness: the cache is trusted once LISTEN is
    /// established, and no longer when the listener has been down for the cache's TTL. Past it
    /// every entry was loaded during the outage, and any of them may have been invalidated since
    /// without this replica hearing of it.
    pub fn listener_watch(&self) -> ListenerWatch {
        ListenerWatch::new(self.listener.subscribe(), self.ttl)
    }

    /// Drops this replica's entries in `scope`: once it returns, no entry loaded before it is
    /// served. [`Self::publish`] reaches the other replicas.
    pub fn invalidate(&self, scope: &InvalidationScope) {
        self.drop_entries(scope);
        stats::invalidation(scope, Origin::Local);
    }

    /// Asks every replica listening on the control-plane database, this one included, to drop
    /// its entries in `scope`.
    pub async fn publish(&self, scope: &InvalidationScope) -> Result<()> {
        let notice = scope.to_notice().map_err(|error| {
            Error::Internal(format!(
                "an invalidation notice could not be written: {error}"
            ))
        })?;
        let span = self.publisher_traced.span(&PUBLISH);
        let published = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(listener::CHANNEL)
            .bind(notice)
            .execute(&self.publisher)
            .instrument(span.clone())
            .await;
        record_outcome(&span, &published);
        published.map_err(|error| runview_pg::map_error(CONTROL_PLANE, error))?;
        Ok(())
    }

    /// Applies the invalidations published by every replica, and by the control-plane triggers,
    /// to this one until `shutdown` is cancelled.
    ///
    /// `listen_url` must reach the control-plane primary over a session of its own: LISTEN
    /// cannot run on a read replica, and a transaction-pooling PgBouncer would hand the session
    /// to others. It may be the resolver's own URL when that URL is such a connection.
    pub fn spawn_invalidation_listener(
        self: &Arc<Self>,
        listen_url: SecretString,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        tokio::spawn(listener::listen(Arc::clone(self), listen_url, shutdown))
    }

    /// Invalidations take effect on read, through the epochs; the entries they supersede are
    /// removed when next read, or when they expire.
    pub(crate) fn drop_entries(&self, scope: &InvalidationScope) {
        self.epochs.record(scope);
    }
}

impl ControlPlane for ControlPlaneResolver {
    async fn environments(&self, ids: Vec<String>) -> Result<Resolved<Environment>> {
        self.environments.get_many(ids).await
    }

    async fn worker_versions(&self, ids: Vec<String>) -> Result<Resolved<WorkerVersion>> {
        self.worker_versions.get_many(ids).await
    }

    async fn schedules(&self, ids: Vec<String>) -> Result<Resolved<Schedule>> {
        self.schedules.get_many(ids).await
    }

    async fn schedule_ids(&self, friendly_ids: Vec<String>) -> Result<Resolved<String>> {
        self.schedule_ids.get_many(friendly_ids).await
    }
}
