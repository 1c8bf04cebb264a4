//! Which run-ops stores there are, which one answers a lookup by id, and how the answers of every
//! store become one.

use std::future::Future;

use runview_core::Result;
use runview_core::batch::{BatchDetailRecord, BatchLookup, BatchRecord};
use runview_core::filter::{BatchListQuery, RunListQuery, WaitpointListQuery};
use runview_core::ids::{BatchId, EnvironmentId, Residency, WaitpointId};
use runview_core::page::Scan;
use runview_core::ports::{BatchRunCounts, RunLookup, RunOpsStores};
use runview_core::run::{RunGraph, RunRecord};
use runview_core::waitpoint::WaitpointRecord;

use crate::batches::add_batch_run_counts;
use crate::list_runs::ListedRun;
use crate::merge::{Order, merge_scans};
use crate::store::PgRunStore;
use crate::telemetry::{LookupOutcome, count_lookup, count_primary_lookup};

/// The run-ops stores: one database in passthrough mode, LEGACY and NEW in split mode, and the
/// primaries to ask when a lookup misses on every replica.
#[derive(Clone, Debug)]
pub struct RunOpsTopology {
    replicas: Replicas,
    primaries: Primaries,
}

#[derive(Clone, Debug)]
enum Replicas {
    Passthrough(PgRunStore),
    Split { legacy: PgRunStore, new: PgRunStore },
}

/// Replicas lag their primaries: a record written a moment ago may be on the primary only. The
/// upstream re-reads the owning primary on a miss; runview does the same when told where it is.
#[derive(Clone, Debug, Default)]
struct Primaries {
    legacy: Option<PgRunStore>,
    new: Option<PgRunStore>,
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
    /// One database holds every run-ops record.
    pub fn passthrough(store: PgRunStore) -> Self {
        Self {
            replicas: Replicas::Passthrough(store),
            primaries: Primaries::default(),
        }
    }

    /// LEGACY and NEW, two distinct databases.
    pub fn split(legacy: PgRunStore, new: PgRunStore) -> Self {
        Self {
            replicas: Replicas::Split { legacy, new },
            primaries: Primaries::default(),
        }
    }

    /// Asks these primaries (made with [`PgRunStore::primary`]) before a lookup answers "not
    /// found".
    pub fn with_primaries(mut self, legacy: Option<PgRunStore>, new: Option<PgRunStore>) -> Self {
        self.primaries = Primaries { legacy, new };
        self
    }

    pub fn is_split(&self) -> bool {
        matches!(self.replicas, Replicas::Split { .. })
    }

    /// Every store, for readiness checks and pool metrics.
    pub fn stores(&self) -> Vec<&PgRunStore> {
        match &self.replicas {
            Replicas::Passthrough(store) => vec![store],
            Replicas::Split { legacy, new } => vec![legacy, new],
        }
    }

    /// The primaries configured, for the boot check and pool metrics.
    pub fn primaries(&self) -> Vec<&PgRunStore> {
        self.primaries
            .legacy
            .iter()
            .chain(&self.primaries.new)
            .collect()
    }

    /// The store an id's shape points at, then the store to ask when it misses there (split mode
    /// only). Asking the other store on a miss means a misclassified id is never lost.
    fn home_then_other(&self, home: Residency) -> (&PgRunStore, Option<&PgRunStore>) {
        match (&self.replicas, home) {
            (Replicas::Passthrough(store), _) => (store, None),
            (Replicas::Split { legacy, new }, Residency::Legacy) => (legacy, Some(new)),
            (Replicas::Split { legacy, new }, Residency::New) => (new, Some(legacy)),
        }
    }

    /// The primaries to ask after a miss, the id's home store's first, each with the replica of
    /// the other store (for what lives beside the record there).
    fn primaries_after_a_miss(
        &self,
        home: Residency,
    ) -> impl Iterator<Item = (&PgRunStore, Option<&PgRunStore>)> {
        let (legacy, new) = (self.primaries.legacy.as_ref(), self.primaries.new.as_ref());
        let in_order = match home {
            Residency::Legacy => [legacy, new],
            Residency::New => [new, legacy],
        };
        in_order.into_iter().flatten().map(|primary| {
            let (_, beside) = self.home_then_other(primary.residency());
            (primary, beside)
        })
    }

