//! Which cached entries the invalidations have superseded.
//!
//! Every invalidation takes the next epoch, and every load remembers the epoch it started in. An
//! entry is superseded when an invalidation that concerns it took a later epoch than its load.
//! Checking that on read, rather than only removing entries, also covers the load that was in
//! flight when the invalidation came: it read the rows before and stores its entries after.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::InvalidationScope;

/// A count of invalidations: the epoch an invalidation took, or the one a load started in.
pub(crate) type Epoch = u64;

pub(crate) struct Epochs {
    /// How long after its load started an entry can still be served. A scoped invalidation older
    /// than that supersedes nothing that could be served, so it is forgotten.
    horizon: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Epoch,
    /// The epoch of the last invalidation of everything.
    all: Epoch,
    /// The epoch of the last invalidation of each environment and organization since then.
    environments: HashMap<String, Epoch>,
    organizations: HashMap<String, Epoch>,
    /// The scoped invalidations in the order they came, to forget them in that order.
    scoped: VecDeque<(Instant, Epoch, InvalidationScope)>,
}

impl Epochs {
    pub(crate) fn new(horizon: Duration) -> Self {
        Self {
            horizon,
            state: Mutex::default(),
        }
    }

    pub(crate) fn current(&self) -> Epoch {
        self.lock().current
    }

    pub(crate) fn record(&self, scope: &InvalidationScope) {
        let mut state = self.lock();
        state.current += 1;
        let epoch = state.current;
        match state.epochs_of(scope) {
            Some((epochs, id)) => {
                epochs.insert(id.to_owned(), epoch);
                state
                    .scoped
                    .push_back((Instant::now(), epoch, scope.clone()));
            }
            // Everything older is superseded by this one.
            None => {
                state.all = epoch;
                state.environments.clear();
                state.organizations.clear();
                state.scoped.clear();
            }
        }
        state.forget_older_than(self.horizon);
    }

    /// Whether an invalidation after epoch `loaded` concerns everything, `environment` or
    /// `organization`: an entry of theirs loaded in that epoch is superseded.
    pub(crate) fn superseded(
        &self,
        loaded: Epoch,
        environment: Option<&str>,
        organization: Option<&str>,
    ) -> bool {
        let state = self.lock();
        let after_load = |epochs: &HashMap<String, Epoch>, id: Option<&str>| {
            id.and_then(|id| epochs.get(id))
                .is_some_and(|&epoch| epoch > loaded)
        };
        state.all > loaded
            || after_load(&state.environments, environment)
            || after_load(&state.organizations, organization)
    }

    /// Nothing panics while holding the lock, so a poisoned state is still consistent.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The epochs a scoped invalidation is kept in, and its id; `None` for everything.
    fn epochs_of<'a>(
        &'a mut self,
        scope: &'a InvalidationScope,
    ) -> Option<(&'a mut HashMap<String, Epoch>, &'a str)> {
        match scope {
            InvalidationScope::Environment(id) => Some((&mut self.environments, id)),
            InvalidationScope::Organization(id) => Some((&mut self.organizations, id)),
            InvalidationScope::All => None,
        }
    }

    fn forget_older_than(&mut self, horizon: Duration) {
        while let Some((at, _, _)) = self.scoped.front()
            && at.elapsed() > horizon
        {
            let Some((_, epoch, scope)) = self.scoped.pop_front() else {
                break;
            };
            // A later invalidation of the same id has its own place in the queue.
            if let Some((epochs, id)) = self.epochs_of(&scope)
                && epochs.get(id) == Some(&epoch)
            {
                epochs.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    fn environment(id: &str) -> InvalidationScope {
        InvalidationScope::Environment(id.to_owned())
    }

    #[test]
    fn an_invalidation_supersedes_only_the_loads_that_started_before_it() {
        let epochs = Epochs::new(LONG);
        let before = epochs.current();
        epochs.record(&environment("env_1"));
        let after = epochs.current();

        assert!(epochs.superseded(before, Some("env_1"), None));
        assert!(!epochs.superseded(after, Some("env_1"), None));
        assert!(!epochs.superseded(before, Some("env_2"), None));
        assert!(!epochs.superseded(before, None, None));
    }

    #[test]
    fn an_organization_supersedes_the_entries_that_belong_to_it() {
        let epochs = Epochs::new(LONG);
        let before = epochs.current();
        epochs.record(&InvalidationScope::Organization("org_1".to_owned()));

        assert!(epochs.superseded(before, Some("env_1"), Some("org_1")));
        assert!(!epochs.superseded(before, Some("env_2"), Some("org_2")));
    }

    #[test]
    fn everything_supersedes_every_entry_loaded_before_it() {
        let epochs = Epochs::new(LONG);
        epochs.record(&environment("env_1"));
        let between = epochs.current();
        epochs.record(&InvalidationScope::All);

        assert!(epochs.superseded(between, None, None));
        assert!(!epochs.superseded(epochs.current(), Some("env_1"), None));
    }

    #[test]
    fn scoped_invalidations_are_forgotten_past_the_horizon() {
        let epochs = Epochs::new(Duration::ZERO);
        let before = epochs.current();
        epochs.record(&environment("env_1"));
        std::thread::sleep(Duration::from_millis(1));
        // Recording is what forgets the records past the horizon.
        epochs.record(&environment("env_2"));

        assert!(!epochs.superseded(before, Some("env_1"), None));
    }
}
