//! The "TaskRunAttempt" rows of an engine V1 run: one per execution of the run, numbered from 1,
//! sharing the run's execution time. Engine V2 runs have none (they count in "attemptNumber").

use rand::rngs::StdRng;
use runview_core::status::TaskRunStatus;
use serde_json::{Value, json};

use crate::copy::{ChunkSender, RunOpsTable};
use crate::values::cuid;

/// What the attempts of a run that started are derived from.
pub(crate) struct RunAttempts<'a> {
    pub run_id: &'a str,
    pub environment_id: &'a str,
    /// The "BackgroundWorker" the run is locked to.
    pub worker_id: &'a str,
    pub status: TaskRunStatus,
    /// At least one: a run that started has been attempted.
    pub count: u32,
    pub started_at: i64,
    /// When the last attempt ended, or the run was last updated while it still runs.
    pub ended_at: i64,
    pub completed_at: Option<i64>,
    pub usage_ms: i64,
    pub error: Option<&'a Value>,
    /// The run's output and its type.
    pub output: Option<(&'a str, &'a str)>,
}

/// The status of the last attempt of a run in `status`; earlier attempts all failed.
fn last_attempt_status(status: TaskRunStatus) -> &'static str {
    use TaskRunStatus as S;
    match status {
        S::CompletedSuccessfully => "COMPLETED",
        S::Canceled => "CANCELED",
        S::Paused => "PAUSED",
        S::CompletedWithErrors
        | S::SystemFailure
        | S::Crashed
        | S::TimedOut
        | S::Interrupted
        | S::Expired
        | S::RetryingAfterFailure => "FAILED",
        _ => "EXECUTING",
    }
}

pub(crate) fn write_attempts(rng: &mut StdRng, sink: &mut ChunkSender, run: &RunAttempts<'_>) {
    let count = i64::from(run.count.max(1));
    let span = (run.ended_at - run.started_at).max(0);
    // Every attempt of a run executes the same task of the same worker, from the same queue.
    let worker_task_id = cuid(rng, run.started_at);
    let queue_id = cuid(rng, run.started_at);
    let generic_error = json!({
        "type": "BUILT_IN_ERROR",
        "name": "Error",
        "message": "Attempt failed",
    });
    for number in 1..=count {
        let last = number == count;
        let started_at = run.started_at + span * (number - 1) / count;
        let ended_at = run.started_at + span * number / count;
        let status = if last {
            last_attempt_status(run.status)
        } else {
            "FAILED"
        };
        let completed_at = match status {
            "EXECUTING" | "PAUSED" => None,
            _ if last => run.completed_at.or(Some(ended_at)),
            _ => Some(ended_at),
        };
        let error = (status == "FAILED").then(|| run.error.unwrap_or(&generic_error));
        let output = run.output.filter(|_| status == "COMPLETED");
        let id = cuid(rng, started_at);

        let mut row = sink.row(RunOpsTable::TaskRunAttempt);
        row.text(&id)
            .plain(number)
            .text(&format!("attempt_{id}"))
            .text(run.run_id)
            .text(run.worker_id)
            .text(&worker_task_id)
            .text(run.environment_id)
            .text(&queue_id)
            .plain(status)
            .timestamp(started_at)
            .timestamp(completed_at.unwrap_or(started_at))
            .timestamp(started_at)
            .opt_timestamp(completed_at)
            .plain(run.usage_ms / count)
            .opt_json(error)
            .opt_text(output.map(|(data, _)| data))
            .text(output.map_or("application/json", |(_, data_type)| data_type));
        row.end();
    }
}
