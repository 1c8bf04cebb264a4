//! Run records as the run-ops stores hold them (scalar columns only) and the rules derived from them.

use chrono::{DateTime, Utc};

use crate::ids::{BatchId, Residency, RunId};
use crate::packet::Packet;
use crate::run_error::{RunError, api_error};
use crate::status::TaskRunStatus;

/// "RunEngineVersion": which engine ran the run, which decides how its attempts are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEngine {
    V1,
    V2,
}

impl RunEngine {
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            "V1" => Some(Self::V1),
            "V2" => Some(Self::V2),
            _ => None,
        }
    }
}

/// One "TaskRun" row: only its own columns; control-plane references are bare ids to hydrate.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub id: RunId,
    pub status: TaskRunStatus,
    pub engine: RunEngine,
    pub task_identifier: String,
    pub environment_id: String,
    pub project_id: String,
    pub idempotency_key: Option<String>,
    /// The user's own key from idempotencyKeyOptions, when the options hold a valid key and
    /// scope.
    pub user_idempotency_key: Option<String>,
    pub is_test: bool,
    /// Only read for the full view.
    pub payload: Option<Packet>,
    /// Only read for the full view.
    pub output: Option<Packet>,
    pub metadata: Option<Packet>,
    /// The stored error JSON; only read where it is shown.
    pub error: Option<serde_json::Value>,
    pub worker_queue: String,
    pub region: Option<String>,
    pub task_version: Option<String>,
    pub locked_at: Option<DateTime<Utc>>,
    pub locked_to_version_id: Option<String>,
    pub schedule_id: Option<String>,
    pub batch_id: Option<BatchId>,
    pub parent_run_id: Option<RunId>,
    pub root_run_id: Option<RunId>,
    pub depth: i32,
    pub resume_parent_on_completion: bool,
    pub tags: Vec<String>,
    pub cost_in_cents: f64,
    pub base_cost_in_cents: f64,
    pub usage_duration_ms: i32,
    pub attempt_number: Option<i32>,
    /// "TaskRunAttempt" rows of the run; only counted where shown, and only for engine V1.
    pub attempt_rows: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub delay_until: Option<DateTime<Utc>>,
    pub ttl: Option<String>,
    /// annotations.taskKind.
    pub task_kind: Option<String>,
}

/// A run with the runs it is related to, all read from the one store that holds the tree.
#[derive(Clone, Debug, PartialEq)]
pub struct RunGraph {
    pub run: RunRecord,
    pub parent: Option<RunRecord>,
    pub root: Option<RunRecord>,
    /// Ordered by createdAt, at most the requested cap.
    pub children: Vec<RunRecord>,
    pub children_truncated: bool,
    pub store: Residency,
}

impl RunGraph {
    /// Every run of the graph, the run itself first.
    pub fn records(&self) -> impl Iterator<Item = &RunRecord> {
        std::iter::once(&self.run)
            .chain(self.parent.as_ref())
            .chain(self.root.as_ref())
            .chain(self.children.iter())
    }
}

/// How a run was triggered, as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerFunction {
    Trigger,
    TriggerAndWait,
    BatchTrigger,
    BatchTriggerAndWait,
}

impl RunRecord {
    pub fn trigger_function(&self) -> TriggerFunction {
        match (self.batch_id.is_some(), self.resume_parent_on_completion) {
            (false, false) => TriggerFunction::Trigger,
            (false, true) => TriggerFunction::TriggerAndWait,
            (true, false) => TriggerFunction::BatchTrigger,
            (true, true) => TriggerFunction::BatchTriggerAndWait,
        }
    }

    /// The region to display: the run's region, else its worker queue without the `:suffix`.
    pub fn display_region(&self) -> Option<&str> {
        let region = match self.region.as_deref() {
            Some(region) if !region.is_empty() => region,
            _ => self
                .worker_queue
                .split_once(':')
                .map_or(self.worker_queue.as_str(), |(queue, _)| queue),
        };
        (!region.is_empty()).then_some(region)
    }

    /// V1 runs count their attempt rows; V2 runs keep the number of their latest attempt.
    pub fn attempt_count(&self) -> i32 {
        match self.engine {
            RunEngine::V1 => self.attempt_rows.unwrap_or(0),
            RunEngine::V2 => self.attempt_number.unwrap_or(0),
        }
    }

    /// The error as the retrieve API shows it, when one was stored and parses.
    pub fn api_error(&self) -> Option<RunError> {
        self.error.as_ref().and_then(api_error)
    }

    /// The idempotency key a caller recognises: their own key when stored, else the hash.
    pub fn display_idempotency_key(&self) -> Option<&str> {
        self.user_idempotency_key
            .as_deref()
            .or(self.idempotency_key.as_deref())
    }

    /// Lists show startedAt, else lockedAt.
    pub fn list_started_at(&self) -> Option<DateTime<Utc>> {
        self.started_at.or(self.locked_at)
    }

