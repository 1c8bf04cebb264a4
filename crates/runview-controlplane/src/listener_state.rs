//! Whether the invalidation listener hears the notices, for readiness: a replica whose cache
//! cannot be invalidated keeps serving entries the other replicas have already dropped.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Where the invalidation listener stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListenerState {
    /// LISTEN has not been established since the start.
    Connecting,
    /// LISTEN is in place, and after an outage the cache was flushed of what it may have missed.
    Listening,
    /// The LISTEN connection was lost at `since` and is not back yet.
    Down { since: Instant },
}

impl ListenerState {
    /// Whether the cache can be trusted at `now`. An outage is tolerated for less than `tolerance`, as a
    /// failed readiness check is: the listener flushes the cache when it is back, so a blip costs
    /// nothing; beyond it, the replica serves what it cannot know was invalidated.
    pub fn trusted(self, now: Instant, tolerance: Duration) -> bool {
        match self {
            Self::Connecting => false,
            Self::Listening => true,
            Self::Down { since } => now.saturating_duration_since(since) < tolerance,
        }
    }
}

/// Follows the listener's state: what readiness asks of it.
pub struct ListenerWatch {
    state: watch::Receiver<ListenerState>,
    tolerance: Duration,
}

impl ListenerWatch {
    pub(crate) fn new(state: watch::Receiver<ListenerState>, tolerance: Duration) -> Self {
        Self { state, tolerance }
    }

    /// Whether the cache can be trusted now (see [`ListenerState::trusted`]).
    pub fn trusted(&self) -> bool {
        self.state.borrow().trusted(Instant::now(), self.tolerance)
    }

    /// Returns when [`Self::trusted`] may have changed: the state changed, or an outage outlasted
    /// the tolerance. Cancel-safe.
    pub async fn changed(&mut self) {
        let now = Instant::now();
        // When a tolerated outage stops being tolerated; none once it has.
        let expiry = match *self.state.borrow() {
            ListenerState::Down { since } => Some(since + self.tolerance).filter(|at| *at > now),
            ListenerState::Connecting | ListenerState::Listening => None,
        };
        let expired = async {
            match expiry {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = self.state.changed() => {
                // The resolver holds the sender: once it is gone nothing changes any more.
                if changed.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            () = expired => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: Duration = Duration::from_secs(1);

    #[test]
    fn the_cache_is_trusted_only_once_listening_and_through_an_outage_shorter_than_the_tolerance() {
        let now = Instant::now();
        assert!(!ListenerState::Connecting.trusted(now, TOLERANCE));
        assert!(ListenerState::Listening.trusted(now, TOLERANCE));
        let down = |ago| ListenerState::Down { since: now - ago };
        assert!(down(Duration::ZERO).trusted(now, TOLERANCE));
        assert!(down(TOLERANCE - Duration::from_millis(1)).trusted(now, TOLERANCE));
        assert!(!down(TOLERANCE).trusted(now, TOLERANCE));
        assert!(!down(TOLERANCE * 2).trusted(now, TOLERANCE));
    }

    #[tokio::test]
    async fn the_watch_wakes_on_a_change_and_when_an_outage_outlasts_the_tolerance() {
        let (sender, receiver) = watch::channel(ListenerState::Connecting);
        let mut watch = ListenerWatch::new(receiver, Duration::from_millis(50));
        assert!(!watch.trusted());
        sender.send_replace(ListenerState::Listening);
        watch.changed().await;
        assert!(watch.trusted());
        sender.send_replace(ListenerState::Down {
            since: Instant::now(),
        });
        watch.changed().await;
        // Woken by the change, or by the expiry if this thread was slow: either way the state
        // is now an outage, and the next wake-up is its expiry at the latest.
        if watch.trusted() {
            watch.changed().await;
        }
        assert!(!watch.trusted(), "an outage past the tolerance");
    }
}
