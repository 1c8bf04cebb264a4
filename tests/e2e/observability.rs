//! The dashboard and the alert rules query what runview exposes: the real server, called so that
//! every kind of series exists, is scraped, and every metric, label and label value the queries
//! of deploy/observability select on must be there.

#[path = "../observability/assets.rs"]
mod assets;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use runview::proto::InvalidateRequest;
use runview::proto::cache_service_client::CacheServiceClient;
use runview::proto::invalidate_request::Scope;
use tokio::time::Instant;
use tonic::Code;

use crate::faults::metrics::scrape;
use crate::faults::{bounded, get_run};
use crate::harness::{SeededDatabases, TestStack, channel, test_config};

const AUTH_TOKEN: &str = "observability-test-token";
/// Small, so that a call can be too large without a large body.
const MAX_REQUEST_BYTES: usize = 1024;
/// Added by Prometheus when it scrapes, never by runview.
const SCRAPER_LABELS: &[&str] = &["namespace", "job", "instance"];

fn authorized<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let bearer = format!("Bearer {AUTH_TOKEN}").parse().expect("ASCII");
    request.metadata_mut().insert("authorization", bearer);
    request
}

/// The label sets of every sample on `/metrics`, by metric name (`_bucket`, `_sum` and `_count`
/// are names of their own, as a query sees them).
fn series(body: &str) -> BTreeMap<String, Vec<BTreeMap<String, String>>> {
    let mut found: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for line in body.lines().filter(|line| !line.starts_with('#')) {
        let Some((sample, _value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (name, labels) = match sample.split_once('{') {
            Some((name, labels)) => (name, labels.trim_end_matches('}')),
            None => (sample, ""),
        };
        // runview's label values hold no comma or quote, so this split is enough.
        let labels = labels
            .split(',')
            .filter_map(|pair| pair.split_once('='))
            .map(|(label, value)| (label.to_owned(), value.trim_matches('"').to_owned()))
            .collect();
        found.entry(name.to_owned()).or_default().push(labels);
    }
    found
}

/// What the queries select on that `body` lacks.
fn unmet(body: &str) -> Vec<String> {
    let series = series(body);
    let mut missing = Vec::new();
    for query in assets::queries() {
        let selectors = assets::selectors(&query);
        let mut labels_seen = BTreeSet::new();
        for selector in &selectors {
            let Some(samples) = series.get(&selector.metric) else {
                missing.push(format!("metric {} in {query}", selector.metric));
                continue;
            };
            labels_seen.extend(samples.iter().flat_map(|labels| labels.keys().cloned()));
            for matcher in &selector.matchers {
                let label = matcher.label.as_str();
                let present = SCRAPER_LABELS.contains(&label)
                    || samples.iter().any(|labels| match labels.get(label) {
                        // An exact value must occur; a pattern needs the label only.
                        Some(value) => matcher.op != "=" || *value == matcher.value,
                        None => false,
                    });
                if !present {
                    missing.push(format!(
                        "{}{{{label}{}\"{}\"}} in {query}",
                        selector.metric, matcher.op, matcher.value
                    ));
                }
            }
        }
        for label in assets::grouping_labels(&query) {
            if !SCRAPER_LABELS.contains(&label.as_str()) && !labels_seen.contains(&label) {
                missing.push(format!("grouping label {label} in {query}"));
            }
        }
    }
    missing
}

#[tokio::test]
async fn every_metric_label_and_value_the_dashboard_and_the_alerts_select_is_exposed() {
    bounded(async {
        let mut config = test_config();
        // A token file, so its reloads are counted.
        let token_file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(token_file.path(), format!("{AUTH_TOKEN}\n")).expect("the token file");
        config.auth_tokens_file = Some(token_file.path().to_owned());
        config.max_request_bytes = MAX_REQUEST_BYTES;
        let databases = SeededDatabases::create().await;
        // The primaries are the replicas themselves: a lookup that misses everywhere asks them.
        let stack = TestStack::over(databases, config, |urls| {
            urls.legacy_primary = Some(urls.legacy.clone());
            urls.new_primary = urls.new.clone();
        })
        .await;
        let demo = stack.demo();
        let environment = demo.production_environment_id.clone();
        let mut client = stack.client().await;

        // A cache miss, then a hit.
        for _ in 0..2 {
            client
                .get_run(authorized(get_run(&environment, &demo.legacy_run_id)))
                .await
                .expect("found");
        }
        let missing = client
            .get_run(authorized(get_run(
                &environment,
                "run_cmissing000000000000000000",
            )))
            .await
            .expect_err("no such run, on the replicas or the primaries");
        assert_eq!(missing.code(), Code::NotFound);
        let refused = client
            .get_run(get_run(&environment, &demo.legacy_run_id))
            .await
            .expect_err("no token");
        assert_eq!(refused.code(), Code::Unauthenticated);
        let oversized = "e".repeat(2 * MAX_REQUEST_BYTES);
        let too_large = client
            .get_run(authorized(get_run(&oversized, &demo.legacy_run_id)))
            .await
            .expect_err("too large");
        assert_eq!(too_large.code(), Code::ResourceExhausted);
        CacheServiceClient::new(channel(stack.server.grpc_addr).await)
            .invalidate(authorized(InvalidateRequest {
                scope: Some(Scope::EnvironmentId(environment.clone())),
            }))
            .await
            .expect("invalidated");

        // Pools are sampled in the background: poll until their series are in too.
        let deadline = Instant::now() + Duration::from_secs(15);
        let missing = loop {
            let missing = unmet(&scrape(stack.server.metrics_addr).await);
            if missing.is_empty() || Instant::now() > deadline {
                break missing;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(
            missing.is_empty(),
            "selected by deploy/observability but not on /metrics:\n{}",
            missing.join("\n")
        );
        stack.shutdown().await;
    })
    .await;
}
