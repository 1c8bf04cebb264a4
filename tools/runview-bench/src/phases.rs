//! The benchmark's phases, in order: the main matrix on the main dataset, cold and warm cache,
//! the scaling comparison, and passthrough.

use std::path::Path;
use std::time::Duration;

use crate::Args;
use crate::comparisons::{self, SideBySide};
use crate::filter_matrix::{self, FilterMatrix};
use crate::load::{self, Bound, Call};
use crate::measure::{Guard, Measured};
use crate::postgres::{self, Dataset, Server as Postgres};
use crate::scenarios::{self, Scenario};
use crate::server::Server;

/// One line of the main matrix.
pub struct Row {
    pub scenario: &'static str,
    pub concurrency: u32,
    pub runview: Measured,
    pub pgbench: Option<Measured>,
}

pub struct ScalePoint {
    pub runs: usize,
    /// Runs of the environment the calls read.
    pub environment_runs: i64,
    pub seeded_in: Duration,
    pub get_run: Vec<(u32, Measured)>,
    pub list_runs: Vec<(u32, Measured)>,
}

/// Latencies of single calls, in microseconds.
pub struct CacheLatencies {
    pub first_after_restart: f64,
    pub cold: Vec<f64>,
    pub warm: Vec<f64>,
}

pub struct Passthrough {
    pub seeded_in: Duration,
    pub get_run: Measured,
    pub list_runs: Measured,
}

pub struct Results {
    pub postgres_version: String,
    pub private_postgres: bool,
    pub main: Dataset,
    pub rows: Vec<Row>,
    /// VmHWM and VmRSS of runview after the matrix, in KiB.
    pub memory_kib: (u64, u64),
    pub cache: CacheLatencies,
    pub scale: Vec<ScalePoint>,
    pub passthrough: Passthrough,
    pub coalescing: Vec<SideBySide>,
    pub recommended_indexes: Vec<SideBySide>,
    /// The main dataset's, then the largest size's.
    pub filter_matrices: Vec<FilterMatrix>,
}

/// Calls made before measuring, so that connections, statement caches and the control-plane
/// cache are warm.
pub const WARM_UP_CALLS: u64 = 2_000;
const SCALE_GET_RUN_CONCURRENCY: [u32; 2] = [1, 32];
const SCALE_LIST_CONCURRENCY: [u32; 2] = [1, 8];
/// Interleaved rounds of the size comparison, and the shortest a round may be.
pub const SCALE_ROUNDS: u32 = 3;
const MIN_SCALE_ROUND: Duration = Duration::from_secs(2);
const CACHE_SAMPLES: usize = 5;
/// Concurrency of the side-by-side comparisons: one call at a time, and under load.
const COALESCING_CONCURRENCY: [u32; 2] = [1, 32];
const INDEX_CONCURRENCY: [u32; 2] = [1, 8];

