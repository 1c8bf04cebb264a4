//! The attack harness: one server taking bad input on every field, random bodies, tampered page
//! tokens, huge filters, silent sockets, and 2× and 10× its concurrency limit, while a
//! well-formed GetRun is called over and over beside each attack. It holds when no answer is a
//! failure of the server's (INTERNAL, which a panic answers, UNKNOWN, UNAVAILABLE,
//! DEADLINE_EXCEEDED, CANCELLED, DATA_LOSS), every refused field is named, no tampered token is
//! accepted, the well-formed calls are served (or, under overload only, shed), the silent sockets
//! are closed, and the server counted exactly the requests it was sent. It runs alone, so the
//! server's counts are its own. `RUNVIEW_ATTACK_SEED` replays the random inputs of a run;
//! `RUNVIEW_ATTACK_SCALE=full` sends all of the tampered tokens.

mod inputs;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream;
use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runview::config::Config;
use runview::metrics::code_name;
use runview::proto::cache_service_client::CacheServiceClient;
use runview::proto::read_service_client::ReadServiceClient;
use runview::proto::{
    GetBatchRequest, GetRunRequest, GetWaitpointRequest, InvalidateRequest, ListBatchesRequest,
    ListRunsRequest, ListWaitpointsRequest,
};
use runview::server::{READINESS, RunningServer};
use tokio::net::TcpStream;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

use self::inputs::Valid;
use super::connections::read_until_closed;
use super::hostile::raw_call;
use super::metrics::{request_counts, sample_sum, scrape};
use super::{TEST_BUDGET, alone, get_run, health_status, within};
use crate::harness::{TestStack, channel, reason, test_config};

const MAX_CONCURRENT_REQUESTS: usize = 16;
/// Callers of every attack but overload: well under the limit, so nothing else is shed.
const WORKERS: usize = 4;
/// The count; a run in CI sends a tenth, seconds instead of half a minute in a debug
/// build, unless `RUNVIEW_ATTACK_SCALE=full`.
const TAMPERED_TOKENS: usize = 10_000;
const RANDOM_BODIES_PER_METHOD: usize = 64;
const SILENT_SOCKETS: usize = 2_000;
const CALLS_PER_OVERLOAD_CALLER: usize = 5;
/// Values in a huge filter: a thousand times the cap.
const HUGE: usize = 100_000;
/// Descriptors kept for everything but the silent sockets: the server's side of the admitted
/// ones (at most `grpc_max_connections`), pools, clients.
const DESCRIPTOR_MARGIN: usize = 1_024;

/// One request of the contract, or raw bytes sent to a method's path.
#[derive(Clone)]
pub enum Call {
    GetRun(GetRunRequest),
    ListRuns(ListRunsRequest),
    GetWaitpoint(GetWaitpointRequest),
    ListBatches(ListBatchesRequest),
    ListWaitpoints(ListWaitpointsRequest),
    GetBatch(GetBatchRequest),
    Invalidate(InvalidateRequest),
    Raw(&'static str, Vec<u8>),
}

const PATHS: [&str; 7] = [
    "/runview.v1.ReadService/GetRun",
    "/runview.v1.ReadService/ListRuns",
    "/runview.v1.ReadService/GetWaitpoint",
    "/runview.v1.ReadService/ListBatches",
    "/runview.v1.ReadService/ListWaitpoints",
    "/runview.v1.ReadService/GetBatch",
    "/runview.v1.CacheService/Invalidate",
];

impl Call {
    fn path(&self) -> &'static str {
        match self {
            Self::GetRun(_) => PATHS[0],
            Self::ListRuns(_) => PATHS[1],
            Self::GetWaitpoint(_) => PATHS[2],
            Self::ListBatches(_) => PATHS[3],
            Self::ListWaitpoints(_) => PATHS[4],
            Self::GetBatch(_) => PATHS[5],
            Self::Invalidate(_) => PATHS[6],
            Self::Raw(path, _) => path,
        }
    }

