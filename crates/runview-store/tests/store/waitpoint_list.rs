//! ListWaitpoints against both stores: tokens only, merged by id with NEW winning, every filter,
//! and the scan budget that ends a page early without ever skipping a token.

use chrono::TimeDelta;
use runview_core::Error;
use runview_core::filter::{WaitpointAttributes, WaitpointFilter, WaitpointListQuery};
use runview_core::ids::{Residency, WaitpointId, mint_cuid_body};
use runview_core::page::{Keyset, PageRequest, Scan, TimeWindow};
use runview_core::ports::RunOpsStores;
use runview_core::waitpoint::{WaitpointRecord, WaitpointStatus};
use runview_store::RunOpsTopology;

use crate::support::{
    ENV, NewWaitpoint, OTHER_ENV, PageWalk, cuid, environment, new_year, split,
    split_with_one_down, waitpoint, walk_to_end,
};

fn no_filter() -> WaitpointFilter {
    WaitpointFilter {
        statuses: Vec::new(),
        window: TimeWindow {
            start: None,
            end: new_year() + TimeDelta::days(365),
        },
        attributes: WaitpointAttributes::default(),
    }
}

fn query(filter: WaitpointFilter, page: PageRequest, scan_budget: usize) -> WaitpointListQuery {
    WaitpointListQuery {
        environment_id: environment(ENV),
        filter,
        page,
        scan_budget,
    }
}

fn first(limit: usize) -> PageRequest {
    PageRequest {
        cursor: None,
        limit,
    }
}

async fn list(topology: &RunOpsTopology, filter: WaitpointFilter) -> Vec<String> {
    let scan = topology
        .list_waitpoints(&query(filter, first(100), 10_000))
        .await
        .expect("every store answers");
    assert_eq!(scan.stopped_at, None, "a budget this large is never spent");
    ids(&scan.rows)
}

fn ids(records: &[WaitpointRecord]) -> Vec<String> {
    records
        .iter()
        .map(|record| record.id.as_str().to_owned())
        .collect()
}

fn key(record: &WaitpointRecord) -> Keyset {
    Keyset {
        created_at: record.created_at,
        id: record.id.as_str().to_owned(),
    }
}

#[tokio::test]
async fn tokens_of_both_stores_are_listed_by_id_with_new_winning_a_duplicate() {
    let split = split().await;
    for (n, store) in [
        (1, Residency::Legacy),
        (3, Residency::Legacy),
        (2, Residency::New),
    ] {
        waitpoint(&cuid(n)).insert(split.pool(store)).await;
    }
    let copied = cuid(4);
    waitpoint(&copied).insert(split.legacy.pool()).await;
    NewWaitpoint {
        status: "COMPLETED",
        ..waitpoint(&copied)
    }
    .insert(split.new.pool())
    .await;
    // Neither a waitpoint of another type nor another environment's token is listed.
    NewWaitpoint {
        waitpoint_type: "DATETIME",
        ..waitpoint(&cuid(5))
    }
    .insert(split.new.pool())
    .await;
    NewWaitpoint {
        environment_id: OTHER_ENV,
        ..waitpoint(&cuid(6))
    }
    .insert(split.legacy.pool())
    .await;

    let scan = split
        .topology
        .list_waitpoints(&query(no_filter(), first(10), 10_000))
        .await
        .expect("every store answers");
    assert_eq!(ids(&scan.rows), [cuid(4), cuid(3), cuid(2), cuid(1)]);
    assert!(scan.rows[0].completed, "the copy in NEW is the one shown");
    assert!(scan.rows.iter().all(|token| token.output.is_none()));
}

