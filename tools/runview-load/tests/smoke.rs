//! End to end against an in-process gRPC server on 127.0.0.1:0: the standard health service,
//! whose descriptors the tool carries beside runview's. Through the library and the binary.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::Context;
use runview_load::config::{GhzConfig, LoadOptions};
use runview_load::report::EndReason;
use runview_load::runner;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

/// A health server answering SERVING for "" and NOT_FOUND for any other service name.
async fn health_server() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (_reporter, service) = tonic_health::server::health_reporter();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    Ok(address)
}

fn options(json: &str) -> anyhow::Result<LoadOptions> {
    LoadOptions::try_from(GhzConfig::parse(json)?)
}

/// Runs the binary off the async workers, so the in-process server keeps serving meanwhile.
async fn run_binary(args: Vec<String>) -> anyhow::Result<Output> {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_runview-load"))
            .args(args)
            .output()
    })
    .await??;
    Ok(output)
}

fn args(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_at_concurrency_four_all_answer_ok() -> anyhow::Result<()> {
    let address = health_server().await?;
    let options = options(&format!(
        r#"{{"call": "grpc.health.v1.Health/Check", "host": "{address}", "insecure": true,
            "concurrency": 4, "connections": 2, "total": 200, "data": {{"service": ""}}}}"#
    ))?;
    let report = runner::run(&options, CancellationToken::new()).await?;
    assert_eq!(report.count, 200);
    assert_eq!(report.status_code_distribution.get("OK"), Some(&200));
    assert_eq!(report.status_code_distribution.len(), 1);
    assert!(report.error_distribution.is_empty());
    assert_eq!(report.end_reason, EndReason::Normal);
    assert_eq!(report.latency_distribution.as_ref().map(Vec::len), Some(7));
    assert!(report.fastest <= report.average && report.average <= report.slowest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_warm_up_calls_are_left_out_of_the_report() -> anyhow::Result<()> {
    let address = health_server().await?;
    let options = options(&format!(
        r#"{{"call": "grpc.health.v1.Health.Check", "host": "{address}", "insecure": true,
            "concurrency": 2, "total": 50, "skipFirst": 10}}"#
    ))?;
    let report = runner::run(&options, CancellationToken::new()).await?;
    assert_eq!(report.count, 40);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rps_paces_the_whole_run_and_duration_ends_it() -> anyhow::Result<()> {
    let address = health_server().await?;
    let paced = options(&format!(
        r#"{{"call": "grpc.health.v1.Health/Check", "host": "{address}", "insecure": true,
            "concurrency": 4, "total": 20, "rps": 200}}"#
    ))?;
    let report = runner::run(&paced, CancellationToken::new()).await?;
    assert_eq!(report.count, 20);
    // The 20th call's slot is 19 × 5 ms after the start.
    assert!(
        report.total >= Duration::from_millis(95),
        "{:?}",
        report.total
    );

    let timed = options(&format!(
        r#"{{"call": "grpc.health.v1.Health/Check", "host": "{address}", "insecure": true,
            "concurrency": 2, "duration": "300ms", "rps": 50}}"#
    ))?;
    let report = runner::run(&timed, CancellationToken::new()).await?;
    assert_eq!(report.end_reason, EndReason::Timeout);
    assert!(
        (10..=16).contains(&report.count),
        "{} calls in 300ms at 50 rps",
        report.count
    );
    assert!(report.total < Duration::from_secs(1), "{:?}", report.total);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reports_each_status_and_fails_on_error_when_asked() -> anyhow::Result<()> {
    let address = health_server().await?;
    let mut command = args("--call grpc.health.v1.Health/Check --insecure -c 4 -n 200 -O json");
    command.extend([
        "--fail-on-error".to_owned(),
        "-d".to_owned(),
        r#"[{"service": ""}, {"service": "no.such.Service"}]"#.to_owned(),
        address.to_string(),
    ]);
    let output = run_binary(command).await?;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(report["count"], 200);
    assert_eq!(report["statusCodeDistribution"]["OK"], 100);
    assert_eq!(report["statusCodeDistribution"]["NotFound"], 100);
    let errors = report["errorDistribution"].as_object().context("errors")?;
    assert_eq!(errors.len(), 1);
    let (message, count) = errors.iter().next().context("one error")?;
    assert!(
        message.starts_with("rpc error: code = NotFound desc = "),
        "{message}"
    );
    assert_eq!(count, 100);
    assert!(report["total"].as_u64().is_some_and(|nanos| nanos > 0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_a_ghz_summary() -> anyhow::Result<()> {
    let address = health_server().await?;
    let mut command = args("--call grpc.health.v1.Health/Check --insecure -c 4 -n 200");
    command.extend([
        "--name".to_owned(),
        "health smoke".to_owned(),
        address.to_string(),
    ]);
    let output = run_binary(command).await?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8(output.stdout)?;
    for expected in [
        "Summary:",
        "  Name:         health smoke",
        "  Count:        200",
        "Response time histogram:",
        "Latency distribution:",
        "  99 % in ",
        "Status code distribution:",
        "  [OK]   200 responses",
    ] {
        assert!(
            summary.contains(expected),
            "{expected:?} missing from:\n{summary}"
        );
    }
    assert!(!summary.contains("Error distribution:"), "{summary}");
    Ok(())
}

#[test]
fn an_unknown_method_is_a_clear_error_before_any_call() -> anyhow::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_runview-load"))
        .args(args(
            "--call runview.v1.ReadService/GetRunz --insecure 127.0.0.1:9",
        ))
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"unknown method "GetRunz" of runview.v1.ReadService"#),
        "{stderr}"
    );
    assert!(
        stderr.contains("GetRun, ListRuns, GetWaitpoint, ListBatches"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn an_unreachable_host_is_a_clear_error() -> anyhow::Result<()> {
    // Bind then free a port, so that nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let output = Command::new(env!("CARGO_BIN_EXE_runview-load"))
        .args(args("--call grpc.health.v1.Health/Check --insecure"))
        .arg(format!("127.0.0.1:{port}"))
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect to 127.0.0.1:"));
    Ok(())
}
