//! docs/performance.md from the results: the tables, the targets with where each stands, and
//! how every number was made.

mod comparisons;
mod filters;
mod targets;

use std::fmt::Write as _;
use std::time::Duration;

use crate::Args;
use crate::load::Sample;
use crate::measure::Measured;
use crate::phases::{Results, Row, SCALE_ROUNDS, WARM_UP_CALLS};
use crate::scenarios::PAGE_SIZE;

pub fn render(args: &Args, results: &Results) -> String {
    let mut out = String::new();
    header(&mut out, args, results);
    charts(&mut out);
    matrix(&mut out, results);
    targets::render(&mut out, results);
    filters::render(&mut out, results);
    comparisons::render(&mut out, results);
    scale(&mut out, results);
    cache_and_modes(&mut out, results);
    method(&mut out, args);
    out
}

fn micros(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn sample_cells(s: &Sample) -> String {
    format!(
        "{:.0} | {} | {} | {}",
        s.per_second,
        micros(s.p50),
        micros(s.p90),
        micros(s.p99)
    )
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, m)| m.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn header(out: &mut String, args: &Args, r: &Results) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(out, "# runview performance\n");
    let _ = writeln!(
        out,
        "Regenerate with `cargo build --release -p runview -p runview-bench && \
         target/release/runview-bench --out docs/performance.md` (about 45 minutes; `--quick` \
         for a short trial). Every number below comes from one run of that command.\n"
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| date | {} |",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(
        out,
        "| machine | {cores} cores (`nproc`), {} |",
        cpu_model()
    );
    let where_ = if r.private_postgres {
        "private server in a temporary directory, Unix socket; shared_buffers 512MB, fsync off"
    } else {
        "the server given by --database-url"
    };
    let _ = writeln!(out, "| PostgreSQL | {} ({where_}) |", r.postgres_version);
    let _ = writeln!(
        out,
        "| main dataset | {} runs, 40% in NEW, split mode; seeded in {:.1} s |",
        r.main.runs,
        r.main.seeded_in.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| runs | {} s each, after {WARM_UP_CALLS} warm-up calls per RPC; page size {PAGE_SIZE} |",
        args.duration().as_secs(),
    );
    let _ = writeln!(
        out,
        "| runview | release binary, pool 16 connections per database, `max_concurrent_requests` 4096 |\n"
    );
    let _ = writeln!(
        out,
        "Causes of missed targets, from profiles, are in [benchmarking.md](benchmarking.md#findings).\n"
    );
}

fn ratio(row: &Row) -> Option<f64> {
    row.pgbench
        .as_ref()
        .map(|p| row.runview.sample.per_second / p.sample.per_second.max(1e-9))
}

fn matrix(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Throughput and latency\n");
    let _ = writeln!(
        out,
        "Latencies in µs. pgbench ran runview's own statements on the same databases right after \
         runview's run (see [Method](#method)); *ratio* is runview req/s ÷ pgbench calls/s. *CPU/call* \
         is runview's user+system CPU over the run ÷ its calls, *PG CPU/call* PostgreSQL's. *foreign* is CPU (in cores) used \
         by anything else than runview, PostgreSQL and the load generators; *retries* counts runs \
         repeated because it exceeded the threshold.\n"
    );
    let _ = writeln!(
        out,
        "| RPC | c | req/s | p50 | p90 | p99 | CPU/call µs | PG CPU/call µs | pgbench calls/s | p50 | p90 | p99 | ratio | foreign (rv / pg) | retries |"
    );
    let _ = writeln!(
        out,
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for row in &r.rows {
        let (pg, ratio_cell, pg_foreign, pg_retries) = match (&row.pgbench, ratio(row)) {
            (Some(p), Some(x)) => (
                sample_cells(&p.sample),
                format!("{x:.2}"),
                format!("{:.2}", p.usage.foreign_cores),
                p.retries.to_string(),
            ),
            _ => ("– | – | – | –".into(), "–".into(), "–".into(), "–".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.1} | {pg} | {ratio_cell} | {:.2} / {pg_foreign} | {} / {pg_retries} |",
            row.scenario,
            row.concurrency,
            sample_cells(&row.runview.sample),
            row.runview.server_cpu_per_call_us(),
            row.runview.postgres_cpu_per_call_us(),
            row.runview.usage.foreign_cores,
            row.runview.retries,
        );
    }
    let (hwm, rss) = r.memory_kib;
    let _ = writeln!(
        out,
        "\nrunview's peak resident set over the whole matrix (c=64 included, `VmHWM`): **{:.1} MiB** \
         ({:.1} MiB resident at the end).\n",
        hwm as f64 / 1024.0,
        rss as f64 / 1024.0
    );
}

fn find<'a>(r: &'a Results, scenario: &str, c: u32) -> Option<&'a Row> {
    r.rows
        .iter()
        .find(|row| row.scenario == scenario && row.concurrency == c)
}

