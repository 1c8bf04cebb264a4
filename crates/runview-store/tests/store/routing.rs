//! Split routing: the id-shape home store first, then the other; failures are never misses.

use runview_core::Error;
use runview_core::ids::Residency;
use runview_core::ports::RunOpsStores;
use runview_store::RunOpsTopology;

use crate::support::{
    cuid, lookup, run, runops_database, runops_id, split, store_over, unreachable_store,
};

async fn found_in(topology: &RunOpsTopology, id: &str) -> Option<Residency> {
    let graph = topology
        .find_run(&lookup(id))
        .await
        .expect("every store answers");
    graph.map(|graph| graph.store)
}

#[tokio::test]
async fn runs_are_found_in_their_id_shape_store() {
    let split = split().await;
    let (new_id, legacy_id) = (runops_id(1), cuid(1));
    run(&new_id).insert(split.new.pool()).await;
    run(&legacy_id).insert(split.legacy.pool()).await;

    assert_eq!(
        found_in(&split.topology, &new_id).await,
        Some(Residency::New)
    );
    assert_eq!(
        found_in(&split.topology, &legacy_id).await,
        Some(Residency::Legacy)
    );
}

#[tokio::test]
async fn a_run_outside_its_id_shape_store_is_found_in_the_other() {
    let split = split().await;
    let (cuid_in_new, runops_id_in_legacy) = (cuid(1), runops_id(1));
    run(&cuid_in_new).insert(split.new.pool()).await;
    run(&runops_id_in_legacy).insert(split.legacy.pool()).await;

    assert_eq!(
        found_in(&split.topology, &cuid_in_new).await,
        Some(Residency::New)
    );
    assert_eq!(
        found_in(&split.topology, &runops_id_in_legacy).await,
        Some(Residency::Legacy)
    );
}

#[tokio::test]
async fn a_run_missing_from_both_stores_is_none() {
    let split = split().await;
    assert_eq!(found_in(&split.topology, &cuid(1)).await, None);
    assert_eq!(found_in(&split.topology, &runops_id(1)).await, None);
}

#[tokio::test]
async fn passthrough_reads_every_id_shape_from_its_one_store() {
    let database = runops_database(Residency::Legacy).await;
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    run(&runops_id(1)).insert(database.pool()).await;

    assert_eq!(
        found_in(&topology, &runops_id(1)).await,
        Some(Residency::Legacy)
    );
    assert_eq!(found_in(&topology, &cuid(1)).await, None);
}

#[tokio::test]
async fn an_unreachable_store_that_must_be_asked_is_unavailable_not_a_miss() {
    let legacy = runops_database(Residency::Legacy).await;
    let topology = RunOpsTopology::split(
        store_over(&legacy, Residency::Legacy),
        unreachable_store(Residency::New),
    );
    let present = cuid(1);
    run(&present).insert(legacy.pool()).await;

    // Found at home: the other store is never asked.
    assert_eq!(found_in(&topology, &present).await, Some(Residency::Legacy));
    // A miss at home must be confirmed by NEW; a NEW-shaped id must be asked there first.
    for id in [cuid(2), runops_id(1)] {
        let answer = topology.find_run(&lookup(&id)).await;
        assert!(
            matches!(&answer, Err(Error::Unavailable { dependency, .. }) if dependency == "new run-ops store"),
            "{answer:?}"
        );
    }
}
