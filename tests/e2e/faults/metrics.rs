//! The Prometheus endpoint as a scraper sees it: request and cache counters are there, and no
//! secret ever is, whatever the server was configured or called with.

use runview::proto::read_service_client::ReadServiceClient;
use runview::server::{self, DatabaseUrls};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{bounded, get_run};
use crate::harness::{SeededDatabases, channel, test_config, with_password};

const AUTH_TOKEN: &str = "metrics-test-token-5b0e7c1d";
/// Added to the database URLs; the test server trusts local connections, so it goes unused.
/// `GET /metrics` over a plain HTTP/1.1 connection; the body.
pub(crate) async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("the metrics port accepts");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("a text response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("headers, then a body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("chunked"),
        "one body: {head}"
    );
    body.to_owned()
}

/// The value of `runview_requests_total` for one method and code; zero before the first.
pub(super) fn request_count(body: &str, method: &str, code: &str) -> u64 {
    let (method, code) = (format!("method=\"{method}\""), format!("code=\"{code}\""));
    body.lines()
        .filter(|line| line.starts_with("runview_requests_total{"))
        .filter(|line| line.contains(&method) && line.contains(&code))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}

fn has_sample(body: &str, metric: &str, labels: &[&str]) -> bool {
    body.lines().any(|line| {
        line.starts_with(&format!("{metric}{{")) && labels.iter().all(|label| line.contains(label))
    })
}

#[tokio::test]
async fn metrics_count_requests_and_cache_lookups_and_expose_no_secret() {
    bounded(async {
        let databases = SeededDatabases::create().await;
        let (control_plane, password) = with_password(databases.control_plane.url());
        let urls = DatabaseUrls {
            control_plane: SecretString::from(control_plane),
            control_plane_primary: None,
            legacy: SecretString::from(with_password(databases.legacy.url()).0),
            new: Some(SecretString::from(with_password(databases.new.url()).0)),
            legacy_primary: None,
            new_primary: None,
        };
        let mut config = test_config();
        config.auth_tokens = Some(SecretString::from(AUTH_TOKEN.to_owned()));
        let server = server::start(&config, &urls)
            .await
            .expect("the server starts");

        let demo = &databases.demo;
        let mut client = ReadServiceClient::new(channel(server.grpc_addr).await);
        for run_id in [&demo.legacy_run_id, &demo.new_run_id, &demo.legacy_run_id] {
            let mut request = tonic::Request::new(get_run(&demo.production_environment_id, run_id));
            let bearer = format!("Bearer {AUTH_TOKEN}").parse().expect("ASCII");
            request.metadata_mut().insert("authorization", bearer);
            client.get_run(request).await.expect("found");
        }
        // A refused call, so the token path has run too.
        client
            .get_run(get_run(
                &demo.production_environment_id,
                &demo.legacy_run_id,
            ))
            .await
            .expect_err("no token");

        let body = scrape(server.metrics_addr).await;
        assert!(
            has_sample(
                &body,
                "runview_requests_total",
                &["method=\"GetRun\"", "code=\"OK\""]
            ),
            "{body}"
        );
        assert!(
            has_sample(
                &body,
                "runview_requests_total",
                &["method=\"GetRun\"", "code=\"UNAUTHENTICATED\""]
            ),
            "a refused token is a counted request too: {body}"
        );
        for result in ["hit", "miss"] {
            let result = format!("result=\"{result}\"");
            assert!(
                has_sample(
                    &body,
                    "runview_control_plane_cache_total",
                    &["kind=\"environment\"", &result]
                ),
                "{body}"
            );
        }
        assert!(
            has_sample(
                &body,
                "runview_control_plane_loads_total",
                &["kind=\"environment\""]
            ),
            "{body}"
        );
        assert!(
            has_sample(
                &body,
                "runview_control_plane_load_duration_seconds_count",
                &["kind=\"environment\"", "outcome=\"ok\""]
            ),
            "every load is timed: {body}"
        );

        let api_keys: Vec<String> =
            sqlx::query_scalar(r#"SELECT "apiKey" FROM "RuntimeEnvironment""#)
                .fetch_all(databases.control_plane.pool())
                .await
                .expect("the control plane answers");
        assert!(!api_keys.is_empty());
        let secrets = api_keys
            .iter()
            .map(String::as_str)
            .chain([AUTH_TOKEN, password.as_str()]);
        for secret in secrets.filter(|secret| !secret.is_empty()) {
            assert!(!body.contains(secret), "a secret is exposed on /metrics");
        }
        server.shutdown().await.expect("the server stops cleanly");
    })
    .await;
}
