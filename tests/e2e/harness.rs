//! Starts a seeded split-mode stack per test and hands out clients.

use std::net::SocketAddr;
use std::time::Duration;

use runview::config::{Config, Flags};
use runview::proto::read_service_client::ReadServiceClient;
use runview::server::{self, DatabaseUrls, RunningServer};
use runview_localdb::testing::TestDatabase;
use runview_seed::{DemoHighlights, SeedPlan};
use secrecy::SecretString;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

/// Small enough to seed in well under a second, large enough for every highlight.
const TEST_RUNS: usize = 1_000;

/// Loopback, ephemeral ports.
pub fn test_config() -> Config {
    let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
    Config::load(&Flags {
        grpc_addr: Some(loopback(0)),
        health_addr: Some(loopback(0)),
        metrics_addr: Some(loopback(0)),
        ..Flags::default()
    })
    .expect("the default configuration loads")
}

/// Three fresh databases (control plane, LEGACY, NEW) seeded with a small demo dataset.
pub struct SeededDatabases {
    pub control_plane: TestDatabase,
    pub legacy: TestDatabase,
    pub new: TestDatabase,
    pub demo: DemoHighlights,
}

impl SeededDatabases {
    pub async fn create() -> Self {
        let plan = SeedPlan {
            runs: TEST_RUNS,
            new_share: 0.5,
            ..SeedPlan::demo(chrono::Utc::now())
        };
        let seeded = runview_seed::testing::SeededDatabases::create(&plan).await;
        Self {
            control_plane: seeded.control_plane,
            legacy: seeded.legacy,
            new: seeded.new,
            demo: seeded.report.highlights,
        }
    }

    pub fn urls(&self) -> DatabaseUrls {
        DatabaseUrls {
            control_plane: SecretString::from(self.control_plane.url().to_owned()),
            control_plane_primary: None,
            legacy: SecretString::from(self.legacy.url().to_owned()),
            new: Some(SecretString::from(self.new.url().to_owned())),
            legacy_primary: None,
            new_primary: None,
        }
    }
}

/// A running server over seeded databases.
pub struct TestStack {
    pub databases: SeededDatabases,
    pub server: RunningServer,
}

impl TestStack {
    pub async fn start() -> Self {
        Self::start_with(test_config()).await
    }

    pub async fn start_with(config: Config) -> Self {
        Self::over(SeededDatabases::create().await, config, |_| {}).await
    }

    /// A server over `databases`, with the URLs `adjust` leaves.
    pub async fn over(
        databases: SeededDatabases,
        config: Config,
        adjust: impl FnOnce(&mut DatabaseUrls),
    ) -> Self {
        let mut urls = databases.urls();
        adjust(&mut urls);
        let server = server::start(&config, &urls)
            .await
            .expect("the server starts");
        Self { databases, server }
    }

    pub fn demo(&self) -> &DemoHighlights {
        &self.databases.demo
    }

    pub async fn client(&self) -> ReadServiceClient<Channel> {
        ReadServiceClient::new(channel(self.server.grpc_addr).await)
    }

    pub async fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(channel(self.server.health_addr).await)
    }

    /// Polls readiness until it reports `expected` or a few seconds pass.
    pub async fn wait_for_readiness(&self, expected: ServingStatus) -> ServingStatus {
        let mut health = self.health().await;
        let mut last = ServingStatus::Unknown;
        for _ in 0..50 {
            let request = HealthCheckRequest {
                service: server::READINESS.to_owned(),
            };
            if let Ok(response) = health.check(request).await {
                last = response.into_inner().status();
                if last == expected {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    pub async fn shutdown(self) {
        self.stop().await;
    }

    /// Stops the server and hands the databases back for another one.
    pub async fn stop(self) -> SeededDatabases {
        self.server
            .shutdown()
            .await
            .expect("the server stops cleanly");
        self.databases
    }
}

pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect()
        .await
        .expect("the server accepts connections")
}

impl SeededDatabases {
    /// Takes the NEW store away under a running server, as an outage would.
    pub async fn drop_new_store(&self) {
        let maintenance_url = self.legacy.url().replace(self.legacy.name(), "postgres");
        let maintenance = sqlx::PgPool::connect(&maintenance_url)
            .await
            .expect("a maintenance connection");
        sqlx::query(&format!(
            "DROP DATABASE \"{}\" WITH (FORCE)",
            self.new.name()
        ))
        .execute(&maintenance)
        .await
        .expect("the NEW store is gone");
    }

    /// Friendly ids of the rows `sql` selects in both run-ops stores, newest first, NEW winning
    /// over LEGACY for an id in both: the oracle list results are compared with. `sql` selects
    /// ("friendlyId", "createdAt", id) and takes the environment id as `$1`.
    pub async fn expected_ids(&self, sql: &str, environment_id: &str) -> Vec<String> {
        let mut rows: Vec<(String, chrono::NaiveDateTime, String)> = Vec::new();
        for store in [&self.new, &self.legacy] {
            let found: Vec<(String, chrono::NaiveDateTime, String)> = sqlx::query_as(sql)
                .bind(environment_id)
                .fetch_all(store.pool())
                .await
                .expect("the oracle query runs");
            for row in found {
                if !rows.iter().any(|existing| existing.2 == row.2) {
                    rows.push(row);
                }
            }
        }
        rows.sort_by(|a, b| (b.1, &b.2).cmp(&(a.1, &a.2)));
        rows.into_iter()
            .map(|(friendly_id, _, _)| friendly_id)
            .collect()
    }
}

/// The ErrorInfo reason of a failed call.
pub fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

/// A password for test URLs: trust authentication ignores it, so it is a secret to look for.
const DATABASE_PASSWORD: &str = "test-database-password-93a4f2";

/// `url` with a password: its own if it has one, else [`DATABASE_PASSWORD`]; and that password.
pub fn with_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (userinfo, hostpart) = rest.split_once('@').expect("a URL with a user");
    match userinfo.split_once(':') {
        Some((_, password)) => (url.to_owned(), password.to_owned()),
        None => (
            format!("{scheme}://{userinfo}:{DATABASE_PASSWORD}@{hostpart}"),
            DATABASE_PASSWORD.to_owned(),
        ),
    }
}
