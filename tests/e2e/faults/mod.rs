//! Fault injection: the real server over real PostgreSQL reached through [`Proxy`]s, so a test can
//! cut or slow one database under live traffic and check what callers see.

mod attack;
mod auth;
mod connections;
mod control_plane;
mod deadline;
mod hostile;
mod invalidation;
mod listener;
mod load;
pub(crate) mod metrics;
mod shutdown;
mod store_outage;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use runview::config::Config;
use runview::proto::GetRunRequest;
use runview::proto::read_service_client::ReadServiceClient;
use runview::server::{self, DatabaseUrls, RunningServer};
use runview_localdb::testing::TestDatabase;
use runview_seed::DemoHighlights;
use secrecy::SecretString;
use tokio::time::Instant;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{SeededDatabases, channel, test_config};
use crate::proxy::Proxy;

/// No fault test may hang the suite, whatever the server does.
const TEST_BUDGET: Duration = Duration::from_secs(30);

/// Runs a test body, failing it if it takes longer than [`TEST_BUDGET`].
pub async fn bounded(test: impl Future<Output = ()>) {
    within(TEST_BUDGET, test).await;
}

/// Runs a test body, failing it if it takes longer than `budget`.
pub async fn within(budget: Duration, test: impl Future<Output = ()>) {
    tokio::time::timeout(budget, test)
        .await
        .expect("the test finishes within its budget");
}

/// Set in the process [`alone`] runs a test in.
const ALONE: &str = "RUNVIEW_TEST_ALONE";

/// Runs a test body in a process of its own, so that the process-wide metrics recorder, which
/// every server of a process shares, holds only this test's server: its counts are then exact.
/// The test binary runs again with only the calling test selected (libtest names each test's
/// thread after the test), and the test passes when that run passes. The body is only polled
/// there: `alone(bounded(…))` bounds it.
pub async fn alone(test: impl Future<Output = ()>) {
    if std::env::var_os(ALONE).is_some() {
        return test.await;
    }
    let thread = std::thread::current();
    let name = thread.name().expect("libtest names the test's thread");
    let output = tokio::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([name, "--exact", "--include-ignored", "--nocapture"])
        .env(ALONE, "1")
        .kill_on_drop(true)
        .output()
        .await
        .expect("the test binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    // Shown with the test's own output, as libtest captures it.
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "{name} fails in a process of its own"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} ran in a process of its own"
    );
}

/// Polls `probe` until it returns `Some`, failing with `what` once `within` has passed.
pub async fn eventually<T>(
    within: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `replicas` invalidation listeners have run LISTEN on `control_plane`: a notice
/// published before that is lost to a replica, and nothing else tells when one starts hearing
/// them. The database is asked directly, not through a proxy that may be holding replies.
pub async fn wait_until_listening(control_plane: &TestDatabase, replicas: usize) {
    eventually(
        Duration::from_secs(10),
        "every replica listens for invalidations",
        async || {
            let listening: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'runview-invalidation-listener' AND query LIKE 'LISTEN%'",
            )
            .fetch_one(control_plane.pool())
            .await
            .expect("pg_stat_activity answers");
            (listening == replicas as i64).then_some(())
        },
    )
    .await;
}

/// Seeded databases, each reached through a proxy of its own, and a server over the proxies.
/// A GetRun running in the background.
pub type HeldCall =
    tokio::task::JoinHandle<Result<tonic::Response<runview::proto::Run>, tonic::Status>>;

pub struct ProxiedStack {
    pub databases: SeededDatabases,
    pub control_plane: Proxy,
    pub legacy: Proxy,
    pub new: Proxy,
    pub server: RunningServer,
}

impl ProxiedStack {
    pub async fn start(config: Config) -> Self {
        let databases = SeededDatabases::create().await;
        let (control_plane, legacy, new) = tokio::join!(
            Proxy::start(databases.control_plane.url()),
            Proxy::start(databases.legacy.url()),
            Proxy::start(databases.new.url()),
        );
        let secret = |proxy: &Proxy, url: &str| SecretString::from(proxy.url_for(url));
        let urls = DatabaseUrls {
            control_plane: secret(&control_plane, databases.control_plane.url()),
            control_plane_primary: None,
            legacy: secret(&legacy, databases.legacy.url()),
            new: Some(secret(&new, databases.new.url())),
            legacy_primary: None,
            new_primary: None,
        };
        let server = server::start(&config, &urls)
            .await
            .expect("the server starts over the proxies");
        Self {
            databases,
            control_plane,
            legacy,
            new,
            server,
        }
    }

    pub fn demo(&self) -> &DemoHighlights {
        &self.databases.demo
    }

    pub async fn client(&self) -> ReadServiceClient<Channel> {
        ReadServiceClient::new(channel(self.server.grpc_addr).await)
    }

    /// A client and a GetRun of a NEW run, answered once so that the pool and the cache are
    /// warm before a test breaks something.
    pub async fn warmed_client(&self) -> (ReadServiceClient<Channel>, GetRunRequest) {
        let demo = self.demo();
        let request = get_run(&demo.production_environment_id, &demo.new_run_id);
        let mut client = self.client().await;
        client
            .get_run(request.clone())
            .await
            .expect("warms the pool and the cache");
        (client, request)
    }

    /// `count` calls of `request` held in flight: the NEW store's proxy holds their replies
    /// until `self.new.release()`. Returns once every one waits on the store.
    pub async fn hold_get_runs(
        &self,
        client: &ReadServiceClient<Channel>,
        request: &GetRunRequest,
        count: usize,
    ) -> Vec<HeldCall> {
        self.new.hold();
        let held = (0..count)
            .map(|_| {
                let (mut client, request) = (client.clone(), request.clone());
                tokio::spawn(async move { client.get_run(request).await })
            })
            .collect();
        eventually(
            Duration::from_secs(5),
            "the held calls wait on the NEW store",
            async || (self.new.delayed_connections() >= count).then_some(()),
        )
        .await;
        held
    }

    pub async fn shutdown(self) {
        self.server
            .shutdown()
            .await
            .expect("the server stops cleanly");
    }
}

/// The test configuration with readiness checks far apart, for tests that count the queries
/// reaching a database: a readiness ping would be counted too, or take a pool's only connection.
pub fn quiet_readiness_config() -> Config {
    Config {
        readiness_interval: Duration::from_secs(3600),
        ..test_config()
    }
}

pub fn get_run(environment_id: &str, run_id: &str) -> GetRunRequest {
    GetRunRequest {
        environment_id: environment_id.to_owned(),
        run_id: run_id.to_owned(),
        ..GetRunRequest::default()
    }
}

/// The status the health service on `addr` reports for `service`.
pub async fn health_status(addr: SocketAddr, service: &str) -> ServingStatus {
    let mut health = HealthClient::new(channel(addr).await);
    health
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("the health service answers")
        .into_inner()
        .status()
}

/// Polls the health service on `addr` until `service` reports `expected`.
pub async fn wait_for_health(addr: SocketAddr, service: &str, expected: ServingStatus) {
    eventually(
        Duration::from_secs(5),
        &format!("{service} turns {expected:?}"),
        async || (health_status(addr, service).await == expected).then_some(()),
    )
    .await;
}
