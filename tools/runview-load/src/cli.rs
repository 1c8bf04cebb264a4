//! The command line, shaped like ghz's: `runview-load [flags] [host]`, where flags override the
//! `--config` file key by key; plus the `ids` helper.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{GhzConfig, LoadOptions};
use crate::ids::IdsArgs;

#[derive(Debug, Parser)]
#[command(
    name = "runview-load",
    version,
    about = "Load-tests runview with ghz configuration files and reports like ghz",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write ids of seeded records as a ghz data array (JSON array of request messages).
    Ids(IdsArgs),
}

/// ghz's flags, under ghz's names.
#[derive(Debug, Default, Args)]
pub struct RunArgs {
    /// host:port of the server, e.g. 127.0.0.1:50051.
    pub host: Option<String>,
    /// A ghz JSON configuration file; flags override its keys.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// package.Service/Method or package.Service.Method.
    #[arg(long)]
    pub call: Option<String>,
    /// Number of concurrent workers [default: 50].
    #[arg(short = 'c', long)]
    pub concurrency: Option<u32>,
    /// Number of calls [default: 200]; ignored with --duration.
    #[arg(short = 'n', long)]
    pub total: Option<u64>,
    /// Run for this long (Go duration, e.g. 10s), ignoring --total.
    #[arg(short = 'z', long)]
    pub duration: Option<String>,
    /// Stop after this long even if --total is not reached.
    #[arg(short = 'x', long)]
    pub max_duration: Option<String>,
    /// Calls per second across all workers [default: no limit].
    #[arg(short = 'r', long)]
    pub rps: Option<u32>,
    /// HTTP/2 connections the workers share round-robin [default: 1].
    #[arg(long)]
    pub connections: Option<u32>,
    /// Leave the first N responses out of the report (warm-up).
    #[arg(long, alias = "skipFirst")]
    pub skip_first: Option<u64>,
    /// Deadline of each call (Go duration) [default: 20s; 0 = none].
    #[arg(short = 't', long)]
    pub timeout: Option<String>,
    /// Timeout of the initial connection [default: 10s].
    #[arg(long)]
    pub connect_timeout: Option<String>,
    /// Request data as JSON: an object, or an array of objects used round-robin.
    #[arg(short = 'd', long)]
    pub data: Option<String>,
    /// A file holding the request data JSON.
    #[arg(short = 'D', long)]
    pub data_file: Option<PathBuf>,
    /// Request metadata as a JSON object of strings.
    #[arg(short = 'm', long)]
    pub metadata: Option<String>,
    /// A file holding the metadata JSON.
    #[arg(short = 'M', long)]
    pub metadata_file: Option<PathBuf>,
    /// summary, json or pretty [default: summary].
    #[arg(short = 'O', long)]
    pub format: Option<String>,
    /// Write the report to this file instead of standard output.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Plaintext HTTP/2 (the only transport runview-load speaks).
    #[arg(long)]
    pub insecure: bool,
    /// A name for the run, shown in the report.
    #[arg(long)]
    pub name: Option<String>,
    /// Include failed calls in the latency statistics.
    #[arg(long)]
    pub count_errors: bool,
    /// Exit with status 1 when any call did not answer OK (ghz itself always exits 0).
    #[arg(long)]
    pub fail_on_error: bool,
}

impl RunArgs {
    /// The config file (if any) with these flags on top, as run options plus warnings about
    /// ignored keys.
    pub fn resolve(&self) -> anyhow::Result<(LoadOptions, Vec<String>)> {
        let file = match &self.config {
            Some(path) => GhzConfig::load(path)?,
            None => GhzConfig::default(),
        };
        let merged = file.overridden_by(self.as_layer()?);
        let warnings = merged.warnings();
        Ok((LoadOptions::try_from(merged)?, warnings))
    }

    fn as_layer(&self) -> anyhow::Result<GhzConfig> {
        let data = self
            .data
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .context("--data is not JSON")?;
        let metadata = self
            .metadata
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .context("--metadata is not a JSON object of strings")?;
        Ok(GhzConfig {
            call: self.call.clone(),
            host: self.host.clone(),
            insecure: self.insecure.then_some(true),
            data,
            data_file: self.data_file.clone(),
            metadata,
            metadata_file: self.metadata_file.clone(),
            concurrency: self.concurrency,
            connections: self.connections,
            total: self.total,
            duration: self.duration.clone(),
            max_duration: self.max_duration.clone(),
            rps: self.rps,
            skip_first: self.skip_first,
            timeout: self.timeout.clone(),
            connect_timeout: self.connect_timeout.clone(),
            name: self.name.clone(),
            format: self.format.clone(),
            output: self.output.clone(),
            count_errors: self.count_errors.then_some(true),
            unsupported: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::config::Format;

    fn parse(args: &str) -> anyhow::Result<Cli> {
        Ok(Cli::try_parse_from(
            std::iter::once("runview-load").chain(args.split_whitespace()),
        )?)
    }

    #[test]
    fn flags_override_the_config_file_key_by_key() -> anyhow::Result<()> {
        let mut file = tempfile::NamedTempFile::new()?;
        write!(
            file,
            r#"{{"call": "runview.v1.ReadService.GetRun", "host": "127.0.0.1:50051",
                "insecure": true, "concurrency": 10, "total": 500, "rps": 100,
                "data": {{"run_id": "from_file"}}}}"#
        )?;
        let path = file.path().display();
        let cli = parse(&format!(
            r#"--config {path} -c 2 -n 20 --skip-first 3 -d {{"run_id":"from_flag"}} -O pretty 127.0.0.1:6000"#
        ))?;
        let (options, warnings) = cli.run.resolve()?;
        assert!(warnings.is_empty());
        assert_eq!(options.host, "127.0.0.1:6000");
        assert_eq!(
            (options.concurrency, options.total, options.rps),
            (2, Some(20), Some(100))
        );
        assert_eq!(options.skip_first, 3);
        assert_eq!(options.data.context("data")?["run_id"], "from_flag");
        assert_eq!(options.format, Format::Pretty);
        Ok(())
    }

    #[test]
    fn ghz_spellings_of_flags_are_accepted() -> anyhow::Result<()> {
        let cli = parse("--call grpc.health.v1.Health/Check --insecure --skipFirst 5 -z 10s h:1")?;
        let (options, _) = cli.run.resolve()?;
        assert_eq!(options.skip_first, 5);
        assert_eq!(options.duration, Some(std::time::Duration::from_secs(10)));
        Ok(())
    }

    #[test]
    fn ids_is_a_subcommand_not_a_host() -> anyhow::Result<()> {
        let cli = parse("ids --database-url postgres://localhost/db --kind runs")?;
        assert!(matches!(cli.command, Some(Command::Ids(_))));
        Ok(())
    }
}
