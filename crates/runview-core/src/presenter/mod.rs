//! Presenters: one per RPC. Each runs one scalar-only primary query on the run-ops stores, then
//! hydrates control-plane fields in batches through the resolver, and returns a domain view.

mod get_batch;
mod get_run;
mod get_waitpoint;
mod hydration;
mod list_batches;
mod list_runs;
mod list_waitpoints;
mod paging;

pub use get_batch::{BatchDetail, BatchViewKind, GetBatch, GetBatchQuery};
pub use get_run::{GetRun, GetRunQuery, RelatedRunView, RunDetail, RunRelations, RunViewKind};
pub use get_waitpoint::{GetWaitpoint, GetWaitpointQuery, WaitpointView};
pub use list_batches::{BatchListItem, BatchListPage, ListBatches, ListBatchesQuery};
pub use list_runs::{ListRuns, ListRunsQuery, RunListItem};
pub use list_waitpoints::{ListWaitpoints, ListWaitpointsQuery, WaitpointListPage};
pub use paging::{DEFAULT_LIST_PERIOD, ListPage};
