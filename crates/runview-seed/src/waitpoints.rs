//! Waitpoints and the runs they blocked. RUN and BATCH waitpoints are written with the runs they
//! track; MANUAL waitpoints (tokens) are generated after all runs, because a token in one store may
//! have blocked runs of the other (its connection rows live with the runs).

use std::borrow::Cow;

use rand::distr::weighted::WeightedIndex;
use rand::seq::index;
use rand::{Rng, rngs::StdRng};

use crate::catalog::Catalog;
use crate::copy::{ChunkSender, RunOpsTable, WriterGone};
use crate::layout::StoreSchema;
use crate::plan::SeedPlan;
use crate::reservoir::{Reservoir, SampledRun};
use crate::run::Packet;
use crate::skew::TagPicker;
use crate::stream::Store;
use crate::values::{RandomStream, cuid, hex};

/// One "Waitpoint" row; it is COMPLETED exactly when it has a completion time.
pub(crate) struct WaitpointRow<'a> {
    pub id: String,
    /// The "WaitpointType" label.
    pub kind: &'static str,
    pub environment_id: &'a str,
    pub project_id: &'a str,
    pub idempotency_key: String,
    pub user_provided_key: bool,
    pub key_expires_at: Option<i64>,
    pub inactive_key: Option<String>,
    /// The run a RUN waitpoint waits for.
    pub completed_by_run: Option<&'a str>,
    /// The batch a BATCH waitpoint waits for.
    pub completed_by_batch: Option<&'a str>,
    pub completed_after: Option<i64>,
    pub completed_at: Option<i64>,
    pub output: Option<&'a Packet>,
    /// Stored as NULL when empty, as the upstream does.
    pub tags: &'a [Cow<'static, str>],
    pub created_at: i64,
}

pub(crate) fn write_waitpoint(sink: &mut ChunkSender, waitpoint: &WaitpointRow<'_>) {
    let mut row = sink.row(RunOpsTable::Waitpoint);
    row.text(&waitpoint.id)
        .text(&format!("waitpoint_{}", waitpoint.id))
        .plain(waitpoint.kind)
        .plain(if waitpoint.completed_at.is_some() {
            "COMPLETED"
        } else {
            "PENDING"
        })
        .text(waitpoint.environment_id)
        .text(waitpoint.project_id)
        .text(&waitpoint.idempotency_key)
        .plain(waitpoint.user_provided_key)
        .opt_timestamp(waitpoint.key_expires_at)
        .opt_text(waitpoint.inactive_key.as_deref())
        .opt_text(waitpoint.completed_by_run)
        .opt_text(waitpoint.completed_by_batch)
        .opt_timestamp(waitpoint.completed_after)
        .opt_timestamp(waitpoint.completed_at)
        .opt_text(waitpoint.output.map(|p| p.data.as_str()))
        .text(waitpoint.output.map_or("application/json", |p| p.data_type))
        .plain(waitpoint.output.is_some_and(|p| p.is_error))
        .text_array_or_null(waitpoint.tags)
        .timestamp(waitpoint.created_at)
        .timestamp(waitpoint.completed_at.unwrap_or(waitpoint.created_at));
    row.end();
}

/// Records that `run_id` was blocked by `waitpoint_id`; written to the run's store, in the table
/// its schema has. `id` is used only where the table has ids (NEW's).
pub(crate) fn write_connection(sink: &mut ChunkSender, id: &str, run_id: &str, waitpoint_id: &str) {
    let schema = sink.schema();
    let mut row = sink.row(RunOpsTable::WaitpointRunConnection);
    match schema {
        StoreSchema::Full => row.text(run_id).text(waitpoint_id),
        StoreSchema::RunOps => row.text(id).text(run_id).text(waitpoint_id),
    };
    row.end();
}

/// The first token of each store: in production, pending, blocking seven runs (more than the five
/// a reader shows).
pub(crate) struct TokenHighlights {
    pub legacy_waitpoint_id: String,
    pub new_waitpoint_id: String,
}

const SHOWCASE_CONNECTIONS: usize = 7;

