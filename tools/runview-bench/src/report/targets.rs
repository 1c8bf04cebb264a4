//! The targets, each with what was measured and whether it is met.

use std::fmt::Write as _;
use std::time::Duration;

use runview_core::page::DEFAULT_SCAN_BUDGET;

use super::{filters, find, micros, ratio};
use crate::phases::Results;

/// Latency a first page of any filter must stay under at c=1 on the largest dataset (p99).
const FIRST_PAGE_P99: Duration = Duration::from_millis(50);

struct Lines<'a> {
    out: &'a mut String,
}

impl Lines<'_> {
    fn line(&mut self, target: &str, measured: String, met: bool) {
        let verdict = if met { "met" } else { "**missed**" };
        let _ = writeln!(self.out, "| {target} | {measured} | {verdict} |");
    }
}

pub fn render(out: &mut String, r: &Results) {
    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(out, "| target | measured | status |\n|---|---|---|");
    let mut lines = Lines { out };
    get_run(&mut lines, r);
    list_runs(&mut lines, r);
    coalescing(&mut lines, r);
    filter_matrix(&mut lines, r);
    flat_across_sizes(&mut lines, r);
    throughput_under_overload(&mut lines, r);
    let _ = writeln!(lines.out);
}

fn get_run(lines: &mut Lines, r: &Results) {
    if let Some(x) = find(r, "GetRun (basic)", 32).and_then(ratio) {
        lines.line(
            "GetRun ≥ 1.0× pgbench of `FIND_RUN_SQL` at c=32 (coalescing on)",
            format!("{x:.2}×"),
            x >= 1.0,
        );
    }
    let at32 =
        find(r, "GetRun (basic)", 32).map_or(f64::NAN, |row| row.runview.server_cpu_per_call_us());
    lines.line(
        "service CPU ≤ 25 µs per GetRun",
        format!("{at32:.1} µs at c=32"),
        at32 <= 25.0,
    );
    if let Some(row) = find(r, "GetRun (basic)", 1) {
        let s = row.runview.sample;
        lines.line(
            "GetRun p50 ≤ 200 µs and p99 ≤ 500 µs at c=1",
            format!("p50 {} µs, p99 {} µs", micros(s.p50), micros(s.p99)),
            s.p50 <= Duration::from_micros(200) && s.p99 <= Duration::from_micros(500),
        );
    }
}

fn list_runs(lines: &mut Lines, r: &Results) {
    for scenario in ["ListRuns", "ListRuns (status filter)"] {
        if let Some(row) = find(r, scenario, 8) {
            if let Some(x) = ratio(row) {
                lines.line(
                    &format!("{scenario} ≥ 0.8× pgbench of its statements at c=8"),
                    format!("{x:.2}×"),
                    x >= 0.8,
                );
            }
            let cpu = row.runview.server_cpu_per_call_us();
            lines.line(
                &format!("runview CPU ≤ 100 µs per {scenario} call (c=8)"),
                format!("{cpu:.1} µs"),
                cpu <= 100.0,
            );
        }
    }
}

fn coalescing(lines: &mut Lines, r: &Results) {
    let pair = |c: u32| {
        r.coalescing
            .iter()
            .find(|p| p.scenario == "GetRun (basic)" && p.concurrency == c)
    };
    if let Some(p) = pair(32) {
        let (on, off) = (
            p.with.postgres_cpu_per_call_us(),
            p.without.postgres_cpu_per_call_us(),
        );
        lines.line(
            "PostgreSQL CPU per GetRun at c=32 halved by coalescing",
            format!("{on:.1} µs on, {off:.1} µs off ({:.2}×)", on / off),
            on <= off / 2.0,
        );
    }
    if let Some(p) = pair(1) {
        let (on, off) = (p.with.sample.p50, p.without.sample.p50);
        let change = on.as_secs_f64() / off.as_secs_f64().max(1e-9) - 1.0;
        lines.line(
            "GetRun p50 at c=1 unchanged by coalescing (±5%)",
            format!(
                "{} µs on, {} µs off ({:+.1}%)",
                micros(on),
                micros(off),
                change * 100.0
            ),
            change.abs() <= 0.05,
        );
    }
}

