//! The runview binary in a process of its own, for what only a process shows: its telemetry is
//! process-global and configured by the standard `OTEL_*` environment variables.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long the binary may take to start listening (it checks every database's schema first).
const START_BUDGET: Duration = Duration::from_secs(20);

pub struct ServerProcess {
    _child: Reaped,
    pub grpc_addr: SocketAddr,
    /// Every line it has written to stderr (JSON logs).
    logs: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the binary with only `env` for an environment, ports chosen by the system and JSON
    /// logs, and waits until it listens.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let mut child = Reaped(
            Command::new(env!("CARGO_BIN_EXE_runview"))
                .env_clear()
                .envs(env.iter().copied())
                .env("RUNVIEW_GRPC_ADDR", "127.0.0.1:0")
                .env("RUNVIEW_HEALTH_ADDR", "127.0.0.1:0")
                .env("RUNVIEW_METRICS_ADDR", "127.0.0.1:0")
                .env("RUNVIEW_LOG_FORMAT", "json")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the runview binary starts"),
        );
        let stderr = child.0.stderr.take().expect("stderr is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (listening, mut addr) = tokio::sync::mpsc::unbounded_channel();
        let kept = logs.clone();
        // Reads until the process ends, so a full pipe never blocks it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(grpc_addr) = grpc_addr_of(&line) {
                    let _ = listening.send(grpc_addr);
                }
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
        let listened = tokio::time::timeout(START_BUDGET, addr.recv()).await;
        let grpc_addr = listened.ok().flatten().unwrap_or_else(|| {
            panic!(
                "runview did not listen within {START_BUDGET:?}; it logged:\n{}",
                logs.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .join("\n")
            )
        });
        Self {
            _child: child,
            grpc_addr,
            logs,
        }
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The process, killed when dropped: also when the test stops waiting for it to start.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The gRPC address of the "runview is listening" line.
fn grpc_addr_of(line: &str) -> Option<SocketAddr> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    if event.get("message")?.as_str()? != "runview is listening" {
        return None;
    }
    event.get("grpc_addr")?.as_str()?.parse().ok()
}
