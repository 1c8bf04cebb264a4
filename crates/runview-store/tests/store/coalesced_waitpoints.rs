//! Coalesced GetWaitpoint lookups: the waitpoint of the store that holds it and the connected
//! runs of the other store are each batched per store, and each answer is exactly the answer of
//! the lookup alone.

use runview_core::ids::{Residency, WaitpointId};
use runview_core::ports::RunOpsStores;
use runview_core::waitpoint::WaitpointRecord;
use runview_store::{PgRunStore, RunOpsTopology};
use sqlx::PgPool;

use crate::support::{
    ENV, NewRun, NewWaitpoint, OTHER_ENV, coalesced, connect, cuid, environment,
    one_connection_store, recorder, run, runops_database, runops_id, started_together,
    uncoalesced_store, waitpoint,
};

/// A run of `environment_id` created at `created_second` in `store`, connected to `waitpoint_id`.
async fn connected(
    pool: &PgPool,
    store: Residency,
    waitpoint_id: &str,
    (run_id, environment_id, created_second): (&str, &str, i32),
) {
    NewRun {
        environment_id,
        created_second,
        ..run(run_id)
    }
    .insert(pool)
    .await;
    connect(pool, store, waitpoint_id, run_id).await;
}

#[tokio::test]
async fn concurrent_waitpoint_lookups_answer_as_each_alone() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    let (in_legacy, misplaced, in_new, elsewhere) =
        (cuid(100), cuid(101), runops_id(100), cuid(102));
    waitpoint(&in_legacy).insert(legacy.pool()).await;
    NewWaitpoint {
        status: "COMPLETED",
        output: Some(r#"{"approved":true}"#),
        ..waitpoint(&misplaced)
    }
    .insert(new.pool())
    .await;
    waitpoint(&in_new).insert(new.pool()).await;
    NewWaitpoint {
        environment_id: OTHER_ENV,
        ..waitpoint(&elsewhere)
    }
    .insert(legacy.pool())
    .await;
    // Connected runs in both stores, more than five for one waitpoint, and the newest of all in
    // another environment than the waitpoint's.
    for n in 1..=4u8 {
        let second = i32::from(n) * 20;
        let (legacy_run, new_run) = (cuid(n), runops_id(n));
        connected(
            legacy.pool(),
            Residency::Legacy,
            &misplaced,
            (&legacy_run, ENV, second),
        )
        .await;
        connected(
            new.pool(),
            Residency::New,
            &misplaced,
            (&new_run, ENV, second + 10),
        )
        .await;
        connect(legacy.pool(), Residency::Legacy, &in_legacy, &legacy_run).await;
        connect(new.pool(), Residency::New, &in_new, &new_run).await;
    }
    let foreign = cuid(5);
    connected(
        legacy.pool(),
        Residency::Legacy,
        &misplaced,
        (&foreign, OTHER_ENV, 1_000),
    )
    .await;
    connect(legacy.pool(), Residency::Legacy, &elsewhere, &foreign).await;

    // Each store's first lookup of each kind goes alone, and is a miss.
    let ids = [
        cuid(199),
        runops_id(199),
        in_legacy,
        misplaced,
        in_new,
        elsewhere,
    ];
    let lookups: Vec<_> = ids
        .iter()
        .flat_map(|id| {
            [ENV, OTHER_ENV].map(|environment_id| {
                (
                    environment(environment_id),
                    WaitpointId::from_stored(id.as_str()),
                )
            })
        })
        .collect();
    let find_each_alone = async |topology: &RunOpsTopology| {
        let mut answers: Vec<Option<WaitpointRecord>> = Vec::new();
        for (environment_id, id) in &lookups {
            let found = topology.find_waitpoint(environment_id, id).await;
            answers.push(found.expect("the stores answer"));
        }
        answers
    };
    let expected = find_each_alone(&split_over(
        &uncoalesced_store(&legacy, Residency::Legacy),
        &uncoalesced_store(&new, Residency::New),
    ))
    .await;
    let found: Vec<(&str, usize)> = expected
        .iter()
        .flatten()
        .map(|found| (found.environment_id.as_str(), found.connected_runs.len()))
        .collect();
    assert_eq!(found, [(ENV, 4), (ENV, 5), (ENV, 4), (OTHER_ENV, 1)]);

    let (recorder, metrics) = recorder();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let (legacy_store, new_store) = (
        one_connection_store(&legacy, Residency::Legacy),
        one_connection_store(&new, Residency::New),
    );
    let topology = split_over(&legacy_store, &new_store);
    let calls = lookups
        .iter()
        .map(|(environment_id, id)| Box::pin(topology.find_waitpoint(environment_id, id)))
        .collect();
    let answers = started_together(&[&legacy_store, &new_store], calls).await;

    for ((lookup, answer), expected) in lookups.iter().zip(answers).zip(expected) {
        assert_eq!(answer, Ok(expected), "{lookup:?}");
    }
    for (store, record) in [
        ("legacy", "waitpoint"),
        ("new", "waitpoint"),
        ("legacy", "connected_runs"),
        ("new", "connected_runs"),
    ] {
        let (statements, lookups) = coalesced(&metrics, store, record);
        assert!(
            lookups > statements && statements > 0.0,
            "{store} {record}: {lookups} lookups in {statements} statements"
        );
    }
}

fn split_over(legacy: &PgRunStore, new: &PgRunStore) -> RunOpsTopology {
    RunOpsTopology::split(legacy.clone(), new.clone())
}
