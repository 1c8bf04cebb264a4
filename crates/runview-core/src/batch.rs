//! Batch records ("BatchTaskRun") and their status.

use chrono::{DateTime, Utc};

use crate::ids::BatchId;

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
