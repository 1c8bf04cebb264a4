//! GetBatch against real stores: both stores asked at once with NEW winning, the environment
//! checked, item errors in index order, run ids only when asked, and no answer from part of the
//! stores.

use runview_core::Error;
use runview_core::batch::{BatchDetailRecord, BatchItemError, BatchLookup, BatchStatus};
use runview_core::ids::{BatchId, Residency};
use runview_core::ports::RunOpsStores;
use runview_store::RunOpsTopology;

use crate::support::{
    ENV, NewBatch, NewBatchError, OTHER_ENV, batch, batch_error, created_at, cuid, environment,
    runops_id, split, split_with_one_down,
};

fn lookup(body: &str, include_run_ids: bool) -> BatchLookup {
    BatchLookup {
        environment_id: environment(ENV),
        batch_id: BatchId::from_stored(body),
        include_run_ids,
    }
}

async fn found(topology: &RunOpsTopology, lookup: &BatchLookup) -> Option<BatchDetailRecord> {
    topology
        .find_batch(lookup)
        .await
        .expect("every store answers")
}

#[tokio::test]
async fn batches_are_found_in_either_store_with_every_column() {
    let split = split().await;
    let (in_legacy, in_new) = (cuid(1), runops_id(2));
    NewBatch {
        status: "PARTIAL_FAILED",
        run_count: 3,
        completed: true,
        idempotency_key: Some("nightly-import"),
        run_ids: Some(&["run_b", "run_a"]),
        run_outcomes: Some((2, 1)),
        processed: true,
        ..batch(&in_legacy)
    }
    .insert(split.legacy.pool())
    .await;
    NewBatchError {
        error_code: Some("QUEUE_SIZE_LIMIT_EXCEEDED"),
        ..batch_error(&in_legacy, 1)
    }
    .insert(split.legacy.pool())
    .await;
    // Every nullable column NULL.
    batch(&in_new).insert(split.new.pool()).await;

    let legacy = found(&split.topology, &lookup(&in_legacy, true)).await;
    let legacy = legacy.expect("found in LEGACY");
    assert_eq!(legacy.summary.friendly_id, format!("batch_{in_legacy}"));
    assert_eq!(legacy.summary.status, BatchStatus::PartialFailed);
    assert_eq!(legacy.summary.run_count, 3);
    assert_eq!(legacy.summary.completed_at, Some(created_at(120)));
    assert_eq!(legacy.idempotency_key.as_deref(), Some("nightly-import"));
    assert_eq!(legacy.processing_started_at, Some(created_at(10)));
    assert_eq!(legacy.processing_completed_at, Some(created_at(30)));
    assert_eq!(legacy.run_ids, ["run_b", "run_a"]);
    assert_eq!(
        (legacy.successful_run_count, legacy.failed_run_count),
        (Some(2), Some(1))
    );
    assert_eq!(
        legacy.errors,
        [BatchItemError {
            id: format!("{in_legacy}:1"),
            index: 1,
            task_identifier: "import-csv".to_owned(),
            error: "Payload too large".to_owned(),
            error_code: Some("QUEUE_SIZE_LIMIT_EXCEEDED".to_owned()),
            created_at: created_at(61),
        }]
    );

    let new = found(&split.topology, &lookup(&in_new, true)).await;
    let new = new.expect("found in NEW");
    assert_eq!(new.summary.id.as_str(), in_new);
    assert_eq!(new.summary.completed_at, None);
    assert_eq!(new.idempotency_key, None);
    assert_eq!(
        (new.processing_started_at, new.processing_completed_at),
        (None, None)
    );
    assert!(new.run_ids.is_empty(), "NULL run ids read as none");
    assert_eq!(
        (new.successful_run_count, new.failed_run_count),
        (None, None)
    );
    assert!(new.errors.is_empty());
}

