//! Batch records ("BatchTaskRun"), their status, and the errors of their items
//! ("BatchTaskRunError").

use chrono::{DateTime, Utc};

use crate::ids::{BatchId, EnvironmentId};

/// "BatchTaskRunStatus".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum BatchStatus {
    Pending,
    Processing,
    Completed,
    PartialFailed,
    Aborted,
}

impl BatchStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Processing,
        Self::Completed,
        Self::PartialFailed,
        Self::Aborted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Completed => "COMPLETED",
            Self::PartialFailed => "PARTIAL_FAILED",
            Self::Aborted => "ABORTED",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == label)
    }

    /// A batch has finished once it is neither pending nor processing.
    pub fn has_finished(self) -> bool {
        !matches!(self, Self::Pending | Self::Processing)
    }
}

/// One "BatchTaskRun" row.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchRecord {
    pub id: BatchId,
    /// As stored (`batch_…`): the oldest batches have one that is not their internal id with a
    /// prefix, and callers know a batch by it.
    pub friendly_id: String,
    pub environment_id: String,
    pub status: BatchStatus,
    pub run_count: i32,
    pub batch_version: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl BatchRecord {
    /// completedAt whenever it is set, else updatedAt once finished.
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.completed_at
            .or_else(|| self.status.has_finished().then_some(self.updated_at))
    }
}

/// Look up one batch by the id its caller knows it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchLookup {
    pub environment_id: EnvironmentId,
    /// Matched against "friendlyId": the oldest batches have a friendly id that is not their
    /// internal id with a prefix.
    pub batch_id: BatchId,
    /// Read "runIds" too: it grows with the batch, so only callers that show it pay for it.
    pub include_run_ids: bool,
}

/// One "BatchTaskRun" row with every column GetBatch shows, and the errors of its items.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchDetailRecord {
    pub summary: BatchRecord,
    pub idempotency_key: Option<String>,
    pub processing_started_at: Option<DateTime<Utc>>,
    pub processing_completed_at: Option<DateTime<Utc>>,
    /// Friendly run ids in item order, as stored; empty when NULL or not asked for.
    pub run_ids: Vec<String>,
    /// Set when the new engine finished processing the batch; NULL on older batches.
    pub successful_run_count: Option<i32>,
    pub failed_run_count: Option<i32>,
    /// By item index.
    pub errors: Vec<BatchItemError>,
}

/// An item of a batch that could not be triggered ("BatchTaskRunError").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchItemError {
    pub id: String,
    /// The item's 0-based index in the batch.
    pub index: i32,
    pub task_identifier: String,
    pub error: String,
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_and_processing_batches_are_unfinished() {
        let finished: Vec<_> = BatchStatus::ALL
            .into_iter()
            .filter(|s| s.has_finished())
            .collect();
        assert_eq!(
            finished,
            [
                BatchStatus::Completed,
                BatchStatus::PartialFailed,
                BatchStatus::Aborted
            ]
        );
    }

    #[test]
    fn labels_round_trip() {
        for status in BatchStatus::ALL {
            assert_eq!(BatchStatus::from_label(status.as_str()), Some(status));
        }
    }

    #[test]
    fn finished_at_falls_back_to_updated_at_only_once_finished() {
        let now = Utc::now();
        let mut batch = BatchRecord {
            id: BatchId::from_stored("cbatch"),
            friendly_id: "batch_cbatch".into(),
            environment_id: "env".into(),
            status: BatchStatus::Processing,
            run_count: 2,
            batch_version: "v2".into(),
            created_at: now,
            updated_at: now,
            completed_at: None,
        };
        assert_eq!(batch.finished_at(), None);
        batch.status = BatchStatus::Aborted;
        assert_eq!(batch.finished_at(), Some(now));
        // A completion time is shown even while the status still says otherwise.
        let completed = now - chrono::TimeDelta::seconds(5);
        batch.status = BatchStatus::Processing;
        batch.completed_at = Some(completed);
        assert_eq!(batch.finished_at(), Some(completed));
    }
}
