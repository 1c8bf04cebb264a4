//! Boot: passthrough or split, and the fingerprint checks that refuse a split onto one database.

use runview_core::ids::Residency;
use runview_store::{BootError, RunOpsTopology};

use crate::support::{CLOSED_PORT_URL, runops_database, topology_settings};

#[tokio::test]
async fn boot_is_passthrough_without_split_mode_or_a_new_url() {
    let database = runops_database(Residency::Legacy).await;
    for (new_url, split) in [(Some(database.url()), false), (None, true)] {
        let settings = topology_settings(database.url(), new_url, split);
        let topology = RunOpsTopology::connect(&settings).await;
        assert!(
            topology.as_ref().is_ok_and(|topology| !topology.is_split()),
            "{topology:?}"
        );
    }
}

#[tokio::test]
async fn boot_refuses_two_urls_naming_the_same_database() {
    let database = runops_database(Residency::Legacy).await;
    let other_spelling = database.url().replacen("127.0.0.1", "localhost", 1);
    let settings = topology_settings(database.url(), Some(&other_spelling), true);

    let error = RunOpsTopology::connect(&settings).await.err();
    let Some(error @ BootError::SameDatabase { .. }) = error else {
        panic!("expected SameDatabase, got {error:?}");
    };
    let message = error.to_string();
    assert!(message.contains(database.name()), "{message}");
    assert!(
        !message.contains("postgres://") && !message.contains("localhost"),
        "{message}"
    );
}

#[tokio::test]
async fn boot_accepts_two_databases_of_one_cluster() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    let settings = topology_settings(legacy.url(), Some(new.url()), true);

    let topology = RunOpsTopology::connect(&settings)
        .await
        .expect("two databases are a split");
    assert!(topology.is_split());
    let stores: Vec<Residency> = topology
        .stores()
        .into_iter()
        .map(|store| store.residency())
        .collect();
    assert_eq!(stores, [Residency::Legacy, Residency::New]);
}

#[tokio::test]
async fn boot_refuses_when_a_probe_fails() {
    let database = runops_database(Residency::Legacy).await;
    let settings = topology_settings(database.url(), Some(CLOSED_PORT_URL), true);

    let error = RunOpsTopology::connect(&settings).await.err();
    assert!(
        matches!(
            error,
            Some(BootError::Probe {
                store: Residency::New,
                ..
            })
        ),
        "{error:?}"
    );
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(!message.contains("127.0.0.1:1"), "{message}");
}
