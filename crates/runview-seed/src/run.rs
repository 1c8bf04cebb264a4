//! One "TaskRun" row: the structure a group decides (id, place in a tree or batch, status, time)
//! and the realistic column values derived from it here.

use rand::{Rng, rngs::StdRng};
use runview_core::status::TaskRunStatus;
use serde_json::{Value, json};

use crate::attempts::{RunAttempts, write_attempts};
use crate::catalog::Catalog;
use crate::copy::{ChunkSender, RunOpsTable};
use crate::skew::RunPicks;
use crate::values::{ERRORS, IDEMPOTENCY_SCOPES, MACHINES, hex, pick};

/// Where a child run sits in its tree.
pub(crate) struct Lineage {
    pub parent_id: String,
    pub root_id: String,
    pub depth: u32,
    pub resume_parent: bool,
}

/// What a group decides about a run; everything else is filled in by [`write_run`].
pub(crate) struct RunSpec {
    pub id: String,
    pub environment: usize,
    pub task: &'static str,
    pub status: TaskRunStatus,
    pub created_at: i64,
    pub engine_v2: bool,
    pub schedule: Option<usize>,
    pub batch_id: Option<String>,
    pub lineage: Option<Lineage>,
    /// A run the highlights point at: always plain JSON packets and metadata, never offloaded.
    pub showcase: bool,
}

/// What the group needs back: batch totals and RUN waitpoints are derived from it.
pub(crate) struct RunOutcome {
    pub completed_at: Option<i64>,
    /// What a RUN waitpoint on this run completes with.
    pub result: Option<Packet>,
}

/// A finished run's output, or its error.
pub(crate) struct Packet {
    pub data: String,
    pub data_type: &'static str,
    pub is_error: bool,
}

/// Store-wide facts every run of a store is written with.
pub(crate) struct RunContext {
    pub now: i64,
    /// Runs created before it have no "organizationId" and "environmentType": the upstream added
    /// those columns later and never filled them in for older runs.
    pub denormalized_since: i64,
    /// Bulk actions of the production environment (some of its runs were part of them).
    pub bulk_action_ids: Vec<String>,
    pub production: usize,
    pub picks: RunPicks,
}

/// Cents per millisecond of each machine in [`MACHINES`].
const MACHINE_CENTS_PER_MS: [f64; 5] =
    [0.000_016_9, 0.000_008_5, 0.000_033_8, 0.000_067_5, 0.000_27];
const BASE_COST_CENTS: f64 = 0.0025;
const TTLS: [(&str, i64); 3] = [("30s", 30_000), ("10m", 600_000), ("1h", 3_600_000)];

/// The time line of a run, consistent with its status and never after `now` (except a delay).
struct Timeline {
    locked_at: Option<i64>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    expired_at: Option<i64>,
    delay_until: Option<i64>,
    updated_at: i64,
    usage_ms: i64,
    ttl: Option<&'static str>,
}

fn timeline(rng: &mut StdRng, status: TaskRunStatus, created: i64, now: i64) -> Timeline {
    use TaskRunStatus as S;
    // A run is locked to a worker once dequeued; a cancel may come before or after that.
    let locked = match status {
        S::Delayed | S::Pending | S::PendingVersion | S::WaitingForDeploy | S::Expired => false,
        S::Canceled => rng.random_bool(0.5),
        _ => true,
    };
    let started = locked && status != S::Dequeued;
    let locked_at = locked.then(|| (created + rng.random_range(20..4_000)).min(now));
    let started_at = locked_at
        .filter(|_| started)
        .map(|at| (at + rng.random_range(5..400)).min(now));
    let usage_ms = if started {
        rng.random_range(150..90_000)
    } else {
        0
    };
    let ttl = if status == S::Expired || (!locked && rng.random_bool(0.15)) {
        Some(pick(rng, &TTLS))
    } else {
        None
    };
    let expired_at = (status == S::Expired).then(|| (created + ttl.map_or(0, |t| t.1)).min(now));
    let completed_at = status.is_final().then(|| {
        let base = expired_at.or(started_at).or(locked_at).unwrap_or(created);
        (base + usage_ms + rng.random_range(10..2_000)).min(now)
    });
    let updated_at = completed_at
        .or(started_at.map(|at| (at + usage_ms).min(now)))
        .or(locked_at)
        .unwrap_or(created);
    Timeline {
        locked_at,
        started_at,
        completed_at,
        expired_at,
        delay_until: (status == S::Delayed).then(|| now + rng.random_range(300_000..21_600_000)),
        updated_at,
        usage_ms,
        ttl: ttl.map(|t| t.0),
    }
}

