//! The files in deploy/observability checked against each other: the PrometheusRule carries the
//! plain rules, every alert has its annotations, a runbook section and promtool tests that fire
//! it and that do not, and the dashboard imports anywhere. promtool itself runs in
//! `deploy/observability/check`; that the metrics exist is the e2e test `observability`'s job.
//! No server, no database.

mod assets;

use std::collections::BTreeSet;

use yaml_serde::Value;

const RUNBOOK: &str = "RUNBOOK.md";
const DATASOURCE: &str = "${DS_PROMETHEUS}";

/// Every alerting rule of the plain rules file.
fn alerts() -> Vec<Value> {
    let rules = assets::yaml("runview-rules.yaml");
    rules["groups"]
        .as_sequence()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_sequence().expect("rules").clone())
        .filter(|rule| rule["alert"].is_string())
        .collect()
}

fn name(alert: &Value) -> &str {
    alert["alert"].as_str().expect("an alert name")
}

/// GitHub's anchors of the Markdown headings in `text`.
fn anchors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| {
            heading
                .trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

#[test]
fn the_prometheusrule_carries_exactly_the_plain_rules() {
    let plain = assets::yaml("runview-rules.yaml");
    let operator = assets::yaml("runview-prometheusrule.yaml");
    assert_eq!(
        operator["apiVersion"].as_str(),
        Some("monitoring.coreos.com/v1")
    );
    assert_eq!(operator["kind"].as_str(), Some("PrometheusRule"));
    assert_eq!(
        operator["metadata"]["labels"]["app.kubernetes.io/name"].as_str(),
        Some("runview")
    );
    assert_eq!(
        operator["spec"]["groups"], plain["groups"],
        "runview-prometheusrule.yaml is out of date: run deploy/observability/generate-prometheusrule"
    );
}

#[test]
fn the_readme_pages_on_exactly_the_alerts() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let (_, rest) = readme
        .split_once("\nPage on")
        .expect("the README says what to page on");
    let paragraph = rest.split("\n\n").next().unwrap_or_default();
    let paged: BTreeSet<&str> = paragraph
        .split('`')
        .filter(|word| word.starts_with("Runview"))
        .collect();
    let alerts = alerts();
    let defined: BTreeSet<&str> = alerts.iter().map(name).collect();
    assert_eq!(
        paged, defined,
        "the README's \"Page on\" list and the alerts"
    );
}

#[test]
fn every_alert_has_a_severity_a_summary_a_description_and_a_runbook_section() {
    let sections = anchors(&assets::read(RUNBOOK));
    for alert in alerts() {
        let name = name(&alert);
        assert!(alert["labels"]["severity"].is_string(), "{name}: severity");
        for annotation in ["summary", "description"] {
            let text = alert["annotations"][annotation]
                .as_str()
                .unwrap_or_default();
            assert!(!text.trim().is_empty(), "{name}: {annotation}");
        }
        let runbook = alert["annotations"]["runbook_url"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: runbook_url"));
        let anchor = runbook
            .strip_prefix(&format!("deploy/observability/{RUNBOOK}#"))
            .unwrap_or_else(|| panic!("{name}: {runbook} is not a section of {RUNBOOK}"));
        assert!(
            sections.contains(anchor),
            "{name}: {RUNBOOK} has no section #{anchor}; it has {sections:?}"
        );
    }
}

#[test]
fn promtool_tests_fire_every_alert_and_keep_each_quiet_too() {
    let tests = assets::yaml("runview-rules.test.yaml");
    assert_eq!(
        tests["rule_files"].as_sequence().map(Vec::as_slice),
        Some([Value::from("runview-rules.yaml")].as_slice())
    );
    let cases: Vec<&Value> = tests["tests"]
        .as_sequence()
        .expect("tests")
        .iter()
        .flat_map(|test| {
            test["alert_rule_test"]
                .as_sequence()
                .expect("alert_rule_test")
        })
        .collect();
    for alert in alerts() {
        let name = name(&alert);
        let expected: Vec<usize> = cases
            .iter()
            .filter(|case| case["alertname"].as_str() == Some(name))
            .map(|case| case["exp_alerts"].as_sequence().map_or(0, Vec::len))
            .collect();
        assert!(
            expected.iter().any(|fired| *fired > 0),
            "no test fires {name}"
        );
        assert!(
            expected.contains(&0),
            "no test checks that {name} stays quiet"
        );
    }
}

#[test]
fn the_dashboard_imports_with_a_prometheus_data_source_variable() {
    let dashboard = assets::dashboard();
    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating variables");
    let datasource = variables
        .iter()
        .find(|variable| {
            format!("${{{}}}", variable["name"].as_str().unwrap_or_default()) == DATASOURCE
        })
        .expect("a DS_PROMETHEUS variable");
    assert_eq!(datasource["type"], "datasource");
    assert_eq!(datasource["query"], "prometheus");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("every panel has a title");
        let id = panel["id"].as_u64().expect("every panel has an id");
        assert!(ids.insert(id), "{title}: panel id {id} is taken");
        if panel["type"] == "row" {
            continue;
        }
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for queried in targets.iter().chain([panel]) {
            assert_eq!(
                queried["datasource"]["uid"], DATASOURCE,
                "{title}: the data source is the variable"
            );
        }
    }
}

