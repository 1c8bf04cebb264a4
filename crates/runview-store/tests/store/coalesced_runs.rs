//! Coalesced GetRun lookups: lookups that arrive while a statement is in flight share the next
//! one, and each answer is exactly the answer of the lookup alone. Each test holds a store's only
//! connection, so its first lookup waits with the statement "in flight" while the others arrive:
//! what is batched is decided by the test, not by timing.

use std::task::Poll;

use runview_core::Error;
use runview_core::ids::{Residency, RunId};
use runview_core::ports::{RunLookup, RunOpsStores};
use runview_core::run::RunGraph;
use runview_localdb::testing::TestDatabase;
use runview_store::{FIND_RUNS_SQL, PgRunStore, RunOpsTopology};

use crate::support::{
    NewRun, OTHER_ENV, coalesced, cuid, environment, explain_generic_and_custom, insert_attempts,
    insert_bulk_runs, lookup, one_connection_store, plan_nodes, recorder, run, runops_database,
    runops_id, sample, start_each, started_together, uncoalesced_store,
};

/// GetRun statements sent to `store`, as `runview_store_queries_total` counts them.
fn statements(metrics: &metrics_exporter_prometheus::PrometheusHandle, store: &str) -> f64 {
    let labels = [
        &format!("store=\"{store}\"") as &str,
        "operation=\"find_run\"",
    ];
    sample(metrics, "runview_store_queries_total", &labels)
}

/// A family in LEGACY: a root with six children (the oldest in another environment, the others
/// inserted out of creation order), a grandchild, and a V1 run with attempts in the other
/// environment. Returns the root, a child and the V1 run.
async fn insert_family(pool: &sqlx::PgPool) -> (String, String, String) {
    let (root, v1) = (cuid(1), cuid(2));
    NewRun {
        output: Some(r#"{"sent":true}"#),
        ..run(&root)
    }
    .insert(pool)
    .await;
    for (n, second) in (10..16).zip([50, 10, 5, 20, 30, 60]) {
        let environment_id = if n == 12 {
            OTHER_ENV
        } else {
            crate::support::ENV
        };
        NewRun {
            parent: Some(&root),
            root: Some(&root),
            environment_id,
            created_second: second,
            ..run(&cuid(n))
        }
        .insert(pool)
        .await;
    }
    NewRun {
        parent: Some(&cuid(10)),
        root: Some(&root),
        ..run(&cuid(20))
    }
    .insert(pool)
    .await;
    NewRun {
        engine: "V1",
        environment_id: OTHER_ENV,
        ..run(&v1)
    }
    .insert(pool)
    .await;
    insert_attempts(pool, &v1, 3).await;
    (root, cuid(10), v1)
}

/// Every combination of `ids`, both environments, bodies or not and three children caps.
fn lookups(ids: &[String]) -> Vec<RunLookup> {
    let mut lookups = Vec::new();
    for id in ids {
        for environment_id in [crate::support::ENV, OTHER_ENV] {
            for (include_bodies, children_limit) in [(false, 100), (true, 3), (false, 0)] {
                lookups.push(RunLookup {
                    environment_id: environment(environment_id),
                    run_id: RunId::from_stored(id.as_str()),
                    include_bodies,
                    children_limit,
                });
            }
        }
    }
    lookups
}

/// Each lookup alone, one after the other.
async fn alone(topology: &RunOpsTopology, lookups: &[RunLookup]) -> Vec<Option<RunGraph>> {
    let mut answers = Vec::new();
    for lookup in lookups {
        answers.push(topology.find_run(lookup).await.expect("the stores answer"));
    }
    answers
}

/// The lookups started together while `held` hold every store's only connection.
async fn together(
    topology: &RunOpsTopology,
    held: &[&PgRunStore],
    lookups: &[RunLookup],
) -> Vec<Result<Option<RunGraph>, Error>> {
    let calls = lookups
        .iter()
        .map(|lookup| Box::pin(topology.find_run(lookup)))
        .collect();
    started_together(held, calls).await
}

fn split_over(legacy: &PgRunStore, new: &PgRunStore) -> RunOpsTopology {
    RunOpsTopology::split(legacy.clone(), new.clone())
}

#[tokio::test]
async fn concurrent_lookups_of_both_stores_answer_as_each_alone() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    let (root, child, v1) = insert_family(legacy.pool()).await;
    let (new_parent, new_child, legacy_shaped_in_new) = (runops_id(1), runops_id(2), cuid(40));
    NewRun {
        payload: r#"{"to":"b@example.com"}"#,
        ..run(&new_parent)
    }
    .insert(new.pool())
    .await;
    NewRun {
        parent: Some(&new_parent),
        root: Some(&new_parent),
        ..run(&new_child)
    }
    .insert(new.pool())
    .await;
    // Found only by asking the other store: the lookup is batched twice, in both stores.
    run(&legacy_shaped_in_new).insert(new.pool()).await;
    // Each store's first lookup goes alone, and is a miss: every lookup that finds a run is
    // answered by a batch.
    let ids = [
        cuid(99),
        runops_id(99),
        root,
        child,
        v1,
        new_parent,
        new_child,
        legacy_shaped_in_new,
    ];
    let lookups = lookups(&ids);
    let expected = alone(
        &split_over(
            &uncoalesced_store(&legacy, Residency::Legacy),
            &uncoalesced_store(&new, Residency::New),
        ),
        &lookups,
    )
    .await;
    assert!(
        expected.iter().filter(|answer| answer.is_some()).count() >= 12,
        "the fixture finds runs in both environments"
    );

    let (recorder, metrics) = recorder();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let (legacy_store, new_store) = (
        one_connection_store(&legacy, Residency::Legacy),
        one_connection_store(&new, Residency::New),
    );
    let topology = split_over(&legacy_store, &new_store);
    let answers = together(&topology, &[&legacy_store, &new_store], &lookups).await;

    for ((lookup, answer), expected) in lookups.iter().zip(answers).zip(expected) {
        assert_eq!(answer, Ok(expected), "{lookup:?}");
    }
    for store in ["legacy", "new"] {
        let (statements, lookups) = coalesced(&metrics, store, "run");
        assert!(
            lookups > statements && statements > 0.0,
            "{store}: {lookups} lookups in {statements} statements"
        );
    }
}

