//! `runview-load [flags] [host]` runs a load test; `runview-load ids …` writes request data.
//! Exit status: 0 when the run completed (failed calls are in the report, as with ghz), 1 when
//! `--fail-on-error` was given and a call failed, 2 when the run could not be made.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use runview_load::cli::{Cli, Command, RunArgs};
use runview_load::config::Format;
use runview_load::{ids, runner, summary};
use tokio_util::sync::CancellationToken;

// The load generator shares the machine with the server it measures: it should spend as little
// CPU per call as it can.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Ids(args)) => ids::write_ids(&args).await.map(|()| ExitCode::SUCCESS),
        None => load(&cli.run).await,
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

async fn load(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let (options, warnings) = args.resolve()?;
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let cancel = CancellationToken::new();
    let interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupt.cancel();
        }
    });

    let report = runner::run(&options, cancel).await?;
    let text = match options.format {
        Format::Summary => summary::render(&report),
        Format::Json => report.to_json(false) + "\n",
        Format::Pretty => report.to_json(true) + "\n",
    };
    match &options.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }

    let failures = report.failures();
    if args.fail_on_error && failures > 0 {
        eprintln!("{failures} of {} calls did not answer OK", report.count);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
