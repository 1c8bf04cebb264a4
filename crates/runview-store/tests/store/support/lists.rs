//! List queries with no filter but what a test sets.

use runview_core::filter::{BatchFilter, BatchListQuery, RunFilter, RunListQuery};
use runview_core::page::{DEFAULT_SCAN_BUDGET, PageRequest, TimeWindow};

use super::{ENV, created_at, environment};

/// Every fixture's createdAt lies in this window.
fn whole_window() -> TimeWindow {
    TimeWindow {
        start: None,
        end: created_at(100_000),
    }
}

pub fn no_run_filter() -> RunFilter {
    RunFilter::any_in(whole_window())
}

/// The first `limit` runs of [`ENV`] that pass `filter`.
pub fn runs_query(filter: RunFilter, limit: usize) -> RunListQuery {
    RunListQuery {
        environment_id: environment(ENV),
        filter,
        page: PageRequest {
            cursor: None,
            limit,
        },
        scan_budget: DEFAULT_SCAN_BUDGET,
    }
}

pub fn no_batch_filter() -> BatchFilter {
    BatchFilter::any_in(whole_window())
}

/// The first `limit` batches of [`ENV`] that pass `filter`.
pub fn batches_query(filter: BatchFilter, limit: usize) -> BatchListQuery {
    BatchListQuery {
        environment_id: environment(ENV),
        filter,
        page: PageRequest {
            cursor: None,
            limit,
        },
        scan_budget: DEFAULT_SCAN_BUDGET,
    }
}