    /// The method label the server counts the call under.
    fn method(&self) -> &'static str {
        let path = self.path();
        path.rsplit_once('/').map_or(path, |(_, method)| method)
    }

    async fn send(self, channel: Channel) -> Result<(), Status> {
        let mut read = ReadServiceClient::new(channel.clone());
        match self {
            Self::GetRun(request) => read.get_run(request).await.map(drop),
            Self::ListRuns(request) => read.list_runs(request).await.map(drop),
            Self::GetWaitpoint(request) => read.get_waitpoint(request).await.map(drop),
            Self::ListBatches(request) => read.list_batches(request).await.map(drop),
            Self::ListWaitpoints(request) => read.list_waitpoints(request).await.map(drop),
            Self::GetBatch(request) => read.get_batch(request).await.map(drop),
            Self::Invalidate(request) => CacheServiceClient::new(channel)
                .invalidate(request)
                .await
                .map(drop),
            Self::Raw(path, body) => raw_call(channel, path, body).await.map(drop),
        }
    }

    /// The request's bytes, as a raw call would send them.
    fn encoded(&self) -> Vec<u8> {
        match self {
            Self::GetRun(request) => request.encode_to_vec(),
            Self::ListRuns(request) => request.encode_to_vec(),
            Self::GetWaitpoint(request) => request.encode_to_vec(),
            Self::ListBatches(request) => request.encode_to_vec(),
            Self::ListWaitpoints(request) => request.encode_to_vec(),
            Self::GetBatch(request) => request.encode_to_vec(),
            Self::Invalidate(request) => request.encode_to_vec(),
            Self::Raw(_, body) => body.clone(),
        }
    }
}

/// What an answer must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Anything but a failure of the server's; INVALID_ARGUMENT names `field` when there is one.
    ClientMistake,
    /// INVALID_ARGUMENT naming `field`: a tampered token is never accepted.
    Refused,
    /// OK, or shed while the server is overloaded: the calls that must never starve.
    Served,
}

pub struct Case {
    pub what: String,
    pub field: Option<&'static str>,
    pub call: Call,
    expect: Expect,
}

impl Case {
    fn mistake(what: String, field: Option<&'static str>, call: Call) -> Self {
        Self {
            what,
            field,
            call,
            expect: Expect::ClientMistake,
        }
    }
}

