//! One store: the run, scoped to its environment, with its relations.

use runview_core::ids::{EnvironmentId, Residency};
use runview_core::packet::Packet;
use runview_core::ports::RunLookup;
use runview_core::run::RunGraph;
use runview_core::run_error::RunError;
use runview_core::status::TaskRunStatus;
use runview_store::PgRunStore;

use crate::support::{
    NewRun, OTHER_ENV, created_at, cuid, lookup, run, runops_database, runops_id, store_over,
};

async fn found(store: &PgRunStore, lookup: &RunLookup) -> RunGraph {
    let graph = store.find_run(lookup).await.expect("the store answers");
    graph.expect("the run is found")
}

fn child_ids(graph: &RunGraph) -> Vec<&str> {
    graph
        .children
        .iter()
        .map(|child| child.id.as_str())
        .collect()
}

#[tokio::test]
async fn find_run_hides_runs_of_other_environments() {
    let database = runops_database(Residency::New).await;
    let store = store_over(&database, Residency::New);
    let id = runops_id(1);
    NewRun {
        created_second: 42,
        ..run(&id)
    }
    .insert(database.pool())
    .await;

    let other_environment = RunLookup {
        environment_id: EnvironmentId::parse(OTHER_ENV).expect("a valid environment id"),
        ..lookup(&id)
    };
    assert_eq!(store.find_run(&other_environment).await, Ok(None));

    let graph = found(&store, &lookup(&id)).await;
    assert_eq!(graph.run.id.as_str(), id);
    assert_eq!(graph.run.status, TaskRunStatus::Executing);
    assert_eq!(graph.run.created_at, created_at(42));
    assert_eq!(graph.store, Residency::New);
    assert_eq!(
        (graph.parent, graph.root, graph.children_truncated),
        (None, None, false)
    );
}

#[tokio::test]
async fn children_are_ordered_by_creation_and_capped() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let store = store_over(&database, Residency::Legacy);
    let (busy_parent, parent_of_three) = (cuid(1), cuid(2));
    run(&busy_parent).insert(pool).await;
    run(&parent_of_three).insert(pool).await;
    let children: Vec<String> = (10..=17).map(cuid).collect();
    // Inserted out of creation order.
    for (child, second) in children[..4].iter().zip([30, 10, 40, 20]) {
        let parent = Some(busy_parent.as_str());
        NewRun {
            parent,
            created_second: second,
            ..run(child)
        }
        .insert(pool)
        .await;
    }
    // A child in another environment is not the caller's to see, nor to count.
    let parent = Some(busy_parent.as_str());
    NewRun {
        parent,
        environment_id: OTHER_ENV,
        ..run(&children[4])
    }
    .insert(pool)
    .await;
    for child in &children[5..] {
        NewRun {
            parent: Some(&parent_of_three),
            ..run(child)
        }
        .insert(pool)
        .await;
    }

    let graph = found(
        &store,
        &RunLookup {
            children_limit: 3,
            ..lookup(&busy_parent)
        },
    )
    .await;
    let oldest_three = [&children[1], &children[3], &children[0]].map(String::as_str);
    assert_eq!(child_ids(&graph), oldest_three);
    assert!(graph.children_truncated);

    let graph = found(
        &store,
        &RunLookup {
            children_limit: 3,
            ..lookup(&parent_of_three)
        },
    )
    .await;
    assert_eq!((graph.children.len(), graph.children_truncated), (3, false));
}

