//! What a careless or hostile caller sends: every field of every request set, one at a time, to
//! values past its limits, and page tokens tampered with.

use std::fmt::Debug;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prost_types::{Duration, Timestamp};
use rand::Rng;
use rand::rngs::StdRng;
use runview::proto::invalidate_request::Scope;
use runview::proto::{
    GetBatchRequest, GetRunRequest, GetWaitpointRequest, InvalidateRequest, ListBatchesRequest,
    ListRunsRequest, ListWaitpointsRequest,
};

use super::{Call, Case};

/// Ids of records that exist, which every case starts from.
pub struct Valid {
    pub environment_id: String,
    pub run_id: String,
    pub waitpoint_id: String,
    pub batch_id: String,
}

fn strings() -> Vec<String> {
    vec![
        String::new(),
        "\0".to_owned(),
        "run_\0abc".to_owned(),
        "x".repeat(2_000),
        "é".repeat(600),
        "🦀".to_owned(),
        "' OR 1=1 --".to_owned(),
        "%_\\".to_owned(),
        "\u{202e}run_1".to_owned(),
        " padded ".to_owned(),
    ]
}

/// Each hostile string alone, one value past the cap, and a value just past the length limit.
fn lists() -> Vec<Vec<String>> {
    let mut lists: Vec<Vec<String>> = strings().into_iter().map(|value| vec![value]).collect();
    lists.push((0..101).map(|i| format!("v{i}")).collect());
    lists.push(vec!["v".repeat(1_025)]);
    lists
}

fn enums() -> Vec<i32> {
    vec![-1, 999, i32::MIN, i32::MAX]
}

fn enum_lists() -> Vec<Vec<i32>> {
    vec![vec![-1], vec![999], vec![1; 101], vec![i32::MIN, i32::MAX]]
}

fn page_sizes() -> Vec<i32> {
    vec![-1, 0, 101, i32::MAX, i32::MIN]
}

/// Past either end of the protobuf range, before 4713 BC (PostgreSQL's first day), and nanos out
/// of range.
fn timestamps() -> Vec<Timestamp> {
    let at = |seconds, nanos| Timestamp { seconds, nanos };
    vec![
        at(i64::MIN, 0),
        at(-210_866_803_201, 0),
        at(-62_135_596_801, 0),
        at(253_402_300_800, 0),
        at(i64::MAX, 0),
        at(0, -1),
        at(0, 1_000_000_000),
    ]
}

/// Negative, past 100 years, the size that once panicked (10^13 s), and nanos out of range.
fn periods() -> Vec<Duration> {
    let of = |seconds, nanos| Duration { seconds, nanos };
    vec![
        of(-1, 0),
        of(0, -1),
        of(3_153_600_001, 0),
        of(10_000_000_000_000, 0),
        of(i64::MAX, 0),
        of(i64::MIN, 0),
        of(0, 1_000_000_000),
    ]
}

/// One case per value: `base` with `field` set to it.
fn each<R: Clone, V: Debug>(
    cases: &mut Vec<Case>,
    base: &R,
    field: &'static str,
    values: Vec<V>,
    set: impl Fn(&mut R, V),
    call: fn(R) -> Call,
) {
    for value in values {
        let mut what = format!("{field} = {value:?}");
        if let Some((cut, _)) = what.char_indices().nth(100) {
            what.truncate(cut);
        }
        let mut request = base.clone();
        set(&mut request, value);
        cases.push(Case::mistake(what, Some(field), call(request)));
    }
}

/// [`each`] for a field named as the contract names it; an optional field is set to `Some`.
macro_rules! each {
    ($cases:expr, $base:expr, $field:ident, $values:expr, $call:expr) => {
        each(
            $cases,
            &$base,
            stringify!($field),
            $values,
            |request, value| request.$field = value.into(),
            $call,
        )
    };
}

