//! ghz's JSON configuration format, and the options of a run resolved from it and the flags.
//!
//! The keys are ghz's own, so one file runs under ghz and here. Keys this tool does not act on
//! are reported, never fatal: a file written for ghz may carry TLS or proto settings that only
//! ghz needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;

use crate::duration::parse_go_duration;

const DEFAULT_CONCURRENCY: u32 = 50;
const DEFAULT_TOTAL: u64 = 200;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One layer of settings: a configuration file, or the flags. Every key is optional so that
/// layers can be merged.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GhzConfig {
    pub call: Option<String>,
    pub host: Option<String>,
    pub insecure: Option<bool>,
    pub data: Option<Value>,
    #[serde(rename = "data-file")]
    pub data_file: Option<PathBuf>,
    pub metadata: Option<BTreeMap<String, String>>,
    #[serde(rename = "metadata-file")]
    pub metadata_file: Option<PathBuf>,
    pub concurrency: Option<u32>,
    pub connections: Option<u32>,
    pub total: Option<u64>,
    pub duration: Option<String>,
    #[serde(rename = "max-duration")]
    pub max_duration: Option<String>,
    pub rps: Option<u32>,
    #[serde(rename = "skipFirst")]
    pub skip_first: Option<u64>,
    pub timeout: Option<String>,
    #[serde(rename = "connect-timeout")]
    pub connect_timeout: Option<String>,
    pub name: Option<String>,
    pub format: Option<String>,
    pub output: Option<PathBuf>,
    #[serde(rename = "count-errors")]
    pub count_errors: Option<bool>,
    /// ghz keys (or typos) this tool does not act on.
    #[serde(flatten)]
    pub unsupported: BTreeMap<String, Value>,
}

