//! How the gRPC listener talks to clients: HTTP/2 keepalive, a maximum connection age so clients
//! rebalance across replicas, optional TLS or mTLS, and the bearer tokens it accepts. TCP options
//! (no delay, keepalive) belong to the listener, which the server binds itself.

use anyhow::Context;
use secrecy::ExposeSecret;
use tonic::transport::server::Server;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::config::Config;

pub fn grpc_server(config: &Config) -> anyhow::Result<Server> {
    let server = Server::builder()
        .http2_keepalive_interval(Some(config.http2_keepalive_interval))
        .http2_keepalive_timeout(Some(config.http2_keepalive_timeout))
        .max_connection_age(config.max_connection_age)
        .max_connection_age_grace(config.max_connection_age_grace);
    match tls_config(config)? {
        Some(tls) => server.tls_config(tls).context("invalid TLS configuration"),
        None => Ok(server),
    }
}

fn tls_config(config: &Config) -> anyhow::Result<Option<ServerTlsConfig>> {
    let (cert, key) = match (&config.tls_cert_file, &config.tls_key_file) {
        (None, None) => {
            anyhow::ensure!(
                config.tls_client_ca_file.is_none(),
                "tls_client_ca_file needs tls_cert_file and tls_key_file"
            );
            return Ok(None);
        }
        (Some(cert), Some(key)) => (cert, key),
        _ => anyhow::bail!("tls_cert_file and tls_key_file go together"),
    };
    let read = |path: &std::path::PathBuf| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
    if let Some(ca) = &config.tls_client_ca_file {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(Some(tls))
}

/// The tokens from `auth_tokens` (comma-separated) and `auth_tokens_file` (one per line).
pub fn auth_tokens(config: &Config) -> anyhow::Result<Vec<String>> {
    let mut tokens: Vec<String> = config
        .auth_tokens
        .as_ref()
        .map(|tokens| {
            tokens
                .expose_secret()
                .split(',')
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(path) = &config.auth_tokens_file {
        let file = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the auth tokens file {}", path.display()))?;
        tokens.extend(file.lines().map(str::to_owned));
    }
    tokens.retain(|token| !token.trim().is_empty());
    Ok(tokens
        .into_iter()
        .map(|token| token.trim().to_owned())
        .collect())
}
