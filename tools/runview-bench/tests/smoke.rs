//! CI smoke run: the real server over freshly seeded test databases, loaded for a couple of
//! seconds per RPC through runview-load's runner; every call must answer OK. The full benchmark
//! (`runview-bench`) is far too long for CI.

use std::net::SocketAddr;
use std::time::Duration;

use runview::config::{Config, Flags};
use runview::server::{self, DatabaseUrls};
use runview_load::config::{GhzConfig, LoadOptions};
use runview_load::ids::{self, Kind};
use runview_seed::SeedPlan;
use runview_seed::testing::SeededDatabases;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

const RUN_FOR: Duration = Duration::from_secs(2);

async fn load(host: SocketAddr, method: &str, data: Value) -> runview_load::report::Report {
    let config = GhzConfig {
        call: Some(method.to_owned()),
        host: Some(host.to_string()),
        insecure: Some(true),
        data: Some(data),
        concurrency: Some(4),
        duration: Some(format!("{}ms", RUN_FOR.as_millis())),
        timeout: Some("5s".to_owned()),
        ..GhzConfig::default()
    };
    let options = LoadOptions::try_from(config).expect("valid load options");
    runview_load::runner::run(&options, CancellationToken::new())
        .await
        .expect("the load run completes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_run_list_runs_and_get_batch_answer_ok_under_load() {
    let plan = SeedPlan {
        runs: 1_000,
        new_share: 0.5,
        ..SeedPlan::demo(chrono::Utc::now())
    };
    let SeededDatabases {
        control_plane,
        legacy,
        new,
        report: seeded,
    } = SeededDatabases::create(&plan).await;
    let environment = seeded.highlights.production_environment_id;

    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let config = Config::load(&Flags {
        grpc_addr: Some(loopback),
        health_addr: Some(loopback),
        metrics_addr: Some(loopback),
        ..Flags::default()
    })
    .expect("the configuration loads");
    let urls = DatabaseUrls {
        control_plane: SecretString::from(control_plane.url().to_owned()),
        control_plane_primary: None,
        legacy: SecretString::from(legacy.url().to_owned()),
        new: Some(SecretString::from(new.url().to_owned())),
        legacy_primary: None,
        new_primary: None,
    };
    let running = server::start(&config, &urls)
        .await
        .expect("the server starts");

    let mut per_store = Vec::new();
    for url in [legacy.url(), new.url()] {
        let records = ids::read_records(url, Kind::Runs, Some(&environment), 50)
            .await
            .expect("run ids are read");
        per_store.push(records);
    }
    let runs = ids::messages(Kind::Runs, ids::interleave(per_store, 100), &Map::new());
    let mut per_store = Vec::new();
    for url in [legacy.url(), new.url()] {
        let records = ids::read_records(url, Kind::Batches, Some(&environment), 10)
            .await
            .expect("batch ids are read");
        per_store.push(records);
    }
    let full_view = Map::from_iter([("view".to_owned(), json!("BATCH_VIEW_FULL"))]);
    let batches = ids::messages(Kind::Batches, ids::interleave(per_store, 20), &full_view);
    let calls = [
        ("runview.v1.ReadService/GetRun", Value::Array(runs)),
        (
            "runview.v1.ReadService/ListRuns",
            json!({"environment_id": environment, "page_size": 25}),
        ),
        ("runview.v1.ReadService/GetBatch", Value::Array(batches)),
    ];
    for (method, data) in calls {
        let report = load(running.grpc_addr, method, data).await;
        assert!(report.count > 0, "{method}: no call completed");
        assert_eq!(
            report.failures(),
            0,
            "{method}: {:?}",
            report.error_distribution
        );
    }
    running.shutdown().await.expect("the server stops");
}
