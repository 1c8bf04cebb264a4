//! The rules a field's type cannot express, checked in one place once the layers are merged: the
//! TLS files come as a pair, secret lists are split into their entries, page-token secrets come
//! from one place, the page-token lifetime fits a timestamp, and the idle timeout outlasts a
//! keepalive round. Nothing here reads a file, so a configuration meant for another machine (the
//! manifests' tests load one) can still be checked; the files an option names are read when the
//! server starts.

use std::ops::Deref;
use std::path::PathBuf;

use chrono::TimeDelta;
use runview_store::Coalescing;
use secrecy::{ExposeSecret, SecretString};

use super::Config;

/// An option the server cannot use as configured.
#[derive(Debug, thiserror::Error)]
#[error("the option {option} {problem}")]
pub struct InvalidOption {
    pub option: &'static str,
    pub problem: &'static str,
}

/// The certificate chain and key the gRPC port serves, and the CA that client certificates must
/// be signed by (mTLS) when set.
#[derive(Clone, Debug)]
pub struct Tls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
}

/// How page tokens are signed.
#[derive(Clone, Debug)]
pub struct PageTokens {
    /// The entries of `page_token_secrets`: the first signs, all verify (rotation). Empty when
    /// none is configured, or when they come from `page_token_secrets_file`.
    pub secrets: Vec<SecretString>,
    pub ttl: TimeDelta,
}

/// A [`Config`] that passed [`Config::validate`], with the parsed forms of the options that
/// needed parsing; every other option is read through the `Config` it dereferences to.
#[derive(Debug)]
pub struct ValidatedConfig {
    config: Config,
    /// None: plaintext.
    pub tls: Option<Tls>,
    pub page_tokens: PageTokens,
    /// From `lookup_coalescing` and `max_coalesced_lookups`.
    pub coalescing: Coalescing,
    /// The entries of `auth_tokens`; those of `auth_tokens_file` are read when the server starts.
    pub bearer_tokens: Vec<SecretString>,
}

impl Config {
    pub fn validate(&self) -> Result<ValidatedConfig, InvalidOption> {
        // Zero would make the readiness ticker panic, turn every request or connection away, or
        // close every connection before its first byte could arrive.
        let positive = [
            ("readiness_interval", self.readiness_interval.is_zero()),
            ("max_concurrent_requests", self.max_concurrent_requests == 0),
            (
                "max_concurrent_invalidations",
                self.max_concurrent_invalidations == 0,
            ),
            ("max_request_bytes", self.max_request_bytes == 0),
            ("pool_max_connections", self.pool_max_connections == 0),
            ("grpc_max_connections", self.grpc_max_connections == 0),
            ("health_max_connections", self.health_max_connections == 0),
            ("metrics_max_connections", self.metrics_max_connections == 0),
            (
                "connection_first_byte_timeout",
                self.connection_first_byte_timeout.is_zero(),
            ),
            ("list_scan_budget", self.list_scan_budget == 0),
            (
                "secret_reload_interval",
                self.secret_reload_interval.is_zero(),
            ),
        ];
        if let Some((option, _)) = positive.into_iter().find(|(_, zero)| *zero) {
            return Err(InvalidOption {
                option,
                problem: "must be greater than zero",
            });
        }
        // A live client answers the server's keepalive ping within the keepalive timeout, so
        // with a longer idle timeout only a peer that stopped answering is ever idle.
        if self.connection_idle_timeout
            <= self.http2_keepalive_interval + self.http2_keepalive_timeout
        {
            return Err(InvalidOption {
                option: "connection_idle_timeout",
                problem: "must be longer than http2_keepalive_interval and \
                          http2_keepalive_timeout together, or live gRPC clients would be cut off",
            });
        }
        let urls = [
            ("legacy_database_url", &self.legacy_database_url),
            ("new_database_url", &self.new_database_url),
            (
                "control_plane_database_url",
                &self.control_plane_database_url,
            ),
            (
                "control_plane_primary_database_url",
                &self.control_plane_primary_database_url,
            ),
            (
                "legacy_primary_database_url",
                &self.legacy_primary_database_url,
            ),
            ("new_primary_database_url", &self.new_primary_database_url),
        ];
        for (option, url) in urls {
            if let Some(url) = url {
                check_database_url(option, url.expose_secret())?;
            }
        }
        if self.page_token_secrets.is_some() && self.page_token_secrets_file.is_some() {
            return Err(InvalidOption {
                option: "page_token_secrets_file",
                problem: "and page_token_secrets cannot both be set: which secret would sign?",
            });
        }
        let coalescing = self.coalescing()?;
        let ttl = TimeDelta::from_std(self.page_token_ttl).map_err(|_| InvalidOption {
            option: "page_token_ttl",
            problem: "is too long",
        })?;
        Ok(ValidatedConfig {
            tls: self.tls()?,
            page_tokens: PageTokens {
                secrets: self
                    .page_token_secrets
                    .as_ref()
                    .map(|list| secret_entries(list.expose_secret(), ','))
                    .unwrap_or_default(),
                ttl,
            },
            bearer_tokens: self
                .auth_tokens
                .as_ref()
                .map(|list| secret_entries(list.expose_secret(), ','))
                .unwrap_or_default(),
            coalescing,
            config: self.clone(),
        })
    }

