//! The webapp's own gRPC client, grpc-js, run by Node.js from the scripts in `tests/node/`. Their
//! packages are installed from the lockfile on first use (`npm ci`), so a fresh checkout needs
//! nothing but Node.js and npm.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

/// No script may hang the suite.
const SCRIPT_BUDGET: Duration = Duration::from_secs(30);

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// Installs the scripts' packages once, whatever number of tests ask at once.
fn install_packages() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *installed || scripts().join("node_modules").is_dir() {
        *installed = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(scripts())
        .status()
        .expect("npm runs (the grpc-js client tests need Node.js 18+ and npm on the PATH)");
    assert!(status.success(), "npm ci in tests/node failed: {status}");
    *installed = true;
}

/// Runs `script` with `args` and parses the one JSON line it prints.
pub async fn run(script: &str, args: &[&str]) -> serde_json::Value {
    tokio::task::spawn_blocking(install_packages)
        .await
        .expect("installing the Node.js packages");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(scripts().join(script))
        .args(args)
        .kill_on_drop(true);
    let output = tokio::time::timeout(SCRIPT_BUDGET, command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within {SCRIPT_BUDGET:?}"))
        .expect("node runs (the grpc-js client tests need Node.js 18+ on the PATH)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|error| panic!("{script} printed no JSON line ({error}):\n{stdout}"))
}
