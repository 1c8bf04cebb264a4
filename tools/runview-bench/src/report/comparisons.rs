//! The side-by-side tables: lookup coalescing on and off, recommended indexes present and absent.

use std::fmt::Write as _;

use super::micros;
use crate::comparisons::SideBySide;
use crate::measure::Measured;
use crate::phases::Results;

pub fn render(out: &mut String, r: &Results) {
    if !r.coalescing.is_empty() {
        let _ = writeln!(out, "## Lookup coalescing\n");
        let _ = writeln!(
            out,
            "The main dataset served by two runviews at once, `lookup_coalescing` on and off, \
             measured in turn over six rounds (on, off, off, on, on, off); each line is the round \
             with the median p50. *PG CPU/call* is the CPU of every PostgreSQL process over the \
             run ÷ runview's calls. Latencies in µs.\n"
        );
        side_by_side(out, &r.coalescing, ("on", "off"));
    }
    if !r.recommended_indexes.is_empty() {
        let _ = writeln!(out, "## Recommended indexes\n");
        let _ = writeln!(
            out,
            "runview needs only the upstream's indexes. The lists on the main dataset with \
             `migrations/recommended/` created on both stores and without it (dropped), in six \
             rounds (present, absent, absent, present, present, absent); each line is the round \
             with the median p50. Latencies in µs.\n"
        );
        side_by_side(out, &r.recommended_indexes, ("present", "absent"));
    }
}

fn side_by_side(out: &mut String, pairs: &[SideBySide], (with, without): (&str, &str)) {
    let _ = writeln!(
        out,
        "| call | c | side | req/s | p50 | p99 | CPU/call µs | PG CPU/call µs | {with} ÷ {without} (req/s) |"
    );
    let _ = writeln!(out, "|---|--:|---|--:|--:|--:|--:|--:|--:|");
    for pair in pairs {
        let gain = pair.with.sample.per_second / pair.without.sample.per_second.max(1e-9);
        for (side, measured, ratio) in [
            (with, &pair.with, format!("{gain:.2}×")),
            (without, &pair.without, String::new()),
        ] {
            let _ = writeln!(
                out,
                "| {} | {} | {side} | {} | {ratio} |",
                pair.scenario,
                pair.concurrency,
                cells(measured)
            );
        }
    }
    let _ = writeln!(out);
}

fn cells(m: &Measured) -> String {
    format!(
        "{:.0} | {} | {} | {:.1} | {:.1}",
        m.sample.per_second,
        micros(m.sample.p50),
        micros(m.sample.p99),
        m.server_cpu_per_call_us(),
        m.postgres_cpu_per_call_us()
    )
}