    fn coalescing(&self) -> Result<Coalescing, InvalidOption> {
        if !self.lookup_coalescing {
            return Ok(Coalescing::Off);
        }
        // One lookup per statement, one statement in flight, would queue every lookup of a store
        // behind the one before it.
        if self.max_coalesced_lookups < 2 {
            return Err(InvalidOption {
                option: "max_coalesced_lookups",
                problem: "must be at least 2 (set lookup_coalescing = false for one statement per \
                          lookup)",
            });
        }
        Ok(Coalescing::UpTo(self.max_coalesced_lookups))
    }

    fn tls(&self) -> Result<Option<Tls>, InvalidOption> {
        let missing = |option| InvalidOption {
            option,
            problem: "is missing: tls_cert_file and tls_key_file go together",
        };
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert_file), Some(key_file)) => Ok(Some(Tls {
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
                client_ca_file: self.tls_client_ca_file.clone(),
            })),
            (Some(_), None) => Err(missing("tls_key_file")),
            (None, Some(_)) => Err(missing("tls_cert_file")),
            (None, None) if self.tls_client_ca_file.is_some() => Err(InvalidOption {
                option: "tls_client_ca_file",
                problem: "needs tls_cert_file and tls_key_file",
            }),
            (None, None) => Ok(None),
        }
    }
}

