//! What the resolver counts: a snapshot per kind for [`crate::ControlPlaneResolver::stats`], and
//! the same events as metrics. Labels name kinds, scopes and reasons, never an id.

use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Counter, counter, histogram};

use crate::InvalidationScope;

/// How often a cache answered from memory and how often it asked the control plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindStats {
    /// Distinct keys answered from the cache (absent records included).
    pub hits: u64,
    /// Distinct keys that had to be loaded (or waited for while another call loaded them),
    /// unless answered stale.
    pub misses: u64,
    /// Distinct keys answered with an expired entry because loading them again failed: the
    /// control plane was unavailable.
    pub stale: u64,
    /// Statements issued to the control plane.
    pub loads: u64,
}

/// One kind's tallies. They order nothing else, hence relaxed atomics.
pub(crate) struct Counters {
    kind: &'static str,
    hits: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
    loads: AtomicU64,
}

impl Counters {
    pub(crate) fn new(kind: &'static str) -> Self {
        // From zero, for the same reason as the listener's: stale answers are paged on.
        for result in ["hit", "miss", "stale"] {
            lookups_counter(kind, result).increment(0);
        }
        Self {
            kind,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            loads: AtomicU64::new(0),
        }
    }

    pub(crate) fn snapshot(&self) -> KindStats {
        KindStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
            loads: self.loads.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn hits(&self, keys: u64) {
        self.lookups(&self.hits, "hit", keys);
    }

    pub(crate) fn misses(&self, keys: u64) {
        self.lookups(&self.misses, "miss", keys);
    }

    pub(crate) fn stale(&self, keys: u64) {
        self.lookups(&self.stale, "stale", keys);
    }

    pub(crate) fn load(&self) {
        self.loads.fetch_add(1, Ordering::Relaxed);
        counter!("runview_control_plane_loads_total", "kind" => self.kind).increment(1);
    }

    /// How long one load statement took, whether it answered or failed: a slow control plane
    /// shows here before it shows in request latency.
    pub(crate) fn load_took(&self, took: std::time::Duration, answered: bool) {
        histogram!(
            "runview_control_plane_load_duration_seconds",
            "kind" => self.kind,
            "outcome" => if answered { "ok" } else { "error" },
        )
        .record(took.as_secs_f64());
    }

    fn lookups(&self, tally: &AtomicU64, result: &'static str, keys: u64) {
        if keys == 0 {
            return;
        }
        tally.fetch_add(keys, Ordering::Relaxed);
        lookups_counter(self.kind, result).increment(keys);
    }
}

fn lookups_counter(kind: &'static str, result: &'static str) -> Counter {
    counter!(
        "runview_control_plane_cache_total",
        "kind" => kind,
        "result" => result
    )
}

/// Where an applied invalidation came from.
#[derive(Clone, Copy)]
pub(crate) enum Origin {
    /// Asked of this replica.
    Local,
    /// Heard on the notification channel, from any replica (this one included) or a trigger.
    Received,
}

pub(crate) fn invalidation(scope: &InvalidationScope, origin: Origin) {
    let origin = match origin {
        Origin::Local => "local",
        Origin::Received => "received",
    };
    counter!(
        "runview_control_plane_invalidations_total",
        "scope" => scope.label(),
        "origin" => origin
    )
    .increment(1);
}

/// The listener's counters from zero, before anything happened: a series that appears only with
/// its first event hides that event from `increase()`, and so from the alerts.
pub(crate) fn listener_started() {
    listener_reconnects().increment(0);
    listener_flushes().increment(0);
}

/// The whole cache was dropped because the listener may have missed notifications.
pub(crate) fn listener_flush() {
    listener_flushes().increment(1);
}

pub(crate) fn listener_reconnect() {
    listener_reconnects().increment(1);
}

fn listener_flushes() -> Counter {
    counter!(
        "runview_control_plane_cache_flushes_total",
        "reason" => "listener_reconnect"
    )
}

fn listener_reconnects() -> Counter {
    counter!("runview_control_plane_listener_reconnects_total")
}