#[test]
fn every_dashboard_query_follows_the_namespace_job_and_instance_variables() {
    for query in assets::dashboard_queries() {
        for selector in assets::selectors(&query) {
            let filters: BTreeSet<(&str, &str)> = selector
                .matchers
                .iter()
                .map(|matcher| (matcher.label.as_str(), matcher.value.as_str()))
                .collect();
            for variable in ["namespace", "job", "instance"] {
                assert!(
                    filters.contains(&(variable, format!("${variable}").as_str())),
                    "{} is not filtered by ${variable} in {query}",
                    selector.metric
                );
            }
        }
    }
}

#[test]
fn every_query_selects_runview_metrics() {
    // The e2e test checks the metrics the queries name: a query naming none would escape it.
    for query in assets::queries() {
        assert!(
            !assets::selectors(&query).is_empty(),
            "no runview metric in {query}"
        );
    }
}

#[test]
fn the_kustomization_deploys_the_prometheusrule_and_the_dashboard() {
    let kustomization = assets::yaml("kustomization.yaml");
    assert_eq!(kustomization["kind"].as_str(), Some("Kustomization"));
    assert_eq!(
        kustomization["resources"],
        Value::from(vec!["runview-prometheusrule.yaml"])
    );
    let generated = &kustomization["configMapGenerator"][0];
    assert_eq!(
        generated["files"],
        Value::from(vec!["runview-dashboard.json"])
    );
    assert_eq!(
        generated["options"]["labels"]["app.kubernetes.io/name"].as_str(),
        Some("runview")
    );
}

#[test]
fn the_scanner_finds_selectors_and_grouping_labels() {
    let query = r#"sum by (kind, le) (rate(runview_a_bucket{job=~"$job",result="st\"ale"}[5m]))
        / on (kind) group_left sum(runview_b) > 0.5"#;
    let selectors = assets::selectors(query);
    let metrics: Vec<&str> = selectors
        .iter()
        .map(|selector| selector.metric.as_str())
        .collect();
    assert_eq!(metrics, ["runview_a_bucket", "runview_b"]);
    assert_eq!(
        selectors[0].matchers,
        [
            assets::Matcher {
                label: "job".to_owned(),
                op: "=~".to_owned(),
                value: "$job".to_owned(),
            },
            assets::Matcher {
                label: "result".to_owned(),
                op: "=".to_owned(),
                value: "st\"ale".to_owned(),
            },
        ]
    );
    assert!(selectors[1].matchers.is_empty());
    assert_eq!(assets::grouping_labels(query), ["kind", "le", "kind"]);
}
