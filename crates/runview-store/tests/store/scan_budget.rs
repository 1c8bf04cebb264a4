//! Filtered run and batch pages read at most the scan budget per store: a rare value gives short
//! pages that resume where each walk stopped, and paging still reads every match exactly once,
//! in order, in both directions.

use runview_core::batch::{BatchRecord, BatchStatus};
use runview_core::filter::{BatchListQuery, RunListQuery};
use runview_core::ids::Residency;
use runview_core::page::{Keyset, PageRequest, Scan};
use runview_core::ports::RunOpsStores;
use runview_core::run::RunRecord;
use runview_core::status::TaskRunStatus;

use crate::support::{
    NewBatch, NewRun, PageWalk, Split, batch, batches_query, created_at, cuid, no_batch_filter,
    no_run_filter, run, runops_id, runs_query, split, walk_to_end,
};

/// 60 runs over both stores, many sharing a createdAt; every ninth CRASHED. Returns the crashed
/// ones' ids newest first.
async fn rare_runs(split: &Split) -> Vec<String> {
    let mut crashed = Vec::new();
    for n in 1..=60u8 {
        let (id, store) = if n % 2 == 0 {
            (runops_id(n), Residency::New)
        } else {
            (cuid(n), Residency::Legacy)
        };
        let status = if n % 9 == 0 { "CRASHED" } else { "EXECUTING" };
        NewRun {
            status,
            created_second: i32::from(n / 3),
            ..run(&id)
        }
        .insert(split.pool(store))
        .await;
        if n % 9 == 0 {
            crashed.push((n / 3, id));
        }
    }
    crashed.sort_by(|a, b| b.cmp(a));
    crashed.into_iter().map(|(_, id)| id).collect()
}

fn crashed_runs(page: &PageRequest, budget: usize) -> RunListQuery {
    let mut query = runs_query(no_run_filter(), page.limit);
    query.filter.statuses = vec![TaskRunStatus::Crashed];
    query.page = page.clone();
    query.scan_budget = budget;
    query
}

fn run_key(run: &RunRecord) -> Keyset {
    Keyset {
        created_at: run.created_at,
        id: run.id.as_str().to_owned(),
    }
}

#[tokio::test]
async fn a_rare_status_ends_a_run_page_where_the_walk_stopped() {
    let split = split().await;
    let crashed = rare_runs(&split).await;
    let first = PageRequest {
        cursor: None,
        limit: 3,
    };
    let scan = split
        .topology
        .list_runs(&crashed_runs(&first, 6))
        .await
        .expect("every store answers");
    // A budget of 6 walks 5 runs on a first page (PostgreSQL reads a sixth to close the
    // Incremental Sort's last group): LEGACY walked runs 59 down to 51, NEW 60 down to 52; only 54
    // crashed. Both stopped at
    // second 17, LEGACY's cuid above NEW's run-ops id: below it LEGACY was not read.
    let ids: Vec<&str> = scan.rows.iter().map(|run| run.id.as_str()).collect();
    assert_eq!(ids, [runops_id(54).as_str()]);
    assert_eq!(crashed[..2], [runops_id(54), cuid(45)]);
    assert_eq!(
        scan.stopped_at,
        Some(Keyset {
            created_at: created_at(17),
            id: cuid(51),
        })
    );
}

#[tokio::test]
async fn run_pages_with_a_small_budget_read_every_match_once_both_ways() {
    let split = split().await;
    let crashed = rare_runs(&split).await;
    for (budget, sizes) in [
        (1, [1, 1, 1]),
        (4, [2, 1, 3]),
        (7, [3, 3, 1]),
        (1_000, [2, 2, 2]),
    ] {
        let read = async |_, page: &PageRequest| -> Scan<RunRecord> {
            let scan = split.topology.list_runs(&crashed_runs(page, budget)).await;
            scan.expect("every store answers")
        };
        let mut walk = PageWalk::forward();
        let pages = walk_to_end(&mut walk, &sizes, run_key, read).await;
        let forward: Vec<String> = pages
            .iter()
            .flat_map(|(_, runs)| runs.iter().map(|run| run.id.as_str().to_owned()))
            .collect();
        assert_eq!(forward, crashed, "budget {budget}, sizes {sizes:?}");

        let last = forward.last().cloned().unwrap_or_default();
        let oldest = pages
            .iter()
            .flat_map(|(_, runs)| runs.iter())
            .find(|run| run.id.as_str() == last)
            .map(run_key)
            .expect("a match was read");
        let mut back = PageWalk::backward_from(oldest);
        let pages = walk_to_end(&mut back, &sizes, run_key, read).await;
        let backward: Vec<String> = pages
            .iter()
            .rev()
            .flat_map(|(_, runs)| runs.iter().map(|run| run.id.as_str().to_owned()))
            .collect();
        assert_eq!(
            backward,
            crashed[..crashed.len() - 1],
            "budget {budget} back"
        );
    }
}

