//! Which run-ops stores there are, which one answers a lookup by id, and how the answers of every
//! store become one.

use std::future::Future;

use runview_core::Result;
use runview_core::batch::BatchRecord;
use runview_core::filter::{BatchListQuery, RunListQuery};
use runview_core::ids::{BatchId, EnvironmentId, Residency, WaitpointId};
use runview_core::ports::{BatchRunCounts, RunLookup, RunOpsStores};
use runview_core::run::{RunGraph, RunRecord};
use runview_core::waitpoint::WaitpointRecord;

use crate::batches::add_batch_run_counts;
use crate::keyset::merge;
use crate::list_runs::ListedRun;
use crate::store::PgRunStore;
use crate::telemetry::{LookupOutcome, count_lookup};
use crate::waitpoint::add_connected_runs;

/// The run-ops stores: one database in passthrough mode, LEGACY and NEW in split mode.
#[derive(Clone, Debug)]
pub enum RunOpsTopology {
    Passthrough(PgRunStore),
    Split { legacy: PgRunStore, new: PgRunStore },
}

/// What every store answered: LEGACY's (the one store's in passthrough mode), then NEW's.
struct EveryStore<T> {
    legacy: T,
    new: Option<T>,
}

impl<T> EveryStore<T> {
    fn combine(self, legacy_and_new: impl FnOnce(T, T) -> T) -> T {
        match self.new {
            Some(new) => legacy_and_new(self.legacy, new),
            None => self.legacy,
        }
    }
}

impl RunOpsTopology {
    /// Every store, for readiness checks and pool metrics.
    pub fn stores(&self) -> Vec<&PgRunStore> {
        match self {
            Self::Passthrough(store) => vec![store],
            Self::Split { legacy, new } => vec![legacy, new],
        }
    }

    /// The store an id's shape points at, then the store to ask when it misses there (split mode
    /// only). Asking the other store on a miss means a misclassified id is never lost.
    fn home_then_other(&self, home: Residency) -> (&PgRunStore, Option<&PgRunStore>) {
        match (self, home) {
            (Self::Passthrough(store), _) => (store, None),
            (Self::Split { legacy, new }, Residency::Legacy) => (legacy, Some(new)),
            (Self::Split { legacy, new }, Residency::New) => (new, Some(legacy)),
        }
    }

    /// `find(holder, other)` in the id's home store, then in the other store on a miss. `other`
    /// is the store `find` is not looking in, for what lives beside the record there. A failure
    /// of a store that has to be asked is the answer: a miss is only reported when every store
    /// that may hold the record said so.
    async fn look_up<'s, T, F, Fut>(
        &'s self,
        record: &'static str,
        home: Residency,
        find: F,
    ) -> Result<Option<T>>
    where
        F: Fn(&'s PgRunStore, Option<&'s PgRunStore>) -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let (home, other) = self.home_then_other(home);
        let label = home.residency();
        if let Some(found) = find(home, other).await? {
            count_lookup(record, label, LookupOutcome::HomeHit);
            return Ok(Some(found));
        }
        let Some(other) = other else {
            count_lookup(record, label, LookupOutcome::Miss);
            return Ok(None);
        };
        tracing::debug!(
            record,
            home = label.as_str(),
            "not found in its id-shape store, asking the other"
        );
        let found = find(other, Some(home)).await?;
        let outcome = match found {
            Some(_) => LookupOutcome::FallbackHit,
            None => LookupOutcome::Miss,
        };
        count_lookup(record, label, outcome);
        Ok(found)
    }

    /// `read` on every store at once. One failure fails the whole read, so no answer is ever put
    /// together from part of the stores.
    async fn read_every_store<'s, T, F, Fut>(&'s self, read: F) -> Result<EveryStore<T>>
    where
        F: Fn(&'s PgRunStore) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match self {
            Self::Passthrough(store) => Ok(EveryStore {
                legacy: read(store).await?,
                new: None,
            }),
            Self::Split { legacy, new } => {
                let (legacy, new) = futures::try_join!(read(legacy), read(new))?;
                Ok(EveryStore {
                    legacy,
                    new: Some(new),
                })
            }
        }
    }
}

impl RunOpsStores for RunOpsTopology {
    async fn find_run(&self, lookup: &RunLookup) -> Result<Option<RunGraph>> {
        let home = lookup.run_id.residency();
        // A run's tree lives in one store: nothing is read beside it.
        self.look_up("run", home, |store, _| store.find_run(lookup))
            .await
    }

    async fn list_runs(&self, query: &RunListQuery) -> Result<Vec<RunRecord>> {
        let pages = self
            .read_every_store(|store| store.list_runs(query))
            .await?;
        pages
            .combine(|legacy, new| merge(legacy, new, &query.page))
            .into_iter()
            .map(ListedRun::decode)
            .collect()
    }

    /// The connections of a waitpoint live with the runs they connect, so the store that does
    /// not hold the waitpoint is read for them at the same time as the lookup.
    async fn find_waitpoint(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> Result<Option<WaitpointRecord>> {
        let home = waitpoint_id.residency();
        self.look_up("waitpoint", home, |holder, other| async move {
            let Some(other) = other else {
                return holder.find_waitpoint(environment_id, waitpoint_id).await;
            };
            let (found, more_runs) = futures::try_join!(
                holder.find_waitpoint(environment_id, waitpoint_id),
                other.connected_run_ids(environment_id, waitpoint_id),
            )?;
            Ok(found.map(|mut waitpoint| {
                add_connected_runs(&mut waitpoint, more_runs);
                waitpoint
            }))
        })
        .await
    }

    async fn list_batches(&self, query: &BatchListQuery) -> Result<Vec<BatchRecord>> {
        let pages = self
            .read_every_store(|store| store.list_batches(query))
            .await?;
        Ok(pages.combine(|legacy, new| merge(legacy, new, &query.page)))
    }

    async fn has_any_batches(&self, environment_id: &EnvironmentId) -> Result<bool> {
        let answers = self
            .read_every_store(|store| store.has_any_batches(environment_id))
            .await?;
        Ok(answers.combine(|legacy, new| legacy || new))
    }

    async fn count_batch_runs(
        &self,
        environment_id: &EnvironmentId,
        batch_ids: &[BatchId],
    ) -> Result<BatchRunCounts> {
        if batch_ids.is_empty() {
            return Ok(BatchRunCounts::new());
        }
        let counts = self
            .read_every_store(|store| store.count_batch_runs(environment_id, batch_ids))
            .await?;
        Ok(counts.combine(|mut total, more| {
            add_batch_run_counts(&mut total, more);
            total
        }))
    }
}
