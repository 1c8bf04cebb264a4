//! `runview-bench --out docs/performance.md`: seeds a private PostgreSQL, starts the release
//! runview binary, loads every read RPC with runview-load and runs pgbench on runview's own
//! statements beside it, then writes the report.

mod charts;
mod comparisons;
mod cpu;
mod examined;
mod filter_matrix;
mod filter_values;
mod load;
mod measure;
mod pgbench;
mod phases;
mod postgres;
mod report;
mod scenarios;
mod server;
mod statements;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Measure runview beside pgbench and write docs/performance.md")]
pub struct Args {
    /// Where to write the report.
    #[arg(long, default_value = "docs/performance.md")]
    pub out: PathBuf,
    /// A PostgreSQL to use instead of a private one (e.g. postgres://postgres@127.0.0.1:5432/postgres);
    /// the benchmark creates and drops databases named runview_bench_* on it.
    #[arg(long, env = "RUNVIEW_BENCH_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The runview binary; defaults to the one beside this binary (build both with --release).
    #[arg(long)]
    pub runview_bin: Option<PathBuf>,
    /// Seconds each measured run lasts.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Runs of the main dataset.
    #[arg(long, default_value_t = 1_000_000)]
    pub runs: usize,
    /// Dataset sizes (runs in both stores) of the scaling comparison (the main size is reused);
    /// the largest environment holds 85% of them, so 11.8M puts 10M runs in one environment. The
    /// filter matrix also runs on the largest.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000,11800000")]
    pub scale: Vec<usize>,
    /// Concurrency levels of the main matrix.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    pub concurrency: Vec<u32>,
    /// Foreign CPU (in cores) above which a run is repeated, up to twice.
    #[arg(long, default_value_t = 0.15)]
    pub foreign_cpu_threshold: f64,
    /// A short run to try the command: 2 s runs, 100k-run datasets.
    #[arg(long)]
    pub quick: bool,
}

impl Args {
    fn duration(&self) -> Duration {
        Duration::from_secs(if self.quick { 2 } else { self.seconds })
    }

    /// How long each cell of the filter matrix is measured.
    fn filter_cell_duration(&self) -> Duration {
        Duration::from_millis(if self.quick { 500 } else { 2_000 })
    }

    fn main_runs(&self) -> usize {
        if self.quick { 100_000 } else { self.runs }
    }

    fn scale_sizes(&self) -> Vec<usize> {
        if self.quick {
            vec![50_000, 100_000]
        } else {
            self.scale.clone()
        }
    }

    fn runview_bin(&self) -> anyhow::Result<PathBuf> {
        match &self.runview_bin {
            Some(path) => Ok(path.clone()),
            None => Ok(std::env::current_exe()?
                .parent()
                .context("this binary has no directory")?
                .join("runview")),
        }
    }
}

// The benchmark is also the load generator, on the same cores as the server it measures: the
// same allocator as runview-load keeps its own cost per call low.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = args.runview_bin()?;
    anyhow::ensure!(
        binary.exists(),
        "{} not found: cargo build --release -p runview",
        binary.display()
    );
    let results = phases::run_all(&args, &binary).await?;
    let text = report::render(&args, &results);
    let dir = args.out.parent().unwrap_or(Path::new(""));
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(dir)?;
    }
    // Beside the report, where its image links point.
    charts::write(&dir.join("performance"), &results)?;
    std::fs::write(&args.out, text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