#[tokio::test]
async fn batch_pages_with_a_small_budget_read_every_match_once() {
    let split = split().await;
    let mut aborted = Vec::new();
    for n in 1..=40u8 {
        let id = cuid(n);
        let status = if n % 7 == 0 { "ABORTED" } else { "PROCESSING" };
        let store = if n % 3 == 0 {
            Residency::New
        } else {
            Residency::Legacy
        };
        NewBatch {
            status,
            created_second: i32::from(n),
            ..batch(&id)
        }
        .insert(split.pool(store))
        .await;
        if n % 7 == 0 {
            aborted.push(id);
        }
    }
    aborted.reverse();
    let key = |batch: &BatchRecord| Keyset {
        created_at: batch.created_at,
        id: batch.id.as_str().to_owned(),
    };
    let read = async |_, page: &PageRequest| -> Scan<BatchRecord> {
        let mut query: BatchListQuery = batches_query(no_batch_filter(), page.limit);
        query.filter.attributes.statuses = vec![BatchStatus::Aborted];
        query.page = page.clone();
        query.scan_budget = 3;
        let scan = split.topology.list_batches(&query).await;
        scan.expect("every store answers")
    };
    let mut walk = PageWalk::forward();
    let pages = walk_to_end(&mut walk, &[2], key, read).await;
    let listed: Vec<String> = pages
        .iter()
        .flat_map(|(_, batches)| batches.iter().map(|b| b.id.as_str().to_owned()))
        .collect();
    assert_eq!(listed, aborted);
    assert!(
        pages.iter().any(|(_, batches)| batches.is_empty()),
        "a walk of 3 batches per store finds no match on some pages"
    );
}

#[tokio::test]
async fn an_unfiltered_page_is_never_cut_by_the_budget() {
    let split = split().await;
    rare_runs(&split).await;
    let mut query = runs_query(no_run_filter(), 26);
    query.scan_budget = 1;
    let scan = split.topology.list_runs(&query).await.expect("answers");
    assert_eq!(scan.rows.len(), 26);
    assert_eq!(scan.stopped_at, None);
}

#[tokio::test]
async fn a_rare_tag_fills_its_page_in_one_call_through_the_tag_index() {
    let split = split().await;
    let mut tagged = Vec::new();
    for n in 1..=60u8 {
        let (id, store) = if n % 2 == 0 {
            (runops_id(n), Residency::New)
        } else {
            (cuid(n), Residency::Legacy)
        };
        // Every run has a tag; "rare" is on four of them, "common" on most.
        let tags: &[&str] = match n {
            5 | 6 | 33 | 51 => &["rare", "common"],
            _ if n % 10 == 0 => &["other"],
            _ => &["common"],
        };
        NewRun {
            tags,
            created_second: i32::from(n),
            ..run(&id)
        }
        .insert(split.pool(store))
        .await;
        if tags.contains(&"rare") {
            tagged.push(id);
        }
    }
    tagged.reverse();
    let by_tag = |tag: &str| {
        let mut query = runs_query(no_run_filter(), 10);
        query.filter.attributes.tags = vec![tag.to_owned()];
        query.filter.statuses = vec![TaskRunStatus::Executing];
        // A quarter of it, 3, is the most a value may match in a store to be read through the
        // index (LEGACY holds three of the four "rare" runs); the walk gets 12 - 2 × (3 + 1) = 4.
        query.scan_budget = 12;
        query
    };
    let rare = split
        .topology
        .list_runs(&by_tag("rare"))
        .await
        .expect("answers");
    let ids: Vec<String> = rare
        .rows
        .iter()
        .map(|run| run.id.as_str().to_owned())
        .collect();
    assert_eq!(
        ids, tagged,
        "all four in one call, though each walk read four runs"
    );
    assert_eq!(rare.stopped_at, None);
    // A tag on more runs than that share is not read through the index: the walk's page stands.
    let other = split
        .topology
        .list_runs(&by_tag("other"))
        .await
        .expect("answers");
    assert!(
        other.stopped_at.is_some() && other.rows.len() < 6,
        "{:?}",
        other.rows.len()
    );
}

/// Most runs have no tags and no version, stored as NULL as the upstream stores them: a filter
/// on such a column is false for them, not an error, and with a small budget paging still reads
/// every match exactly once.
#[tokio::test]
async fn filters_on_columns_most_runs_leave_null_page_through_every_match() {
    let split = split().await;
    let mut matching = Vec::new();
    for n in 1..=40u8 {
        let (id, store) = if n % 2 == 0 {
            (runops_id(n), Residency::New)
        } else {
            (cuid(n), Residency::Legacy)
        };
        let rare = n % 7 == 0;
        NewRun {
            tags: if rare { &["rare"] } else { &[] },
            task_version: rare.then_some("20261201.1"),
            created_second: i32::from(n),
            ..run(&id)
        }
        .insert(split.pool(store))
        .await;
        if rare {
            matching.push(id);
        }
    }
    matching.reverse();
    for by_tag in [true, false] {
        let read = async |_, page: &PageRequest| -> Scan<RunRecord> {
            let mut query = runs_query(no_run_filter(), page.limit);
            if by_tag {
                query.filter.attributes.tags = vec!["rare".to_owned()];
            } else {
                query.filter.attributes.versions = vec!["20261201.1".to_owned()];
            }
            query.page = page.clone();
            query.scan_budget = 4;
            let scan = split.topology.list_runs(&query).await;
            scan.expect("a NULL column is no error")
        };
        let pages = walk_to_end(&mut PageWalk::forward(), &[2, 2, 2], run_key, read).await;
        let read_ids: Vec<String> = pages
            .iter()
            .flat_map(|(_, runs)| runs.iter().map(|run| run.id.as_str().to_owned()))
            .collect();
        assert_eq!(read_ids, matching, "by tag: {by_tag}");
    }
}
