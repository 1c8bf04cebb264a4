//! `runview seed`: fills databases holding the reference schemas with a deterministic dataset of
//! a chosen size, for benchmarks and trials against a real PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use runview_seed::{Deployment, DeploymentUrls, SeedPlan, SeedReport};

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Runs in both run-ops stores together.
    #[arg(long, default_value_t = 1_000_000)]
    pub runs: usize,
    /// Share of the runs that live in NEW; the rest live in LEGACY.
    #[arg(long, default_value_t = 0.4)]
    pub new_share: f64,
    /// Organizations beyond the fixed topology, each with a PRODUCTION and a DEVELOPMENT
    /// environment.
    #[arg(long, default_value_t = 2)]
    pub extra_organizations: usize,
    /// Seeds every random choice: the same seed gives the same rows.
    #[arg(long, default_value_t = 0x5eed_2026)]
    pub seed: u64,
    /// The control plane; defaults to the LEGACY database (passthrough).
    #[arg(
        long,
        env = "RUNVIEW_CONTROL_PLANE_DATABASE_URL",
        hide_env_values = true
    )]
    pub control_plane_database_url: Option<String>,
    /// The LEGACY run-ops database.
    #[arg(long, env = "RUNVIEW_LEGACY_DATABASE_URL", hide_env_values = true)]
    pub legacy_database_url: String,
    /// The NEW run-ops database; defaults to the LEGACY one (every run lands there).
    #[arg(long, env = "RUNVIEW_NEW_DATABASE_URL", hide_env_values = true)]
    pub new_database_url: Option<String>,
    /// Apply the reference schemas first (the databases must be empty).
    #[arg(long)]
    pub create_schema: bool,
}

pub async fn run(args: &SeedArgs) -> anyhow::Result<()> {
    let legacy = args.legacy_database_url.as_str();
    let urls = DeploymentUrls {
        control_plane: args.control_plane_database_url.as_deref().unwrap_or(legacy),
        legacy,
        new: args.new_database_url.as_deref().unwrap_or(legacy),
    };
    let deployment = Deployment::connect(urls).await?;
    if args.create_schema {
        deployment.create_schemas().await?;
    }
    let plan = SeedPlan {
        seed: args.seed,
        runs: args.runs,
        new_share: args.new_share,
        extra_organizations: args.extra_organizations,
        ..SeedPlan::demo(chrono::Utc::now())
    };
    let started = Instant::now();
    let written = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(args.runs as u64);
    let ticker = tokio::spawn(follow(bar.clone(), Arc::clone(&written)));
    let seeded = deployment.seed(&plan, &written).await;
    ticker.abort();
    bar.finish_and_clear();
    deployment.close().await;
    print_report(&seeded?, started.elapsed());
    Ok(())
}

fn progress_bar(runs: u64) -> ProgressBar {
    let bar = ProgressBar::new(runs);
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} runs ({per_sec}, eta {eta})",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar
}

/// Moves the bar as chunks land; the seeder only counts, so drawing stays out of its way.
async fn follow(bar: ProgressBar, written: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        let runs = written.load(Ordering::Relaxed);
        bar.set_position(runs);
        if runs >= bar.length().unwrap_or(0) {
            bar.set_message("analyzing");
        }
    }
}

fn print_report(report: &SeedReport, took: Duration) {
    println!(
        "seeded {} runs ({} LEGACY, {} NEW), {} batches, {} waitpoints in {:.1} s",
        report.runs_legacy + report.runs_new,
        report.runs_legacy,
        report.runs_new,
        report.batches_legacy + report.batches_new,
        report.waitpoints_legacy + report.waitpoints_new,
        took.as_secs_f64()
    );
    let highlights = &report.highlights;
    println!(
        "production environment: {}",
        highlights.production_environment_id
    );
    println!("a LEGACY run:           {}", highlights.legacy_run_id);
    println!("a NEW run:              {}", highlights.new_run_id);
}
