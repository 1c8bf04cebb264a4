//! ListRuns against real stores: filters, environment scope, window, directions, and the merge
//! of two stores.

use runview_core::Error;
use runview_core::filter::{RunFilter, RunListQuery};
use runview_core::ids::Residency;
use runview_core::page::{Cursor, Direction, Keyset, TimeWindow};
use runview_core::ports::RunOpsStores;
use runview_core::status::TaskRunStatus;
use runview_store::RunOpsTopology;

use crate::support::{
    NewRun, OTHER_ENV, created_at, cuid, lookup, no_run_filter, run, runops_database, runops_id,
    runs_query, split, split_with_one_down, store_over,
};

async fn listed(topology: &RunOpsTopology, query: &RunListQuery) -> Vec<String> {
    let runs = topology
        .list_runs(query)
        .await
        .expect("every store answers");
    runs.rows
        .iter()
        .map(|run| run.id.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn each_filter_narrows_the_list_to_matching_runs() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    let ids: Vec<String> = (1..=14).map(cuid).collect();
    let id = |n: usize| ids[n - 1].as_str();
    let runs = [
        run(id(1)),
        NewRun {
            status: "CRASHED",
            ..run(id(2))
        },
        NewRun {
            status: "CANCELED",
            ..run(id(3))
        },
        NewRun {
            task_identifier: "billing/charge",
            ..run(id(4))
        },
        NewRun {
            task_version: Some("20260101.1"),
            ..run(id(5))
        },
        NewRun {
            tags: &["vip"],
            ..run(id(6))
        },
        NewRun {
            tags: &["beta", "eu"],
            ..run(id(7))
        },
        NewRun {
            batch_id: Some("cbatch0000000000000000001"),
            ..run(id(8))
        },
        NewRun {
            schedule_id: Some("sched_internal_1"),
            ..run(id(9))
        },
        NewRun {
            is_test: true,
            ..run(id(10))
        },
        NewRun {
            queue: "task/billing/charge",
            ..run(id(11))
        },
        NewRun {
            region: Some("eu-central-1"),
            ..run(id(12))
        },
        NewRun {
            machine_preset: Some("large-1x"),
            ..run(id(13))
        },
        NewRun {
            bulk_action_ids: &["bulk_a", "bulk_b"],
            ..run(id(14))
        },
    ];
    for (second, new_run) in (0..).zip(runs) {
        NewRun {
            created_second: second,
            ..new_run
        }
        .insert(pool)
        .await;
    }

    type Narrow = fn(&mut RunFilter);
    let cases: [(&str, Narrow, &[usize]); 13] = [
        (
            "statuses",
            |f| f.statuses = vec![TaskRunStatus::Canceled, TaskRunStatus::Crashed],
            &[3, 2],
        ),
        (
            "task identifiers",
            |f| f.attributes.task_identifiers = vec!["billing/charge".into()],
            &[4],
        ),
        (
            "versions",
            |f| f.attributes.versions = vec!["20260101.1".into(), "0.0.0".into()],
            &[5],
        ),
        (
            "any of the tags",
            |f| f.attributes.tags = vec!["vip".into(), "beta".into()],
            &[7, 6],
        ),
        (
            "batch",
            |f| f.batch_id = Some("cbatch0000000000000000001".to_owned()),
            &[8],
        ),
        (
            "schedule",
            |f| f.schedule_id = Some("sched_internal_1".into()),
            &[9],
        ),
        ("test runs", |f| f.attributes.is_test = Some(true), &[10]),
        (
            "queues",
            |f| f.attributes.queues = vec!["task/billing/charge".into()],
            &[11],
        ),
        (
            "regions",
            |f| f.attributes.regions = vec!["eu-central-1".into()],
            &[12],
        ),
        (
            "machines",
            |f| f.attributes.machines = vec!["large-1x".into()],
            &[13],
        ),
        (
            "bulk action",
            |f| f.attributes.bulk_action_id = Some("bulk_b".into()),
            &[14],
        ),
        (
            "filters are ANDed",
            |f| {
                f.attributes.tags = vec!["vip".into(), "beta".into()];
                f.statuses = vec![TaskRunStatus::Executing];
                f.attributes.queues = vec!["task/email/send".into()];
            },
            &[7, 6],
        ),
        (
            "a filter that matches nothing empties the list",
            |f| {
                f.attributes.tags = vec!["vip".into(), "beta".into()];
                f.attributes.task_identifiers = vec!["billing/charge".into()];
            },
            &[],
        ),
    ];
    for (name, narrow, expected) in cases {
        let mut filter = no_run_filter();
        narrow(&mut filter);
        let expected: Vec<&str> = expected.iter().map(|&n| id(n)).collect();
        assert_eq!(
            listed(&topology, &runs_query(filter, 50)).await,
            expected,
            "{name}"
        );
    }

    let mut not_test = no_run_filter();
    not_test.attributes.is_test = Some(false);
    assert_eq!(listed(&topology, &runs_query(not_test, 50)).await.len(), 13);
}

#[tokio::test]
async fn runs_of_other_environments_never_appear() {
    let split = split().await;
    let (mine, theirs_new, theirs_legacy) = (runops_id(1), runops_id(2), cuid(3));
    run(&mine).insert(split.new.pool()).await;
    let elsewhere = |id| NewRun {
        environment_id: OTHER_ENV,
        ..run(id)
    };
    elsewhere(&theirs_new).insert(split.new.pool()).await;
    elsewhere(&theirs_legacy).insert(split.legacy.pool()).await;

    let query = runs_query(no_run_filter(), 10);
    assert_eq!(listed(&split.topology, &query).await, [mine]);
}

#[tokio::test]
async fn window_bounds_are_inclusive() {
    let database = runops_database(Residency::Legacy).await;
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    for n in 1..=4u8 {
        let created_second = i32::from(n) * 10;
        NewRun {
            created_second,
            ..run(&cuid(n))
        }
        .insert(database.pool())
        .await;
    }

    let mut filter = no_run_filter();
    filter.window = TimeWindow {
        start: Some(created_at(20)),
        end: created_at(30),
    };
    assert_eq!(
        listed(&topology, &runs_query(filter.clone(), 10)).await,
        [cuid(3), cuid(2)]
    );

    filter.window.start = None;
    assert_eq!(
        listed(&topology, &runs_query(filter, 10)).await,
        [cuid(3), cuid(2), cuid(1)]
    );
}

#[tokio::test]
async fn pages_continue_from_a_cursor_in_either_direction() {
    let database = runops_database(Residency::Legacy).await;
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    // Three runs share second 20, so ids break the tie.
    let seconds = [(1, 10), (2, 20), (3, 20), (4, 20), (5, 30)];
    for (n, created_second) in seconds {
        NewRun {
            created_second,
            ..run(&cuid(n))
        }
        .insert(database.pool())
        .await;
    }
    let from = |direction| {
        let mut query = runs_query(no_run_filter(), 2);
        let keyset = Keyset {
            created_at: created_at(20),
            id: cuid(3),
        };
        query.page.cursor = Some(Cursor { keyset, direction });
        query
    };

    assert_eq!(
        listed(&topology, &from(Direction::Forward)).await,
        [cuid(2), cuid(1)]
    );
    assert_eq!(
        listed(&topology, &from(Direction::Backward)).await,
        [cuid(4), cuid(5)]
    );
}

#[tokio::test]
async fn split_lists_merge_both_stores_and_a_run_in_both_is_read_from_new() {
    let split = split().await;
    let (legacy_run, new_run, copied) = (cuid(1), runops_id(2), cuid(3));
    NewRun {
        created_second: 30,
        ..run(&legacy_run)
    }
    .insert(split.legacy.pool())
    .await;
    NewRun {
        created_second: 20,
        ..run(&new_run)
    }
    .insert(split.new.pool())
    .await;
    let copy = |task_identifier| NewRun {
        created_second: 25,
        task_identifier,
        ..run(&copied)
    };
    copy("as/legacy/has/it").insert(split.legacy.pool()).await;
    copy("as/new/has/it").insert(split.new.pool()).await;

    let runs = split
        .topology
        .list_runs(&runs_query(no_run_filter(), 10))
        .await;
    let runs = runs.expect("both stores answer");
    let merged: Vec<(&str, &str)> = runs
        .rows
        .iter()
        .map(|run| (run.id.as_str(), run.task_identifier.as_str()))
        .collect();
    assert_eq!(
        merged,
        [
            (legacy_run.as_str(), "email/send"),
            (copied.as_str(), "as/new/has/it"),
            (new_run.as_str(), "email/send"),
        ]
    );

    let first_two = listed(&split.topology, &runs_query(no_run_filter(), 2)).await;
    assert_eq!(first_two, [legacy_run, copied]);
}

#[tokio::test]
async fn a_store_that_is_down_fails_the_list_instead_of_halving_it() {
    for down in [Residency::Legacy, Residency::New] {
        let (up, topology) = split_with_one_down(down).await;
        run(&cuid(1)).insert(up.pool()).await;
        let answer = topology.list_runs(&runs_query(no_run_filter(), 10)).await;
        assert!(
            matches!(answer, Err(Error::Unavailable { .. })),
            "{down:?}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn lists_read_metadata_and_task_kind_but_no_bodies() {
    let database = runops_database(Residency::Legacy).await;
    let store = store_over(&database, Residency::Legacy);
    let id = cuid(1);
    NewRun {
        status: "COMPLETED_SUCCESSFULLY",
        output: Some(r#"{"sent":true}"#),
        metadata: Some(r#"{"step":2}"#),
        error: Some(r#"{"type":"STRING_ERROR","raw":"late"}"#),
        annotations: Some(r#"{"taskKind":"AGENT"}"#),
        ..run(&id)
    }
    .insert(database.pool())
    .await;
    let topology = RunOpsTopology::passthrough(store.clone());

    let runs = topology.list_runs(&runs_query(no_run_filter(), 10)).await;
    let listed = runs
        .expect("the store answers")
        .rows
        .pop()
        .expect("the run is listed");
    assert_eq!(
        (listed.payload, listed.output, listed.error),
        (None, None, None)
    );
    assert_eq!(
        listed.metadata.map(|packet| packet.data),
        Some(r#"{"step":2}"#.to_owned())
    );
    assert_eq!(listed.task_kind.as_deref(), Some("AGENT"));

    let found = store.find_run(&lookup(&id)).await.ok().flatten();
    assert_eq!(
        found.and_then(|graph| graph.run.task_kind),
        Some("AGENT".to_owned())
    );
}