/// Every field of every request, one at a time.
pub fn every_field(valid: &Valid) -> Vec<Case> {
    let mut cases = Vec::new();
    let c = &mut cases;
    let environment_id = valid.environment_id.clone();

    let get_run = GetRunRequest {
        environment_id: environment_id.clone(),
        run_id: valid.run_id.clone(),
        ..GetRunRequest::default()
    };
    each!(c, get_run, environment_id, strings(), Call::GetRun);
    each!(c, get_run, run_id, strings(), Call::GetRun);
    each!(c, get_run, api_version, enums(), Call::GetRun);
    each!(c, get_run, view, enums(), Call::GetRun);

    let list_runs = ListRunsRequest {
        environment_id: environment_id.clone(),
        ..ListRunsRequest::default()
    };
    each!(c, list_runs, environment_id, strings(), Call::ListRuns);
    each!(c, list_runs, page_size, page_sizes(), Call::ListRuns);
    each!(c, list_runs, page_token, strings(), Call::ListRuns);
    each!(c, list_runs, api_version, enums(), Call::ListRuns);
    each!(c, list_runs, status_filter_mode, enums(), Call::ListRuns);
    each!(c, list_runs, created_after, timestamps(), Call::ListRuns);
    each!(c, list_runs, created_before, timestamps(), Call::ListRuns);
    each!(c, list_runs, period, periods(), Call::ListRuns);
    each!(c, list_runs, statuses, lists(), Call::ListRuns);
    each!(c, list_runs, task_identifiers, lists(), Call::ListRuns);
    each!(c, list_runs, versions, lists(), Call::ListRuns);
    each!(c, list_runs, tags, lists(), Call::ListRuns);
    each!(c, list_runs, queues, lists(), Call::ListRuns);
    each!(c, list_runs, regions, lists(), Call::ListRuns);
    each!(c, list_runs, machines, lists(), Call::ListRuns);
    each!(c, list_runs, batch_id, strings(), Call::ListRuns);
    each!(c, list_runs, schedule_id, strings(), Call::ListRuns);
    each!(c, list_runs, bulk_action_id, strings(), Call::ListRuns);

    let get_waitpoint = GetWaitpointRequest {
        environment_id: environment_id.clone(),
        waitpoint_id: valid.waitpoint_id.clone(),
    };
    each!(
        c,
        get_waitpoint,
        environment_id,
        strings(),
        Call::GetWaitpoint
    );
    each!(
        c,
        get_waitpoint,
        waitpoint_id,
        strings(),
        Call::GetWaitpoint
    );

    let list_batches = ListBatchesRequest {
        environment_id: environment_id.clone(),
        ..ListBatchesRequest::default()
    };
    each!(
        c,
        list_batches,
        environment_id,
        strings(),
        Call::ListBatches
    );
    each!(c, list_batches, page_size, page_sizes(), Call::ListBatches);
    each!(c, list_batches, page_token, strings(), Call::ListBatches);
    each!(c, list_batches, statuses, enum_lists(), Call::ListBatches);
    each!(c, list_batches, batch_id, strings(), Call::ListBatches);
    each!(
        c,
        list_batches,
        created_after,
        timestamps(),
        Call::ListBatches
    );
    each!(
        c,
        list_batches,
        created_before,
        timestamps(),
        Call::ListBatches
    );
    each!(c, list_batches, period, periods(), Call::ListBatches);

    let list_waitpoints = ListWaitpointsRequest {
        environment_id: environment_id.clone(),
        ..ListWaitpointsRequest::default()
    };
    each!(
        c,
        list_waitpoints,
        environment_id,
        strings(),
        Call::ListWaitpoints
    );
    each!(
        c,
        list_waitpoints,
        page_size,
        page_sizes(),
        Call::ListWaitpoints
    );
    each!(
        c,
        list_waitpoints,
        page_token,
        strings(),
        Call::ListWaitpoints
    );
    each!(
        c,
        list_waitpoints,
        statuses,
        enum_lists(),
        Call::ListWaitpoints
    );
    each!(
        c,
        list_waitpoints,
        status_filter_mode,
        enums(),
        Call::ListWaitpoints
    );
    each!(
        c,
        list_waitpoints,
        idempotency_key,
        strings(),
        Call::ListWaitpoints
    );
    each!(c, list_waitpoints, tags, lists(), Call::ListWaitpoints);
    each!(
        c,
        list_waitpoints,
        created_after,
        timestamps(),
        Call::ListWaitpoints
    );
    each!(
        c,
        list_waitpoints,
        created_before,
        timestamps(),
        Call::ListWaitpoints
    );
    each!(c, list_waitpoints, period, periods(), Call::ListWaitpoints);
    each!(
        c,
        list_waitpoints,
        waitpoint_id,
        strings(),
        Call::ListWaitpoints
    );

    let get_batch = GetBatchRequest {
        environment_id,
        batch_id: valid.batch_id.clone(),
        ..GetBatchRequest::default()
    };
    each!(c, get_batch, environment_id, strings(), Call::GetBatch);
    each!(c, get_batch, batch_id, strings(), Call::GetBatch);
    each!(c, get_batch, view, enums(), Call::GetBatch);

    let invalidate = InvalidateRequest::default();
    let scopes = [None, Some(Scope::All(false))];
    each!(c, invalidate, scope, scopes.to_vec(), Call::Invalidate);
    let environments = strings().into_iter().map(Scope::EnvironmentId).collect();
    each(
        c,
        &invalidate,
        "environment_id",
        environments,
        |r, v| r.scope = Some(v),
        Call::Invalidate,
    );
    let organizations = strings().into_iter().map(Scope::OrganizationId).collect();
    each(
        c,
        &invalidate,
        "organization_id",
        organizations,
        |r, v| r.scope = Some(v),
        Call::Invalidate,
    );
    cases
}

/// `token` changed as an attacker would: a bit flipped, cut short, lengthened, or replaced by
/// bytes of the same length; now and then text that is no base64 at all.
pub fn tampered(token: &str, rng: &mut StdRng) -> String {
    let mut bytes = URL_SAFE_NO_PAD
        .decode(token)
        .expect("a page token is base64");
    match rng.random_range(0..5) {
        0 => {
            let at = rng.random_range(0..bytes.len());
            bytes[at] ^= 1 << rng.random_range(0..8);
        }
        // Never to nothing: an empty token asks for the first page.
        1 => bytes.truncate(rng.random_range(1..bytes.len())),
        2 => bytes.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
        3 => rng.fill(&mut bytes[..]),
        _ => {
            let mut text = token.to_owned();
            let at = rng.random_range(0..text.len());
            text.insert(at, ['!', '=', '\0', '.'][rng.random_range(0..4)]);
            return text;
        }
    }
    URL_SAFE_NO_PAD.encode(bytes)
}