fn charts(out: &mut String) {
    let _ = writeln!(
        out,
        "![req/s against concurrency, runview beside pgbench](performance/throughput.svg)\n\n\
         ![p99 against concurrency, runview beside pgbench](performance/p99.svg)\n"
    );
}

fn scale(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Dataset size\n");
    let _ = writeln!(
        out,
        "GetRun (basic) and ListRuns (first page, no filter) in the environment with the most \
         runs, on datasets of growing size (split, 40% NEW; the environment holds 85% of them). Every size is served by its own runview \
         at once and measured in turn, in {SCALE_ROUNDS} interleaved rounds; each line is the round \
         with the median p50. Latencies in µs.\n"
    );
    let _ = writeln!(
        out,
        "| runs | in the environment | seeded in | call | c | req/s | p50 | p90 | p99 | foreign | retries |"
    );
    let _ = writeln!(out, "|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|");
    for point in &r.scale {
        let calls = point
            .get_run
            .iter()
            .map(|m| ("GetRun", m))
            .chain(point.list_runs.iter().map(|m| ("ListRuns", m)));
        for (call, (c, m)) in calls {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} s | {call} | {c} | {} | {:.2} | {} |",
                point.runs,
                point.environment_runs,
                point.seeded_in.as_secs_f64(),
                sample_cells(&m.sample),
                m.usage.foreign_cores,
                m.retries
            );
        }
    }
    let _ = writeln!(out);
}

fn cache_and_modes(out: &mut String, r: &Results) {
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let _ = writeln!(out, "## Control-plane cache\n");
    let _ = writeln!(
        out,
        "Single GetRun (basic) calls on the main dataset, in µs (median of {} samples):\n",
        r.cache.cold.len()
    );
    let _ = writeln!(out, "| situation | latency |\n|---|--:|");
    let _ = writeln!(
        out,
        "| first call after a restart (cache empty, new client connection) | {:.0} |",
        r.cache.first_after_restart
    );
    let _ = writeln!(
        out,
        "| right after `CacheService/Invalidate` all (cold) | {:.0} |",
        median(&r.cache.cold)
    );
    let _ = writeln!(
        out,
        "| the same call again (warm) | {:.0} |\n",
        median(&r.cache.warm)
    );

    let _ = writeln!(out, "## Split vs passthrough\n");
    let _ = writeln!(
        out,
        "The same {} runs in one database (runview started without a NEW URL; seeded in {:.0} s) \
         against the split main dataset. Latencies in µs.\n",
        r.main.runs,
        r.passthrough.seeded_in.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| call | c | mode | req/s | p50 | p90 | p99 | CPU/call µs |"
    );
    let _ = writeln!(out, "|---|--:|---|--:|--:|--:|--:|--:|");
    let pairs: [(&str, u32, &Measured); 2] = [
        ("GetRun (basic)", 32, &r.passthrough.get_run),
        ("ListRuns", 8, &r.passthrough.list_runs),
    ];
    for (call, c, single) in pairs {
        if let Some(split) = find(r, call, c) {
            for (mode, m) in [("split", &split.runview), ("passthrough", single)] {
                let _ = writeln!(
                    out,
                    "| {call} | {c} | {mode} | {} | {:.1} |",
                    sample_cells(&m.sample),
                    m.server_cpu_per_call_us()
                );
            }
        }
    }
    let _ = writeln!(out);
}