#[tokio::test]
async fn lookups_that_arrive_while_a_statement_is_in_flight_share_the_next_one() {
    let database = runops_database(Residency::Legacy).await;
    let (root, child, v1) = insert_family(database.pool()).await;
    let ids = [cuid(99), root, child, v1];
    let lookups: Vec<RunLookup> = lookups(&ids).into_iter().take(10).collect();
    let expected = alone(
        &RunOpsTopology::passthrough(uncoalesced_store(&database, Residency::Legacy)),
        &lookups,
    )
    .await;

    let (recorder, metrics) = recorder();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let store = one_connection_store(&database, Residency::Legacy);
    let topology = RunOpsTopology::passthrough(store.clone());
    let answers = together(&topology, &[&store], &lookups).await;

    assert_eq!(answers, expected.into_iter().map(Ok).collect::<Vec<_>>());
    // The first alone, as it found nothing in flight; the nine that queued behind it together.
    assert_eq!(statements(&metrics, "legacy"), 2.0);
    assert_eq!(coalesced(&metrics, "legacy", "run"), (2.0, 10.0));
}

#[tokio::test]
async fn a_lone_lookup_is_sent_at_once() {
    let database = runops_database(Residency::Legacy).await;
    let (root, _, _) = insert_family(database.pool()).await;
    let store = one_connection_store(&database, Residency::Legacy);
    let asked = lookup(&root);
    let expected = store.find_run(&asked).await;

    let mut call = Box::pin(store.find_run(&asked));
    // On its first poll the lookup takes the connection for its statement: it waits for no timer
    // and no other lookup. PostgreSQL may even answer within that poll, on a quick loopback.
    match futures::poll!(call.as_mut()) {
        Poll::Ready(answer) => assert_eq!(answer, expected),
        Poll::Pending => {
            assert_eq!(store.read_pool().state().idle, 0, "the statement is sent");
            assert_eq!(call.await, expected);
        }
    }
    assert_eq!(store.read_pool().state().idle, 1);
}