pub async fn run_all(args: &Args, binary: &Path) -> anyhow::Result<Results> {
    let postgres = match &args.database_url {
        Some(url) => Postgres::external(url.clone()),
        None => Postgres::private().await?,
    };
    let postgres_version = postgres.version().await?;
    let duration = args.duration();

    let main_runs = args.main_runs();
    eprintln!("seeding the main dataset: {main_runs} runs");
    let main = postgres::seed(&postgres, &prefix(main_runs, true), main_runs, true).await?;
    let server = Server::start(binary, &main).await?;
    let guard = Guard {
        server_pid: server.pid(),
        threshold: args.foreign_cpu_threshold,
    };
    let scenarios = vec![
        scenarios::get_run(&main, false).await?,
        scenarios::get_run(&main, true).await?,
        scenarios::list_runs(&main, false)?,
        scenarios::list_runs(&main, true)?,
        scenarios::get_waitpoint(&main).await?,
        scenarios::list_batches(&main, false),
        scenarios::list_batches(&main, true),
        scenarios::list_waitpoints(&main, false),
        scenarios::list_waitpoints(&main, true),
        scenarios::get_batch(&main).await?,
    ];
    for scenario in &scenarios {
        warm_up(&server, &scenario.call).await?;
    }
    let mut rows = Vec::new();
    for scenario in &scenarios {
        for &concurrency in &args.concurrency {
            rows.push(measure_row(&server, &guard, scenario, concurrency, duration).await?);
        }
    }
    let memory_kib = crate::cpu::memory_kib(server.pid());
    let cache = cache_latencies(server, binary, &main, &scenarios[0].call).await?;
    let named = |name: &str| scenarios.iter().find(|s| s.name == name);
    let rounds = comparisons::Rounds {
        round: (duration / 2).max(MIN_SCALE_ROUND),
        threshold: args.foreign_cpu_threshold,
    };
    let coalescing = comparisons::coalescing(
        binary,
        &main,
        &[named("GetRun (basic)"), named("GetWaitpoint")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
        &COALESCING_CONCURRENCY,
        &rounds,
    )
    .await?;
    let recommended_indexes = comparisons::recommended_indexes(
        binary,
        &main,
        &[
            named("ListRuns"),
            named("ListRuns (status filter)"),
            named("ListBatches"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>(),
        &INDEX_CONCURRENCY,
        &rounds,
    )
    .await?;
    let per_cell = args.filter_cell_duration();
    let mut filter_matrices = vec![filter_matrix::measure(binary, &main, per_cell).await?];

    let mut datasets = Vec::new();
    for &runs in &args.scale_sizes() {
        datasets.push(if runs == main_runs {
            main.clone()
        } else {
            eprintln!("seeding {runs} runs for the scaling comparison");
            postgres::seed(&postgres, &prefix(runs, true), runs, true).await?
        });
    }
    let scale = scale_points(binary, &datasets, args, duration).await?;
    if let Some(largest) = datasets
        .iter()
        .filter(|d| d.runs > main_runs)
        .max_by_key(|d| d.runs)
    {
        filter_matrices.push(filter_matrix::measure(binary, largest, per_cell).await?);
    }

    eprintln!("seeding {main_runs} runs in one store for passthrough");
    let single = postgres::seed(&postgres, &prefix(main_runs, false), main_runs, false).await?;
    let passthrough = passthrough(binary, &single, args, duration).await?;

    Ok(Results {
        postgres_version,
        private_postgres: args.database_url.is_none(),
        main,
        rows,
        memory_kib,
        cache,
        scale,
        passthrough,
        coalescing,
        recommended_indexes,
        filter_matrices,
    })
}

fn prefix(runs: usize, split: bool) -> String {
    let shape = if split { "split" } else { "single" };
    format!("runview_bench_{runs}_{shape}")
}

pub async fn warm_up(server: &Server, call: &Call) -> anyhow::Result<()> {
    let report = load::raw(server.grpc_addr, call, 8, Bound::Calls(WARM_UP_CALLS)).await?;
    anyhow::ensure!(
        report.failures() == 0,
        "{} failed during the warm-up: {:?}",
        call.method,
        report.error_distribution
    );
    Ok(())
}

async fn measure_row(
    server: &Server,
    guard: &Guard,
    scenario: &Scenario,
    concurrency: u32,
    duration: Duration,
) -> anyhow::Result<Row> {
    eprintln!("{} at c={concurrency}", scenario.name);
    let runview = guard
        .measure(|| load::run(server.grpc_addr, &scenario.call, concurrency, duration))
        .await?;
    let pgbench = match &scenario.pgbench {
        Some(workload) => Some(
            guard
                .measure(|| crate::pgbench::run(workload, concurrency, duration))
                .await?,
        ),
        None => None,
    };
    Ok(Row {
        scenario: scenario.name,
        concurrency,
        runview,
        pgbench,
    })
}

/// The latency of one call, in microseconds.
async fn single_call(server: &Server, call: &Call) -> anyhow::Result<f64> {
    let report = load::raw(server.grpc_addr, call, 1, Bound::Calls(1)).await?;
    anyhow::ensure!(report.failures() == 0, "{} failed", call.method);
    Ok(report.average.as_secs_f64() * 1e6)
}

/// First GetRun after a restart, then GetRun right after `Invalidate all` (cold) and once more
/// (warm). The GetRun data is one message, so that the warm call hits the same environment.
async fn cache_latencies(
    server: Server,
    binary: &Path,
    dataset: &Dataset,
    get_run: &Call,
) -> anyhow::Result<CacheLatencies> {
    server.stop().await?;
    let server = Server::start(binary, dataset).await?;
    let first = Call {
        method: get_run.method,
        data: get_run.data[0].clone(),
    };
    let first_after_restart = single_call(&server, &first).await?;
    let invalidate = scenarios::invalidate_all();
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for index in 0..CACHE_SAMPLES {
        let call = Call {
            method: get_run.method,
            data: get_run.data[index + 1].clone(),
        };
        single_call(&server, &invalidate).await?;
        cold.push(single_call(&server, &call).await?);
        warm.push(single_call(&server, &call).await?);
    }
    server.stop().await?;
    Ok(CacheLatencies {
        first_after_restart,
        cold,
        warm,
    })
}

/// A server with warm GetRun (basic) and ListRuns (no filter) scenarios, as the size and
/// passthrough phases measure it.
struct Warmed {
    runs: usize,
    server: Server,
    guard: Guard,
    get_run: Scenario,
    list_runs: Scenario,
}

impl Warmed {
    async fn start(binary: &Path, dataset: &Dataset, args: &Args) -> anyhow::Result<Self> {
        let server = Server::start(binary, dataset).await?;
        let guard = Guard {
            server_pid: server.pid(),
            threshold: args.foreign_cpu_threshold,
        };
        let get_run = scenarios::get_run(dataset, false).await?;
        let list_runs = scenarios::list_runs(dataset, false)?;
        warm_up(&server, &get_run.call).await?;
        warm_up(&server, &list_runs.call).await?;
        Ok(Self {
            runs: dataset.runs,
            server,
            guard,
            get_run,
            list_runs,
        })
    }
}

/// Every size is served at once and measured in turn, round after round, so that a busy spell on
/// the machine lands on every size alike; each point keeps its median round by p50.
async fn scale_points(
    binary: &Path,
    datasets: &[Dataset],
    args: &Args,
    duration: Duration,
) -> anyhow::Result<Vec<ScalePoint>> {
    let mut servers = Vec::new();
    for dataset in datasets {
        servers.push(Warmed::start(binary, dataset, args).await?);
    }
    let round = (duration / SCALE_ROUNDS).max(MIN_SCALE_ROUND);
    let series: Vec<(ScaleCall, u32)> = SCALE_GET_RUN_CONCURRENCY
        .iter()
        .map(|&c| (ScaleCall::GetRun, c))
        .chain(
            SCALE_LIST_CONCURRENCY
                .iter()
                .map(|&c| (ScaleCall::ListRuns, c)),
        )
        .collect();
    // [server][series] → one measurement per round.
    let mut rounds = vec![vec![Vec::new(); series.len()]; servers.len()];
    for (index, &(call, c)) in series.iter().enumerate() {
        for turn in 1..=SCALE_ROUNDS {
            for (warmed, measured) in servers.iter().zip(rounds.iter_mut()) {
                let (name, scenario) = match call {
                    ScaleCall::GetRun => ("GetRun", &warmed.get_run),
                    ScaleCall::ListRuns => ("ListRuns", &warmed.list_runs),
                };
                eprintln!(
                    "{} runs: {name} at c={c}, round {turn}/{SCALE_ROUNDS}",
                    warmed.runs
                );
                let grpc_addr = warmed.server.grpc_addr;
                measured[index].push(
                    warmed
                        .guard
                        .measure(|| load::run(grpc_addr, &scenario.call, c, round))
                        .await?,
                );
            }
        }
    }
    for warmed in servers {
        warmed.server.stop().await?;
    }
    Ok(datasets
        .iter()
        .zip(rounds)
        .map(|(dataset, per_series)| {
            let mut point = ScalePoint {
                runs: dataset.runs,
                environment_runs: dataset.environment_runs,
                seeded_in: dataset.seeded_in,
                get_run: Vec::new(),
                list_runs: Vec::new(),
            };
            for (&(call, c), measured) in series.iter().zip(per_series) {
                let median = median_by_p50(measured);
                match call {
                    ScaleCall::GetRun => point.get_run.push((c, median)),
                    ScaleCall::ListRuns => point.list_runs.push((c, median)),
                }
            }
            point
        })
        .collect())
}

/// The calls the size comparison measures.
#[derive(Clone, Copy)]
enum ScaleCall {
    GetRun,
    ListRuns,
}

/// The round with the median p50.
pub fn median_by_p50(mut rounds: Vec<Measured>) -> Measured {
    rounds.sort_by_key(|m| m.sample.p50);
    rounds.get(rounds.len() / 2).copied().unwrap_or_default()
}

async fn passthrough(
    binary: &Path,
    dataset: &Dataset,
    args: &Args,
    duration: Duration,
) -> anyhow::Result<Passthrough> {
    let Warmed {
        server,
        guard,
        get_run,
        list_runs,
        ..
    } = Warmed::start(binary, dataset, args).await?;
    eprintln!("passthrough: GetRun at c=32, ListRuns at c=8");
    let get_run = guard
        .measure(|| load::run(server.grpc_addr, &get_run.call, 32, duration))
        .await?;
    let list_runs = guard
        .measure(|| load::run(server.grpc_addr, &list_runs.call, 8, duration))
        .await?;
    server.stop().await?;
    Ok(Passthrough {
        seeded_in: dataset.seeded_in,
        get_run,
        list_runs,
    })
}