fn method(out: &mut String, args: &Args) {
    let _ = writeln!(
        out,
        "## Method\n\n\
         - **Setup.** `runview-bench` starts a private PostgreSQL (`runview_localdb::LocalPostgres`, \
         tuned with `ALTER SYSTEM`: shared_buffers 512MB, effective_cache_size 4GB, \
         random_page_cost 1.1, jit off) unless `--database-url` names one, creates control-plane, \
         LEGACY and NEW databases, applies the reference schemas (the upstream's indexes only; \
         runview's recommended ones exist only during the rounds that measure them) and seeds \
         them with \
         `runview_seed` (the code behind `runview seed`). It starts the release `runview` binary \
         in split mode on free loopback ports and waits for readiness.\n\
         - **runview's side.** runview-load's runner (the code of the `runview-load` binary) in \
         the benchmark process: c workers over ⌈c/16⌉ HTTP/2 connections, a fixed duration, every \
         call must answer OK. GetRun sends 32 ids of the largest environment, 16 from each \
         store, round-robin; lists ask for the first page of {PAGE_SIZE} of that environment; \
         GetWaitpoint sends 16 waitpoints of each store; GetBatch 16 batches of that environment \
         from each store, in the FULL view.\n\
         - **pgbench's side** (same concurrency, same duration, same databases, in the same run):\n  \
         - GetRun: `FIND_RUN_SQL` from runview-store with `-M prepared`, as sqlx's statement \
         cache sends it; `$1` a run id, `$2` the environment, `$3` whether bodies are read \
         (true for the FULL view), `$4` 101 (children limit + 1). Each store's pgbench draws \
         from that store's 16 ids (one `\\if` branch per id, because pgbench variables cannot \
         hold string lists); the c clients are shared out over LEGACY and NEW (c=1: LEGACY \
         only), since runview's GetRun reads the id's home store only. pgbench numbers each \
         occurrence of a variable as its own parameter, so the server sees the same text with \
         9 parameters instead of 4; the plan is the same.\n  \
         - ListRuns: the statement `runview_store::list_runs_sql` builds for the request (the \
         default 7-day window, `LIMIT 26` = page + 1, and for the filtered case \
         `status = ANY('{{COMPLETED_SUCCESSFULLY,COMPLETED_WITH_ERRORS}}')`, what COMPLETED and \
         FAILED map to). Unfiltered with `-M prepared` (runview keeps it prepared), filtered with \
         `-M extended` (runview sends it unnamed, planned with its values each time). runview runs \
         the statement on both stores at once for every call, so pgbench runs c clients on LEGACY \
         and c on NEW together, and its calls/s is the two stores' transactions ÷ 2.\n  \
         - GetBatch: `FIND_BATCH_SQL` from runview-store with `-M prepared`, `$3` true (run ids \
         read). runview sends it to both stores at once for every call, with the same id, so \
         pgbench runs c clients on LEGACY and c on NEW together, each drawing from all 32 ids (a \
         hit in one store, a miss in the other), and its calls/s is the two stores' transactions \
         ÷ 2.\n  \
         - pgbench latencies are per statement (from `--log`); runview's include the gRPC round \
         trip, hydration and, for lists, waiting for the slower store.\n  \
         - GetWaitpoint, ListBatches and ListWaitpoints have no pgbench column: their statements \
         are not public in runview-store.\n\
         - **CPU.** /proc/<runview pid>/stat utime+stime before and after each run, ÷ OK calls. \
         Foreign CPU: busy ticks of /proc/stat minus runview's, every PostgreSQL process's (and \
         exited backends') and this process's with its children (pgbench); a run whose foreign CPU \
         exceeded {:.2} cores was repeated, at most twice.\n\
         - **Memory.** `VmHWM` of /proc/<runview pid>/status after the matrix.\n\
         - **Cache.** The server is restarted for the first call; then `CacheService/Invalidate` \
         (all) before a GetRun, and the same GetRun again.\n",
        args.foreign_cpu_threshold
    );
}
