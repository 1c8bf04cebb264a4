//! The read-through cache of one kind of control-plane record.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{Shared, try_join_all};
use moka::Expiry;
use moka::future::Cache;
use runview_core::Error;
use runview_core::ports::Resolved;
use runview_pg::TracedDatabase;
use sqlx::PgPool;
use tracing::Instrument;

use crate::ResolverSettings;
use crate::epochs::{Epoch, Epochs};
use crate::kind::{self, Kind, TRACED_AS};
use crate::stats::{Counters, KindStats};

/// What the cache remembers of a key: the record, or that it does not exist (caching absence
/// keeps a deleted environment from sending every request to the control plane), with when and in
/// which epoch its load started.
struct Entry<V> {
    value: Option<Arc<V>>,
    loaded_at: Instant,
    epoch: Epoch,
}

type Entries<V> = Cache<String, Arc<Entry<V>>>;

/// What one statement found for its keys.
struct Loaded<V> {
    found: Resolved<V>,
    loaded_at: Instant,
    epoch: Epoch,
}

impl<V> Loaded<V> {
    fn entry(&self, key: &str) -> Arc<Entry<V>> {
        Arc::new(Entry {
            value: self.found.get(key).cloned(),
            loaded_at: self.loaded_at,
            epoch: self.epoch,
        })
    }
}

/// A batch's result, shared by the lookups of one call, hence cloneable.
type LoadResult<V> = Result<Arc<Loaded<V>>, Error>;

/// How a missing key was answered.
enum Answer {
    Loaded,
    /// With its last known entry, because the control plane was unavailable.
    Stale,
}

/// One kind's cache: bounded, expiring, single-flight per key, and never caching errors.
pub(crate) struct KindCache<K: Kind> {
    /// The control-plane database.
    pool: PgPool,
    traced: TracedDatabase,
    epochs: Arc<Epochs>,
    /// Entries younger than the TTL, served as they are.
    fresh: Entries<K::Value>,
    /// Entries younger than the TTL plus the stale-if-error bound, served only when loading them
    /// again fails because the control plane is unavailable; `None` when that bound is zero.
    last_known: Option<Entries<K::Value>>,
    counters: Counters,
}

impl<K: Kind> KindCache<K> {
    pub(crate) fn new(pool: PgPool, epochs: Arc<Epochs>, settings: &ResolverSettings) -> Self {
        let entries = |lifetime| {
            Cache::builder()
                .name(K::NAME)
                .max_capacity(settings.max_entries)
                .expire_after(ExpireAfterLoad(lifetime))
                .build()
        };
        Self {
            traced: TracedDatabase::new(&pool, TRACED_AS),
            pool,
            epochs,
            fresh: entries(settings.ttl),
            last_known: (!settings.stale_if_error.is_zero())
                .then(|| entries(settings.ttl + settings.stale_if_error)),
            counters: Counters::new(K::NAME),
        }
    }

    pub(crate) fn stats(&self) -> KindStats {
        self.counters.snapshot()
    }

    /// The records of `keys` that exist. Cached keys are answered from memory; all the others
    /// are loaded together in one statement.
    pub(crate) async fn get_many(&self, keys: Vec<String>) -> Result<Resolved<K::Value>, Error> {
        let called = self.epochs.current();
        let mut resolved = Resolved::new();
        let mut hits = 0;
        let mut missing = Vec::new();
        for key in keys.into_iter().collect::<HashSet<_>>() {
            match self.fresh.get(&key).await {
                Some(entry) if self.serves(&key, &entry, called) => {
                    hits += 1;
                    resolved.extend(entry.value.clone().map(|value| (key, value)));
                }
                Some(_) => {
                    self.fresh.invalidate(&key).await;
                    missing.push(key);
                }
                None => missing.push(key),
            }
        }
        self.counters.hits(hits);
        if missing.is_empty() {
            return Ok(resolved);
        }

        // Every missing key goes through moka's single flight, so a key another call is already
        // loading is waited for rather than loaded twice. The keys whose load falls to this call
        // all await the same batch, which runs at most once, and only if one of them needs it.
        let batch = self.load_batch(missing.clone());
        let lookups = missing
            .iter()
            .map(|key| self.lookup(key, batch.clone(), called));
        let answers = try_join_all(lookups).await.inspect_err(|_| {
            self.counters.misses(missing.len() as u64);
        })?;
        let stale = answers
            .iter()
            .filter(|(_, answer)| matches!(answer, Answer::Stale))
            .count() as u64;
        self.counters.stale(stale);
        self.counters.misses(missing.len() as u64 - stale);
        for (key, (entry, _)) in missing.into_iter().zip(answers) {
            resolved.extend(entry.value.clone().map(|value| (key, value)));
        }
        Ok(resolved)
    }

