//! The filters list queries hand to the stores, already resolved: stored statuses, internal ids,
//! a concrete time window.
//!
//! Each list keeps the attributes a request filters by unchanged in one struct
//! ([`RunAttributes`], [`BatchAttributes`], [`WaitpointAttributes`]): the edge fills it once, the presenter's query and
//! the store's filter embed it, and the page token's fingerprint serializes it whole, so a new
//! filter of that kind touches only the proto, its conversion and the store's SQL. What the
//! presenter resolves first (statuses, ids, the time window) stays beside it, once in the query
//! and once in the filter.

use serde::Serialize;

use crate::batch::BatchStatus;
use crate::ids::{BatchId, EnvironmentId, WaitpointId};
use crate::page::{PageRequest, TimeWindow};
use crate::status::TaskRunStatus;
use crate::waitpoint::WaitpointStatus;

/// The run attributes a list filters by, as the request gave them; an empty list means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunAttributes {
    pub task_identifiers: Vec<String>,
    /// Matches taskVersion.
    pub versions: Vec<String>,
    /// Any of these tags.
    pub tags: Vec<String>,
    pub batch_id: Option<BatchId>,
    pub is_test: Option<bool>,
    pub queues: Vec<String>,
    /// Matches the region a run displays.
    pub regions: Vec<String>,
    /// Matches machinePreset.
    pub machines: Vec<String>,
    /// Matches one of bulkActionGroupIds.
    pub bulk_action_id: Option<String>,
}

/// Every condition is ANDed; an empty list means "any".
#[derive(Clone, Debug, PartialEq)]
pub struct RunFilter {
    pub statuses: Vec<TaskRunStatus>,
    /// The internal "TaskSchedule".id.
    pub schedule_id: Option<String>,
    /// The internal "BatchTaskRun".id of the batch the request named by its friendly id.
    pub batch_id: Option<String>,
    pub window: TimeWindow,
    pub attributes: RunAttributes,
}

impl RunFilter {
    /// Every run created within `window`: no other condition.
    pub fn any_in(window: TimeWindow) -> Self {
        Self {
            statuses: Vec::new(),
            schedule_id: None,
            batch_id: None,
            window,
            attributes: RunAttributes::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunListQuery {
    pub environment_id: EnvironmentId,
    pub filter: RunFilter,
    pub page: PageRequest,
    /// The most rows each store reads for one filtered page; see [`WaitpointListQuery`].
    pub scan_budget: usize,
}

/// The batch attributes a list filters by, as the request gave them; an empty list means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BatchAttributes {
    pub statuses: Vec<BatchStatus>,
    pub batch_id: Option<BatchId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchFilter {
    pub window: TimeWindow,
    pub attributes: BatchAttributes,
}

impl BatchFilter {
    /// Every batch created within `window`: no other condition.
    pub fn any_in(window: TimeWindow) -> Self {
        Self {
            window,
            attributes: BatchAttributes::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchListQuery {
    pub environment_id: EnvironmentId,
    pub filter: BatchFilter,
    pub page: PageRequest,
    /// The most rows each store reads for one filtered page; see [`WaitpointListQuery`].
    pub scan_budget: usize,
}

/// The token attributes a list filters by, as the request gave them; an empty list means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WaitpointAttributes {
    /// Any of these tags.
    pub tags: Vec<String>,
    /// Matches the current or the inactive idempotency key.
    pub idempotency_key: Option<String>,
    pub waitpoint_id: Option<WaitpointId>,
}

/// Waitpoint tokens (MANUAL waitpoints) only; every condition is ANDed.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitpointFilter {
    /// The statuses a token shows, from [`crate::waitpoint::matched_token_statuses`]; empty
    /// means any.
    pub statuses: Vec<WaitpointStatus>,
    pub window: TimeWindow,
    pub attributes: WaitpointAttributes,
}

/// Tokens are ordered by id alone; the page's cursor positions compare their id.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitpointListQuery {
    pub environment_id: EnvironmentId,
    pub filter: WaitpointFilter,
    pub page: PageRequest,
    /// The most rows each store examines for one page beyond the conditions an index serves
    /// (environment, window, cursor, id); a scan that reaches it stops early.
    pub scan_budget: usize,
}