struct Attack {
    /// Opened before the silent sockets fill the port, as a client's long-lived connections.
    channels: Vec<Channel>,
    valid: Valid,
    overloaded: AtomicBool,
    /// Calls answered, by method and code, as the server labels them.
    sent: Mutex<BTreeMap<(String, String), u64>>,
    failures: Mutex<Vec<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Attack {
    fn well_formed(&self, call: usize) -> Case {
        let call = if call.is_multiple_of(2) {
            Call::GetRun(get_run(&self.valid.environment_id, &self.valid.run_id))
        } else {
            Call::ListRuns(ListRunsRequest {
                environment_id: self.valid.environment_id.clone(),
                ..ListRunsRequest::default()
            })
        };
        Case {
            what: "a well-formed call".to_owned(),
            field: None,
            call,
            expect: Expect::Served,
        }
    }

    /// One answered call of `method`, as the server should count it.
    fn count(&self, method: &str, code: Code) {
        *lock(&self.sent)
            .entry((method.to_owned(), code_name(code).to_owned()))
            .or_default() += 1;
    }

    async fn send(&self, case: Case, connection: usize) {
        let method = case.call.method();
        let channel = self.channels[connection % self.channels.len()].clone();
        let result = case.call.send(channel).await;
        let code = result.as_ref().err().map_or(Code::Ok, Status::code);
        self.count(method, code);
        if let Some(problem) = self.problem(&result, case.field, case.expect) {
            let message = result.err().map(|status| status.message().to_owned());
            lock(&self.failures).push(format!(
                "{method} with {}: {problem} ({code:?} {message:?})",
                case.what
            ));
        }
    }

    fn problem(
        &self,
        result: &Result<(), Status>,
        field: Option<&str>,
        expect: Expect,
    ) -> Option<String> {
        let Err(status) = result else {
            return (expect == Expect::Refused).then(|| "accepted".to_owned());
        };
        let overloaded = self.overloaded.load(Ordering::SeqCst);
        let reason = reason(status);
        match status.code() {
            Code::ResourceExhausted if reason == "OVERLOADED" => {
                (!overloaded).then(|| "shed without overload".to_owned())
            }
            _ if expect == Expect::Served => Some("a well-formed call not served".to_owned()),
            Code::ResourceExhausted
                if reason == "REQUEST_TOO_LARGE" && expect == Expect::ClientMistake =>
            {
                None
            }
            Code::InvalidArgument => {
                let details = status.get_error_details();
                let violations = details.bad_request().map(|bad| &bad.field_violations[..]);
                let named: Vec<&str> = violations
                    .unwrap_or_default()
                    .iter()
                    .map(|violation| violation.field.as_str())
                    .collect();
                let field = field?;
                (!named.iter().any(|name| name.starts_with(field)))
                    .then(|| format!("names {named:?}, not {field}"))
            }
            _ if expect == Expect::Refused => Some("not refused as INVALID_ARGUMENT".to_owned()),
            Code::Internal
            | Code::Unknown
            | Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::DataLoss
            | Code::ResourceExhausted => Some("a failure of the server's".to_owned()),
            _ => None,
        }
    }

    /// Runs `attack` with a well-formed GetRun called over and over beside it until it is done.
    async fn beside_probes<T>(&self, name: &str, attack: impl Future<Output = T>) -> T {
        let (done, started) = (AtomicBool::new(false), Instant::now());
        let attack = async {
            let outcome = attack.await;
            done.store(true, Ordering::SeqCst);
            outcome
        };
        let probe = async {
            let mut probes = 0;
            while !done.load(Ordering::SeqCst) || probes == 0 {
                self.send(self.well_formed(0), 0).await;
                probes += 1;
            }
            probes
        };
        let (outcome, probes) = tokio::join!(attack, probe);
        eprintln!(
            "attack: {name}: {probes} well-formed GetRuns beside it, {:?}",
            started.elapsed()
        );
        outcome
    }

    /// Sends `cases`, `callers` at a time, beside the probes.
    async fn phase(&self, name: &str, callers: usize, cases: impl IntoIterator<Item = Case>) {
        let sent = self
            .beside_probes(name, async {
                let mut sent = 0;
                stream::iter(cases.into_iter().enumerate())
                    .for_each_concurrent(callers, |(index, case)| {
                        sent += 1;
                        self.send(case, index)
                    })
                    .await;
                sent
            })
            .await;
        eprintln!("attack: {name}: {sent} calls");
    }

    /// Opens `count` sockets on the gRPC port that never send a byte, and asks the health port
    /// while they are open.
    async fn silent_sockets(&self, server: &RunningServer, count: usize) -> Vec<TcpStream> {
        self.beside_probes(&format!("{count} silent sockets"), async {
            let sockets: Vec<TcpStream> = stream::iter(0..count)
                .map(|_| TcpStream::connect(server.grpc_addr))
                .buffer_unordered(64)
                .map(|socket| socket.expect("the port accepts"))
                .collect()
                .await;
            let health = tokio::time::timeout(
                Duration::from_secs(5),
                health_status(server.health_addr, READINESS),
            )
            .await;
            if health != Ok(ServingStatus::Serving) {
                lock(&self.failures).push(format!("health beside silent sockets: {health:?}"));
            }
            sockets
        })
        .await
    }

    /// 2× or 10× the concurrency limit of well-formed calls.
    async fn overload(&self, times: usize) {
        let callers = MAX_CONCURRENT_REQUESTS * times;
        let cases = (0..callers * CALLS_PER_OVERLOAD_CALLER).map(|call| self.well_formed(call));
        self.overloaded.store(true, Ordering::SeqCst);
        self.phase(&format!("{times}× overload"), callers, cases)
            .await;
        self.overloaded.store(false, Ordering::SeqCst);
    }
}

fn full_scale() -> bool {
    std::env::var("RUNVIEW_ATTACK_SCALE").is_ok_and(|scale| scale == "full")
}

fn tampered_token_count() -> usize {
    if full_scale() {
        TAMPERED_TOKENS
    } else {
        TAMPERED_TOKENS / 10
    }
}

/// A list's request carrying a given page token.
type WithToken = Box<dyn Fn(String) -> Call>;

/// Page tokens of every list, taken from first pages of one entry, and each list's request to
/// carry a tampered one.
async fn tampered_tokens(attack: &Attack, rng: &mut StdRng) -> Vec<Case> {
    let environment_id = attack.valid.environment_id.clone();
    let mut read = ReadServiceClient::new(attack.channels[0].clone());
    let runs = ListRunsRequest {
        environment_id: environment_id.clone(),
        page_size: 1,
        ..ListRunsRequest::default()
    };
    let batches = ListBatchesRequest {
        environment_id: environment_id.clone(),
        page_size: 1,
        ..ListBatchesRequest::default()
    };
    let waitpoints = ListWaitpointsRequest {
        environment_id,
        page_size: 1,
        ..ListWaitpointsRequest::default()
    };
    let tokens: Vec<(String, WithToken)> = vec![
        (
            read.list_runs(runs.clone())
                .await
                .expect("a page")
                .into_inner()
                .next_page_token,
            Box::new(move |page_token| {
                Call::ListRuns(ListRunsRequest {
                    page_token,
                    ..runs.clone()
                })
            }),
        ),
        (
            read.list_batches(batches.clone())
                .await
                .expect("a page")
                .into_inner()
                .next_page_token,
            Box::new(move |page_token| {
                Call::ListBatches(ListBatchesRequest {
                    page_token,
                    ..batches.clone()
                })
            }),
        ),
        (
            read.list_waitpoints(waitpoints.clone())
                .await
                .expect("a page")
                .into_inner()
                .next_page_token,
            Box::new(move |page_token| {
                Call::ListWaitpoints(ListWaitpointsRequest {
                    page_token,
                    ..waitpoints.clone()
                })
            }),
        ),
    ];
    for method in ["ListRuns", "ListBatches", "ListWaitpoints"] {
        attack.count(method, Code::Ok);
    }
    let tokens: Vec<_> = tokens
        .into_iter()
        .filter(|(token, _)| !token.is_empty())
        .collect();
    assert!(!tokens.is_empty(), "the seeded lists have second pages");
    let mut cases: Vec<Case> = (0..tampered_token_count())
        .map(|index| {
            let (token, with) = &tokens[index % tokens.len()];
            Case {
                what: "a tampered page token".to_owned(),
                field: Some("page_token"),
                call: with(inputs::tampered(token, rng)),
                expect: Expect::Refused,
            }
        })
        .collect();
    // Intact tokens, on a list or in a scope they were not made for.
    let (runs_token, _) = &tokens[0];
    for (index, (_, with)) in tokens.iter().enumerate().skip(1) {
        cases.push(Case {
            what: format!("a ListRuns token on list {index}"),
            field: Some("page_token"),
            call: with(runs_token.clone()),
            expect: Expect::Refused,
        });
    }
    cases
}

/// Random bytes, and valid requests with a few bytes changed, on every method.
fn random_bodies(valid_calls: &[Call], rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    for call in valid_calls {
        let valid = call.encoded();
        for index in 0..RANDOM_BODIES_PER_METHOD {
            let body = if index.is_multiple_of(2) || valid.is_empty() {
                let length = rng.random_range(0..256);
                (0..length).map(|_| rng.random()).collect()
            } else {
                let mut body = valid.clone();
                for _ in 0..rng.random_range(1..4) {
                    let at = rng.random_range(0..body.len());
                    body[at] = rng.random();
                }
                body
            };
            cases.push(Case::mistake(
                format!("random body {index}"),
                None,
                Call::Raw(call.path(), body),
            ));
        }
    }
    cases
}

/// Filters a thousand times over the cap, and one far over the request size limit.
fn huge_filters(environment_id: &str) -> Vec<Case> {
    let values = || (0..HUGE).map(|i| format!("v{i}")).collect::<Vec<_>>();
    let runs = ListRunsRequest {
        environment_id: environment_id.to_owned(),
        ..ListRunsRequest::default()
    };
    let mut cases = Vec::new();
    let huge = |field, call| Case::mistake(format!("{HUGE} {field}"), Some(field), call);
    for field in [
        "tags",
        "task_identifiers",
        "versions",
        "queues",
        "regions",
        "machines",
    ] {
        let mut request = runs.clone();
        match field {
            "tags" => request.tags = values(),
            "task_identifiers" => request.task_identifiers = values(),
            "versions" => request.versions = values(),
            "queues" => request.queues = values(),
            "regions" => request.regions = values(),
            _ => request.machines = values(),
        }
        cases.push(huge(field, Call::ListRuns(request)));
    }
    cases.push(huge(
        "statuses",
        Call::ListBatches(ListBatchesRequest {
            environment_id: environment_id.to_owned(),
            statuses: vec![1; HUGE],
            ..ListBatchesRequest::default()
        }),
    ));
    cases.push(huge(
        "tags",
        Call::ListWaitpoints(ListWaitpointsRequest {
            environment_id: environment_id.to_owned(),
            tags: values(),
            ..ListWaitpointsRequest::default()
        }),
    ));
    cases.push(Case::mistake(
        "ten times the request size limit of tags".to_owned(),
        Some("tags"),
        Call::ListRuns(ListRunsRequest {
            tags: (0..10 * HUGE).map(|i| format!("tag-{i}")).collect(),
            ..runs
        }),
    ));
    cases
}

/// How many silent sockets this process may open: its descriptor limit raised as far as the
/// hard limit allows, `SILENT_SOCKETS` at most.
fn silent_sockets_that_fit() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let wanted = (SILENT_SOCKETS + DESCRIPTOR_MARGIN) as u64;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("the descriptor limit");
    if soft < wanted {
        setrlimit(Resource::RLIMIT_NOFILE, wanted.min(hard), hard).expect("raised");
    }
    let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).expect("the descriptor limit");
    let fit = usize::try_from(soft).unwrap_or(usize::MAX);
    fit.saturating_sub(DESCRIPTOR_MARGIN).min(SILENT_SOCKETS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attack_on_every_front_gets_no_panic_no_internal_no_starvation_and_every_request_counted()
 {
    // Room for a debug build on a machine busy with the other tests; a hang still fails it.
    let budget = if full_scale() { 4 } else { 2 } * TEST_BUDGET;
    alone(within(budget, async {
        let stack = TestStack::start_with(Config {
            max_concurrent_requests: MAX_CONCURRENT_REQUESTS,
            connection_first_byte_timeout: Duration::from_secs(1),
            ..test_config()
        })
        .await;
        let server = &stack.server;
        let demo = stack.demo();
        let mut channels = Vec::new();
        for _ in 0..8 {
            channels.push(channel(server.grpc_addr).await);
        }
        let attack = Attack {
            channels,
            valid: Valid {
                environment_id: demo.production_environment_id.clone(),
                run_id: demo.new_run_id.clone(),
                waitpoint_id: demo.new_waitpoint_id.clone(),
                batch_id: demo.new_batch_id.clone(),
            },
            overloaded: AtomicBool::new(false),
            sent: Mutex::new(BTreeMap::new()),
            failures: Mutex::new(Vec::new()),
        };
        let seed = std::env::var("RUNVIEW_ATTACK_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("attack: RUNVIEW_ATTACK_SEED={seed}");
        let mut rng = StdRng::seed_from_u64(seed);

        let every_field = inputs::every_field(&attack.valid);
        let valid_calls: Vec<Call> = every_field.iter().map(|case| case.call.clone()).collect();
        attack
            .phase("bad input on every field", WORKERS, every_field)
            .await;
        let mut one_per_method: Vec<Call> = Vec::new();
        for call in valid_calls {
            if !one_per_method.iter().any(|seen| seen.path() == call.path()) {
                one_per_method.push(call);
            }
        }
        let bodies = random_bodies(&one_per_method, &mut rng);
        attack.phase("random bodies", WORKERS, bodies).await;
        let tokens = tampered_tokens(&attack, &mut rng).await;
        attack.phase("tampered page tokens", WORKERS, tokens).await;
        let huge = huge_filters(&attack.valid.environment_id);
        attack.phase("huge filters", WORKERS, huge).await;

        let silent_count = silent_sockets_that_fit();
        if silent_count < SILENT_SOCKETS {
            eprintln!("attack: the descriptor limit allows {silent_count} silent sockets only");
        }
        let silent = attack.silent_sockets(server, silent_count).await;
        attack.overload(2).await;
        attack.overload(10).await;
        futures::future::join_all(
            silent
                .into_iter()
                .map(|socket| read_until_closed(socket, "a silent socket")),
        )
        .await;

        let failures = lock(&attack.failures).clone();
        assert!(
            failures.is_empty(),
            "{} answers failed, the first: {:#?}",
            failures.len(),
            &failures[..failures.len().min(20)]
        );
        let sent = lock(&attack.sent).clone();
        let total: u64 = sent.values().sum();
        let mut counted = BTreeMap::new();
        for _ in 0..100 {
            counted = request_counts(&scrape(server.metrics_addr).await);
            if counted == sent {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(counted, sent, "the server counted every request once");
        let body = scrape(server.metrics_addr).await;
        assert_eq!(
            sample_sum(
                &body,
                "runview_connections_dropped_total",
                &["port=\"grpc\""]
            ),
            silent_count as u64,
            "every silent socket was refused at the cap or closed at its first-byte timeout"
        );
        let dropped = |reason: &str| {
            let reason = format!("reason=\"{reason}\"");
            sample_sum(
                &body,
                "runview_connections_dropped_total",
                &["port=\"grpc\"", &reason],
            )
        };
        eprintln!(
            "attack: silent sockets: {} refused at the cap, {} closed at the first-byte timeout",
            dropped("over_limit"),
            dropped("first_byte_timeout")
        );
        eprintln!("attack: {total} calls answered and counted: {sent:?}");
        stack.shutdown().await;
    }))
    .await;
}
