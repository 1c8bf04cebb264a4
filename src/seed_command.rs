//! `runview seed`: fills databases holding the reference schemas with a deterministic dataset of
//! a chosen size, for benchmarks and trials against a real PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use runview_localdb::Schema;
use runview_seed::{SeedPlan, SeedReport, SeedTargets};
use sqlx::PgPool;

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

/// The three targets, with one pool per distinct URL so that a repeated URL is one database.
struct Databases {
    pools: Vec<(String, PgPool)>,
    control_plane: usize,
    legacy: usize,
    new: usize,
}

impl Databases {
    async fn connect(args: &SeedArgs) -> anyhow::Result<Self> {
        let legacy = args.legacy_database_url.clone();
        let control_plane = args
            .control_plane_database_url
            .clone()
            .unwrap_or_else(|| legacy.clone());
        let new = args
            .new_database_url
            .clone()
            .unwrap_or_else(|| legacy.clone());
        let mut pools: Vec<(String, PgPool)> = Vec::new();
        let mut index_of = async |url: String, role: &str| -> anyhow::Result<usize> {
            if let Some(found) = pools.iter().position(|(known, _)| *known == url) {
                return Ok(found);
            }
            // Named by role, never by URL: URLs may carry passwords.
            let pool = PgPool::connect(&url)
                .await
                .with_context(|| format!("cannot connect to the {role} database"))?;
            pools.push((url, pool));
            Ok(pools.len() - 1)
        };
        let control_plane = index_of(control_plane, "control-plane").await?;
        let legacy = index_of(legacy, "LEGACY").await?;
        let new = index_of(new, "NEW").await?;
        Ok(Self {
            pools,
            control_plane,
            legacy,
            new,
        })
    }

    fn pool(&self, index: usize) -> &PgPool {
        &self.pools[index].1
    }

    /// One schema per database: the full schema for the control plane and LEGACY (one database
    /// in production and in passthrough), NEW's run-ops schema for a NEW database of its own.
    async fn create_schemas(&self) -> anyhow::Result<()> {
        let mut full = vec![self.control_plane];
        if self.legacy != self.control_plane {
            full.push(self.legacy);
        }
        for index in full {
            runview_localdb::apply_schema(self.pool(index), Schema::Full)
                .await
                .context("cannot create the full schema")?;
        }
        if self.new != self.control_plane && self.new != self.legacy {
            runview_localdb::apply_schema(self.pool(self.new), Schema::RunOps)
                .await
                .context("cannot create the run-ops schema")?;
        }
        Ok(())
    }
}

pub async fn run(args: &SeedArgs) -> anyhow::Result<()> {
    let databases = Databases::connect(args).await?;
    if args.create_schema {
        databases.create_schemas().await?;
    }
    let plan = SeedPlan {
        seed: args.seed,
        runs: args.runs,
        new_share: args.new_share,
        extra_organizations: args.extra_organizations,
        ..SeedPlan::demo(chrono::Utc::now())
    };
    let targets = SeedTargets {
        control_plane: databases.pool(databases.control_plane),
        legacy: databases.pool(databases.legacy),
        new: databases.pool(databases.new),
    };
    let started = Instant::now();
    let written = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(args.runs as u64);
    let ticker = tokio::spawn(follow(bar.clone(), Arc::clone(&written)));
    let seeded = runview_seed::seed_with_progress(targets, &plan, &written).await;
    ticker.abort();
    bar.finish_and_clear();
    let report = seeded.context("seeding failed")?;
    print_report(&report, started.elapsed());
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
