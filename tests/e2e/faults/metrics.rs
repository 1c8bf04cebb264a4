//! The Prometheus endpoint as a scraper sees it: request and cache counters are there, and no
//! secret ever is, whatever the server was configured or called with. Tests that count run
//! [`alone`](super::alone), so the counts are their server's.

use std::collections::BTreeMap;

use runview::proto::read_service_client::ReadServiceClient;
use runview::server::{self, DatabaseUrls};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{alone, bounded, get_run};
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

/// The labels and value of every sample of `metric`: `{method="GetRun",code="OK"} 3` gives
/// (`method="GetRun",code="OK"`, 3).
fn samples<'a>(body: &'a str, metric: &str) -> impl Iterator<Item = (&'a str, u64)> {
    let prefix = format!("{metric}{{");
    body.lines().filter_map(move |line| {
        let (labels, value) = line.strip_prefix(&prefix)?.rsplit_once("} ")?;
        Some((labels, value.parse().ok()?))
    })
}

/// The value of a label in a sample's labels.
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    labels.split(',').find_map(|pair| {
        let value = pair.strip_prefix(name)?.strip_prefix("=\"")?;
        value.strip_suffix('"')
    })
}

/// The sum of the samples of `metric` that carry every one of `labels` (`name="value"`).
pub(super) fn sample_sum(body: &str, metric: &str, labels: &[&str]) -> u64 {
    samples(body, metric)
        .filter(|(sample, _)| {
            labels
                .iter()
                .all(|label| sample.split(',').any(|l| l == *label))
        })
        .map(|(_, value)| value)
        .sum()
}

/// The value of `runview_requests_total` for one method and code; zero before the first.
pub(super) fn request_count(body: &str, method: &str, code: &str) -> u64 {
    let (method, code) = (format!("method=\"{method}\""), format!("code=\"{code}\""));
    sample_sum(body, "runview_requests_total", &[&method, &code])
}

/// `runview_requests_total` by method and code.
pub(super) fn request_counts(body: &str) -> BTreeMap<(String, String), u64> {
    samples(body, "runview_requests_total")
        .filter_map(|(labels, value)| {
            let method = label(labels, "method")?.to_owned();
            Some(((method, label(labels, "code")?.to_owned()), value))
        })
        .collect()
}

fn has_sample(body: &str, metric: &str, labels: &[&str]) -> bool {
    samples(body, metric).any(|(sample, _)| labels.iter().all(|label| sample.contains(label)))
}

#[tokio::test]
async fn metrics_count_requests_and_cache_lookups_and_expose_no_secret() {
    alone(bounded(async {
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
        assert_eq!(request_count(&body, "GetRun", "OK"), 3, "{body}");
        assert_eq!(
            request_count(&body, "GetRun", "UNAUTHENTICATED"),
            1,
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
    }))
    .await;
}
