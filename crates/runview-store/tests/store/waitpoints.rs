//! GetWaitpoint: the id-shape home store first, then the other; connected runs from every store.

use chrono::{DateTime, NaiveDate, Utc};
use runview_core::Error;
use runview_core::ids::{Residency, WaitpointId};
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
        connected_runs: Vec::new(),
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
async fn connected_runs_are_the_five_most_recent_of_both_stores() {
    let split = split().await;
    let id = cuid(100);
    waitpoint(&id).insert(split.new.pool()).await;
    // Creation times interleave the stores: LEGACY's runs at 10, 30, 50, 70 s, NEW's at 20, 40,
    // 60, 80 s, so the newest five take from both and id order would pick others.
    let legacy_runs: Vec<(String, i32)> =
        (1..=4).map(|n| (cuid(n), i32::from(n) * 20 - 10)).collect();
    let new_runs: Vec<(String, i32)> = (1..=4).map(|n| (runops_id(n), i32::from(n) * 20)).collect();
    for (store, runs) in [
        (Residency::Legacy, &legacy_runs),
        (Residency::New, &new_runs),
    ] {
        for (run_id, created_second) in runs {
            NewRun {
                created_second: *created_second,
                ..run(run_id)
            }
            .insert(split.pool(store))
            .await;
            connect(split.pool(store), store, &id, run_id).await;
        }
    }
    // Connected and the newest of all, but the run is not the caller's to see.
    let foreign = cuid(5);
    NewRun {
        environment_id: OTHER_ENV,
        created_second: 1_000,
        ..run(&foreign)
    }
    .insert(split.legacy.pool())
    .await;
    connect(split.legacy.pool(), Residency::Legacy, &id, &foreign).await;

    let found = find(&split.topology, &id)
        .await
        .expect("the waitpoint is found");
    let ids: Vec<&str> = found.connected_runs.iter().map(|r| r.id.as_str()).collect();
    let expected = [
        new_runs[3].0.as_str(),
        legacy_runs[3].0.as_str(),
        new_runs[2].0.as_str(),
        legacy_runs[2].0.as_str(),
        new_runs[1].0.as_str(),
    ];
    assert_eq!(ids, expected);
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
