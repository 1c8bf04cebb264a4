//! ListBatches against real stores: filters, paging across both stores, "has any" and run counts
//! that are read from every store or not at all.

use std::collections::HashMap;

use runview_core::Error;
use runview_core::batch::{BatchRecord, BatchStatus};
use runview_core::filter::BatchListQuery;
use runview_core::ids::{BatchId, Residency};
use runview_core::page::{Keyset, PageRequest, TimeWindow};
use runview_core::ports::RunOpsStores;
use runview_core::status::TaskRunStatus;
use runview_store::RunOpsTopology;

use crate::support::{
    ENV, NewBatch, NewRun, OTHER_ENV, PageWalk, batch, batches_query, created_at, cuid,
    environment, no_batch_filter, run, runops_database, runops_id, split, split_with_one_down,
    store_over, walk_to_end,
};

async fn listed(topology: &RunOpsTopology, query: &BatchListQuery) -> Vec<String> {
    let batches = topology
        .list_batches(query)
        .await
        .expect("every store answers");
    batches
        .rows
        .iter()
        .map(|batch| batch.id.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn batch_filters_narrow_the_list_and_other_environments_never_appear() {
    let database = runops_database(Residency::Legacy).await;
    let pool = database.pool();
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    let ids: Vec<String> = (1..=4).map(cuid).collect();
    let batches = [
        NewBatch {
            status: "PENDING",
            created_second: 10,
            ..batch(&ids[0])
        },
        NewBatch {
            status: "COMPLETED",
            created_second: 20,
            completed: true,
            ..batch(&ids[1])
        },
        NewBatch {
            status: "ABORTED",
            created_second: 30,
            ..batch(&ids[2])
        },
        NewBatch {
            environment_id: OTHER_ENV,
            created_second: 40,
            ..batch(&ids[3])
        },
    ];
    for new_batch in batches {
        new_batch.insert(pool).await;
    }

    let all = batches_query(no_batch_filter(), 10);
    assert_eq!(
        listed(&topology, &all).await,
        [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]
    );

    let mut finished = no_batch_filter();
    finished.attributes.statuses = vec![BatchStatus::Completed, BatchStatus::Aborted];
    assert_eq!(
        listed(&topology, &batches_query(finished, 10)).await,
        [ids[2].as_str(), ids[1].as_str()]
    );

    let mut one = no_batch_filter();
    one.attributes.batch_id = Some(BatchId::from_stored(ids[1].clone()));
    assert_eq!(
        listed(&topology, &batches_query(one, 10)).await,
        [ids[1].as_str()]
    );

    let mut second_20 = no_batch_filter();
    second_20.window = TimeWindow {
        start: Some(created_at(20)),
        end: created_at(20),
    };
    assert_eq!(
        listed(&topology, &batches_query(second_20, 10)).await,
        [ids[1].as_str()]
    );
}

#[tokio::test]
async fn batch_records_carry_every_column() {
    let database = runops_database(Residency::Legacy).await;
    let topology = RunOpsTopology::passthrough(store_over(&database, Residency::Legacy));
    let id = cuid(1);
    NewBatch {
        status: "PARTIAL_FAILED",
        run_count: 7,
        completed: true,
        ..batch(&id)
    }
    .insert(database.pool())
    .await;

    let batches = topology
        .list_batches(&batches_query(no_batch_filter(), 10))
        .await;
    let expected = BatchRecord {
        friendly_id: format!("batch_{id}"),
        id: BatchId::from_stored(id),
        environment_id: ENV.to_owned(),
        status: BatchStatus::PartialFailed,
        run_count: 7,
        batch_version: "runengine:v2".to_owned(),
        created_at: created_at(0),
        updated_at: created_at(60),
        completed_at: Some(created_at(120)),
    };
    assert_eq!(batches.map(|scan| scan.rows), Ok(vec![expected]));
}

#[tokio::test]
async fn batch_pages_walk_both_stores_in_both_directions_with_new_winning() {
    let split = split().await;
    // Seconds with ties across stores; the copied batch says which store it was read from.
    let in_legacy = [(cuid(1), 10), (cuid(2), 20), (cuid(3), 20)];
    let in_new = [(runops_id(4), 20), (runops_id(5), 30), (cuid(6), 5)];
    for (store, batches) in [(Residency::Legacy, &in_legacy), (Residency::New, &in_new)] {
        for (id, created_second) in batches {
            let created_second = *created_second;
            NewBatch {
                created_second,
                ..batch(id)
            }
            .insert(split.pool(store))
            .await;
        }
    }
    let copied = cuid(7);
    for (store, run_count) in [(Residency::Legacy, 1), (Residency::New, 2)] {
        NewBatch {
            created_second: 20,
            run_count,
            ..batch(&copied)
        }
        .insert(split.pool(store))
        .await;
    }
    let mut expected: Vec<(i32, String)> = in_legacy
        .iter()
        .chain(&in_new)
        .cloned()
        .map(|(id, second)| (second, id))
        .chain([(20, copied.clone())])
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    let read = async |_, request: &PageRequest| {
        let mut query = batches_query(no_batch_filter(), 0);
        query.page = request.clone();
        let batches = split.topology.list_batches(&query).await;
        batches.expect("both stores answer")
    };
    let mut walk = PageWalk::forward();
    let mut pages = walk_to_end(&mut walk, &[2], key, read).await;
    let forward: Vec<&BatchRecord> = pages.iter().flat_map(|(_, items)| items).collect();
    let forward_ids: Vec<&str> = forward.iter().map(|batch| batch.id.as_str()).collect();
    assert_eq!(forward_ids, expected);
    let copy = forward.iter().find(|batch| batch.id.as_str() == copied);
    assert_eq!(copy.map(|batch| batch.run_count), Some(2));

    let turn_back = walk.turn_back().expect("more than one page");
    let mut back_pages =
        walk_to_end(&mut PageWalk::backward_from(turn_back), &[3], key, read).await;
    back_pages.reverse();
    back_pages.extend(pages.pop());
    let shown: Vec<&str> = back_pages
        .iter()
        .flat_map(|(_, items)| items)
        .map(|batch| batch.id.as_str())
        .collect();
    assert_eq!(shown, expected);
}

fn key(batch: &BatchRecord) -> Keyset {
    Keyset {
        created_at: batch.created_at,
        id: batch.id.as_str().to_owned(),
    }
}

#[tokio::test]
async fn an_environment_has_batches_when_either_store_has_one() {
    for holder in [Residency::Legacy, Residency::New] {
        let split = split().await;
        let env = environment(ENV);
        assert_eq!(split.topology.has_any_batches(&env).await, Ok(false));
        NewBatch {
            environment_id: OTHER_ENV,
            ..batch(&cuid(1))
        }
        .insert(split.pool(holder))
        .await;
        assert_eq!(split.topology.has_any_batches(&env).await, Ok(false));
        batch(&cuid(2)).insert(split.pool(holder)).await;
        assert_eq!(
            split.topology.has_any_batches(&env).await,
            Ok(true),
            "{holder:?}"
        );
    }
}

#[tokio::test]
async fn run_counts_are_summed_over_both_stores() {
    let split = split().await;
    let (spread, local, runless) = (cuid(1), runops_id(2), cuid(3));
    let runs = [
        (Residency::Legacy, &spread, "COMPLETED_SUCCESSFULLY", ENV),
        (Residency::Legacy, &spread, "COMPLETED_SUCCESSFULLY", ENV),
        (Residency::Legacy, &spread, "EXECUTING", ENV),
        (Residency::New, &spread, "COMPLETED_SUCCESSFULLY", ENV),
        (Residency::New, &spread, "CRASHED", ENV),
        (Residency::New, &local, "PENDING", ENV),
        // Another environment's run never counts.
        (Residency::New, &spread, "CRASHED", OTHER_ENV),
    ];
    for (n, (store, batch_id, status, environment_id)) in (10..).zip(runs) {
        let id = cuid(n);
        let batch_id = Some(batch_id.as_str());
        NewRun {
            batch_id,
            status,
            environment_id,
            ..run(&id)
        }
        .insert(split.pool(store))
        .await;
    }

    let ids = [spread.clone(), local.clone(), runless].map(BatchId::from_stored);
    let counts = split
        .topology
        .count_batch_runs(&environment(ENV), &ids)
        .await;
    let expected = HashMap::from([
        (
            BatchId::from_stored(spread),
            HashMap::from([
                (TaskRunStatus::CompletedSuccessfully, 3),
                (TaskRunStatus::Executing, 1),
                (TaskRunStatus::Crashed, 1),
            ]),
        ),
        (
            BatchId::from_stored(local),
            HashMap::from([(TaskRunStatus::Pending, 1)]),
        ),
    ]);
    assert_eq!(counts, Ok(expected));
}

#[tokio::test]
async fn a_store_that_is_down_fails_batch_aggregates_instead_of_returning_part() {
    for down in [Residency::Legacy, Residency::New] {
        let (up, topology) = split_with_one_down(down).await;
        let id = cuid(1);
        batch(&id).insert(up.pool()).await;
        NewRun {
            batch_id: Some(&id),
            ..run(&cuid(2))
        }
        .insert(up.pool())
        .await;
        let env = environment(ENV);

        let any = topology.has_any_batches(&env).await;
        assert!(
            matches!(any, Err(Error::Unavailable { .. })),
            "{down:?}: {any:?}"
        );
        let counts = topology
            .count_batch_runs(&env, &[BatchId::from_stored(id)])
            .await;
        assert!(
            matches!(counts, Err(Error::Unavailable { .. })),
            "{down:?}: {counts:?}"
        );
        let page = topology
            .list_batches(&batches_query(no_batch_filter(), 10))
            .await;
        assert!(
            matches!(page, Err(Error::Unavailable { .. })),
            "{down:?}: {page:?}"
        );
    }
}

#[tokio::test]
async fn an_old_batch_is_listed_and_filtered_by_its_friendly_id() {
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
    batch(&cuid(7)).insert(split.new.pool()).await;
    let all = split
        .topology
        .list_batches(&batches_query(no_batch_filter(), 10))
        .await
        .expect("every store answers");
    let shown: Vec<&str> = all.rows.iter().map(|b| b.friendly_id.as_str()).collect();
    assert_eq!(shown, [format!("batch_{}", cuid(7)), friendly.clone()]);

    let mut one = batches_query(no_batch_filter(), 10);
    one.filter.attributes.batch_id = Some(BatchId::from_stored(nanoid));
    // However small the budget: the friendly id's index finds the batch without a walk.
    one.scan_budget = 1;
    assert_eq!(listed(&split.topology, &one).await, [id.as_str()]);
    one.filter.attributes.batch_id = Some(BatchId::from_stored(id));
    assert!(
        listed(&split.topology, &one).await.is_empty(),
        "not by internal id"
    );
}
