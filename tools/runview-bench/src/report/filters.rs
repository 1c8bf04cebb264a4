//! The filter matrix's tables, and how its rows compare between the two sizes.

use std::fmt::Write as _;

use runview_core::page::DEFAULT_SCAN_BUDGET;

use super::micros;
use crate::filter_matrix::{Cell, DEEP_PAGE, FilterMatrix};
use crate::phases::Results;

/// Values longer than this are cut in the table (ids are long and say little).
const SHOWN_VALUE_CHARS: usize = 28;

pub fn render(out: &mut String, r: &Results) {
    if r.filter_matrices.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Filter matrix\n");
    let _ = writeln!(
        out,
        "Every ListRuns and ListBatches filter in the environment with the most runs, with its most \
         common value in the default 7-day window, its rarest value that still matches, and a \
         value nobody used; first page, and page {DEEP_PAGE} (or the last page when there are \
         fewer). One call at a time, against a runview with one connection per store. *matches* \
         counts the window's records holding the value (both stores). *examined* is the rows \
         PostgreSQL read per call in each store (LEGACY / NEW), from its statistics: heap rows \
         fetched by sequential and index scans of the list's table. The scan budget is \
         {DEFAULT_SCAN_BUDGET} rows per store and call. Latencies in µs.\n"
    );
    for matrix in &r.filter_matrices {
        table(out, matrix);
    }
}

fn table(out: &mut String, matrix: &FilterMatrix) {
    let _ = writeln!(
        out,
        "### {} runs ({} in the environment)\n",
        matrix.runs, matrix.environment_runs
    );
    let _ = writeln!(
        out,
        "| list | filter | value | matches | page | calls | p50 | p99 | rows/page | examined | failed |"
    );
    let _ = writeln!(out, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for cell in &matrix.cells {
        let picked = &cell.picked;
        let examined: Vec<String> = cell
            .examined_per_call
            .iter()
            .map(|n| format!("{n:.0}"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} {} | {} | {} | {} | {} | {} | {} | {:.1} | {} | {} |",
            picked.list.name(),
            picked.filter.field(),
            picked.class.name(),
            shown(&picked.value),
            picked.matches,
            cell.page,
            cell.calls,
            micros(cell.p50),
            micros(cell.p99),
            cell.rows_per_page,
            examined.join(" / "),
            cell.failures
        );
    }
    let _ = writeln!(out);
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        return "–".to_owned();
    }
    let mut cut: String = value.chars().take(SHOWN_VALUE_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    format!("`{}`", cut.replace('|', "\\|").replace('`', "'"))
}

/// How a cell is named in the targets.
pub fn label(cell: &Cell) -> String {
    let picked = &cell.picked;
    format!(
        "{} {} {}",
        picked.list.name(),
        picked.filter.field(),
        picked.class.name()
    )
}

pub struct Flatness {
    pub rows: usize,
    pub within: usize,
    pub worst_change: f64,
    pub worst_label: String,
}

/// First-page p50 of every (list, filter, class) on the largest size against the main size.
pub fn flatness(r: &Results) -> Option<Flatness> {
    let [small, .., large] = r.filter_matrices.as_slice() else {
        return None;
    };
    let mut flat = Flatness {
        rows: 0,
        within: 0,
        worst_change: 0.0,
        worst_label: String::new(),
    };
    for cell in large.cells.iter().filter(|c| c.page == 1) {
        let Some(reference) = small.cells.iter().find(|c| {
            c.page == 1
                && c.picked.list == cell.picked.list
                && c.picked.filter == cell.picked.filter
                && c.picked.class == cell.picked.class
        }) else {
            continue;
        };
        let change = cell.p50.as_secs_f64() / reference.p50.as_secs_f64().max(1e-9) - 1.0;
        flat.rows += 1;
        if change.abs() <= 0.10 {
            flat.within += 1;
        }
        if change.abs() > flat.worst_change.abs() {
            flat.worst_change = change;
            flat.worst_label = label(cell);
        }
    }
    Some(flat)
}
