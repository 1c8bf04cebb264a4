//! Read-your-writes: a lookup that misses on every replica asks the primaries before answering
//! "not found".

use runview_core::Error;
use runview_core::batch::BatchLookup;
use runview_core::ids::{BatchId, Residency, WaitpointId};
use runview_core::ports::RunOpsStores;
use runview_store::{PgRunStore, RunOpsTopology};

use crate::support::{
    ENV, batch, batch_error, connect, cuid, environment, lookup, run, runops_database, runops_id,
    split, unreachable_store, waitpoint,
};

fn primary_over(database: &runview_localdb::testing::TestDatabase, store: Residency) -> PgRunStore {
    PgRunStore::primary(database.pool().clone(), store)
}

async fn found_run(topology: &RunOpsTopology, id: &str) -> Option<String> {
    let graph = topology
        .find_run(&lookup(id))
        .await
        .expect("every store answers");
    graph.map(|graph| graph.run.id.as_str().to_owned())
}

#[tokio::test]
async fn a_run_only_on_a_primary_is_found_there_after_every_replica_missed() {
    let replicas = split().await;
    let (legacy_primary, new_primary) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    // Written a moment ago: on the primaries, not yet on the replicas.
    let (fresh_legacy, fresh_new) = (cuid(1), runops_id(1));
    run(&fresh_legacy).insert(legacy_primary.pool()).await;
    run(&fresh_new).insert(new_primary.pool()).await;

    assert_eq!(found_run(&replicas.topology, &fresh_legacy).await, None);
    let topology = replicas.topology.clone().with_primaries(
        Some(primary_over(&legacy_primary, Residency::Legacy)),
        Some(primary_over(&new_primary, Residency::New)),
    );
    assert_eq!(
        found_run(&topology, &fresh_legacy).await,
        Some(fresh_legacy.clone())
    );
    assert_eq!(
        found_run(&topology, &fresh_new).await,
        Some(fresh_new.clone())
    );
    assert_eq!(found_run(&topology, &cuid(2)).await, None);
}

#[tokio::test]
async fn a_waitpoint_on_a_primary_keeps_the_runs_connected_in_the_other_store() {
    let replicas = split().await;
    let legacy_primary = runops_database(Residency::Legacy).await;
    let (token, blocked) = (cuid(100), runops_id(1));
    waitpoint(&token).insert(legacy_primary.pool()).await;
    run(&blocked).insert(replicas.new.pool()).await;
    connect(replicas.new.pool(), Residency::New, &token, &blocked).await;

    let topology = replicas
        .topology
        .clone()
        .with_primaries(Some(primary_over(&legacy_primary, Residency::Legacy)), None);
    let found = topology
        .find_waitpoint(&environment(ENV), &WaitpointId::from_stored(token))
        .await
        .expect("every store answers")
        .expect("found on the primary");
    let connected: Vec<&str> = found.connected_runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(connected, [blocked.as_str()]);
}

#[tokio::test]
async fn a_primary_that_cannot_be_asked_makes_a_miss_unavailable() {
    let replicas = split().await;
    let present = cuid(1);
    run(&present).insert(replicas.legacy.pool()).await;
    let topology = replicas
        .topology
        .clone()
        .with_primaries(Some(unreachable_store(Residency::Legacy)), None);

    // A replica hit never reaches the primary.
    assert_eq!(found_run(&topology, &present).await, Some(present.clone()));
    let answer = topology.find_run(&lookup(&cuid(2))).await;
    assert!(
        matches!(answer, Err(Error::Unavailable { .. })),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_batch_only_on_a_primary_is_found_there_with_its_errors_after_every_replica_missed() {
    let replicas = split().await;
    let new_primary = runops_database(Residency::New).await;
    // A cuid batch written to NEW a moment ago: its id shape points at LEGACY.
    let fresh = cuid(3);
    batch(&fresh).insert(new_primary.pool()).await;
    batch_error(&fresh, 4).insert(new_primary.pool()).await;
    let lookup = |body: &str| BatchLookup {
        environment_id: environment(ENV),
        batch_id: BatchId::from_stored(body),
        include_run_ids: false,
    };

    let without_primary = replicas.topology.find_batch(&lookup(&fresh)).await;
    assert_eq!(without_primary, Ok(None));
    let topology = replicas.topology.clone().with_primaries(
        Some(unreachable_store(Residency::Legacy)),
        Some(primary_over(&new_primary, Residency::New)),
    );
    let answer = topology.find_batch(&lookup(&fresh)).await;
    assert!(
        matches!(answer, Err(Error::Unavailable { .. })),
        "the id's home primary is asked first, and cannot answer: {answer:?}"
    );
    let topology = replicas
        .topology
        .clone()
        .with_primaries(None, Some(primary_over(&new_primary, Residency::New)));
    let found = topology
        .find_batch(&lookup(&fresh))
        .await
        .expect("every store answers")
        .expect("found on the primary");
    let indexes: Vec<i32> = found.errors.iter().map(|error| error.index).collect();
    assert_eq!(indexes, [4]);
    assert_eq!(topology.find_batch(&lookup(&cuid(4))).await, Ok(None));
}
