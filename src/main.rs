mod seed_command;

use clap::{Parser, Subcommand};
use runview::config::{Config, Flags};
use runview::server::{self, DatabaseUrls};
use runview::{embedded, telemetry};
use seed_command::SeedArgs;

// Every call decodes rows into many small strings and frees them again; glibc's allocator spent
// about a fifth of the CPU of a ListRuns call on that (docs/benchmarking.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// runview: gRPC reads of runs, waitpoints and batches across split run-ops stores.
///
/// With no database configured it starts an embedded PostgreSQL with demo data.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    flags: Flags,
}

#[derive(Subcommand)]
enum Command {
    /// Fill databases holding the reference schemas with a deterministic dataset of a given size.
    Seed(SeedArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Seed(args)) = &cli.command {
        return seed_command::run(args).await;
    }
    let config = Config::load(&cli.flags)?;
    let _telemetry = telemetry::init(config.log_format);
    match DatabaseUrls::from_config(&config) {
        Some(urls) => {
            let running = server::start(&config, &urls).await?;
            let token = running.shutdown_token();
            tokio::spawn(async move {
                server::shutdown_signal().await;
                token.cancel();
            });
            running.stopped().await
        }
        None => embedded::run(&config).await,
    }
}
