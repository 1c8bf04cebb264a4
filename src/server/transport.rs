//! How the gRPC listener talks to clients: HTTP/2 keepalive, a maximum connection age so clients
//! rebalance across replicas, and optional TLS or mTLS. TCP options (no delay, keepalive) belong
//! to the listener, which the server binds itself.

use std::path::Path;

use anyhow::Context;
use tonic::transport::server::Server;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::config::{Tls, ValidatedConfig};

pub fn grpc_server(config: &ValidatedConfig) -> anyhow::Result<Server> {
    let server = Server::builder()
        .http2_keepalive_interval(Some(config.http2_keepalive_interval))
        .http2_keepalive_timeout(Some(config.http2_keepalive_timeout))
        .max_connection_age(config.max_connection_age)
        .max_connection_age_grace(config.max_connection_age_grace);
    match &config.tls {
        Some(tls) => server
            .tls_config(tls_config(tls)?)
            .context("invalid TLS configuration"),
        None => Ok(server),
    }
}

fn tls_config(files: &Tls) -> anyhow::Result<ServerTlsConfig> {
    let read = |path: &Path| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let identity = Identity::from_pem(read(&files.cert_file)?, read(&files.key_file)?);
    let mut tls = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &files.client_ca_file {
        tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(tls)
}