#[tokio::test]
async fn a_batch_goes_out_when_the_lookup_in_flight_is_cancelled() {
    let database = runops_database(Residency::Legacy).await;
    let (root, child, _) = insert_family(database.pool()).await;
    let store = one_connection_store(&database, Residency::Legacy);
    let (first, second) = (lookup(&root), lookup(&child));
    let expected = (store.find_run(&first).await, store.find_run(&second).await);

    let (recorder, metrics) = recorder();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let held = store
        .read_pool()
        .lease()
        .await
        .expect("the only connection");
    let mut calls = [
        Box::pin(store.find_run(&first)),
        Box::pin(store.find_run(&second)),
        Box::pin(store.find_run(&first)),
    ];
    start_each(&mut calls).await;
    let [in_flight, queued, queued_too] = calls;
    drop(in_flight);
    drop(held);

    assert_eq!(
        (queued.await, queued_too.await),
        (expected.1, expected.0.clone())
    );
    // The cancelled lookup's turn went to the two queued, in one statement.
    assert_eq!(coalesced(&metrics, "legacy", "run"), (2.0, 3.0));
}

#[tokio::test]
async fn a_queued_lookup_whose_caller_went_away_is_left_out() {
    let database = runops_database(Residency::Legacy).await;
    let (root, child, _) = insert_family(database.pool()).await;
    let store = one_connection_store(&database, Residency::Legacy);
    let expected = store.find_run(&lookup(&child)).await;

    let (recorder, metrics) = recorder();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let held = store
        .read_pool()
        .lease()
        .await
        .expect("the only connection");
    let (first, gone, last) = (lookup(&root), lookup(&cuid(99)), lookup(&child));
    let mut calls = [
        Box::pin(store.find_run(&first)),
        Box::pin(store.find_run(&gone)),
        Box::pin(store.find_run(&last)),
    ];
    start_each(&mut calls).await;
    let [in_flight, gone, queued] = calls;
    drop(gone);
    drop(held);

    assert!(matches!(in_flight.await, Ok(Some(_))));
    assert_eq!(queued.await, expected);
    // Two statements of one lookup each: the one that went away was not asked for.
    assert_eq!(coalesced(&metrics, "legacy", "run"), (2.0, 2.0));
}

#[tokio::test]
async fn a_failed_batch_fails_every_lookup_in_it_with_its_error() {
    let database = runops_database(Residency::Legacy).await;
    let (root, child, v1) = insert_family(database.pool()).await;
    let store = one_connection_store(&database, Residency::Legacy);

    let held = store
        .read_pool()
        .lease()
        .await
        .expect("the only connection");
    let lookups = [
        lookup(&root),
        lookup(&child),
        lookup(&v1),
        lookup(&cuid(99)),
    ];
    let mut calls: Vec<_> = lookups
        .iter()
        .map(|lookup| Box::pin(store.find_run(lookup)))
        .collect();
    start_each(&mut calls).await;
    hide_task_runs(&database).await;
    drop(held);

    let answers = futures::future::join_all(calls).await;
    assert!(answers.iter().all(Result::is_err), "{answers:?}");
    let batched = &answers[1..];
    assert!(
        batched.iter().all(|answer| answer == &batched[0]),
        "{batched:?}"
    );
}

/// Every statement of the store fails from now on.
async fn hide_task_runs(database: &TestDatabase) {
    sqlx::query(r#"ALTER TABLE "TaskRun" RENAME TO "TaskRunHidden""#)
        .execute(database.pool())
        .await
        .expect("rename the table");
}

#[tokio::test]
async fn the_batched_statement_probes_the_primary_key_per_lookup() {
    let database = runops_database(Residency::Legacy).await;
    insert_bulk_runs(database.pool(), 5_000).await;
    let arguments = "ARRAY['bulk15', 'bulk27', 'bulk30', 'none'], \
                     ARRAY['env_1', 'env_2', 'env_3', 'env_1'], \
                     ARRAY[true, false, false, true], ARRAY[101, 4, 101, 101]::int8[]";
    for (mode, plan) in explain_generic_and_custom(database.pool(), FIND_RUNS_SQL, arguments).await
    {
        let scans: Vec<(&str, &str)> = plan_nodes(&plan)
            .into_iter()
            .filter(|node| node["Relation Name"] == "TaskRun")
            .map(|node| {
                (
                    node["Node Type"].as_str().unwrap_or_default(),
                    node["Index Name"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert!(
            scans
                .iter()
                .all(|(scan, _)| scan.starts_with("Index") || scan.starts_with("Bitmap")),
            "{mode}: {scans:?} in {plan}"
        );
        let by_primary_key = scans
            .iter()
            .filter(|(_, index)| *index == "TaskRun_pkey")
            .count();
        assert!(
            by_primary_key >= 2,
            "{mode}: the lookups and their related runs by primary key: {scans:?} in {plan}"
        );
    }
}
