//! The embedded default: with no database configured, start a private PostgreSQL, create the
//! control-plane, LEGACY and NEW databases, seed demo data and serve in split mode. Stopping
//! runview stops that PostgreSQL.

use std::net::SocketAddr;

use anyhow::Context;
use runview_localdb::LocalPostgres;
use runview_seed::{DemoHighlights, DeploymentUrls, SeedPlan};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::config::Config;
use crate::server::{self, DatabaseUrls, RunningServer, shutdown_signal};

const CONTROL_PLANE_DB: &str = "runview_control_plane";
const LEGACY_DB: &str = "runview_legacy";
const NEW_DB: &str = "runview_new";

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let postgres = LocalPostgres::start(&config.embedded_data_dir)
        .await
        .context("cannot start the embedded PostgreSQL")?;
    let served = seed_and_serve(&postgres, config).await;
    let served = match served {
        Ok(running) => {
            let token = running.shutdown_token();
            tokio::select! {
                () = shutdown_signal() => {
                    tracing::info!("stopping");
                    running.shutdown().await
                }
                () = token.cancelled() => running.stopped().await,
            }
        }
        Err(error) => Err(error),
    };
    let stopped = postgres
        .stop()
        .context("cannot stop the embedded PostgreSQL");
    served.and(stopped)
}

async fn seed_and_serve(
    postgres: &LocalPostgres,
    config: &Config,
) -> anyhow::Result<RunningServer> {
    // Databases are recreated on every start so a run interrupted mid-seed never leaves half a
    // dataset behind; the cluster itself is reused.
    let maintenance = PgPool::connect(&postgres.url("postgres")).await?;
    for database in [CONTROL_PLANE_DB, LEGACY_DB, NEW_DB] {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .execute(&maintenance)
            .await?;
        postgres.ensure_database(database).await?;
    }
    maintenance.close().await;

    let (control_plane, legacy, new) = (
        postgres.url(CONTROL_PLANE_DB),
        postgres.url(LEGACY_DB),
        postgres.url(NEW_DB),
    );
    let plan = SeedPlan::demo(chrono::Utc::now());
    tracing::info!(runs = plan.runs, "seeding demo data");
    let urls = DeploymentUrls {
        control_plane: &control_plane,
        legacy: &legacy,
        new: &new,
    };
    let report = runview_seed::create_and_seed(urls, &plan)
        .await
        .context("cannot seed the demo data")?;

    let urls = DatabaseUrls {
        control_plane: SecretString::from(control_plane),
        control_plane_primary: None,
        legacy: SecretString::from(legacy),
        new: Some(SecretString::from(new)),
        legacy_primary: None,
        new_primary: None,
    };
    let split_config = Config {
        split: true,
        ..config.clone()
    };
    let running = server::start(&split_config, &urls).await?;
    println!("{}", examples(&running, &report.highlights));
    Ok(running)
}

/// Ready-to-paste calls against the demo data.
fn examples(running: &RunningServer, demo: &DemoHighlights) -> String {
    let grpc = reachable(running.grpc_addr);
    let health = reachable(running.health_addr);
    let env = &demo.production_environment_id;
    let call = |method: &str, body: String| {
        format!(
            "grpcurl -plaintext -d '{{\"environment_id\":\"{env}\"{body}}}' {grpc} runview.v1.ReadService/{method}"
        )
    };
    [
        format!("runview is serving demo data (split mode) on {grpc}; health on {health}; metrics on http://{}/metrics. Ctrl-C stops it.", reachable(running.metrics_addr)),
        String::new(),
        "# a run in the LEGACY store".to_owned(),
        call("GetRun", format!(",\"run_id\":\"{}\"", demo.legacy_run_id)),
        "# a run in the NEW store, full view, v2 statuses".to_owned(),
        call("GetRun", format!(",\"run_id\":\"{}\",\"view\":\"RUN_VIEW_FULL\",\"api_version\":\"API_VERSION_2025_07_16\"", demo.new_run_id)),
        "# a run whose id shape points at the other store (found by the fallback lookup)".to_owned(),
        call("GetRun", format!(",\"run_id\":\"{}\"", demo.misfiled_new_run_id)),
        "# a parent with more children than the cap".to_owned(),
        call("GetRun", format!(",\"run_id\":\"{}\"", demo.wide_parent_run_id)),
        "# the newest runs of both stores, then only failed ones (pass next_page_token as page_token to go on)".to_owned(),
        call("ListRuns", ",\"page_size\":5".to_owned()),
        call("ListRuns", ",\"statuses\":[\"FAILED\"],\"status_filter_mode\":\"STATUS_FILTER_MODE_COMPLETE\"".to_owned()),
        "# runs of a schedule".to_owned(),
        call("ListRuns", format!(",\"schedule_id\":\"{}\"", demo.schedule_id)),
        "# a waitpoint token in each store".to_owned(),
        call("GetWaitpoint", format!(",\"waitpoint_id\":\"{}\"", demo.legacy_waitpoint_id)),
        call("GetWaitpoint", format!(",\"waitpoint_id\":\"{}\"", demo.new_waitpoint_id)),
        "# the waitpoint tokens of both stores, then the pending ones tagged `approval`".to_owned(),
        call("ListWaitpoints", ",\"page_size\":5".to_owned()),
        call("ListWaitpoints", ",\"statuses\":[\"WAITPOINT_STATUS_WAITING\"],\"tags\":[\"approval\"]".to_owned()),
        "# batches with their run counts over both stores".to_owned(),
        call("ListBatches", ",\"include_run_counts\":true".to_owned()),
        "# a batch with its run ids and the errors of items that failed to trigger, in each store".to_owned(),
        call("GetBatch", format!(",\"batch_id\":\"{}\",\"view\":\"BATCH_VIEW_FULL\"", demo.legacy_batch_id)),
        call("GetBatch", format!(",\"batch_id\":\"{}\"", demo.new_batch_id)),
        "# readiness".to_owned(),
        format!("grpcurl -plaintext -d '{{\"service\":\"readiness\"}}' {health} grpc.health.v1.Health/Check"),
        "# everything the server offers".to_owned(),
        format!("grpcurl -plaintext {grpc} list"),
    ]
    .join("\n")
}

/// An address a client on this machine can dial: a wildcard bind is reached over loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    }
}
