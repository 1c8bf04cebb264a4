//! The ports presenters depend on. The store crate implements [`RunOpsStores`]; the control-plane
//! crate implements [`ControlPlane`]. Both use native async traits with `Send` futures so
//! presenters stay generic and free of boxing on the hot path.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::batch::{BatchDetailRecord, BatchLookup, BatchRecord};
use crate::control_plane::{Environment, Schedule, WorkerVersion};
use crate::error::Result;
use crate::filter::{BatchListQuery, RunListQuery, WaitpointListQuery};
use crate::ids::{BatchId, EnvironmentId, RunId, WaitpointId};
use crate::page::Scan;
use crate::run::{RunGraph, RunRecord};
use crate::status::TaskRunStatus;
use crate::waitpoint::WaitpointRecord;

/// Look up one run and its relations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLookup {
    pub environment_id: EnvironmentId,
    pub run_id: RunId,
    /// Read payload and output bodies too.
    pub include_bodies: bool,
    /// Children beyond this many are cut and flagged as truncated.
    pub children_limit: u32,
}

/// The run-ops store(s): one in passthrough mode, LEGACY and NEW in split mode. Routing by id shape
/// and fallback to the other store are the implementation's business.
pub trait RunOpsStores: Send + Sync + 'static {
    /// The run scoped to its environment, or `None` when no store holds it there.
    fn find_run(&self, lookup: &RunLookup)
    -> impl Future<Output = Result<Option<RunGraph>>> + Send;

    /// One keyset page of runs from every store, merged by (createdAt, id), deduplicated by id
    /// (NEW wins), at most `page.limit` rows in scan order: newest first going forward, oldest
    /// first going backward. Payload and output bodies are not read. A filtered scan that
    /// spends its budget stops early, and says where.
    fn list_runs(
        &self,
        query: &RunListQuery,
    ) -> impl Future<Output = Result<Scan<RunRecord>>> + Send;

    /// The waitpoint scoped to its environment (id-shape store first, then the other), with at
    /// most five connected run ids gathered from every store.
    fn find_waitpoint(
        &self,
        environment_id: &EnvironmentId,
        waitpoint_id: &WaitpointId,
    ) -> impl Future<Output = Result<Option<WaitpointRecord>>> + Send;

    /// One page of waitpoint tokens from every store, merged by id, deduplicated (NEW wins), in
    /// scan order (highest id first going forward), output and connected runs left out. A store
    /// that spends its scan budget stops early, and the scan says where.
    fn list_waitpoints(
        &self,
        query: &WaitpointListQuery,
    ) -> impl Future<Output = Result<Scan<WaitpointRecord>>> + Send;

    /// Whether the environment has any waitpoint token in any store; fails if any store fails.
    fn has_any_tokens(
        &self,
        environment_id: &EnvironmentId,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// As [`RunOpsStores::list_runs`], for batches.
    fn list_batches(
        &self,
        query: &BatchListQuery,
    ) -> impl Future<Output = Result<Scan<BatchRecord>>> + Send;

    /// Whether the environment has any batch in any store; fails if any store fails.
    fn has_any_batches(
        &self,
        environment_id: &EnvironmentId,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The batch scoped to its environment with its item errors, from every store at once (NEW
    /// winning a batch both hold), then from the primaries when every replica missed; `None` when
    /// no store holds it there. Fails if any store that was asked fails.
    fn find_batch(
        &self,
        lookup: &BatchLookup,
    ) -> impl Future<Output = Result<Option<BatchDetailRecord>>> + Send;

    /// Run counts by status of each batch, summed over every store (one statement per store);
    /// fails if any store fails, so a partial count is never returned.
    fn count_batch_runs(
        &self,
        environment_id: &EnvironmentId,
        batch_ids: &[BatchId],
    ) -> impl Future<Output = Result<BatchRunCounts>> + Send;
}

/// Per batch, its runs' counts by stored status.
pub type BatchRunCounts = HashMap<BatchId, HashMap<TaskRunStatus, i64>>;

/// Resolved records by key; a key that is absent from the map does not exist.
pub type Resolved<V> = HashMap<String, Arc<V>>;

/// The cached control-plane resolver. Each call takes the distinct keys of one page and loads the
/// misses of its kind in one query.
pub trait ControlPlane: Send + Sync + 'static {
    fn environments(
        &self,
        ids: Vec<String>,
    ) -> impl Future<Output = Result<Resolved<Environment>>> + Send;

    fn worker_versions(
        &self,
        ids: Vec<String>,
    ) -> impl Future<Output = Result<Resolved<WorkerVersion>>> + Send;

    fn schedules(
        &self,
        ids: Vec<String>,
    ) -> impl Future<Output = Result<Resolved<Schedule>>> + Send;

    /// Schedule ids by friendly id (`sched_…`); unknown friendly ids are absent.
    fn schedule_ids(
        &self,
        friendly_ids: Vec<String>,
    ) -> impl Future<Output = Result<Resolved<String>>> + Send;
}