    /// `find(holder, other)` in the id's home store, then in the other store on a miss, then in
    /// the primaries. `other` is the store `find` is not looking in, for what lives beside the
    /// record there. A failure of a store that has to be asked is the answer: a miss is only
    /// reported when every store that may hold the record said so.
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
        if let Some(found) = self.look_up_in_replicas(record, home, &find).await? {
            return Ok(Some(found));
        }
        self.look_up_in_primaries(record, home, find).await
    }

    /// `find(primary, beside)` in each configured primary, the id's home store's first, after
    /// every replica missed. Each answer is counted in the primary-lookup metric.
    async fn look_up_in_primaries<'s, T, F, Fut>(
        &'s self,
        record: &'static str,
        home: Residency,
        find: F,
    ) -> Result<Option<T>>
    where
        F: Fn(&'s PgRunStore, Option<&'s PgRunStore>) -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let mut asked = false;
        for (primary, beside) in self.primaries_after_a_miss(home) {
            asked = true;
            if let Some(found) = find(primary, beside).await? {
                count_primary_lookup(record, primary.residency(), true);
                return Ok(Some(found));
            }
        }
        if asked {
            count_primary_lookup(record, home, false);
        }
        Ok(None)
    }

    async fn look_up_in_replicas<'s, T, F, Fut>(
        &'s self,
        record: &'static str,
        home: Residency,
        find: &F,
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
        match &self.replicas {
            Replicas::Passthrough(store) => Ok(EveryStore {
                legacy: read(store).await?,
                new: None,
            }),
            Replicas::Split { legacy, new } => {
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

    async fn list_runs(&self, query: &RunListQuery) -> Result<Scan<RunRecord>> {
        let scans = self
            .read_every_store(|store| store.list_runs(query))
            .await?;
        let scan = scans
            .combine(|legacy, new| merge_scans(legacy, new, &query.page, Order::CreatedAtThenId));
        Ok(Scan {
            rows: scan
                .rows
                .into_iter()
                .map(ListedRun::decode)
                .collect::<Result<_>>()?,
            stopped_at: scan.stopped_at,
        })
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
                other.connected_runs(environment_id, waitpoint_id),
            )?;
            Ok(found.map(|mut waitpoint| {
                waitpoint.add_connected_runs(more_runs);
                waitpoint
            }))
        })
        .await
    }

    /// Token ids say nothing of their store, so every store is read.
    async fn list_waitpoints(&self, query: &WaitpointListQuery) -> Result<Scan<WaitpointRecord>> {
        let scans = self
            .read_every_store(|store| store.list_waitpoints(query))
            .await?;
        Ok(scans.combine(|legacy, new| merge_scans(legacy, new, &query.page, Order::Id)))
    }

    async fn has_any_tokens(&self, environment_id: &EnvironmentId) -> Result<bool> {
        let answers = self
            .read_every_store(|store| store.has_any_tokens(environment_id))
            .await?;
        Ok(answers.combine(|legacy, new| legacy || new))
    }

    async fn list_batches(&self, query: &BatchListQuery) -> Result<Scan<BatchRecord>> {
        let scans = self
            .read_every_store(|store| store.list_batches(query))
            .await?;
        Ok(scans
            .combine(|legacy, new| merge_scans(legacy, new, &query.page, Order::CreatedAtThenId)))
    }

    async fn has_any_batches(&self, environment_id: &EnvironmentId) -> Result<bool> {
        let answers = self
            .read_every_store(|store| store.has_any_batches(environment_id))
            .await?;
        Ok(answers.combine(|legacy, new| legacy || new))
    }

    /// A batch's id shape does not say where it lives (cuid batches are written to NEW too), so
    /// every store is asked at once; the errors come from the store that holds the batch.
    async fn find_batch(&self, lookup: &BatchLookup) -> Result<Option<BatchDetailRecord>> {
        let answers = self
            .read_every_store(|store| store.find_batch(lookup))
            .await?;
        if let Some(found) = answers.combine(|legacy, new| new.or(legacy)) {
            return Ok(Some(found));
        }
        let home = lookup.batch_id.residency();
        self.look_up_in_primaries("batch", home, |primary, _| primary.find_batch(lookup))
            .await
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
