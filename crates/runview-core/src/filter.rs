//! The filters list queries hand to the stores, already resolved: stored statuses, internal ids,
//! a concrete time window.

use crate::batch::BatchStatus;
use crate::ids::{BatchId, EnvironmentId};
use crate::page::{PageRequest, TimeWindow};
use crate::status::TaskRunStatus;

/// Every condition is ANDed; an empty list means "any".
#[derive(Clone, Debug, PartialEq)]
pub struct RunFilter {
    pub statuses: Vec<TaskRunStatus>,
    pub task_identifiers: Vec<String>,
    /// Matches taskVersion.
    pub versions: Vec<String>,
    /// Any of these tags.
    pub tags: Vec<String>,
    pub batch_id: Option<BatchId>,
    /// The internal "TaskSchedule".id.
    pub schedule_id: Option<String>,
    pub is_test: Option<bool>,
    pub window: TimeWindow,
    pub queues: Vec<String>,
    pub regions: Vec<String>,
    /// Matches machinePreset.
    pub machines: Vec<String>,
    /// Matches one of bulkActionGroupIds.
    pub bulk_action_id: Option<String>,
}

impl RunFilter {
    /// Every run created within `window`: no other condition.
    pub fn any_in(window: TimeWindow) -> Self {
        Self {
            statuses: Vec::new(),
            task_identifiers: Vec::new(),
            versions: Vec::new(),
            tags: Vec::new(),
            batch_id: None,
            schedule_id: None,
            is_test: None,
            window,
            queues: Vec::new(),
            regions: Vec::new(),
            machines: Vec::new(),
            bulk_action_id: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunListQuery {
    pub environment_id: EnvironmentId,
    pub filter: RunFilter,
    pub page: PageRequest,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchFilter {
    pub statuses: Vec<BatchStatus>,
    pub batch_id: Option<BatchId>,
    pub window: TimeWindow,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchListQuery {
    pub environment_id: EnvironmentId,
    pub filter: BatchFilter,
    pub page: PageRequest,
}