#[tokio::test]
async fn new_wins_a_batch_both_stores_hold_and_its_errors_come_with_it() {
    let split = split().await;
    let copied = cuid(3);
    for (store, run_count, error_index) in [(Residency::Legacy, 1, 0), (Residency::New, 2, 1)] {
        NewBatch {
            run_count,
            ..batch(&copied)
        }
        .insert(split.pool(store))
        .await;
        batch_error(&copied, error_index)
            .insert(split.pool(store))
            .await;
    }
    let batch = found(&split.topology, &lookup(&copied, false)).await;
    let batch = batch.expect("found");
    assert_eq!(batch.summary.run_count, 2, "NEW's row");
    let indexes: Vec<i32> = batch.errors.iter().map(|error| error.index).collect();
    assert_eq!(indexes, [1], "NEW's errors only");
}

#[tokio::test]
async fn batches_of_other_environments_and_unknown_batches_are_not_found() {
    let split = split().await;
    let foreign = runops_id(4);
    NewBatch {
        environment_id: OTHER_ENV,
        ..batch(&foreign)
    }
    .insert(split.new.pool())
    .await;
    assert_eq!(found(&split.topology, &lookup(&foreign, true)).await, None);
    assert_eq!(found(&split.topology, &lookup(&cuid(5), true)).await, None);
}

#[tokio::test]
async fn an_old_batch_is_found_by_its_friendly_id_not_its_internal_id() {
    let split = split().await;
    // The oldest batches have a nanoid friendly id beside a cuid id.
    let (id, nanoid) = (cuid(6), "V1StGXR8Z5jdHi6BmyT2a");
    let friendly = format!("batch_{nanoid}");
    NewBatch {
        friendly_id: Some(&friendly),
        ..batch(&id)
    }
    .insert(split.legacy.pool())
    .await;
    let batch = found(&split.topology, &lookup(nanoid, false)).await;
    assert_eq!(batch.map(|batch| batch.summary.friendly_id), Some(friendly));
    assert_eq!(found(&split.topology, &lookup(&id, false)).await, None);
}

#[tokio::test]
async fn item_errors_come_in_index_order_whatever_order_they_were_written_in() {
    let split = split().await;
    let id = runops_id(7);
    batch(&id).insert(split.new.pool()).await;
    for index in [12, 0, 5, 3] {
        NewBatchError {
            error_code: (index % 2 == 0).then_some("TRIGGER_ERROR"),
            ..batch_error(&id, index)
        }
        .insert(split.new.pool())
        .await;
    }
    let batch = found(&split.topology, &lookup(&id, false)).await;
    let errors = batch.expect("found").errors;
    let indexes: Vec<i32> = errors.iter().map(|error| error.index).collect();
    assert_eq!(indexes, [0, 3, 5, 12]);
    let codes: Vec<Option<&str>> = errors.iter().map(|e| e.error_code.as_deref()).collect();
    assert_eq!(
        codes,
        [Some("TRIGGER_ERROR"), None, None, Some("TRIGGER_ERROR")],
        "a NULL code stays beside its own error"
    );
}

#[tokio::test]
async fn run_ids_are_read_only_when_asked_for() {
    let split = split().await;
    let id = cuid(8);
    NewBatch {
        run_ids: Some(&["run_1", "run_2", "run_3"]),
        ..batch(&id)
    }
    .insert(split.legacy.pool())
    .await;
    let without = found(&split.topology, &lookup(&id, false)).await;
    assert_eq!(without.map(|batch| batch.run_ids), Some(Vec::new()));
    let with = found(&split.topology, &lookup(&id, true)).await;
    assert_eq!(
        with.map(|batch| batch.run_ids),
        Some(vec![
            "run_1".to_owned(),
            "run_2".to_owned(),
            "run_3".to_owned()
        ])
    );
}

#[tokio::test]
async fn a_store_that_fails_fails_the_lookup_even_when_the_other_holds_the_batch() {
    for down in [Residency::Legacy, Residency::New] {
        let (up, topology) = split_with_one_down(down).await;
        let id = cuid(9);
        batch(&id).insert(up.pool()).await;
        let answer = topology.find_batch(&lookup(&id, false)).await;
        assert!(
            matches!(answer, Err(Error::Unavailable { .. })),
            "{down:?} down: {answer:?}"
        );
    }
}
