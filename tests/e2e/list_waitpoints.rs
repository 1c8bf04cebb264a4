//! ListWaitpoints through the real server: tokens of both stores in id order, every filter
//! against what the databases hold, exact paging both ways, bound tokens, the empty state, the
//! scan budget, and a store that is down.

use runview::proto::read_service_client::ReadServiceClient;
use runview::proto::{self as pb, ListWaitpointsRequest};
use runview_core::tags::sort_tags;
use tonic::Code;
use tonic::transport::Channel;

use crate::get_waitpoint::expected_url;
use crate::harness::{TestStack, reason, test_config};

/// Tokens added to the seeded ones in production, in both stores and in both at once, tagged or
/// not (NULL), pending, completed or timed out, some keyed by their user with a reset key.
const MORE_TOKENS: &str = r#"
INSERT INTO "Waitpoint" (
    id, "friendlyId", type, status, "environmentId", "projectId", "idempotencyKey",
    "userProvidedIdempotencyKey", "inactiveIdempotencyKey", "outputIsError", tags, "createdAt",
    "updatedAt"
)
SELECT 'cmtok' || lpad(n::text, 20, '0'), 'waitpoint_cmtok' || lpad(n::text, 20, '0'), 'MANUAL',
       CASE WHEN n % 3 = 0 THEN 'PENDING' ELSE 'COMPLETED' END::"WaitpointStatus",
       $1, 'proj', 'key-' || $2 || n, n % 4 = 0,
       CASE WHEN n % 8 = 0 THEN 'reused-' || n END, n % 3 = 1 AND n % 2 = 0,
       CASE WHEN n % 5 = 0 THEN ARRAY['zeta', 'Alpha', 'alpha'] WHEN n % 5 = 1 THEN ARRAY['rare'] END,
       now() - n * interval '1 minute', now()
FROM generate_series($3::int, $4::int) n
"#;

async fn add_tokens(stack: &TestStack, environment: &str) {
    let stores = [
        (&stack.databases.legacy, "legacy", 1, 40),
        // 31..=40 are in both stores: NEW's copy wins.
        (&stack.databases.new, "new", 31, 70),
    ];
    for (store, name, first, last) in stores {
        sqlx::query(MORE_TOKENS)
            .bind(environment)
            .bind(name)
            .bind(first)
            .bind(last)
            .execute(store.pool())
            .await
            .expect("tokens added");
    }
}

/// The friendly ids of the production tokens `condition` selects in either store, by id DESC.
async fn expected(stack: &TestStack, environment: &str, condition: &str) -> Vec<String> {
    let sql = format!(
        r#"SELECT id FROM "Waitpoint" WHERE "environmentId" = $1 AND type = 'MANUAL' AND ({condition})"#
    );
    let mut ids: Vec<String> = Vec::new();
    for store in [&stack.databases.new, &stack.databases.legacy] {
        let found: Vec<String> = sqlx::query_scalar(&sql)
            .bind(environment)
            .fetch_all(store.pool())
            .await
            .expect("the oracle query runs");
        ids.extend(found);
    }
    ids.sort();
    ids.dedup();
    ids.reverse();
    ids.into_iter()
        .map(|id| format!("waitpoint_{id}"))
        .collect()
}

fn request(environment_id: &str) -> ListWaitpointsRequest {
    ListWaitpointsRequest {
        environment_id: environment_id.to_owned(),
        ..ListWaitpointsRequest::default()
    }
}

/// Every page forward, then every page backward from the last one: both must list the same tokens.
async fn walk_both_ways(
    client: &mut ReadServiceClient<Channel>,
    first: ListWaitpointsRequest,
) -> Vec<String> {
    let mut forward = Vec::new();
    let mut request = first.clone();
    let mut last_page = None;
    for _ in 0..500 {
        let page = client
            .list_waitpoints(request.clone())
            .await
            .expect("a page")
            .into_inner();
        let ids: Vec<String> = page.waitpoints.iter().map(|w| w.id.clone()).collect();
        let page_size = match first.page_size {
            0 => 25,
            size => usize::try_from(size).unwrap_or(usize::MAX),
        };
        assert!(ids.len() <= page_size, "no page is longer than asked");
        forward.extend(ids);
        if page.next_page_token.is_empty() {
            last_page = Some(page);
            break;
        }
        request.page_token = page.next_page_token;
    }
    let last_page = last_page.expect("the walk ends");
    let mut backward: Vec<String> = last_page.waitpoints.iter().map(|w| w.id.clone()).collect();
    let mut token = last_page.previous_page_token;
    while !token.is_empty() {
        let page = client
            .list_waitpoints(ListWaitpointsRequest {
                page_token: token,
                ..first.clone()
            })
            .await
            .expect("a page back")
            .into_inner();
        assert!(
            !page.next_page_token.is_empty(),
            "a page read backward always links forward, short or not"
        );
        let mut ids: Vec<String> = page.waitpoints.iter().map(|w| w.id.clone()).collect();
        ids.extend(backward);
        backward = ids;
        token = page.previous_page_token;
    }
    assert_eq!(
        backward, forward,
        "the walk back reads what the walk forward read"
    );
    forward
}