impl Deref for ValidatedConfig {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

/// A PostgreSQL URL that names where the database is: checked at start, so that a URL of another
/// database or one without a host cannot start a server whose every call would fail. Problems
/// never quote the URL: it may carry a password.
fn check_database_url(option: &'static str, url: &str) -> Result<(), InvalidOption> {
    let invalid = |problem| InvalidOption { option, problem };
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| invalid("must be a postgres:// or postgresql:// URL"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    // A Unix socket is named by a `host` parameter instead.
    if host.is_empty() && !url.contains("host=") {
        return Err(invalid("must name a host"));
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|_| invalid("is not a valid PostgreSQL URL"))?;
    Ok(())
}

/// The entries of a list of secrets, trimmed. Blank entries (a trailing comma, an empty line)
/// are skipped rather than refused, so a list edited by hand cannot lock every client out.
pub fn secret_entries(list: &str, separator: char) -> Vec<SecretString> {
    list.split(separator)
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(SecretString::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn exposed(secrets: &[SecretString]) -> Vec<&str> {
        secrets.iter().map(ExposeSecret::expose_secret).collect()
    }

    fn refused(config: Config) -> String {
        config.validate().expect_err("refused").to_string()
    }

    #[test]
    fn the_defaults_are_valid_and_serve_plaintext_without_secrets() {
        let config = Config::default().validate().expect("valid");
        assert!(config.tls.is_none());
        assert!(config.page_tokens.secrets.is_empty());
        assert_eq!(config.page_tokens.ttl, TimeDelta::days(3));
        assert!(config.bearer_tokens.is_empty());
    }

    #[test]
    fn half_configured_tls_is_refused_and_names_the_missing_option() {
        let cert = || Some(PathBuf::from("cert.pem"));
        for (config, refusal) in [
            (
                Config {
                    tls_cert_file: cert(),
                    ..Config::default()
                },
                "tls_key_file is missing",
            ),
            (
                Config {
                    tls_key_file: Some("key.pem".into()),
                    ..Config::default()
                },
                "tls_cert_file is missing",
            ),
            (
                Config {
                    tls_client_ca_file: cert(),
                    ..Config::default()
                },
                "tls_client_ca_file needs",
            ),
        ] {
            let error = refused(config);
            assert!(error.contains(refusal), "{error}");
            assert!(error.contains("tls_cert_file and tls_key_file"), "{error}");
        }
    }

    #[test]
    fn a_certificate_and_key_serve_tls_with_the_optional_client_ca() {
        let config = Config {
            tls_cert_file: Some("cert.pem".into()),
            tls_key_file: Some("key.pem".into()),
            tls_client_ca_file: Some("ca.pem".into()),
            ..Config::default()
        };
        let tls = config.validate().expect("valid").tls.expect("TLS");
        assert_eq!(tls.cert_file, PathBuf::from("cert.pem"));
        assert_eq!(tls.key_file, PathBuf::from("key.pem"));
        assert_eq!(tls.client_ca_file, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn secret_lists_are_trimmed_and_blank_entries_skipped() {
        let config = Config {
            page_token_secrets: Some(SecretString::from(" new , ,old,")),
            auth_tokens: Some(SecretString::from("t1,, t2 ")),
            ..Config::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(exposed(&config.page_tokens.secrets), ["new", "old"]);
        assert_eq!(exposed(&config.bearer_tokens), ["t1", "t2"]);
    }

    #[test]
    fn a_list_of_blank_entries_configures_no_secret() {
        let config = Config {
            page_token_secrets: Some(SecretString::from(" , ")),
            auth_tokens: Some(SecretString::from("")),
            ..Config::default()
        }
        .validate()
        .expect("valid");
        assert!(config.page_tokens.secrets.is_empty());
        assert!(config.bearer_tokens.is_empty());
    }

    #[test]
    fn page_token_secrets_come_from_one_place() {
        let error = refused(Config {
            page_token_secrets: Some(SecretString::from("s1")),
            page_token_secrets_file: Some("secrets".into()),
            ..Config::default()
        });
        assert!(error.contains("page_token_secrets_file"), "{error}");
    }

    #[test]
    fn a_page_token_ttl_beyond_a_timestamp_is_refused() {
        let error = refused(Config {
            page_token_ttl: Duration::MAX,
            ..Config::default()
        });
        assert!(error.contains("page_token_ttl"), "{error}");
    }

    #[test]
    fn options_that_cannot_be_zero_are_refused_by_name() {
        let cases = [
            (
                Config {
                    readiness_interval: Duration::ZERO,
                    ..Config::default()
                },
                "the option readiness_interval must be greater than zero",
            ),
            (
                Config {
                    max_concurrent_requests: 0,
                    ..Config::default()
                },
                "the option max_concurrent_requests must be greater than zero",
            ),
            (
                Config {
                    max_concurrent_invalidations: 0,
                    ..Config::default()
                },
                "the option max_concurrent_invalidations must be greater than zero",
            ),
            (
                Config {
                    max_request_bytes: 0,
                    ..Config::default()
                },
                "the option max_request_bytes must be greater than zero",
            ),
            (
                Config {
                    pool_max_connections: 0,
                    ..Config::default()
                },
                "the option pool_max_connections must be greater than zero",
            ),
            (
                Config {
                    grpc_max_connections: 0,
                    ..Config::default()
                },
                "the option grpc_max_connections must be greater than zero",
            ),
            (
                Config {
                    health_max_connections: 0,
                    ..Config::default()
                },
                "the option health_max_connections must be greater than zero",
            ),
            (
                Config {
                    metrics_max_connections: 0,
                    ..Config::default()
                },
                "the option metrics_max_connections must be greater than zero",
            ),
            (
                Config {
                    connection_first_byte_timeout: Duration::ZERO,
                    ..Config::default()
                },
                "the option connection_first_byte_timeout must be greater than zero",
            ),
            (
                Config {
                    secret_reload_interval: Duration::ZERO,
                    ..Config::default()
                },
                "the option secret_reload_interval must be greater than zero",
            ),
        ];
        for (config, refusal) in cases {
            assert_eq!(refused(config), refusal);
        }
    }

    #[test]
    fn lookups_are_coalesced_by_default_up_to_a_cap_of_at_least_two() {
        let coalesced = |lookup_coalescing, max_coalesced_lookups| {
            Config {
                lookup_coalescing,
                max_coalesced_lookups,
                ..Config::default()
            }
            .validate()
            .map(|config| config.coalescing)
        };
        assert_eq!(
            Config::default()
                .validate()
                .map(|config| config.coalescing)
                .ok(),
            Some(Coalescing::UpTo(
                runview_store::DEFAULT_MAX_COALESCED_LOOKUPS
            ))
        );
        assert_eq!(coalesced(true, 2).ok(), Some(Coalescing::UpTo(2)));
        assert_eq!(coalesced(false, 0).ok(), Some(Coalescing::Off));
        for refused in [0, 1] {
            let error = coalesced(true, refused).expect_err("refused").to_string();
            assert!(
                error.starts_with("the option max_coalesced_lookups must be at least 2"),
                "{error}"
            );
        }
    }

    #[test]
    fn an_idle_timeout_within_a_keepalive_round_is_refused() {
        let keepalive = Config {
            http2_keepalive_interval: Duration::from_secs(30),
            http2_keepalive_timeout: Duration::from_secs(10),
            ..Config::default()
        };
        let error = refused(Config {
            connection_idle_timeout: Duration::from_secs(40),
            ..keepalive.clone()
        });
        assert!(
            error.starts_with("the option connection_idle_timeout must be longer than"),
            "{error}"
        );
        assert!(
            Config {
                connection_idle_timeout: Duration::from_secs(41),
                ..keepalive
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn database_urls_must_be_postgresql_and_name_a_host_without_being_quoted() {
        let with_legacy = |url: &str| Config {
            legacy_database_url: Some(SecretString::from(url.to_owned())),
            ..Config::default()
        };
        for valid in [
            "postgres://runview:hunter2@db.internal:5432/app?sslmode=require",
            "postgresql://runview@db/app",
            "postgres:///app?host=/var/run/postgresql&user=runview",
        ] {
            assert!(with_legacy(valid).validate().is_ok(), "{valid}");
        }
        for (invalid, problem) in [
            (
                "mysql://runview:hunter2@db/app",
                "must be a postgres:// or postgresql:// URL",
            ),
            ("postgres://runview:hunter2@/app", "must name a host"),
            (
                "postgres://runview:hunter2@db:notaport/app",
                "is not a valid PostgreSQL URL",
            ),
        ] {
            let refusal = refused(with_legacy(invalid));
            assert_eq!(refusal, format!("the option legacy_database_url {problem}"));
            assert!(!refusal.contains("hunter2"));
        }
    }
}
