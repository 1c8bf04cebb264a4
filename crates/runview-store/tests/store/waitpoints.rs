//! GetWaitpoint: the id-shape home store first, then the other; connected runs from every store.

use chrono::{DateTime, NaiveDate, Utc};
use runview_core::Error;
use runview_core::ids::{Residency, RunId, WaitpointId};
use runview_core::ports::RunOpsStores;
use runview_core::waitpoint::{WaitpointRecord, WaitpointStatus, WaitpointType};
use runview_store::RunOpsTopology;

use crate::support::{
    ENV, NewRun, NewWaitpoint, OTHER_ENV, connect, cuid, environment, run, runops_id, split,
    split_with_one_down, waitpoint,
};

async fn find(topology: &RunOpsTopology, id: &str) -> Option<WaitpointRecord> {
    let id = WaitpointId::from_stored(id);
    let found = topology.find_waitpoint(&environment(ENV), &id).await;
    found.expect("every store answers")
}

/// A time in January 2026, as the waitpoint fixture stores them.
fn january(day: u32, hour: u32, minute: u32) -> Option<DateTime<Utc>> {
    let day = NaiveDate::from_ymd_opt(2026, 1, day);
    day.and_then(|day| day.and_hms_opt(hour, minute, 0))
        .map(|at| at.and_utc())
}

#[tokio::test]
async fn a_waitpoint_is_read_from_its_home_store_with_every_field() {
    let split = split().await;
    let id = cuid(1);
    NewWaitpoint {
        status: "COMPLETED",
        output: Some(r#"{"approved":false}"#),
        output_is_error: true,
        tags: Some(&["approval", "ops"]),
        ..waitpoint(&id)
    }
    .insert(split.legacy.pool())
    .await;

    let found = find(&split.topology, &id)
        .await
        .expect("the waitpoint is found");
    let expected = WaitpointRecord {
        id: WaitpointId::from_stored(id.clone()),
        waitpoint_type: WaitpointType::Manual,
        completed: true,
        environment_id: ENV.to_owned(),
        idempotency_key: format!("approval-{id}"),
        user_provided_idempotency_key: true,
        idempotency_key_expires_at: january(2, 0, 0),
        inactive_idempotency_key: Some("old-approval".to_owned()),
        completed_after: january(1, 1, 0),
        completed_at: january(1, 0, 30),
        output: Some(r#"{"approved":false}"#.to_owned()),
        output_type: "application/json".to_owned(),
        output_is_error: true,
        tags: vec!["approval".to_owned(), "ops".to_owned()],
        created_at: january(1, 0, 0).unwrap_or_default(),
        connected_run_ids: Vec::new(),
    };
    assert_eq!(found, expected);
    assert_eq!(found.status(), WaitpointStatus::TimedOut);
}

#[tokio::test]
async fn a_waitpoint_outside_its_home_store_is_found_in_the_other() {
    let split = split().await;
    let id = cuid(1);
    waitpoint(&id).insert(split.new.pool()).await;

    let found = find(&split.topology, &id).await;
    assert_eq!(
        found.map(|w| (w.id, w.completed)),
        Some((WaitpointId::from_stored(id), false))
    );
}

#[tokio::test]
async fn a_waitpoint_of_another_environment_is_not_found() {
    let split = split().await;
    let (in_legacy, in_new) = (cuid(1), cuid(2));
    let elsewhere = |id| NewWaitpoint {
        environment_id: OTHER_ENV,
        ..waitpoint(id)
    };
    elsewhere(&in_legacy).insert(split.legacy.pool()).await;
    elsewhere(&in_new).insert(split.new.pool()).await;

    assert_eq!(find(&split.topology, &in_legacy).await, None);
    assert_eq!(find(&split.topology, &in_new).await, None);
}

#[tokio::test]
async fn connected_runs_come_from_both_stores_ordered_by_id_and_capped() {
    let split = split().await;
    let id = cuid(100);
    waitpoint(&id).insert(split.new.pool()).await;
    let legacy_runs: Vec<String> = (1..=4).map(cuid).collect();
    let new_runs: Vec<String> = (1..=4).map(runops_id).collect();
    for (store, runs) in [
        (Residency::Legacy, &legacy_runs),
        (Residency::New, &new_runs),
    ] {
        for run_id in runs {
            run(run_id).insert(split.pool(store)).await;
            connect(split.pool(store), store, &id, run_id).await;
        }
    }
    // Connected too, but the run is not the caller's to see.
    let foreign = cuid(5);
    NewRun {
        environment_id: OTHER_ENV,
        ..run(&foreign)
    }
    .insert(split.legacy.pool())
    .await;
    connect(split.legacy.pool(), Residency::Legacy, &id, &foreign).await;

    let found = find(&split.topology, &id)
        .await
        .expect("the waitpoint is found");
    let mut expected: Vec<RunId> = legacy_runs
        .iter()
        .chain(&new_runs)
        .map(RunId::from_stored)
        .collect();
    expected.sort();
    expected.truncate(5);
    assert_eq!(found.connected_run_ids, expected);
    // Both stores contribute: run-ops ids sort before cuids.
    assert_eq!(expected[4].as_str(), legacy_runs[0]);
}

#[tokio::test]
async fn a_store_that_is_down_makes_the_waitpoint_unavailable() {
    for down in [Residency::Legacy, Residency::New] {
        let (up, topology) = split_with_one_down(down).await;
        let id = cuid(1);
        waitpoint(&id).insert(up.pool()).await;

        let answer = topology
            .find_waitpoint(&environment(ENV), &WaitpointId::from_stored(id))
            .await;
        assert!(
            matches!(answer, Err(Error::Unavailable { .. })),
            "{down:?}: {answer:?}"
        );
    }
}