/// Writes the "TaskRun" row of `spec` and, on engine V1, its "TaskRunAttempt" rows.
pub(crate) fn write_run(
    rng: &mut StdRng,
    catalog: &Catalog,
    context: &RunContext,
    spec: &RunSpec,
    sink: &mut ChunkSender,
) -> RunOutcome {
    use TaskRunStatus as S;
    let status = spec.status;
    let friendly_id = format!("run_{}", spec.id);
    let env = &catalog.environments[spec.environment];
    let project = &catalog.projects[env.project];
    let time = timeline(rng, status, spec.created_at, context.now);
    let worker = time
        .locked_at
        .map(|at| catalog.worker_at(spec.environment, at));
    let machine = (time.locked_at.is_some() || rng.random_bool(0.5))
        .then(|| context.picks.machines.rank(rng));
    let attempt = time.started_at.map(|_| match status {
        S::RetryingAfterFailure => rng.random_range(2..=3),
        _ if rng.random_bool(0.1) => 2,
        _ => 1,
    });

    let payload = match spec.schedule {
        Some(schedule) => {
            let schedule = &catalog.schedules[schedule];
            let body = json!({
                "scheduleId": schedule.friendly_id,
                "type": schedule.kind,
                "timestamp": spec.created_at,
                "timezone": schedule.timezone,
                "externalId": schedule.external_id,
            });
            (body.to_string(), "application/json")
        }
        None => {
            let body = json!({
                "orderId": format!("ord_{}", hex(rng, 6)),
                "amountCents": rng.random_range(100..250_000),
                "currency": pick(rng, &["EUR", "USD", "GBP"]),
                "note": "Gift wrap — “fragile”",
            });
            packet(rng, spec.showcase, &friendly_id, "payload", body)
        }
    };
    let output = (status == S::CompletedSuccessfully).then(|| {
        let body = json!({ "ok": true, "processed": rng.random_range(1..500), "durationMs": time.usage_ms });
        packet(rng, spec.showcase, &friendly_id, "output", body)
    });
    let error = matches!(
        status,
        S::CompletedWithErrors
            | S::SystemFailure
            | S::Crashed
            | S::Interrupted
            | S::TimedOut
            | S::RetryingAfterFailure
    )
    .then(|| {
        let (name, message) = pick(rng, &ERRORS);
        json!({
            "type": "BUILT_IN_ERROR",
            "name": name,
            "message": message,
            "stackTrace": format!(
                "{name}: {message}\n    at run (src/tasks/{task}.ts:42:11)\n    at \
                 async TaskExecutor.execute (file:///app/dist/executor.mjs:118:18)",
                task = spec.task
            ),
        })
    });
    let metadata = (spec.showcase || rng.random_bool(0.3)).then(|| {
        let mut body =
            json!({ "progress": rng.random_range(0..=100) as f64 / 100.0, "step": "charge" });
        if spec.showcase || rng.random_bool(0.2) {
            body["$$streams"] = json!(["openai"]);
        }
        body.to_string()
    });
    let idempotency_key = (!spec.showcase && rng.random_bool(0.1)).then(|| hex(rng, 32));
    let idempotency_options = idempotency_key
        .as_ref()
        .filter(|_| rng.random_bool(0.9))
        .map(|_| {
            let key = format!("order-{}", rng.random_range(10_000..99_999));
            json!({ "key": key, "scope": pick(rng, &IDEMPOTENCY_SCOPES) })
        });
    let queue = context.picks.queue(rng, spec.task);
    let region = context.picks.regions.pick(rng);
    let worker_queue = if rng.random_bool(0.2) {
        format!("{region}:canary")
    } else {
        region.to_owned()
    };
    let tags = context.picks.tags.pick(rng);
    let denormalized = spec.created_at >= context.denormalized_since;
    let task_kind = if spec.schedule.is_some() {
        "SCHEDULED"
    } else {
        "STANDARD"
    };
    // Older rows predate annotations; readers default them to STANDARD.
    let annotations =
        (spec.schedule.is_some() || rng.random_bool(0.9)).then(|| json!({ "taskKind": task_kind }));
    // Mostly the column default (empty), sometimes NULL, rarely the bulk actions the run was in.
    let bulk_actions: Option<Vec<&str>> =
        if spec.environment == context.production && rng.random_bool(0.02) {
            let ids = &context.bulk_action_ids;
            Some(vec![ids[rng.random_range(0..ids.len())].as_str()])
        } else if rng.random_bool(0.1) {
            None
        } else {
            Some(Vec::new())
        };
    let cost = machine.map_or(0.0, |m| time.usage_ms as f64 * MACHINE_CENTS_PER_MS[m]);

    let mut row = sink.row(RunOpsTable::TaskRun);
    row.text(&spec.id)
        .text(&friendly_id)
        .plain(status.as_str())
        .text(spec.task)
        .text(&env.id)
        .text(&project.id)
        .opt_text(denormalized.then(|| catalog.organizations[project.organization].id.as_str()))
        .opt_plain(denormalized.then_some(env.kind))
        .opt_text(idempotency_key.as_deref())
        .opt_json(idempotency_options.as_ref())
        .plain(!spec.showcase && rng.random_bool(0.03))
        .text(&payload.0)
        .text(payload.1)
        .opt_text(output.as_ref().map(|o| o.0.as_str()))
        .text(output.as_ref().map_or("application/json", |o| o.1))
        .opt_text(metadata.as_deref())
        .text("application/json")
        .opt_json(error.as_ref())
        .text(&hex(rng, 16))
        .text(&hex(rng, 8))
        .text(&queue)
        .text(&worker_queue)
        .opt_text(rng.random_bool(0.4).then_some(region))
        .opt_text(machine.map(|m| MACHINES[m]))
        .opt_text(worker.map(|w| w.version.as_str()))
        .opt_timestamp(time.locked_at)
        .opt_text(worker.map(|w| w.id.as_str()))
        .opt_text(spec.schedule.map(|s| catalog.schedules[s].id.as_str()))
        .opt_text(spec.batch_id.as_deref())
        .opt_text(spec.lineage.as_ref().map(|l| l.parent_id.as_str()))
        .opt_text(spec.lineage.as_ref().map(|l| l.root_id.as_str()))
        .plain(spec.lineage.as_ref().map_or(0, |l| l.depth))
        .plain(spec.lineage.as_ref().is_some_and(|l| l.resume_parent))
        .text_array_or_null(&tags)
        .plain(cost)
        .plain(if time.started_at.is_some() {
            BASE_COST_CENTS
        } else {
            0.0
        })
        .plain(time.usage_ms)
        .opt_plain(attempt.filter(|_| spec.engine_v2))
        .plain(if spec.engine_v2 { "V2" } else { "V1" })
        .timestamp(spec.created_at)
        .timestamp(time.updated_at)
        .opt_timestamp(time.started_at)
        .opt_timestamp(time.completed_at)
        .opt_timestamp(time.expired_at)
        .opt_timestamp(time.delay_until)
        .opt_text(time.ttl)
        .opt_json(annotations.as_ref())
        .opt_text_array(bulk_actions.as_deref());
    row.end();

    // Engine V1 keeps one row per attempt where engine V2 keeps a count on the run.
    if let (false, Some(count), Some(started_at), Some(worker)) =
        (spec.engine_v2, attempt, time.started_at, worker)
    {
        let attempts = RunAttempts {
            run_id: &spec.id,
            environment_id: &env.id,
            worker_id: &worker.id,
            status,
            count,
            started_at,
            ended_at: time.completed_at.unwrap_or(time.updated_at),
            completed_at: time.completed_at,
            usage_ms: time.usage_ms,
            error: error.as_ref(),
            output: output
                .as_ref()
                .map(|(data, data_type)| (data.as_str(), *data_type)),
        };
        write_attempts(rng, sink, &attempts);
    }

    let result = match (output, error) {
        (Some((data, data_type)), _) => Some(Packet {
            data,
            data_type,
            is_error: false,
        }),
        (None, Some(error)) if status.is_final() => Some(Packet {
            data: error.to_string(),
            data_type: "application/json",
            is_error: true,
        }),
        _ => None,
    };
    RunOutcome {
        completed_at: time.completed_at,
        result,
    }
}

/// A packet as the upstream stores it: JSON inline, sometimes offloaded to object storage (the
/// column then holds the path) and rarely plain text, whose line breaks and tabs must survive COPY.
fn packet(
    rng: &mut StdRng,
    showcase: bool,
    friendly_id: &str,
    name: &str,
    body: Value,
) -> (String, &'static str) {
    if showcase {
        return (body.to_string(), "application/json");
    }
    match rng.random_range(0..100) {
        0..5 => (format!("{friendly_id}/{name}.json"), "application/store"),
        5..7 => (
            format!("{name} of {friendly_id}\n\tline two\\with a backslash"),
            "text/plain",
        ),
        _ => (body.to_string(), "application/json"),
    }
}