fn filter_matrix(lines: &mut Lines, r: &Results) {
    let Some(largest) = r.filter_matrices.last() else {
        return;
    };
    let at = format!("{} runs", largest.runs);
    let first_pages: Vec<_> = largest.cells.iter().filter(|c| c.page == 1).collect();
    let slowest = first_pages.iter().max_by_key(|c| c.p99);
    if let Some(slowest) = slowest {
        lines.line(
            &format!("every filter's first page p99 ≤ 50 ms at c=1 ({at})"),
            format!(
                "slowest: {} ({} µs)",
                filters::label(slowest),
                micros(slowest.p99)
            ),
            slowest.p99 <= FIRST_PAGE_P99,
        );
    }
    let most = largest
        .cells
        .iter()
        .flat_map(|c| c.examined_per_call.iter().map(move |n| (c, *n)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((cell, rows)) = most {
        lines.line(
            &format!(
                "rows examined per call and store ≤ the scan budget ({DEFAULT_SCAN_BUDGET}, {at})"
            ),
            format!(
                "most: {rows:.0} ({}, page {})",
                filters::label(cell),
                cell.page
            ),
            rows <= DEFAULT_SCAN_BUDGET as f64,
        );
    }
    let failures: usize = r
        .filter_matrices
        .iter()
        .flat_map(|m| &m.cells)
        .map(|c| c.failures)
        .sum();
    lines.line(
        "no failed or timed-out list call in the filter matrix",
        format!("{failures} failed"),
        failures == 0,
    );
}

fn flat_across_sizes(lines: &mut Lines, r: &Results) {
    for (name, get_run) in [("GetRun p50 at c=1", true), ("ListRuns p50 at c=1", false)] {
        let values: Vec<(usize, f64)> = r
            .scale
            .iter()
            .filter_map(|p| {
                let list = if get_run { &p.get_run } else { &p.list_runs };
                list.first()
                    .map(|(_, m)| (p.runs, m.sample.p50.as_secs_f64() * 1e6))
            })
            .collect();
        if let Some(first) = values.first() {
            let spread = values
                .iter()
                .map(|v| (v.1 / first.1 - 1.0).abs())
                .fold(0.0, f64::max);
            let shown: Vec<String> = values
                .iter()
                .map(|(n, v)| format!("{n}: {v:.0} µs"))
                .collect();
            lines.line(
                &format!("latency flat (±10%) across sizes: {name}"),
                format!(
                    "{} (largest deviation {:.0}%)",
                    shown.join(", "),
                    spread * 100.0
                ),
                spread <= 0.10,
            );
        }
    }
    if let Some(flat) = filters::flatness(r) {
        lines.line(
            "every filter-matrix row flat (±10%) between the two sizes (p50, c=1)",
            format!(
                "{} of {} rows within ±10%; largest change {:+.0}% ({})",
                flat.within,
                flat.rows,
                flat.worst_change * 100.0,
                flat.worst_label
            ),
            flat.within == flat.rows,
        );
    }
}

fn throughput_under_overload(lines: &mut Lines, r: &Results) {
    let mut scenarios: Vec<&str> = r.rows.iter().map(|row| row.scenario).collect();
    scenarios.dedup();
    for scenario in scenarios {
        let peak = r
            .rows
            .iter()
            .filter(|row| row.scenario == scenario)
            .map(|row| row.runview.sample.per_second)
            .fold(0.0, f64::max);
        if let Some(row) = find(r, scenario, 64) {
            let x = row.runview.sample.per_second / peak.max(1e-9);
            lines.line(
                &format!("{scenario}: throughput at c=64 ≥ 0.9× peak"),
                format!(
                    "{:.0} of {peak:.0} req/s ({x:.2}×)",
                    row.runview.sample.per_second
                ),
                x >= 0.9,
            );
        }
    }
}
