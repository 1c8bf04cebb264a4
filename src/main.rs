use clap::Parser;
use runview::config::{Config, Flags};
use runview::server::{self, DatabaseUrls};
use runview::{embedded, telemetry};

/// runview: gRPC reads of runs, waitpoints and batches across split run-ops stores.
///
/// With no database configured it starts an embedded PostgreSQL with demo data.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    flags: Flags,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
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
