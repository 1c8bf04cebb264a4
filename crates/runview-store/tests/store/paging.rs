//! Paging across both stores is exact: property tests over random runs of both id shapes in both
//! stores, createdAt with many ties, copies held by both stores, and random page sizes.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use runview_core::ids::Residency;
use runview_core::page::Keyset;
use runview_core::ports::RunOpsStores;
use runview_core::run::RunRecord;

use crate::support::{
    NewRun, PageWalk, Split, cuid, no_run_filter, run, runops_id, runs_query, split, walk_to_end,
};

/// One generated run: the store that holds it, its id shape, its createdAt second, and whether
/// a copy sits in the other store too.
#[derive(Clone, Debug)]
struct GeneratedRun {
    store: Residency,
    runops_shaped: bool,
    second: i32,
    copied: bool,
}

fn generated_runs() -> impl Strategy<Value = Vec<GeneratedRun>> {
    let one = (
        any::<bool>(),
        any::<bool>(),
        0..6,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(in_new, runops_shaped, second, copied)| GeneratedRun {
            store: if in_new {
                Residency::New
            } else {
                Residency::Legacy
            },
            runops_shaped,
            second,
            copied,
        });
    prop::collection::vec(one, 0..=60)
}

fn page_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=7, 1..=12)
}

/// Few cases, each starting over in the same two databases, so the suite stays fast.
fn check(
    property: impl AsyncFn(&Split, Vec<GeneratedRun>, Vec<usize>) -> Result<(), TestCaseError>,
) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let split = runtime.block_on(split());
    let config = Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    };
    let result = TestRunner::new(config).run(&(generated_runs(), page_sizes()), |(runs, sizes)| {
        runtime.block_on(property(&split, runs, sizes))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// What a listed run is checked by: its id and the store copy it was read from.
type Listed = (String, String);

fn listed(run: &RunRecord) -> Listed {
    (run.id.as_str().to_owned(), run.task_identifier.clone())
}

fn key(run: &RunRecord) -> Keyset {
    Keyset {
        created_at: run.created_at,
        id: run.id.as_str().to_owned(),
    }
}

/// The task identifier says which store's copy was read.
fn copy_in(store: Residency) -> &'static str {
    match store {
        Residency::Legacy => "copy/legacy",
        Residency::New => "copy/new",
    }
}

/// Inserts `run` as the `n`th run and returns how the list must show it.
async fn insert(split: &Split, n: u8, generated: &GeneratedRun) -> (i32, Listed) {
    let id = if generated.runops_shaped {
        runops_id(n)
    } else {
        cuid(n)
    };
    let mut holders = vec![generated.store];
    if generated.copied {
        holders.push(generated.store.other());
    }
    for &store in &holders {
        let task_identifier = copy_in(store);
        let created_second = generated.second;
        NewRun {
            created_second,
            task_identifier,
            ..run(&id)
        }
        .insert(split.pool(store))
        .await;
    }
    let shown = if holders.contains(&Residency::New) {
        Residency::New
    } else {
        Residency::Legacy
    };
    (generated.second, (id, copy_in(shown).to_owned()))
}

/// Empties both stores and inserts `runs`; returns the list they make, newest first.
async fn start_over(split: &Split, runs: &[GeneratedRun]) -> Vec<(i32, Listed)> {
    for store in [Residency::Legacy, Residency::New] {
        sqlx::query(r#"TRUNCATE "TaskRun""#)
            .execute(split.pool(store))
            .await
            .expect("truncate");
    }
    let mut expected = Vec::new();
    for (n, generated) in (0..).zip(runs) {
        expected.push(insert(split, n, generated).await);
    }
    newest_first(&mut expected);
    expected
}

fn newest_first(runs: &mut [(i32, Listed)]) {
    runs.sort_by(|a, b| (b.0, &b.1.0).cmp(&(a.0, &a.1.0)));
}

fn ids_only(runs: &[(i32, Listed)]) -> Vec<Listed> {
    runs.iter().map(|(_, listed)| listed.clone()).collect()
}

/// Reads the runs' pages until the walk ends, `between_pages(page)` run before reading each page
/// after the first.
async fn walk_runs(
    split: &Split,
    walk: &mut PageWalk,
    sizes: &[usize],
    mut between_pages: impl AsyncFnMut(usize),
) -> Vec<(usize, Vec<Listed>)> {
    let pages = walk_to_end(walk, sizes, key, async |page, request| {
        if page > 0 {
            between_pages(page).await;
        }
        let mut query = runs_query(no_run_filter(), 0);
        query.page = request.clone();
        let runs = split.topology.list_runs(&query).await;
        runs.expect("both stores answer")
    })
    .await;
    let listed_pages = pages.into_iter();
    listed_pages
        .map(|(size, runs)| (size, runs.iter().map(listed).collect()))
        .collect()
}

/// Every page but the last of a walk is full: fewer items only at the end of the collection.
fn only_the_last_is_short(pages: &[(usize, Vec<Listed>)]) -> bool {
    let full = pages.len().saturating_sub(1);
    pages[..full]
        .iter()
        .all(|(size, items)| items.len() == *size)
}

fn concat(pages: &[(usize, Vec<Listed>)]) -> Vec<Listed> {
    pages.iter().flat_map(|(_, items)| items.clone()).collect()
}

/// Walks back from where `forward` ended to the start; the pages, oldest page last, followed by
/// the forward walk's last page, must show `expected`.
async fn back_to_start(
    split: &Split,
    forward: &PageWalk,
    last: &[Listed],
    sizes: &[usize],
) -> Vec<Listed> {
    let mut shown = Vec::new();
    if let Some(from) = forward.turn_back() {
        let mut backward = PageWalk::backward_from(from);
        let mut pages = walk_runs(split, &mut backward, sizes, async |_| {}).await;
        pages.reverse();
        shown = concat(&pages);
    }
    shown.extend_from_slice(last);
    shown
}

#[test]
fn walking_forward_to_the_end_and_back_shows_every_run_once_in_order() {
    check(async |split, runs, sizes| {
        let expected = ids_only(&start_over(split, &runs).await);
        let mut walk = PageWalk::forward();
        let pages = walk_runs(split, &mut walk, &sizes, async |_| {}).await;
        prop_assert_eq!(&concat(&pages), &expected);
        prop_assert!(only_the_last_is_short(&pages));

        let last = pages
            .last()
            .map(|(_, items)| items.clone())
            .unwrap_or_default();
        let back_sizes: Vec<usize> = sizes.iter().rev().copied().collect();
        let shown = back_to_start(split, &walk, &last, &back_sizes).await;
        prop_assert_eq!(shown, expected);
        Ok(())
    });
}

#[test]
fn runs_created_while_paging_never_make_a_paged_run_skip_or_repeat() {
    check(async |split, runs, sizes| {
        let mut everything = start_over(split, &runs).await;
        let before = ids_only(&everything);
        let mut created = Vec::new();
        let mut walk = PageWalk::forward();
        let pages = walk_runs(split, &mut walk, &sizes, async |page| {
            // Newer than every run so far, in alternating stores and id shapes.
            let newer = GeneratedRun {
                store: if page % 2 == 0 {
                    Residency::New
                } else {
                    Residency::Legacy
                },
                runops_shaped: page % 3 == 0,
                second: 10 + i32::try_from(page).unwrap_or(i32::MAX),
                copied: false,
            };
            let n = u8::try_from(128 + page).expect("fewer than 128 pages");
            created.push(insert(split, n, &newer).await);
        })
        .await;
        prop_assert_eq!(&concat(&pages), &before);

        // Going back to the start shows the runs created meanwhile, once each.
        everything.extend(created);
        newest_first(&mut everything);
        let last = pages
            .last()
            .map(|(_, items)| items.clone())
            .unwrap_or_default();
        let shown = back_to_start(split, &walk, &last, &sizes).await;
        prop_assert_eq!(shown, ids_only(&everything));
        Ok(())
    });
}
