//! The runview server under test: the release binary in its own process, so that its CPU and
//! memory can be read from /proc apart from the load generator's.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::postgres::Dataset;

/// High enough that the load never meets the concurrency limit: shedding would measure the
/// limit, not the service.
const MAX_CONCURRENT_REQUESTS: &str = "4096";
/// Likewise for the wait for a pooled connection and the request's own time limit: at c=64 a
/// slow list queues behind 16 connections per store for longer than the defaults allow.
const QUEUEING_TIMEOUT: &str = "60s";

pub struct Server {
    child: Child,
    pub grpc_addr: SocketAddr,
    pub started_in: Duration,
}

impl Server {
    /// Starts `binary` against `dataset` (split when the dataset has a NEW store) and waits for
    /// readiness.
    pub async fn start(binary: &Path, dataset: &Dataset) -> anyhow::Result<Self> {
        Self::start_with(binary, dataset, &[]).await
    }

    /// [`Server::start`] with more environment variables, e.g. `RUNVIEW_LOOKUP_COALESCING`.
    pub async fn start_with(
        binary: &Path,
        dataset: &Dataset,
        settings: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let [grpc, health, metrics] = [free_port()?, free_port()?, free_port()?];
        let mut command = Command::new(binary);
        command
            .arg("--grpc-addr")
            .arg(grpc.to_string())
            .arg("--health-addr")
            .arg(health.to_string())
            .arg("--metrics-addr")
            .arg(metrics.to_string())
            .env("RUNVIEW_CONTROL_PLANE_DATABASE_URL", &dataset.control_plane)
            .env("RUNVIEW_LEGACY_DATABASE_URL", &dataset.legacy)
            .env("RUNVIEW_MAX_CONCURRENT_REQUESTS", MAX_CONCURRENT_REQUESTS)
            .env("RUNVIEW_POOL_ACQUIRE_TIMEOUT", QUEUEING_TIMEOUT)
            .env("RUNVIEW_REQUEST_TIMEOUT", QUEUEING_TIMEOUT)
            .env("RUNVIEW_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .env_remove("RUNVIEW_NEW_DATABASE_URL")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdout(Stdio::null());
        if let Some(new) = &dataset.new {
            command.env("RUNVIEW_NEW_DATABASE_URL", new);
        }
        command.envs(settings.iter().copied());
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Self {
            child,
            grpc_addr: grpc,
            started_in: Duration::ZERO,
        };
        server.wait_until_ready(health).await?;
        server.started_in = started.elapsed();
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn wait_until_ready(&mut self, health: SocketAddr) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("runview exited before it was ready: {status}");
            }
            if readiness(health).await == Some(ServingStatus::Serving) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("runview was not ready within a minute")
    }

    /// SIGTERM, then the drain; killed if it does not stop within the drain timeout.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = i32::try_from(self.child.id())?;
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(25);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn readiness(addr: SocketAddr) -> Option<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let mut client = HealthClient::new(channel);
    let request = HealthCheckRequest {
        service: "readiness".to_owned(),
    };
    let response = client.check(request).await.ok()?;
    Some(response.into_inner().status())
}

/// A loopback port nobody listens on right now.
fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}