impl GhzConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid config {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(serde_json::from_str(text)?)
    }

    /// This layer with every setting of `over` taking precedence, as ghz lets flags override
    /// its config file. Data and its file are one setting (likewise metadata), so a `-d` flag
    /// replaces a file's `data-file` too.
    pub fn overridden_by(self, over: GhzConfig) -> GhzConfig {
        let (data, data_file) = if over.data.is_some() || over.data_file.is_some() {
            (over.data, over.data_file)
        } else {
            (self.data, self.data_file)
        };
        let (metadata, metadata_file) = if over.metadata.is_some() || over.metadata_file.is_some() {
            (over.metadata, over.metadata_file)
        } else {
            (self.metadata, self.metadata_file)
        };
        let mut unsupported = self.unsupported;
        unsupported.extend(over.unsupported);
        GhzConfig {
            call: over.call.or(self.call),
            host: over.host.or(self.host),
            insecure: over.insecure.or(self.insecure),
            data,
            data_file,
            metadata,
            metadata_file,
            concurrency: over.concurrency.or(self.concurrency),
            connections: over.connections.or(self.connections),
            total: over.total.or(self.total),
            duration: over.duration.or(self.duration),
            max_duration: over.max_duration.or(self.max_duration),
            rps: over.rps.or(self.rps),
            skip_first: over.skip_first.or(self.skip_first),
            timeout: over.timeout.or(self.timeout),
            connect_timeout: over.connect_timeout.or(self.connect_timeout),
            name: over.name.or(self.name),
            format: over.format.or(self.format),
            output: over.output.or(self.output),
            count_errors: over.count_errors.or(self.count_errors),
            unsupported,
        }
    }

    /// One line per key this tool ignores, for the user to see before the run.
    pub fn warnings(&self) -> Vec<String> {
        self.unsupported
            .keys()
            .map(|key| match key.as_str() {
                "proto" | "protoset" | "import-paths" => format!(
                    "ignoring `{key}`: runview-load uses the runview contract it was built with"
                ),
                _ => format!("ignoring `{key}`: not supported by runview-load"),
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Summary,
    Json,
    Pretty,
}

/// Everything a run needs, validated.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub call: String,
    pub host: String,
    pub data: Option<Value>,
    pub metadata: BTreeMap<String, String>,
    pub concurrency: u32,
    pub connections: u32,
    /// None when the run is bounded by `duration` instead: with a duration, ghz ignores `total`.
    pub total: Option<u64>,
    /// The earlier of `duration` and `max-duration`.
    pub duration: Option<Duration>,
    pub rps: Option<u32>,
    pub skip_first: u64,
    /// None: no deadline on calls (ghz's `timeout: 0`).
    pub timeout: Option<Duration>,
    pub connect_timeout: Duration,
    pub name: Option<String>,
    pub format: Format,
    pub output: Option<PathBuf>,
    pub count_errors: bool,
}

impl TryFrom<GhzConfig> for LoadOptions {
    type Error = anyhow::Error;

    fn try_from(config: GhzConfig) -> anyhow::Result<Self> {
        let call = config
            .call
            .context("no call given: set `call` in the config or pass --call")?;
        let host = config
            .host
            .context("no host given: set `host` in the config or pass it as the last argument")?;
        if config.insecure != Some(true) {
            bail!(
                "runview-load speaks plaintext only: set `\"insecure\": true` in the config or pass --insecure"
            );
        }
        let data = match config.data_file {
            Some(path) => Some(read_json(&path)?),
            None => config.data,
        };
        let metadata = match config.metadata_file {
            Some(path) => serde_json::from_value(read_json(&path)?).with_context(|| {
                format!("{} must hold a JSON object of strings", path.display())
            })?,
            None => config.metadata.unwrap_or_default(),
        };

        let concurrency = config.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        let connections = config.connections.unwrap_or(1);
        if concurrency == 0 {
            bail!("concurrency must be at least 1");
        }
        if connections == 0 || connections > concurrency {
            bail!("connections must be between 1 and the concurrency ({concurrency})");
        }
        let duration = nonzero(optional_duration("duration", config.duration)?);
        let max_duration = nonzero(optional_duration("max-duration", config.max_duration)?);
        let total = match duration {
            Some(_) => None,
            None => {
                let total = config.total.unwrap_or(DEFAULT_TOTAL);
                if total < u64::from(concurrency) {
                    bail!("total ({total}) cannot be smaller than the concurrency ({concurrency})");
                }
                Some(total)
            }
        };
        let timeout = optional_duration("timeout", config.timeout)?.unwrap_or(DEFAULT_TIMEOUT);
        let connect_timeout = optional_duration("connect-timeout", config.connect_timeout)?
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let format = match config.format.as_deref().unwrap_or("summary") {
            "summary" => Format::Summary,
            "json" => Format::Json,
            "pretty" => Format::Pretty,
            other => bail!("unsupported format {other:?}: use summary, json or pretty"),
        };

        Ok(Self {
            call,
            host,
            data,
            metadata,
            concurrency,
            connections,
            total,
            duration: [duration, max_duration].into_iter().flatten().min(),
            rps: config.rps.filter(|&rps| rps > 0),
            skip_first: config.skip_first.unwrap_or(0),
            timeout: nonzero(Some(timeout)),
            connect_timeout,
            name: config.name.filter(|name| !name.is_empty()),
            format,
            output: config.output,
            count_errors: config.count_errors.unwrap_or(false),
        })
    }
}

fn optional_duration(key: &str, text: Option<String>) -> anyhow::Result<Option<Duration>> {
    text.map(|text| parse_go_duration(&text).with_context(|| format!("`{key}`")))
        .transpose()
}

fn nonzero(duration: Option<Duration>) -> Option<Duration> {
    duration.filter(|d| !d.is_zero())
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
        "name": "from file",
        "call": "runview.v1.ReadService/GetRun",
        "host": "127.0.0.1:50051",
        "insecure": true,
        "concurrency": 10,
        "total": 1000,
        "timeout": "2s",
        "data": {"environment_id": "env_1", "run_id": "run_1"},
        "proto": "proto/runview/v1/read_service.proto",
        "skipTLS": true
    }"#;

    fn options(file: &str, flags: GhzConfig) -> anyhow::Result<LoadOptions> {
        LoadOptions::try_from(GhzConfig::parse(file)?.overridden_by(flags))
    }

    #[test]
    fn a_ghz_file_resolves_with_ghz_defaults() -> anyhow::Result<()> {
        let options = options(FILE, GhzConfig::default())?;
        assert_eq!(options.call, "runview.v1.ReadService/GetRun");
        assert_eq!((options.concurrency, options.connections), (10, 1));
        assert_eq!(options.total, Some(1000));
        assert_eq!(options.timeout, Some(Duration::from_secs(2)));
        assert_eq!(options.connect_timeout, Duration::from_secs(10));
        assert_eq!(options.format, Format::Summary);
        assert_eq!(options.duration, None);
        Ok(())
    }

    #[test]
    fn flags_override_the_file() -> anyhow::Result<()> {
        let flags = GhzConfig {
            concurrency: Some(4),
            total: Some(40),
            host: Some("localhost:6000".into()),
            data: Some(serde_json::json!({"run_id": "run_flag"})),
            format: Some("json".into()),
            ..GhzConfig::default()
        };
        let options = options(FILE, flags)?;
        assert_eq!((options.concurrency, options.total), (4, Some(40)));
        assert_eq!(options.host, "localhost:6000");
        assert_eq!(options.data.context("data")?["run_id"], "run_flag");
        assert_eq!(options.format, Format::Json);
        assert_eq!(options.name.as_deref(), Some("from file"));
        assert_eq!(options.timeout, Some(Duration::from_secs(2)));
        Ok(())
    }

    #[test]
    fn a_duration_bounds_the_run_instead_of_the_total() -> anyhow::Result<()> {
        let flags = GhzConfig {
            duration: Some("1m30s".into()),
            max_duration: Some("1m".into()),
            ..GhzConfig::default()
        };
        let options = options(FILE, flags)?;
        assert_eq!(options.total, None);
        assert_eq!(options.duration, Some(Duration::from_secs(60)));
        Ok(())
    }

    #[test]
    fn keys_this_tool_ignores_are_warned_about() -> anyhow::Result<()> {
        let warnings = GhzConfig::parse(FILE)?.warnings();
        assert_eq!(warnings.len(), 2);
        assert!(warnings[0].contains("`proto`"));
        assert!(warnings[1].contains("`skipTLS`: not supported"));
        Ok(())
    }

    #[test]
    fn impossible_settings_are_refused() {
        let bad = [
            GhzConfig {
                insecure: Some(false),
                ..GhzConfig::default()
            },
            GhzConfig {
                total: Some(5),
                ..GhzConfig::default()
            },
            GhzConfig {
                connections: Some(11),
                ..GhzConfig::default()
            },
            GhzConfig {
                concurrency: Some(0),
                ..GhzConfig::default()
            },
            GhzConfig {
                timeout: Some("20".into()),
                ..GhzConfig::default()
            },
            GhzConfig {
                format: Some("html".into()),
                ..GhzConfig::default()
            },
        ];
        for flags in bad {
            assert!(
                options(FILE, flags.clone()).is_err(),
                "{flags:?} should be refused"
            );
        }
        assert!(options(r#"{"insecure": true, "host": "h:1"}"#, GhzConfig::default()).is_err());
    }
}
