//! SVG charts of the main matrix: req/s and p99 against concurrency, runview beside pgbench, one
//! panel per call that has a pgbench side.

use std::path::Path;

use plotters::prelude::*;

use crate::phases::{Results, Row};

const SIZE: (u32, u32) = (1100, 760);
const RUNVIEW: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const PGBENCH: RGBColor = RGBColor(0xd6, 0x27, 0x28);

#[derive(Clone, Copy)]
enum Metric {
    Throughput,
    P99,
}

impl Metric {
    fn file(self) -> &'static str {
        match self {
            Self::Throughput => "throughput.svg",
            Self::P99 => "p99.svg",
        }
    }

    fn axis(self) -> &'static str {
        match self {
            Self::Throughput => "calls/s",
            Self::P99 => "p99 (ms)",
        }
    }

    fn of(self, sample: &crate::load::Sample) -> f64 {
        match self {
            Self::Throughput => sample.per_second,
            Self::P99 => sample.p99.as_secs_f64() * 1e3,
        }
    }
}

/// Writes `throughput.svg` and `p99.svg` into `dir`.
pub fn write(dir: &Path, results: &Results) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut scenarios: Vec<&str> = results
        .rows
        .iter()
        .filter(|row| row.pgbench.is_some())
        .map(|row| row.scenario)
        .collect();
    scenarios.dedup();
    for metric in [Metric::Throughput, Metric::P99] {
        draw(&dir.join(metric.file()), results, &scenarios, metric)?;
    }
    Ok(())
}

fn draw(path: &Path, results: &Results, scenarios: &[&str], metric: Metric) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let columns = scenarios.len().div_ceil(2).max(1);
    let panels = root.split_evenly((2, columns));
    for (panel, scenario) in panels.iter().zip(scenarios) {
        let rows: Vec<&Row> = results
            .rows
            .iter()
            .filter(|row| row.scenario == *scenario)
            .collect();
        let runview: Vec<(f64, f64)> = rows
            .iter()
            .map(|row| (f64::from(row.concurrency), metric.of(&row.runview.sample)))
            .collect();
        let pgbench: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|row| {
                let p = row.pgbench.as_ref()?;
                Some((f64::from(row.concurrency), metric.of(&p.sample)))
            })
            .collect();
        let top = runview
            .iter()
            .chain(&pgbench)
            .map(|p| p.1)
            .fold(0.0, f64::max)
            * 1.1;
        let right = runview.iter().map(|p| p.0).fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(*scenario, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d((1.0..right).log_scale(), 0.0..top.max(1e-9))?;
        chart
            .configure_mesh()
            .x_desc("concurrency")
            .y_desc(metric.axis())
            .x_label_formatter(&|c| format!("{c:.0}"))
            .draw()?;
        for (name, color, points) in [("runview", RUNVIEW, runview), ("pgbench", PGBENCH, pgbench)]
        {
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
