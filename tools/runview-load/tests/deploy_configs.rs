//! Every ghz configuration shipped in deploy/ghz must stay runnable: it parses, names a method
//! of the contract, and its data encodes to that method's request type.

use std::path::{Path, PathBuf};

use runview_load::config::{GhzConfig, LoadOptions};
use runview_load::contract::{Method, descriptor_pool};
use runview_load::request::Requests;

const SCENARIOS: [&str; 10] = [
    "get-run-basic.json",
    "get-run-full.json",
    "list-runs.json",
    "list-runs-filtered.json",
    "get-waitpoint.json",
    "list-batches.json",
    "list-batches-run-counts.json",
    "list-waitpoints.json",
    "list-waitpoints-filtered.json",
    "get-batch.json",
];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/ghz")
}

fn configs() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .expect("deploy/ghz exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_scenario_has_its_config() {
    let names: Vec<_> = configs()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for scenario in SCENARIOS {
        assert!(
            names.iter().any(|n| n == scenario),
            "deploy/ghz/{scenario} is missing"
        );
    }
}

#[test]
fn every_config_in_deploy_ghz_encodes_for_its_method() {
    let pool = descriptor_pool().expect("the contract decodes");
    for path in configs() {
        let shown = path.display();
        let config = GhzConfig::load(&path).unwrap_or_else(|e| panic!("{shown}: {e:#}"));
        assert!(
            config.warnings().is_empty(),
            "{shown}: {:?}",
            config.warnings()
        );
        let options = LoadOptions::try_from(config).unwrap_or_else(|e| panic!("{shown}: {e:#}"));
        assert_eq!(options.host, "127.0.0.1:50051", "{shown}");
        let method =
            Method::resolve(&pool, &options.call).unwrap_or_else(|e| panic!("{shown}: {e:#}"));
        assert!(
            method.path.as_str().starts_with("/runview.v1.ReadService/"),
            "{shown}"
        );
        Requests::new(&method, options.data.as_ref(), &options.metadata)
            .unwrap_or_else(|e| panic!("{shown}: {e:#}"));
    }
}
