//! Configuration: defaults in code, then an optional TOML file, then `RUNVIEW_*` environment
//! variables, then command-line flags. Keys are flat so each option has one obvious name in every
//! layer (`cache_ttl` in TOML, `RUNVIEW_CACHE_TTL`, `--cache-ttl`). The rules that span options
//! or need parsing are checked in one place, [`Config::validate`]. A key of the file that names
//! no option is refused; other `RUNVIEW_*` variables are not, since environments carry some that
//! are not options (`RUNVIEW_TEST_DATABASE_URL`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Value;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

mod validate;

pub use self::validate::{InvalidOption, PageTokens, Tls, ValidatedConfig, secret_entries};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Pretty when stderr is a terminal, JSON otherwise (production).
    #[default]
    Auto,
    Pretty,
    Json,
}

/// Every option, with its default in [`Config::default`]. Secrets are never serialized: only the
/// defaults layer is, and it has none.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Address of the gRPC read and cache services.
    pub grpc_addr: SocketAddr,
    /// Address of the health service, separate so probes never queue behind load.
    pub health_addr: SocketAddr,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`).
    pub metrics_addr: SocketAddr,
    pub log_format: LogFormat,
    /// The control-plane database (a replica). Defaults to the LEGACY database.
    #[serde(skip_serializing)]
    pub control_plane_database_url: Option<SecretString>,
    /// A direct connection to the control-plane primary for cache invalidation (NOTIFY/LISTEN
    /// do not work on a replica or through a transaction pooler). Defaults to the control plane.
    #[serde(skip_serializing)]
    pub control_plane_primary_database_url: Option<SecretString>,
    /// The original database's run-ops tables (a replica). Unset: the embedded default.
    #[serde(skip_serializing)]
    pub legacy_database_url: Option<SecretString>,
    /// The dedicated run-ops database.
    #[serde(skip_serializing)]
    pub new_database_url: Option<SecretString>,
    /// The primary behind the LEGACY replica: a GetRun or GetWaitpoint that misses on every
    /// replica asks it before answering NOT_FOUND (read-your-writes under replica lag).
    #[serde(skip_serializing)]
    pub legacy_primary_database_url: Option<SecretString>,
    /// The primary behind the NEW replica, asked likewise.
    #[serde(skip_serializing)]
    pub new_primary_database_url: Option<SecretString>,
    /// Read two run-ops stores (LEGACY and NEW); without a NEW URL there is only one.
    pub split: bool,
    pub pool_max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub pool_acquire_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// Per kind of control-plane record.
    pub cache_max_entries: u64,
    /// How long an expired entry is still served while the control plane is unreachable.
    #[serde(with = "humantime_serde")]
    pub cache_stale_if_error: Duration,
    /// Children returned with a run; more are flagged `children_truncated`.
    pub children_limit: u32,
    /// The most rows one filtered list call walks in each store; a walk that reaches it ends the
    /// page early with a token that resumes where it stopped, so no filter value, however rare,
    /// makes a call walk an environment's whole window.
    pub list_scan_budget: usize,
    /// GetRun and GetWaitpoint lookups that reach a store while a statement of their kind is in
    /// flight there wait for it and share the next one; a lookup that finds none is sent at once.
    pub lookup_coalescing: bool,
    /// The most lookups one coalesced statement answers.
    pub max_coalesced_lookups: usize,
    /// How long in-flight requests may finish after SIGTERM before the process exits anyway.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// After SIGTERM, how long to keep serving while readiness already says NOT_SERVING, so load
    /// balancers stop sending new requests before the listeners close.
    #[serde(with = "humantime_serde")]
    pub shutdown_delay: Duration,
    /// Read requests in flight at once; beyond it requests are shed with RESOURCE_EXHAUSTED.
    pub max_concurrent_requests: usize,
    /// CacheService/Invalidate calls in flight at once, apart from the read limit so a burst of
    /// invalidations neither starves reads nor is starved by them.
    pub max_concurrent_invalidations: usize,
    /// The largest request message accepted; larger ones are refused with RESOURCE_EXHAUSTED
    /// before they are buffered.
    pub max_request_bytes: usize,
    /// The longest a request may run when its caller set no shorter deadline.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long before the caller's deadline work stops and DEADLINE_EXCEEDED is answered (at
    /// most a tenth of the caller's budget), so the answer reaches the caller before its own
    /// timer fires.
    #[serde(with = "humantime_serde")]
    pub deadline_margin: Duration,
    #[serde(with = "humantime_serde")]
    pub http2_keepalive_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub http2_keepalive_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub tcp_keepalive: Duration,
    /// Connections are closed (gracefully) after this age so clients rebalance across replicas.
    #[serde(with = "humantime_serde")]
    pub max_connection_age: Duration,
    #[serde(with = "humantime_serde")]
    pub max_connection_age_grace: Duration,
    /// On every port, a connection whose first byte has not arrived this long after it was
    /// accepted is closed: a socket that connects and never speaks holds no descriptor for long.
    #[serde(with = "humantime_serde")]
    pub connection_first_byte_timeout: Duration,
    /// On every port, a connection with no byte sent or received for this long is closed. The
    /// gRPC port's keepalive pings keep a live client's connection from ever looking idle.
    #[serde(with = "humantime_serde")]
    pub connection_idle_timeout: Duration,
    /// Connections open at once on each port; beyond it a new one is closed as it is accepted.
    /// Each port has its own cap, so a flood of one leaves the others (health) answering.
    pub grpc_max_connections: usize,
    pub health_max_connections: usize,
    pub metrics_max_connections: usize,
    /// How often readiness checks the databases.
    #[serde(with = "humantime_serde")]
    pub readiness_interval: Duration,
    /// Consecutive failed checks before readiness turns NOT_SERVING.
    pub readiness_failure_threshold: u32,
    /// Bearer tokens the webapp may present, comma-separated. None configured: no authentication.
    #[serde(skip_serializing)]
    pub auth_tokens: Option<SecretString>,
    /// A file with one bearer token per line, added to `auth_tokens`; read again when it changes.
    pub auth_tokens_file: Option<PathBuf>,
    /// Serve TLS with this certificate chain and key (PEM).
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Require client certificates signed by this CA (mTLS).
    pub tls_client_ca_file: Option<PathBuf>,
    /// Serve gRPC server reflection (v1 and v1alpha).
    pub reflection: bool,
    /// Where the embedded default keeps its private PostgreSQL.
    pub embedded_data_dir: PathBuf,
    /// Secrets that sign page tokens, comma-separated: the first signs, all verify (rotation).
    /// Unset: a random per-process secret, so tokens do not survive a restart or another replica.
    #[serde(skip_serializing)]
    pub page_token_secrets: Option<SecretString>,
    /// A file with one page-token secret per line, instead of `page_token_secrets`: the first
    /// signs, all verify. Read again when it changes.
    pub page_token_secrets_file: Option<PathBuf>,
    #[serde(with = "humantime_serde")]
    pub page_token_ttl: Duration,
    /// How often the secret files are read again (a mounted Kubernetes Secret changes in place).
    #[serde(with = "humantime_serde")]
    pub secret_reload_interval: Duration,
    /// The webapp origin waitpoint callback URLs start with.
    pub waitpoint_callback_url: String,
}

/// Command-line flags; each overrides the option of the same name. Database URLs are not flags
/// on purpose: a password on a command line is visible to every user of the machine.
#[derive(Clone, Debug, Default, Serialize, clap::Args)]
pub struct Flags {
    /// A TOML configuration file.
    #[arg(long, env = "RUNVIEW_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_addr: Option<SocketAddr>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_addr: Option<SocketAddr>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<SocketAddr>,
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<bool>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool_max_connections: Option<u32>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children_limit: Option<u32>,
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_data_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grpc_addr: SocketAddr::from(([0, 0, 0, 0], 50051)),
            health_addr: SocketAddr::from(([0, 0, 0, 0], 50052)),
            metrics_addr: SocketAddr::from(([0, 0, 0, 0], 9090)),
            log_format: LogFormat::Auto,
            control_plane_database_url: None,
            control_plane_primary_database_url: None,
            legacy_database_url: None,
            new_database_url: None,
            legacy_primary_database_url: None,
            new_primary_database_url: None,
            split: true,
            pool_max_connections: 16,
            pool_acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
            cache_ttl: Duration::from_secs(30),
            cache_max_entries: 100_000,
            cache_stale_if_error: Duration::from_secs(300),
            children_limit: 100,
            list_scan_budget: runview_core::page::DEFAULT_SCAN_BUDGET,
            lookup_coalescing: true,
            max_coalesced_lookups: runview_store::DEFAULT_MAX_COALESCED_LOOKUPS,
            shutdown_timeout: Duration::from_secs(20),
            shutdown_delay: Duration::ZERO,
            max_concurrent_requests: 256,
            max_concurrent_invalidations: 8,
            max_request_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            deadline_margin: Duration::from_millis(50),
            http2_keepalive_interval: Duration::from_secs(30),
            http2_keepalive_timeout: Duration::from_secs(10),
            tcp_keepalive: Duration::from_secs(60),
            max_connection_age: Duration::from_secs(300),
            max_connection_age_grace: Duration::from_secs(30),
            connection_first_byte_timeout: Duration::from_secs(5),
            connection_idle_timeout: Duration::from_secs(120),
            grpc_max_connections: 512,
            health_max_connections: 32,
            metrics_max_connections: 16,
            readiness_interval: Duration::from_secs(2),
            readiness_failure_threshold: 3,
            auth_tokens: None,
            auth_tokens_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_client_ca_file: None,
            reflection: true,
            embedded_data_dir: std::env::temp_dir().join("runview-embedded"),
            page_token_secrets: None,
            page_token_secrets_file: None,
            page_token_ttl: Duration::from_secs(3 * 24 * 3600),
            secret_reload_interval: Duration::from_secs(5),
            waitpoint_callback_url: "http://localhost:3030".to_owned(),
        }
    }
}

impl Config {
    /// Layers defaults, the file named by `--config`/`RUNVIEW_CONFIG`, `RUNVIEW_*` variables
    /// and flags, then refuses a configuration [`Config::validate`] refuses: in the embedded
    /// default the server starts only after PostgreSQL has started and been seeded, too late to
    /// learn of a half-configured TLS.
    pub fn load(flags: &Flags) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &flags.config {
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Self = figment
            .merge(Env::prefixed("RUNVIEW_").ignore(&["CONFIG"]))
            .merge(Serialized::defaults(flags))
            .extract()?;
        if let Some(path) = &flags.config {
            refuse_unknown_keys(path)?;
        }
        config
            .validate()
            .map_err(|invalid| figment::Error::from(invalid.to_string()))?;
        Ok(config)
    }
}

/// Refuses a file with a key that names no option: a misspelt `auth_token` would otherwise be
/// ignored and the server start without authentication. The options are the fields `Config`
/// deserializes, so there is no second list to keep in step.
fn refuse_unknown_keys(path: &Path) -> Result<(), Box<figment::Error>> {
    // Over the defaults, so the file alone need not name every option to deserialize.
    let file: Value = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file_exact(path))
        .extract()?;
    let mut unknown = Vec::new();
    let _: Config = serde_ignored::deserialize(&file, |key| unknown.push(format!("`{key}`")))?;
    if unknown.is_empty() {
        return Ok(());
    }
    let (noun, keys) = match unknown.as_slice() {
        [key] => ("option", key.clone()),
        keys => ("options", keys.join(", ")),
    };
    Err(Box::new(figment::Error::from(format!(
        "unknown {noun} {keys} in {}",
        path.display()
    ))))
}

#[cfg(test)]
// figment's test jail returns figment's own (large) error type; that is its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_configured() {
        figment::Jail::expect_with(|_| {
            let config = Config::load(&Flags::default()).map_err(|e| *e)?;
            assert_eq!(config.grpc_addr.port(), 50051);
            assert_eq!(config.health_addr.port(), 50052);
            assert_eq!(config.cache_ttl, Duration::from_secs(30));
            assert_eq!(config.children_limit, 100);
            assert!(config.legacy_database_url.is_none());
            Ok(())
        });
    }

    #[test]
    fn file_then_environment_then_flags_override_in_that_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "runview.toml",
                "cache_ttl = \"10s\"\nchildren_limit = 7\ngrpc_addr = \"127.0.0.1:7000\"",
            )?;
            jail.set_env("RUNVIEW_CHILDREN_LIMIT", "8");
            jail.set_env(
                "RUNVIEW_LEGACY_DATABASE_URL",
                "postgres://u:hunter2@db/legacy",
            );
            let flags = Flags {
                config: Some("runview.toml".into()),
                grpc_addr: Some(SocketAddr::from(([127, 0, 0, 1], 7001))),
                ..Flags::default()
            };
            let config = Config::load(&flags).map_err(|e| *e)?;
            assert_eq!(config.cache_ttl, Duration::from_secs(10), "from the file");
            assert_eq!(config.children_limit, 8, "env beats the file");
            assert_eq!(config.grpc_addr.port(), 7001, "flags beat everything");
            assert_eq!(
                config
                    .legacy_database_url
                    .as_ref()
                    .map(|url| url.expose_secret().to_owned()),
                Some("postgres://u:hunter2@db/legacy".to_owned())
            );
            assert!(
                !format!("{config:?}").contains("hunter2"),
                "secrets never print"
            );
            Ok(())
        });
    }

    #[test]
    fn a_misspelt_key_in_the_file_is_refused_by_name() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("runview.toml", "auth_token = \"x\"\ncache_ttl = \"10s\"")?;
            let flags = Flags {
                config: Some("runview.toml".into()),
                ..Flags::default()
            };
            let error = Config::load(&flags).expect_err("an unknown key");
            assert_eq!(
                error.to_string(),
                "unknown option `auth_token` in runview.toml"
            );
            Ok(())
        });
    }

    #[test]
    fn a_file_of_known_keys_loads_secrets_included() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "runview.toml",
                "auth_tokens = \"t1\"\npage_token_secrets = \"s1\"\ncache_ttl = \"10s\"",
            )?;
            let flags = Flags {
                config: Some("runview.toml".into()),
                ..Flags::default()
            };
            let config = Config::load(&flags).map_err(|e| *e)?;
            assert_eq!(config.cache_ttl, Duration::from_secs(10));
            assert_eq!(
                config.auth_tokens.map(|t| t.expose_secret().to_owned()),
                Some("t1".to_owned())
            );
            Ok(())
        });
    }

    #[test]
    fn runview_variables_that_are_not_options_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("runview.toml", "children_limit = 7")?;
            jail.set_env("RUNVIEW_TEST_DATABASE_URL", "postgres://localhost/test");
            jail.set_env("RUNVIEW_AUTH_TOKEN", "x");
            let flags = Flags {
                config: Some("runview.toml".into()),
                ..Flags::default()
            };
            let config = Config::load(&flags).map_err(|e| *e)?;
            assert_eq!(config.children_limit, 7);
            Ok(())
        });
    }

    #[test]
    fn a_bad_duration_is_a_clear_error() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("RUNVIEW_CACHE_TTL", "soon");
            let error = Config::load(&Flags::default()).expect_err("bad duration");
            assert!(
                error.to_string().to_lowercase().contains("cache_ttl"),
                "{error}"
            );
            Ok(())
        });
    }

    #[test]
    fn loading_refuses_a_configuration_validation_refuses() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("runview.toml", "tls_key_file = \"key.pem\"")?;
            let flags = Flags {
                config: Some("runview.toml".into()),
                ..Flags::default()
            };
            let error = Config::load(&flags).expect_err("a key without its certificate");
            assert!(error.to_string().contains("tls_cert_file"), "{error}");
            Ok(())
        });
    }
}
