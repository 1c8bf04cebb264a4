//! Server assembly and lifecycle, in three steps: build the services from the configuration
//! (connecting, with the boot checks), bind every port first so the bound addresses are known
//! (port 0 in tests), then serve, report readiness, and on shutdown turn NOT_SERVING, stop
//! accepting and drain within a hard deadline.

mod connections;
mod listeners;
mod readiness;
mod secrets;
mod serve;
mod services;
mod transport;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use runview_controlplane::{ControlPlaneResolver, ResolverStats};
use secrecy::SecretString;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::listeners::Listeners;
pub use self::readiness::{LIVENESS, READINESS};
use self::serve::serve;
use self::services::Services;
use crate::config::Config;

/// Where the data is: resolved from configuration or from the embedded default.
#[derive(Clone, Debug)]
pub struct DatabaseUrls {
    pub control_plane: SecretString,
    /// NOTIFY/LISTEN for cache invalidation need the primary; defaults to `control_plane`.
    pub control_plane_primary: Option<SecretString>,
    pub legacy: SecretString,
    pub new: Option<SecretString>,
    /// Asked when a lookup misses on every replica.
    pub legacy_primary: Option<SecretString>,
    pub new_primary: Option<SecretString>,
}

impl DatabaseUrls {
    /// The configured URLs; the control plane defaults to the LEGACY database (passthrough).
    pub fn from_config(config: &Config) -> Option<Self> {
        let legacy = config.legacy_database_url.clone()?;
        Some(Self {
            control_plane: config
                .control_plane_database_url
                .clone()
                .unwrap_or_else(|| legacy.clone()),
            control_plane_primary: config.control_plane_primary_database_url.clone(),
            legacy,
            new: config.new_database_url.clone(),
            legacy_primary: config.legacy_primary_database_url.clone(),
            new_primary: config.new_primary_database_url.clone(),
        })
    }
}

/// A started server. Dropping it does not stop it; call [`RunningServer::shutdown`].
pub struct RunningServer {
    pub grpc_addr: SocketAddr,
    pub health_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    resolver: Arc<ControlPlaneResolver>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    pub fn resolver_stats(&self) -> ResolverStats {
        self.resolver.stats()
    }

    /// Turns NOT_SERVING, stops accepting, lets in-flight requests finish, and returns once
    /// everything stopped (or the drain deadline passed).
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task.await.context("the server task panicked")?
    }

    /// Waits until the server stops (after [`RunningServer::shutdown`] or a failure).
    pub async fn stopped(self) -> anyhow::Result<()> {
        self.task.await.context("the server task panicked")?
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// Builds the services (failing on a boot check), binds every port, and serves until
/// [`RunningServer::shutdown`]. `config` is validated here, whoever loaded or changed it.
pub async fn start(config: &Config, urls: &DatabaseUrls) -> anyhow::Result<RunningServer> {
    let config = config.validate()?;
    // Before anything registers a series: counters set to zero at start (so that a rate or an
    // alert needs no first event) only exist if the recorder is there to hold them.
    crate::metrics::handle();
    let services = Services::build(&config, urls).await?;
    let listeners = Listeners::bind(&config).await?;
    serve(&config, services, listeners).await
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                // Ctrl-C still stops the server; without it the process could not be stopped
                // cleanly at all.
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
