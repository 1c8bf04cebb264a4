//! The upstream's rules where they depend on what a store reads: attempt counts by engine, the
//! user's idempotency key, the region a run displays, and the old engine's batches.

use runview_core::batch::BatchStatus;
use runview_core::filter::{BatchAttributes, BatchFilter, RunAttributes, RunFilter};
use runview_core::ids::Residency;
use runview_core::ports::RunOpsStores;
use runview_core::run::RunGraph;
use runview_store::{PgRunStore, RunOpsTopology};

use crate::support::{
    NewBatch, NewRun, batch, batches_query, cuid, insert_attempts, lookup, no_batch_filter,
    no_run_filter, run, runops_database, runs_query, store_over,
};

async fn found(store: &PgRunStore, id: &str) -> RunGraph {
    let graph = store
        .find_run(&lookup(id))
        .await
        .expect("the store answers");
    graph.expect("the run is found")
}

#[tokio::test]
async fn v1_runs_count_their_attempt_rows_and_v2_runs_show_their_attempt_number() {
    for store in [Residency::Legacy, Residency::New] {
        let database = runops_database(store).await;
        let pool = database.pool();
        let (retried, untried, v2, v2_unstarted) = (cuid(1), cuid(2), cuid(3), cuid(4));
        let v1 = |id| NewRun {
            engine: "V1",
            // A V1 run's attemptNumber is not what counts: its attempt rows are.
            attempt_number: Some(9),
            ..run(id)
        };
        v1(&retried).insert(pool).await;
        insert_attempts(pool, &retried, 3).await;
        v1(&untried).insert(pool).await;
        NewRun {
            attempt_number: Some(2),
            parent: Some(&retried),
            ..run(&v2)
        }
        .insert(pool)
        .await;
        insert_attempts(pool, &v2, 5).await;
        run(&v2_unstarted).insert(pool).await;

        let store = store_over(&database, store);
        let counts = [(&retried, 3), (&untried, 0), (&v2, 2), (&v2_unstarted, 0)];
        for (id, expected) in counts {
            assert_eq!(
                found(&store, id).await.run.attempt_count(),
                expected,
                "{id}"
            );
        }
        // Related runs are shown without an attempt count, so their attempts are never counted.
        let graph = found(&store, &retried).await;
        assert_eq!(graph.children[0].attempt_rows, None);
    }
}

#[tokio::test]
async fn the_users_idempotency_key_is_shown_only_from_a_valid_key_and_scope() {
    let database = runops_database(Residency::Legacy).await;
    let store = store_over(&database, Residency::Legacy);
    // The user's key when the options are valid; `None`: the stored hash instead.
    let cases = [
        (r#"{"key":"order-42","scope":"global"}"#, Some("order-42")),
        (
            r#"{"key":"order-42","scope":"attempt","x":1}"#,
            Some("order-42"),
        ),
        (r#"{"key":"","scope":"run"}"#, Some("")),
        (r#"{"key":"order-42","scope":"task"}"#, None),
        (r#"{"key":"order-42"}"#, None),
        (r#"{"key":42,"scope":"run"}"#, None),
        (r#"["order-42","run"]"#, None),
        (r#""order-42""#, None),
    ];
    for (n, (options, users_key)) in (1u8..).zip(cases) {
        let (id, hash) = (cuid(n), format!("hash-{n}"));
        NewRun {
            idempotency_key: Some(&hash),
            idempotency_key_options: Some(options),
            ..run(&id)
        }
        .insert(database.pool())
        .await;
        let graph = found(&store, &id).await;
        let shown = users_key.unwrap_or(&hash);
        assert_eq!(
            graph.run.display_idempotency_key(),
            Some(shown),
            "{options}"
        );
    }
}

#[tokio::test]
async fn the_region_filter_matches_the_region_a_run_displays() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    let (own_region, suffixed_queue, empty_region, plain_queue) =
        (cuid(1), cuid(2), cuid(3), cuid(4));
    let runs = [
        (&own_region, Some("eu-central-1"), "us-nyc-3"),
        (&suffixed_queue, None, "us-nyc-3:scheduled"),
        (&empty_region, Some(""), "us-nyc-3"),
        (&plain_queue, None, "ap-south-1"),
    ];
    for (id, region, worker_queue) in runs {
        NewRun {
            region,
            worker_queue,
            ..run(id)
        }
        .insert(pool)
        .await;
    }
    let listed = |regions: &[&str]| {
        let query = runs_query(
            RunFilter {
                attributes: RunAttributes {
                    regions: regions.iter().map(|region| (*region).to_owned()).collect(),
                    ..RunAttributes::default()
                },
                ..no_run_filter()
            },
            10,
        );
        let topology = &topology;
        async move {
            let mut ids: Vec<String> = topology
                .list_runs(&query)
                .await
                .expect("the store answers")
                .rows
                .into_iter()
                .map(|run| run.id.as_str().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut queue_matches = vec![suffixed_queue.clone(), empty_region.clone()];
    queue_matches.sort();
    assert_eq!(listed(&["us-nyc-3"]).await, queue_matches);
    assert_eq!(listed(&["eu-central-1"]).await, [own_region]);
    assert_eq!(listed(&["ap-south-1"]).await, [plain_queue]);
    // The suffix is never part of what a run displays.
    assert_eq!(listed(&["us-nyc-3:scheduled"]).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_status_filter_leaves_out_batches_of_the_old_engine() {
    let database = runops_database(Residency::Legacy).await;
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    let (current, old) = (cuid(1), cuid(2));
    batch(&current).insert(database.pool()).await;
    NewBatch {
        batch_version: "v1",
        created_second: 1,
        ..batch(&old)
    }
    .insert(database.pool())
    .await;

    let listed = |filter: BatchFilter| {
        let query = batches_query(filter, 10);
        let topology = &topology;
        async move {
            let batches = topology.list_batches(&query).await.expect("answers");
            batches
                .rows
                .into_iter()
                .map(|batch| batch.id.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(no_batch_filter()).await,
        [old.clone(), current.clone()]
    );
    let processing = BatchFilter {
        attributes: BatchAttributes {
            statuses: vec![BatchStatus::Processing],
            ..BatchAttributes::default()
        },
        ..no_batch_filter()
    };
    assert_eq!(listed(processing).await, [current]);
}