#[tokio::test]
async fn tokens_of_both_stores_page_in_id_order_exactly_both_ways() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    add_tokens(&stack, &environment).await;
    let all = expected(&stack, &environment, "true").await;
    assert!(all.len() > 70, "{}", all.len());
    let mut client = stack.client().await;
    for page_size in [1, 7, 100] {
        let listed = walk_both_ways(
            &mut client,
            ListWaitpointsRequest {
                page_size,
                ..request(&environment)
            },
        )
        .await;
        assert_eq!(listed, all, "page size {page_size}");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn every_filter_matches_what_the_databases_hold() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    add_tokens(&stack, &environment).await;
    let mut client = stack.client().await;
    use pb::WaitpointStatus::{Completed, TimedOut, Waiting};
    let statuses =
        |statuses: &[pb::WaitpointStatus], mode: pb::StatusFilterMode| ListWaitpointsRequest {
            statuses: statuses.iter().map(|status| *status as i32).collect(),
            status_filter_mode: mode as i32,
            page_size: 9,
            ..request(&environment)
        };
    let upstream = pb::StatusFilterMode::Unspecified;
    let complete = pb::StatusFilterMode::Complete;
    let cases = [
        (statuses(&[Waiting], upstream), "status = 'PENDING'"),
        (
            statuses(&[TimedOut], upstream),
            r#"status = 'COMPLETED' AND "outputIsError""#,
        ),
        // The upstream's rule: with two statuses asked, errors are not told apart.
        (
            statuses(&[Waiting, Completed], upstream),
            "status IN ('PENDING', 'COMPLETED')",
        ),
        (
            statuses(&[Waiting, Completed], complete),
            r#"status = 'PENDING' OR NOT "outputIsError""#,
        ),
        (
            ListWaitpointsRequest {
                tags: vec!["rare".into(), "approval".into()],
                ..request(&environment)
            },
            "tags && ARRAY['rare', 'approval']",
        ),
        (
            ListWaitpointsRequest {
                idempotency_key: Some("reused-16".into()),
                ..request(&environment)
            },
            r#""idempotencyKey" = 'reused-16' OR "inactiveIdempotencyKey" = 'reused-16'"#,
        ),
        (
            ListWaitpointsRequest {
                period: Some(prost_types::Duration {
                    seconds: 20 * 60,
                    nanos: 0,
                }),
                ..request(&environment)
            },
            // The list's window is frozen a moment after this one: tokens of the last seconds
            // are on both sides.
            r#""createdAt" >= now() - interval '20 minutes' + interval '5 seconds'"#,
        ),
        (
            ListWaitpointsRequest {
                waitpoint_id: Some("cmtok00000000000000000012".into()),
                ..request(&environment)
            },
            "id = 'cmtok00000000000000000012'",
        ),
    ];
    for (filtered, condition) in cases {
        let listed = walk_both_ways(&mut client, filtered).await;
        assert_eq!(
            listed,
            expected(&stack, &environment, condition).await,
            "{condition}"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn tokens_show_sorted_tags_their_signed_url_and_the_key_their_user_gave() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    add_tokens(&stack, &environment).await;
    let mut client = stack.client().await;
    let page = client
        .list_waitpoints(ListWaitpointsRequest {
            page_size: 100,
            ..request(&environment)
        })
        .await
        .expect("a page")
        .into_inner();
    let token = |n: u32| {
        let id = format!("waitpoint_cmtok{n:020}");
        page.waitpoints
            .iter()
            .find(|token| token.id == id)
            .unwrap_or_else(|| panic!("{id} is listed"))
            .clone()
    };
    assert_eq!(
        token(35).tags,
        ["alpha", "Alpha", "zeta"],
        "as localeCompare sorts"
    );
    assert!(token(33).tags.is_empty(), "NULL tags read as none");
    // A user's key that was reused after it expired shows the key the user gave.
    assert_eq!(token(16).user_idempotency_key.as_deref(), Some("reused-16"));
    assert_eq!(
        token(12).user_idempotency_key.as_deref(),
        Some("key-legacy12")
    );
    assert_eq!(token(13).user_idempotency_key, None, "a generated key");
    assert_eq!(
        token(36).user_idempotency_key.as_deref(),
        Some("key-new36"),
        "NEW wins"
    );
    assert_eq!(token(4).status(), pb::WaitpointStatus::TimedOut);
    assert_eq!(token(2).status(), pb::WaitpointStatus::Completed);
    assert_eq!(token(3).status(), pb::WaitpointStatus::Waiting);
    for listed in &page.waitpoints {
        assert_eq!(listed.r#type(), pb::WaitpointType::Manual);
        assert!(listed.output.is_none() && listed.output_type.is_none());
        assert!(listed.connected_run_ids.is_empty());
        let mut sorted = listed.tags.clone();
        sort_tags(&mut sorted);
        assert_eq!(listed.tags, sorted);
        assert_eq!(
            listed.url,
            expected_url(&stack, &environment, &listed.id).await
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn page_tokens_only_open_for_their_environment_and_filters() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    add_tokens(&stack, &environment).await;
    let mut client = stack.client().await;
    let first = ListWaitpointsRequest {
        page_size: 5,
        tags: vec!["rare".into()],
        ..request(&environment)
    };
    let page = client
        .list_waitpoints(first.clone())
        .await
        .expect("a page")
        .into_inner();
    assert!(
        page.previous_page_token.is_empty(),
        "the first page has no previous"
    );
    let token = page.next_page_token;
    assert!(!token.is_empty());
    let misuses = [
        ListWaitpointsRequest {
            page_token: token.clone(),
            ..request(&demo.staging_environment_id)
        },
        ListWaitpointsRequest {
            page_token: token.clone(),
            tags: vec!["approval".into()],
            ..first.clone()
        },
        ListWaitpointsRequest {
            page_token: format!("{token}x"),
            ..first.clone()
        },
    ];
    for misuse in misuses {
        let status = client.list_waitpoints(misuse).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason(&status), "INVALID_PAGE_TOKEN");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn has_any_tokens_tells_an_empty_environment_from_an_empty_filter() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let mut client = stack.client().await;
    let none = client
        .list_waitpoints(request("cnotokens0000000000000000"))
        .await
        .expect("answers")
        .into_inner();
    assert!(none.waitpoints.is_empty() && !none.has_any_tokens);
    let filtered = client
        .list_waitpoints(ListWaitpointsRequest {
            tags: vec!["no-token-has-this".into()],
            ..request(&environment)
        })
        .await
        .expect("answers")
        .into_inner();
    assert!(filtered.waitpoints.is_empty() && filtered.has_any_tokens);
    assert!(filtered.next_page_token.is_empty());
    stack.shutdown().await;
}

#[tokio::test]
async fn a_small_scan_budget_gives_short_pages_that_still_reach_every_match() {
    let config = runview::config::Config {
        list_scan_budget: 3,
        ..test_config()
    };
    let stack = TestStack::start_with(config).await;
    let environment = stack.demo().production_environment_id.clone();
    add_tokens(&stack, &environment).await;
    let mut client = stack.client().await;
    let rare = ListWaitpointsRequest {
        tags: vec!["rare".into()],
        page_size: 4,
        ..request(&environment)
    };
    let first = client
        .list_waitpoints(rare.clone())
        .await
        .expect("a page")
        .into_inner();
    assert!(
        first.waitpoints.len() < 4,
        "the walk stopped before the page filled"
    );
    assert!(!first.next_page_token.is_empty(), "and says where to go on");
    let listed = walk_both_ways(&mut client, rare).await;
    assert_eq!(
        listed,
        expected(&stack, &environment, "tags && ARRAY['rare']").await
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn bad_input_names_its_field() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let mut client = stack.client().await;
    let cases = [
        (
            ListWaitpointsRequest {
                statuses: vec![0],
                ..request(&environment)
            },
            "statuses[0]",
        ),
        (
            ListWaitpointsRequest {
                tags: vec!["a\0b".into()],
                ..request(&environment)
            },
            "tags[0]",
        ),
        (
            ListWaitpointsRequest {
                waitpoint_id: Some("batch_cmtok00000000000000000012".into()),
                ..request(&environment)
            },
            "waitpoint_id",
        ),
        (
            ListWaitpointsRequest {
                period: Some(prost_types::Duration {
                    seconds: -60,
                    nanos: 0,
                }),
                ..request(&environment)
            },
            "period",
        ),
        (request("not an id"), "environment_id"),
    ];
    for (bad, field) in cases {
        let status = client.list_waitpoints(bad).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        let details = tonic_types::StatusExt::get_error_details(&status);
        let violations = details.bad_request().map(|b| b.field_violations.clone());
        assert_eq!(
            violations.and_then(|v| v.first().map(|v| v.field.clone())),
            Some(field.to_owned())
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_store_that_is_down_makes_the_list_unavailable_not_shorter() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    stack.databases.drop_new_store().await;
    let mut client = stack.client().await;
    let status = client
        .list_waitpoints(request(&environment))
        .await
        .expect_err("no partial answer");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "STORE_UNAVAILABLE");
    stack.shutdown().await;
}