/// Generates the MANUAL waitpoints of both stores and their connections.
pub(crate) fn generate_tokens(
    plan: &SeedPlan,
    catalog: &Catalog,
    reservoirs: [&Reservoir; 2],
    mut sinks: [ChunkSender; 2],
) -> Result<TokenHighlights, WriterGone> {
    let mut rng = RandomStream::Tokens.rng(plan.seed);
    let environments = WeightedIndex::new(catalog.environments.iter().map(|e| e.run_weight))
        .expect("the catalog has weighted environments");
    let now = plan.now.timestamp_millis();
    let tags = TagPicker::tokens();
    let mut first_ids = Vec::new();
    for (store_index, store) in [Store::Legacy, Store::New].into_iter().enumerate() {
        let runs = match store {
            Store::Legacy => plan.runs_legacy(),
            Store::New => plan.runs_new(),
        };
        let count = ((runs as f64 * plan.tokens_per_run).round() as usize).max(1);
        for index in 0..count {
            let showcase = index == 0;
            let environment = if showcase {
                catalog.roles.production
            } else {
                rng.sample(&environments)
            };
            // Mostly runs of the token's own store, sometimes of the other one.
            let run_store = if rng.random_bool(0.8) {
                store_index
            } else {
                1 - store_index
            };
            let connections = match showcase {
                true => SHOWCASE_CONNECTIONS,
                false if rng.random_bool(0.5) => rng.random_range(1..=SHOWCASE_CONNECTIONS),
                false => 0,
            };
            let candidates = reservoirs[run_store].runs_of(environment);
            let blocked: Vec<&SampledRun> = index::sample(
                &mut rng,
                candidates.len(),
                connections.min(candidates.len()),
            )
            .into_iter()
            .map(|i| &candidates[i])
            .collect();
            let created_at = match blocked.iter().map(|run| run.created_at).max() {
                Some(latest) => (latest + rng.random_range(1_000..60_000)).min(now),
                None => now - rng.random_range(60_000..plan.history.num_milliseconds() / 2),
            };
            let serial = (store_index, index);
            let token = token(&mut rng, &tags, created_at, now, showcase, serial);
            write_waitpoint(&mut sinks[store_index], &token.row(catalog, environment));
            for run in blocked {
                let connection_id = cuid(&mut rng, created_at);
                write_connection(&mut sinks[run_store], &connection_id, &run.id, &token.id);
            }
            if showcase {
                first_ids.push(format!("waitpoint_{}", token.id));
            }
            sinks[store_index].group_done()?;
        }
    }
    let [legacy, new] = sinks;
    legacy.finish()?;
    new.finish()?;
    let [legacy_waitpoint_id, new_waitpoint_id] =
        <[String; 2]>::try_from(first_ids).expect("each store has at least one token");
    Ok(TokenHighlights {
        legacy_waitpoint_id,
        new_waitpoint_id,
    })
}

/// A token's own values, before they are tied to its environment's ids.
struct Token {
    id: String,
    idempotency_key: String,
    user_provided_key: bool,
    key_expires_at: Option<i64>,
    inactive_key: Option<String>,
    timeout: Option<i64>,
    completed_at: Option<i64>,
    output: Option<Packet>,
    tags: Vec<Cow<'static, str>>,
    created_at: i64,
}

impl Token {
    fn row<'a>(&'a self, catalog: &'a Catalog, environment: usize) -> WaitpointRow<'a> {
        let env = &catalog.environments[environment];
        WaitpointRow {
            id: self.id.clone(),
            kind: "MANUAL",
            environment_id: &env.id,
            project_id: &catalog.projects[env.project].id,
            idempotency_key: self.idempotency_key.clone(),
            user_provided_key: self.user_provided_key,
            key_expires_at: self.key_expires_at,
            inactive_key: self.inactive_key.clone(),
            completed_by_run: None,
            completed_by_batch: None,
            completed_after: self.timeout,
            completed_at: self.completed_at,
            output: self.output.as_ref(),
            tags: &self.tags,
            created_at: self.created_at,
        }
    }
}

/// Pending or completed by a caller or by its timeout; keyed by the user or at random.
/// `serial` (store, index) makes user-provided keys unique even when both stores share a table.
fn token(
    rng: &mut StdRng,
    tags: &TagPicker,
    created_at: i64,
    now: i64,
    showcase: bool,
    serial: (usize, usize),
) -> Token {
    let timeout = (showcase || rng.random_bool(0.6))
        .then(|| created_at + rng.random_range(600_000..86_400_000));
    let roll = if showcase {
        0
    } else {
        rng.random_range(0..100)
    };
    let timed_out = timeout.filter(|at| roll >= 88 && *at <= now);
    let (completed_at, output) = if let Some(at) = timed_out {
        let error = serde_json::json!({ "name": "TimeoutError", "message": "Waitpoint timed out" });
        (Some(at), Some((error.to_string(), true)))
    } else if roll >= 40 {
        let approval = serde_json::json!({ "approved": roll % 2 == 0, "by": "alice@acme.dev" });
        let at = (created_at + rng.random_range(1_000..7_200_000)).min(now);
        (Some(at), Some((approval.to_string(), false)))
    } else {
        (None, None)
    };
    let user_key =
        (showcase || rng.random_bool(0.3)).then(|| format!("approval-{}-{}", serial.0, serial.1));
    // After a reset the user's key is kept as inactive and a fresh random key takes its place.
    let reset = user_key.is_some() && !showcase && rng.random_bool(0.15);
    Token {
        id: cuid(rng, created_at),
        idempotency_key: match &user_key {
            Some(key) if !reset => key.clone(),
            _ => hex(rng, 16),
        },
        user_provided_key: user_key.is_some(),
        key_expires_at: user_key
            .as_ref()
            .map(|_| created_at + rng.random_range(3_600_000..604_800_000)),
        inactive_key: user_key.filter(|_| reset),
        timeout,
        completed_at,
        output: output.map(|(data, is_error)| Packet {
            data,
            data_type: "application/json",
            is_error,
        }),
        tags: tags.pick(rng),
        created_at,
    }
}