#[tokio::test]
async fn parent_and_root_come_with_the_run() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let store = store_over(&database, Residency::Legacy);
    let (root, parent, id) = (cuid(1), cuid(2), cuid(3));
    run(&root).insert(pool).await;
    NewRun {
        parent: Some(&root),
        root: Some(&root),
        ..run(&parent)
    }
    .insert(pool)
    .await;
    NewRun {
        parent: Some(&parent),
        root: Some(&root),
        ..run(&id)
    }
    .insert(pool)
    .await;

    let graph = found(&store, &lookup(&id)).await;
    assert_eq!(
        graph.parent.map(|run| run.id.as_str().to_owned()),
        Some(parent.clone())
    );
    assert_eq!(
        graph.root.map(|run| run.id.as_str().to_owned()),
        Some(root.clone())
    );

    let graph = found(&store, &lookup(&parent)).await;
    assert_eq!(child_ids(&graph), [id.as_str()]);
    assert_eq!(
        graph.parent.as_ref().map(|run| run.id.as_str()),
        Some(root.as_str())
    );
}

#[tokio::test]
async fn bodies_are_read_only_for_the_full_view_and_the_run_itself() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let store = store_over(&database, Residency::Legacy);
    let (parent, id) = (cuid(1), cuid(2));
    let with_packets = |id| NewRun {
        status: "COMPLETED_SUCCESSFULLY",
        output: Some(r#"{"sent":true}"#),
        metadata: Some(r#"{"step":2}"#),
        ..run(id)
    };
    with_packets(&parent).insert(pool).await;
    NewRun {
        parent: Some(&parent),
        ..with_packets(&id)
    }
    .insert(pool)
    .await;
    let json = |data: &str| Packet {
        data: data.to_owned(),
        data_type: "application/json".to_owned(),
    };

    let basic = found(&store, &lookup(&id)).await;
    assert_eq!((basic.run.payload, basic.run.output), (None, None));
    assert_eq!(basic.run.metadata, Some(json(r#"{"step":2}"#)));

    let full = found(
        &store,
        &RunLookup {
            include_bodies: true,
            ..lookup(&id)
        },
    )
    .await;
    assert_eq!(full.run.payload, Some(json(r#"{"to":"a@example.com"}"#)));
    assert_eq!(full.run.output, Some(json(r#"{"sent":true}"#)));
    let parent = full.parent.expect("the parent is found");
    assert_eq!((parent.payload, parent.output), (None, None));
    assert_eq!(parent.metadata, Some(json(r#"{"step":2}"#)));
}

#[tokio::test]
async fn the_error_and_the_users_idempotency_key_are_extracted() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let store = store_over(&database, Residency::Legacy);
    let (failed, crashed, keyed) = (cuid(1), cuid(2), cuid(3));
    let error = r#"{"type":"BUILT_IN_ERROR","name":"TypeError","message":"x is undefined",
                    "stackTrace":"at send (src/email.ts:3)"}"#;
    NewRun {
        status: "COMPLETED_WITH_ERRORS",
        error: Some(error),
        ..run(&failed)
    }
    .insert(pool)
    .await;
    let raw_error = r#"{"type":"STRING_ERROR","raw":"out of memory"}"#;
    NewRun {
        status: "CRASHED",
        error: Some(raw_error),
        ..run(&crashed)
    }
    .insert(pool)
    .await;
    let options = r#"{"key":"order-42","scope":"run"}"#;
    let key = Some("hash-of-order-42");
    let keyed_run = NewRun {
        idempotency_key: key,
        idempotency_key_options: Some(options),
        ..run(&keyed)
    };
    keyed_run.insert(pool).await;

    let graph = found(&store, &lookup(&failed)).await;
    let expected = RunError {
        name: Some("TypeError".to_owned()),
        message: "x is undefined".to_owned(),
        stack_trace: Some("at send (src/email.ts:3)".to_owned()),
    };
    assert_eq!(graph.run.api_error(), Some(expected));

    let graph = found(&store, &lookup(&crashed)).await;
    let expected = RunError {
        message: "out of memory".to_owned(),
        ..RunError::default()
    };
    assert_eq!(graph.run.api_error(), Some(expected));

    let graph = found(&store, &lookup(&keyed)).await;
    assert_eq!(graph.run.idempotency_key.as_deref(), key);
    assert_eq!(graph.run.user_idempotency_key.as_deref(), Some("order-42"));
    assert_eq!(graph.run.error, None);
}