    /// The entry of one missing key: loaded by `batch` or by another call, or, if the control
    /// plane is unavailable, the last known one.
    async fn lookup(
        &self,
        key: &str,
        batch: Shared<impl Future<Output = LoadResult<K::Value>>>,
        called: Epoch,
    ) -> Result<(Arc<Entry<K::Value>>, Answer), Error> {
        let mut loaded = self
            .fresh
            .try_get_with_by_ref(key, self.store(key, batch))
            .await;
        loop {
            match loaded {
                Ok(entry) if self.serves(key, &entry, called) => {
                    return Ok((entry, Answer::Loaded));
                }
                // Another call's load started before an invalidation that concerns this key and
                // stored its entry after it: load the key again, alone.
                Ok(_) => {
                    self.fresh.invalidate(key).await;
                    let reload = self.load_batch(vec![key.to_owned()]);
                    loaded = self
                        .fresh
                        .try_get_with_by_ref(key, self.store(key, reload))
                        .await;
                }
                Err(error) => {
                    return match self.last_known(key, &error, called).await {
                        Some(entry) => Ok((entry, Answer::Stale)),
                        None => Err(Error::clone(&error)),
                    };
                }
            }
        }
    }

    /// The initializer of a key's fresh entry, which also keeps it as the last known one.
    async fn store(
        &self,
        key: &str,
        batch: Shared<impl Future<Output = LoadResult<K::Value>>>,
    ) -> Result<Arc<Entry<K::Value>>, Error> {
        let entry = batch.await?.entry(key);
        if let Some(last_known) = &self.last_known {
            last_known.insert(key.to_owned(), Arc::clone(&entry)).await;
        }
        Ok(entry)
    }

    /// The entry to serve when loading `key` failed with `error`: the last known one, if the
    /// control plane is unavailable and the entry is within the stale-if-error bound and not
    /// invalidated.
    async fn last_known(
        &self,
        key: &str,
        error: &Error,
        called: Epoch,
    ) -> Option<Arc<Entry<K::Value>>> {
        if !matches!(error, Error::Unavailable { .. }) {
            return None;
        }
        let entry = self.last_known.as_ref()?.get(key).await?;
        self.serves(key, &entry, called).then_some(entry)
    }

    /// Whether `entry` may answer a call made in epoch `called`: not if an invalidation that
    /// concerns it came after its load started. An entry loaded after the call was made is
    /// served either way, as the invalidations after it are concurrent with the call.
    fn serves(&self, key: &str, entry: &Entry<K::Value>, called: Epoch) -> bool {
        entry.epoch >= called
            || !self.epochs.superseded(
                entry.epoch,
                K::environment(key),
                entry.value.as_deref().and_then(K::organization),
            )
    }

    /// One statement for `keys`, run when a lookup first awaits it.
    fn load_batch(
        &self,
        keys: Vec<String>,
    ) -> Shared<impl Future<Output = LoadResult<K::Value>> + Send + '_> {
        let span = tracing::debug_span!("control_plane.load", kind = K::NAME, keys = keys.len());
        async move {
            // Taken before the statement runs: an invalidation from here on may concern the rows
            // it reads.
            let epoch = self.epochs.current();
            let loaded_at = Instant::now();
            self.counters.load();
            let found = kind::load::<K>(&self.pool, &self.traced, &keys).await;
            self.counters.load_took(loaded_at.elapsed(), found.is_ok());
            let found = found?;
            Ok(Arc::new(Loaded {
                found: found
                    .into_iter()
                    .map(|(key, value)| (key, Arc::new(value)))
                    .collect(),
                loaded_at,
                epoch,
            }))
        }
        .instrument(span)
        .shared()
    }
}

/// Expires an entry a fixed time after its load started rather than after it was stored, so that
/// no entry outlives the horizon its invalidations are remembered for (see `Epochs`).
struct ExpireAfterLoad(Duration);

impl ExpireAfterLoad {
    fn remaining<V>(&self, entry: &Entry<V>, now: Instant) -> Duration {
        (entry.loaded_at + self.0).saturating_duration_since(now)
    }
}

impl<V> Expiry<String, Arc<Entry<V>>> for ExpireAfterLoad {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Arc<Entry<V>>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(self.remaining(entry, created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Arc<Entry<V>>,
        updated_at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.remaining(entry, updated_at))
    }
}
