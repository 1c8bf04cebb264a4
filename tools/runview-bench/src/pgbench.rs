//! pgbench running runview's own statements against the same databases, as the ceiling runview
//! is compared with: what PostgreSQL alone answers at the same concurrency.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::Command;

use crate::load::Sample;
use crate::statements::Script;

/// How pgbench sends the statement, mirroring runview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Named prepared statements, as sqlx's statement cache does.
    Prepared,
    /// Unnamed statements, parsed and planned every time (`persistent(false)`).
    Extended,
}

impl Protocol {
    pub fn flag(self) -> &'static str {
        match self {
            Self::Prepared => "prepared",
            Self::Extended => "extended",
        }
    }
}

/// How the client count of a call maps to pgbench clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// A call runs one statement in its home store: the clients are shared out over the stores.
    OneStore,
    /// A call runs the statement in every store at once: every store gets all the clients, and
    /// one call is one transaction per store.
    EveryStore,
}

/// One script per store.
#[derive(Clone, Debug)]
pub struct Workload {
    pub protocol: Protocol,
    pub fanout: Fanout,
    pub stores: Vec<(String, Script)>,
}

/// Runs pgbench on every store at once for `duration` and folds the results into per-call
/// figures: transactions per second (divided by the stores for `EveryStore`) and percentiles of
/// the statements' latencies from pgbench's transaction log.
pub async fn run(
    workload: &Workload,
    concurrency: u32,
    duration: Duration,
) -> anyhow::Result<Sample> {
    let dir = tempfile::tempdir()?;
    let stores = workload.stores.len() as u32;
    let mut runs = Vec::new();
    for (index, (url, script)) in workload.stores.iter().enumerate() {
        let clients = match workload.fanout {
            Fanout::EveryStore => concurrency,
            // The first stores take the remainder: at c=1 only LEGACY runs.
            Fanout::OneStore => {
                concurrency / stores + u32::from((index as u32) < concurrency % stores)
            }
        };
        if clients > 0 {
            runs.push(one(
                dir.path(),
                index,
                url,
                script,
                workload.protocol,
                clients,
                duration,
            ));
        }
    }
    let mut transactions = 0u64;
    let mut seconds = 0.0f64;
    // Every pgbench was spawned above, so they run together; this only collects them.
    for run in runs {
        let (count, took) = run.await?;
        transactions += count;
        seconds = seconds.max(took);
    }
    let mut latencies = read_latencies(dir.path())?;
    if latencies.is_empty() {
        bail!("pgbench logged no transaction");
    }
    latencies.sort_unstable();
    let per_call = match workload.fanout {
        Fanout::OneStore => 1,
        Fanout::EveryStore => workload.stores.len() as u64,
    };
    let at = |p: usize| {
        Duration::from_micros(latencies[(latencies.len() * p / 100).min(latencies.len() - 1)])
    };
    Ok(Sample {
        calls: transactions / per_call,
        per_second: transactions as f64 / per_call as f64 / seconds.max(1e-3),
        p50: at(50),
        p90: at(90),
        p99: at(99),
    })
}

/// One pgbench process: transactions processed and the seconds it measured them over.
fn one(
    dir: &Path,
    index: usize,
    url: &str,
    script: &Script,
    protocol: Protocol,
    clients: u32,
    duration: Duration,
) -> impl std::future::Future<Output = anyhow::Result<(u64, f64)>> + use<> {
    let script_path = dir.join(format!("store{index}.sql"));
    let written = std::fs::write(&script_path, &script.text);
    let mut command = Command::new("pgbench");
    command
        .arg("--no-vacuum")
        .arg("--protocol")
        .arg(protocol.flag())
        .arg("--client")
        .arg(clients.to_string())
        .arg("--jobs")
        .arg(clients.min(2).to_string())
        .arg("--time")
        .arg(duration.as_secs().max(1).to_string())
        .arg("--log")
        .arg(format!(
            "--log-prefix={}",
            dir.join(format!("log{index}")).display()
        ))
        .arg("--file")
        .arg(&script_path);
    for (name, value) in &script.variables {
        command.arg("--define").arg(format!("{name}={value}"));
    }
    command.arg(url).current_dir(dir);
    // Spawned now, so that every store's pgbench starts together.
    let child = written
        .context("cannot write the pgbench script")
        .and_then(|()| {
            command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .context("cannot start pgbench")
        });
    async move {
        let output = child?.wait_with_output().await?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "pgbench failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let processed = field(&stdout, "number of transactions actually processed:")
            .context("pgbench printed no transaction count")?;
        let failed = field(&stdout, "number of failed transactions:").unwrap_or(0.0);
        if failed > 0.0 {
            bail!("pgbench: {failed} transactions failed");
        }
        let tps = field(&stdout, "tps =").context("pgbench printed no tps")?;
        Ok((processed as u64, processed / tps.max(1e-9)))
    }
}

/// The first number after `label` in pgbench's summary.
fn field(stdout: &str, label: &str) -> Option<f64> {
    stdout.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(label)?;
        rest.split(|c: char| c.is_whitespace() || c == '/')
            .find(|s| !s.is_empty())?
            .parse()
            .ok()
    })
}

/// Latencies (µs, third field) of every logged transaction: `client tx latency script epoch us`.
fn read_latencies(dir: &Path) -> anyhow::Result<Vec<u64>> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("log"));
        if is_log {
            let text = std::fs::read_to_string(&path)?;
            latencies.extend(
                text.lines()
                    .filter_map(|line| line.split_whitespace().nth(2)?.parse::<u64>().ok()),
            );
        }
    }
    Ok(latencies)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn summary_numbers_are_read_after_their_label() {
        let stdout = "number of transactions actually processed: 1234/1234\n\
                      tps = 123.4 (without initial connection time)\n";
        assert_eq!(
            field(stdout, "number of transactions actually processed:"),
            Some(1234.0)
        );
        assert_eq!(field(stdout, "tps ="), Some(123.4));
    }
}