#[tokio::test]
async fn status_filters_match_the_status_each_token_shows() {
    let split = split().await;
    let (waiting, completed, timed_out) = (cuid(1), cuid(2), cuid(3));
    waitpoint(&waiting).insert(split.legacy.pool()).await;
    NewWaitpoint {
        status: "COMPLETED",
        ..waitpoint(&completed)
    }
    .insert(split.new.pool())
    .await;
    NewWaitpoint {
        status: "COMPLETED",
        output_is_error: true,
        ..waitpoint(&timed_out)
    }
    .insert(split.legacy.pool())
    .await;
    use WaitpointStatus::{Completed, TimedOut, Waiting};
    let cases: [(&[WaitpointStatus], Vec<&str>); 6] = [
        (&[Waiting], vec![waiting.as_str()]),
        (&[Completed], vec![completed.as_str()]),
        (&[TimedOut], vec![timed_out.as_str()]),
        (
            &[Waiting, Completed],
            vec![completed.as_str(), waiting.as_str()],
        ),
        (
            &[Waiting, TimedOut],
            vec![timed_out.as_str(), waiting.as_str()],
        ),
        (
            &[Completed, TimedOut],
            vec![timed_out.as_str(), completed.as_str()],
        ),
    ];
    for (statuses, expected) in cases {
        let filter = WaitpointFilter {
            statuses: statuses.to_vec(),
            ..no_filter()
        };
        assert_eq!(
            list(&split.topology, filter).await,
            expected,
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn tags_match_any_of_and_null_tags_match_none() {
    let split = split().await;
    NewWaitpoint {
        tags: Some(&["user:1", "eu"]),
        ..waitpoint(&cuid(1))
    }
    .insert(split.legacy.pool())
    .await;
    NewWaitpoint {
        tags: Some(&["user:2"]),
        ..waitpoint(&cuid(2))
    }
    .insert(split.new.pool())
    .await;
    waitpoint(&cuid(3)).insert(split.new.pool()).await;
    let tagged = |tags: &[&str]| WaitpointFilter {
        attributes: WaitpointAttributes {
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            ..WaitpointAttributes::default()
        },
        ..no_filter()
    };
    assert_eq!(
        list(&split.topology, tagged(&["eu", "user:2"])).await,
        [cuid(2), cuid(1)]
    );
    assert!(list(&split.topology, tagged(&["EU"])).await.is_empty());
}

#[tokio::test]
async fn an_idempotency_key_matches_the_current_or_the_inactive_key() {
    let split = split().await;
    // The key was reused after it expired: the old token keeps it as its inactive key.
    NewWaitpoint {
        idempotency_key: Some("V1StGXR8_Z5jdHi6B-myT"),
        inactive_idempotency_key: Some("order-42"),
        ..waitpoint(&cuid(1))
    }
    .insert(split.legacy.pool())
    .await;
    NewWaitpoint {
        idempotency_key: Some("order-42"),
        inactive_idempotency_key: None,
        ..waitpoint(&cuid(2))
    }
    .insert(split.new.pool())
    .await;
    NewWaitpoint {
        idempotency_key: Some("order-43"),
        inactive_idempotency_key: None,
        user_provided_idempotency_key: false,
        ..waitpoint(&cuid(3))
    }
    .insert(split.new.pool())
    .await;
    let keyed = |key: &str| WaitpointFilter {
        attributes: WaitpointAttributes {
            idempotency_key: Some(key.to_owned()),
            ..WaitpointAttributes::default()
        },
        ..no_filter()
    };
    let found = list(&split.topology, keyed("order-42")).await;
    assert_eq!(found, [cuid(2), cuid(1)]);
    assert_eq!(list(&split.topology, keyed("order-43")).await, [cuid(3)]);
}

#[tokio::test]
async fn the_window_and_the_waitpoint_id_narrow_the_list() {
    let split = split().await;
    for (n, days) in [(1u8, 0), (2, 1), (3, 2)] {
        NewWaitpoint {
            created_at: new_year() + TimeDelta::days(days),
            ..waitpoint(&cuid(n))
        }
        .insert(split.pool(Residency::New))
        .await;
    }
    let window = |start: i64, end: i64| WaitpointFilter {
        window: TimeWindow {
            start: Some(new_year() + TimeDelta::days(start)),
            end: new_year() + TimeDelta::days(end),
        },
        ..no_filter()
    };
    // Both bounds are inclusive; an inverted window matches nothing.
    assert_eq!(
        list(&split.topology, window(1, 2)).await,
        [cuid(3), cuid(2)]
    );
    assert!(list(&split.topology, window(2, 1)).await.is_empty());
    let one = WaitpointFilter {
        attributes: WaitpointAttributes {
            waitpoint_id: Some(WaitpointId::from_stored(cuid(2))),
            ..WaitpointAttributes::default()
        },
        ..no_filter()
    };
    assert_eq!(list(&split.topology, one).await, [cuid(2)]);
}

/// Tokens 1..=40 over both stores; every seventh is tagged `rare`.
async fn rare_tokens(split: &crate::support::Split) -> Vec<String> {
    let mut rare = Vec::new();
    for n in 1..=40u8 {
        let id = cuid(n);
        let store = if n % 3 == 0 {
            Residency::New
        } else {
            Residency::Legacy
        };
        let tags: Option<&[&str]> = if n % 7 == 0 { Some(&["rare"]) } else { None };
        NewWaitpoint {
            tags,
            ..waitpoint(&id)
        }
        .insert(split.pool(store))
        .await;
        if tags.is_some() {
            rare.push(id);
        }
    }
    rare.reverse();
    rare
}

fn rare_filter() -> WaitpointFilter {
    WaitpointFilter {
        attributes: WaitpointAttributes {
            tags: vec!["rare".to_owned()],
            ..WaitpointAttributes::default()
        },
        ..no_filter()
    }
}

#[tokio::test]
async fn a_spent_scan_budget_ends_the_page_where_the_walk_stopped() {
    let split = split().await;
    let rare = rare_tokens(&split).await;
    // Each store walks at most 4 tokens: LEGACY 40, 38, 37, 35 and NEW 39, 36, 33, 30. Only 35
    // and 28 are rare below 40, and LEGACY was not read below 35.
    let scan = split
        .topology
        .list_waitpoints(&query(rare_filter(), first(3), 4))
        .await
        .expect("every store answers");
    assert_eq!(ids(&scan.rows), [cuid(35)]);
    let stopped_at = scan.stopped_at.expect("the walk stopped early");
    assert_eq!(stopped_at.id, cuid(35));
    assert_eq!(rare[..2], [cuid(35), cuid(28)]);
}

#[tokio::test]
async fn walking_with_a_small_budget_reads_every_match_once_in_both_directions() {
    let split = split().await;
    let rare = rare_tokens(&split).await;
    for (budget, sizes) in [
        (4, [1, 2, 3]),
        (5, [2, 2, 2]),
        (9, [3, 1, 2]),
        (1, [1, 1, 1]),
    ] {
        let mut walk = PageWalk::forward();
        let read = async |_, page: &PageRequest| -> Scan<WaitpointRecord> {
            let scan = split
                .topology
                .list_waitpoints(&query(rare_filter(), page.clone(), budget))
                .await;
            scan.expect("every store answers")
        };
        let pages = walk_to_end(&mut walk, &sizes, key, read).await;
        let forward: Vec<String> = pages.iter().flat_map(|(_, items)| ids(items)).collect();
        assert_eq!(forward, rare, "budget {budget}, sizes {sizes:?}");
        assert!(
            pages.iter().all(|(size, items)| items.len() <= *size),
            "no page is longer than asked"
        );

        let last = pages
            .iter()
            .rev()
            .find_map(|(_, items)| items.last().map(key))
            .expect("a match was read");
        let mut back = PageWalk::backward_from(last);
        let pages = walk_to_end(&mut back, &sizes, key, read).await;
        let backward: Vec<String> = pages
            .iter()
            .rev()
            .flat_map(|(_, items)| ids(items))
            .collect();
        assert_eq!(
            backward,
            rare[..rare.len() - 1],
            "budget {budget}, backward"
        );
    }
}

#[tokio::test]
async fn has_any_tokens_looks_in_every_store_for_tokens_only() {
    let split = split().await;
    NewWaitpoint {
        waitpoint_type: "RUN",
        ..waitpoint(&cuid(1))
    }
    .insert(split.legacy.pool())
    .await;
    let any = |topology: &RunOpsTopology| {
        let topology = topology.clone();
        async move { topology.has_any_tokens(&environment(ENV)).await }
    };
    assert_eq!(any(&split.topology).await, Ok(false));
    waitpoint(&cuid(2)).insert(split.new.pool()).await;
    assert_eq!(any(&split.topology).await, Ok(true));
}

#[tokio::test]
async fn a_store_that_fails_fails_the_list() {
    for down in [Residency::Legacy, Residency::New] {
        let (_up, topology) = split_with_one_down(down).await;
        let listed = topology
            .list_waitpoints(&query(no_filter(), first(10), 100))
            .await;
        assert!(
            matches!(listed, Err(Error::Unavailable { .. })),
            "{down:?} down: {listed:?}"
        );
        let any = topology.has_any_tokens(&environment(ENV)).await;
        assert!(matches!(any, Err(Error::Unavailable { .. })), "{any:?}");
    }
}

#[tokio::test]
async fn token_ids_sort_as_bytes_under_every_collation_the_database_offers() {
    let split = split().await;
    let pool = split.legacy.pool();
    // Cuids of many timestamps and random parts, as the upstream mints them.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let ids: Vec<String> = (0..500)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let random = state.to_le_bytes();
            let mut body = [0u8; 16];
            body[..8].copy_from_slice(&random);
            body[8..].copy_from_slice(&random.map(|b| b.rotate_left(3)));
            mint_cuid_body(1_600_000_000_000 + (state >> 24) % 300_000_000_000, body)
        })
        .collect();
    let mut bytewise = ids.clone();
    bytewise.sort();
    let collations: Vec<String> = sqlx::query_scalar(
        r#"SELECT quote_ident(collname) FROM pg_collation
           WHERE collname IN ('default', 'C', 'POSIX', 'und-x-icu', 'en-x-icu', 'en_US', 'en_US.utf8', 'C.utf8')
              OR collname = (SELECT datcollate FROM pg_database WHERE datname = current_database())"#,
    )
    .fetch_all(pool)
    .await
    .expect("collations");
    assert!(collations.len() >= 2, "{collations:?}");
    for collation in collations {
        let sorted: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM unnest($1::text[]) id ORDER BY id COLLATE {collation}"
        ))
        .bind(&ids)
        .fetch_all(pool)
        .await
        .expect("sorted ids");
        assert_eq!(sorted, bytewise, "collation {collation}");
    }
}