    /// Lists show a finish time only for a final status: completedAt, else updatedAt.
    pub fn list_finished_at(&self) -> Option<DateTime<Utc>> {
        self.status
            .is_final()
            .then(|| self.completed_at.unwrap_or(self.updated_at))
    }

    pub fn task_kind(&self) -> &str {
        self.task_kind.as_deref().unwrap_or("STANDARD")
    }

    /// Output is only meaningful once the run completed successfully.
    pub fn visible_output(&self) -> Option<&Packet> {
        (self.status == TaskRunStatus::CompletedSuccessfully)
            .then_some(self.output.as_ref())
            .flatten()
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use chrono::TimeZone;

    use super::*;

    pub fn run(id: &str) -> RunRecord {
        let created = Utc
            .with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
            .single()
            .unwrap_or_default();
        RunRecord {
            id: RunId::from_stored(id),
            status: TaskRunStatus::Executing,
            engine: RunEngine::V2,
            task_identifier: "email/send".into(),
            environment_id: "env_prod".into(),
            project_id: "proj_1".into(),
            idempotency_key: None,
            user_idempotency_key: None,
            is_test: false,
            payload: None,
            output: None,
            metadata: None,
            error: None,
            worker_queue: "main".into(),
            region: None,
            task_version: None,
            locked_at: None,
            locked_to_version_id: None,
            schedule_id: None,
            batch_id: None,
            parent_run_id: None,
            root_run_id: None,
            depth: 0,
            resume_parent_on_completion: false,
            tags: Vec::new(),
            cost_in_cents: 0.0,
            base_cost_in_cents: 0.0,
            usage_duration_ms: 0,
            attempt_number: None,
            attempt_rows: None,
            created_at: created,
            updated_at: created,
            started_at: None,
            completed_at: None,
            expired_at: None,
            delay_until: None,
            ttl: None,
            task_kind: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::run;
    use super::*;

    #[test]
    fn trigger_function_follows_batch_and_resume_parent() {
        let mut record = run("clxyz0123456789abcdefghij");
        let cases = [
            (None, false, TriggerFunction::Trigger),
            (None, true, TriggerFunction::TriggerAndWait),
            (Some("b"), false, TriggerFunction::BatchTrigger),
            (Some("b"), true, TriggerFunction::BatchTriggerAndWait),
        ];
        for (batch, resume, expected) in cases {
            record.batch_id = batch.map(BatchId::from_stored);
            record.resume_parent_on_completion = resume;
            assert_eq!(record.trigger_function(), expected);
        }
    }

    #[test]
    fn region_prefers_the_region_then_the_worker_queue_without_suffix() {
        let mut record = run("clxyz0123456789abcdefghij");
        record.worker_queue = "us-east-1:shard-3".into();
        assert_eq!(record.display_region(), Some("us-east-1"));
        record.region = Some("eu-central-1".into());
        assert_eq!(record.display_region(), Some("eu-central-1"));
        record.region = None;
        record.worker_queue = String::new();
        assert_eq!(record.display_region(), None);
    }

    #[test]
    fn idempotency_key_prefers_the_users_own_key() {
        let mut record = run("clxyz0123456789abcdefghij");
        record.idempotency_key = Some("hash".into());
        assert_eq!(record.display_idempotency_key(), Some("hash"));
        record.user_idempotency_key = Some("order-42".into());
        assert_eq!(record.display_idempotency_key(), Some("order-42"));
    }

    #[test]
    fn lists_show_lock_time_as_start_and_a_finish_only_when_final() {
        let mut record = run("clxyz0123456789abcdefghij");
        record.locked_at = Some(record.created_at);
        assert_eq!(record.list_started_at(), Some(record.created_at));
        assert_eq!(record.list_finished_at(), None);
        record.status = TaskRunStatus::Crashed;
        assert_eq!(record.list_finished_at(), Some(record.updated_at));
        assert_eq!(record.task_kind(), "STANDARD");
    }

    #[test]
    fn output_is_hidden_unless_the_run_succeeded() {
        let mut record = run("clxyz0123456789abcdefghij");
        record.output = Some(Packet {
            data: "42".into(),
            data_type: "application/json".into(),
        });
        assert_eq!(record.visible_output(), None);
        record.status = TaskRunStatus::CompletedSuccessfully;
        assert_eq!(record.visible_output().map(|p| p.data.as_str()), Some("42"));
    }

    #[test]
    fn v1_runs_count_attempt_rows_and_v2_runs_show_their_attempt_number() {
        let mut record = run("clxyz0123456789abcdefghij");
        assert_eq!(record.attempt_count(), 0);
        record.attempt_number = Some(2);
        assert_eq!(record.attempt_count(), 2);
        record.engine = RunEngine::V1;
        assert_eq!(record.attempt_count(), 0);
        record.attempt_rows = Some(3);
        assert_eq!(record.attempt_count(), 3);
    }
}
