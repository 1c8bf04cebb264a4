//! ListRuns through the real server: exact keyset paging across both stores, filters compared with
//! the databases, page-token abuse, environment isolation, the environment block.

use runview::proto::read_service_client::ReadServiceClient;
use runview::proto::{self as pb, ListRunsRequest};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{TestStack, reason};

const ALL_RUNS: &str =
    r#"SELECT "friendlyId", "createdAt", id FROM "TaskRun" WHERE "runtimeEnvironmentId" = $1"#;

fn request(environment_id: &str) -> ListRunsRequest {
    ListRunsRequest {
        environment_id: environment_id.to_owned(),
        ..ListRunsRequest::default()
    }
}

async fn list(
    client: &mut ReadServiceClient<Channel>,
    request: ListRunsRequest,
) -> Result<pb::ListRunsResponse, tonic::Status> {
    client
        .list_runs(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Follows next_page_token to the end; returns every page's ids.
async fn walk_forward(
    client: &mut ReadServiceClient<Channel>,
    first: ListRunsRequest,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut request = first;
    loop {
        let page = list(client, request.clone()).await.expect("a page");
        pages.push(page.runs.iter().map(|run| run.id.clone()).collect());
        if page.next_page_token.is_empty() {
            return pages;
        }
        request.page_token = page.next_page_token;
    }
}

async fn all_ids(client: &mut ReadServiceClient<Channel>, request: ListRunsRequest) -> Vec<String> {
    walk_forward(
        client,
        ListRunsRequest {
            page_size: 100,
            ..request
        },
    )
    .await
    .concat()
}

#[tokio::test]
async fn paging_forward_to_the_end_and_back_to_the_start_yields_every_run_once_in_order() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let expected = stack.databases.expected_ids(ALL_RUNS, &environment).await;
    assert!(
        expected.len() > 100,
        "the production environment has runs in both stores"
    );
    let mut client = stack.client().await;

    let first = ListRunsRequest {
        page_size: 37,
        ..request(&environment)
    };
    let pages = walk_forward(&mut client, first.clone()).await;
    assert_eq!(pages.concat(), expected, "forward paging is exact");
    assert!(
        pages[..pages.len() - 1].iter().all(|page| page.len() == 37),
        "only the last page is short"
    );

    // Back from the last page to the first, with another page size (allowed).
    let mut request = first.clone();
    let mut last = list(&mut client, request.clone())
        .await
        .expect("first page");
    while !last.next_page_token.is_empty() {
        request.page_token = last.next_page_token.clone();
        last = list(&mut client, request.clone()).await.expect("a page");
    }
    let mut backward: Vec<Vec<String>> = vec![last.runs.iter().map(|run| run.id.clone()).collect()];
    let mut previous = last.previous_page_token;
    while !previous.is_empty() {
        let page = list(
            &mut client,
            ListRunsRequest {
                page_size: 50,
                page_token: previous,
                ..first.clone()
            },
        )
        .await
        .expect("a previous page");
        backward.push(page.runs.iter().map(|run| run.id.clone()).collect());
        previous = page.previous_page_token;
    }
    backward.reverse();
    assert_eq!(backward.concat(), expected, "backward paging is exact");
    stack.shutdown().await;
}

#[tokio::test]
async fn page_sizes_default_to_25_cap_at_100_and_refuse_negatives() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let mut client = stack.client().await;
    let default = list(&mut client, request(&environment))
        .await
        .expect("a page");
    assert_eq!(default.runs.len(), 25);
    assert!(
        default.previous_page_token.is_empty(),
        "the first page has no previous page"
    );
    let capped = list(
        &mut client,
        ListRunsRequest {
            page_size: 5000,
            ..request(&environment)
        },
    )
    .await
    .expect("a page");
    assert_eq!(capped.runs.len(), 100);
    let status = list(
        &mut client,
        ListRunsRequest {
            page_size: -1,
            ..request(&environment)
        },
    )
    .await
    .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    stack.shutdown().await;
}

#[tokio::test]
async fn every_filter_selects_what_the_databases_hold() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    let mut client = stack.client().await;
    let (tag, task, queue, machine, version): (String, String, String, String, String) = sqlx::query_as(
        r#"SELECT "runTags"[1], "taskIdentifier", queue, "machinePreset", "taskVersion" FROM "TaskRun"
           WHERE "runtimeEnvironmentId" = $1 AND cardinality("runTags") > 0 AND "machinePreset" IS NOT NULL
             AND "taskVersion" IS NOT NULL LIMIT 1"#,
    )
    .bind(&environment)
    .fetch_one(stack.databases.new.pool())
    .await
    .expect("a tagged run");
    let (region, bulk_action): (String, String) = sqlx::query_as(
        r#"SELECT region, "bulkActionGroupIds"[1] FROM "TaskRun" WHERE "runtimeEnvironmentId" = $1
             AND region IS NOT NULL AND cardinality("bulkActionGroupIds") > 0 LIMIT 1"#,
    )
    .bind(&environment)
    .fetch_one(stack.databases.legacy.pool())
    .await
    .expect("a run with a region and a bulk action");
    // A run without a region of its own displays its worker queue without the `:suffix`.
    let queue_region: String = sqlx::query_scalar(
        r#"SELECT split_part("masterQueue", ':', 1) FROM "TaskRun"
           WHERE "runtimeEnvironmentId" = $1 AND region IS NULL AND "masterQueue" LIKE '%:%' LIMIT 1"#,
    )
    .bind(&environment)
    .fetch_one(stack.databases.legacy.pool())
    .await
    .expect("a run whose region comes from a suffixed worker queue");
    let batch_body = demo.new_batch_id.trim_start_matches("batch_").to_owned();
    let displayed_region = |region: &str| {
        format!(
            r#"AND CASE WHEN region <> '' THEN region ELSE split_part("masterQueue", ':', 1) END = '{region}'"#
        )
    };
    let cases: Vec<(ListRunsRequest, String)> = vec![
        (
            ListRunsRequest {
                statuses: vec!["COMPLETED".into(), "CRASHED".into()],
                ..request(&environment)
            },
            r#"AND status IN ('COMPLETED_SUCCESSFULLY', 'CRASHED')"#.into(),
        ),
        (
            ListRunsRequest {
                statuses: vec!["WAITING".into()],
                api_version: pb::ApiVersion::ApiVersion20250716 as i32,
                status_filter_mode: pb::StatusFilterMode::Complete as i32,
                ..request(&environment)
            },
            r#"AND status IN ('WAITING_TO_RESUME', 'PAUSED')"#.into(),
        ),
        (
            ListRunsRequest {
                statuses: vec!["FAILED".into()],
                ..request(&environment)
            },
            r#"AND status = 'COMPLETED_WITH_ERRORS'"#.into(),
        ),
        (
            ListRunsRequest {
                tags: vec![tag.clone()],
                ..request(&environment)
            },
            format!(r#"AND "runTags" && ARRAY['{tag}']"#),
        ),
        (
            ListRunsRequest {
                task_identifiers: vec![task.clone()],
                ..request(&environment)
            },
            format!(r#"AND "taskIdentifier" = '{task}'"#),
        ),
        (
            ListRunsRequest {
                queues: vec![queue.clone()],
                ..request(&environment)
            },
            format!("AND queue = '{queue}'"),
        ),
        (
            ListRunsRequest {
                machines: vec![machine.clone()],
                ..request(&environment)
            },
            format!(r#"AND "machinePreset" = '{machine}'"#),
        ),
        (
            ListRunsRequest {
                versions: vec![version.clone()],
                ..request(&environment)
            },
            format!(r#"AND "taskVersion" = '{version}'"#),
        ),
        (
            ListRunsRequest {
                is_test: Some(true),
                ..request(&environment)
            },
            r#"AND "isTest""#.into(),
        ),
        (
            ListRunsRequest {
                regions: vec![region.clone()],
                ..request(&environment)
            },
            displayed_region(&region),
        ),
        (
            ListRunsRequest {
                regions: vec![queue_region.clone()],
                ..request(&environment)
            },
            displayed_region(&queue_region),
        ),
        (
            ListRunsRequest {
                bulk_action_id: Some(bulk_action.clone()),
                ..request(&environment)
            },
            format!(r#"AND '{bulk_action}' = ANY("bulkActionGroupIds")"#),
        ),
        (
            ListRunsRequest {
                bulk_action_id: Some(format!("bulk_{bulk_action}")),
                ..request(&environment)
            },
            format!(r#"AND '{bulk_action}' = ANY("bulkActionGroupIds")"#),
        ),
        (
            ListRunsRequest {
                batch_id: Some(demo.new_batch_id.clone()),
                ..request(&environment)
            },
            format!(r#"AND "batchId" = '{batch_body}'"#),
        ),
    ];
    for (filtered, predicate) in cases {
        let expected = stack
            .databases
            .expected_ids(&format!("{ALL_RUNS} {predicate}"), &environment)
            .await;
        assert!(
            !expected.is_empty(),
            "the demo data has runs for `{predicate}`"
        );
        assert_eq!(
            all_ids(&mut client, filtered).await,
            expected,
            "filter `{predicate}`"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn schedule_filters_resolve_friendly_ids_through_the_control_plane() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    let schedule_id: String =
        sqlx::query_scalar(r#"SELECT id FROM "TaskSchedule" WHERE "friendlyId" = $1"#)
            .bind(&demo.schedule_id)
            .fetch_one(stack.databases.control_plane.pool())
            .await
            .expect("the schedule exists");
    let expected = stack
        .databases
        .expected_ids(
            &format!(r#"{ALL_RUNS} AND "scheduleId" = '{schedule_id}'"#),
            &environment,
        )
        .await;
    let mut client = stack.client().await;
    let scheduled = ListRunsRequest {
        schedule_id: Some(demo.schedule_id.clone()),
        ..request(&environment)
    };
    assert!(!expected.is_empty());
    assert_eq!(all_ids(&mut client, scheduled).await, expected);
    let unknown = ListRunsRequest {
        schedule_id: Some("sched_doesnotexist".into()),
        ..request(&environment)
    };
    assert!(
        all_ids(&mut client, unknown).await.is_empty(),
        "an unknown schedule matches nothing"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn time_filters_bound_the_window() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let mut client = stack.client().await;
    let now = chrono::Utc::now();
    let after = now - chrono::TimeDelta::days(2);
    let before = now - chrono::TimeDelta::days(1);
    let expected = stack
        .databases
        .expected_ids(
            &format!(
                r#"{ALL_RUNS} AND "createdAt" >= '{}' AND "createdAt" <= '{}'"#,
                after.naive_utc(),
                before.naive_utc()
            ),
            &environment,
        )
        .await;
    let timestamp = |at: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    };
    let windowed = ListRunsRequest {
        created_after: Some(timestamp(after)),
        created_before: Some(timestamp(before)),
        ..request(&environment)
    };
    assert!(!expected.is_empty());
    assert_eq!(all_ids(&mut client, windowed).await, expected);

    let last_hour = ListRunsRequest {
        period: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
        ..request(&environment)
    };
    let recent = all_ids(&mut client, last_hour).await;
    let everything = all_ids(&mut client, request(&environment)).await;
    assert!(
        recent.len() < everything.len(),
        "a one-hour period narrows the default seven days"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn tampered_foreign_and_mismatched_page_tokens_are_refused() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    let mut client = stack.client().await;
    let first = list(
        &mut client,
        ListRunsRequest {
            page_size: 10,
            ..request(&environment)
        },
    )
    .await
    .expect("a page");
    let token = first.next_page_token.clone();
    assert!(!token.is_empty());

    let mut tampered = token.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let abuses = [
        ListRunsRequest {
            page_token: String::from_utf8(tampered).unwrap_or_default(),
            ..request(&environment)
        },
        ListRunsRequest {
            page_token: token.clone(),
            ..request(&demo.development_environment_id)
        },
        ListRunsRequest {
            page_token: token.clone(),
            tags: vec!["other".into()],
            ..request(&environment)
        },
        ListRunsRequest {
            page_token: "not a token".into(),
            ..request(&environment)
        },
    ];
    for abuse in abuses {
        let status = list(&mut client, abuse).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason(&status), "INVALID_PAGE_TOKEN");
    }
    let resized = list(
        &mut client,
        ListRunsRequest {
            page_token: token,
            page_size: 3,
            ..request(&environment)
        },
    )
    .await
    .expect("changing only the page size is allowed");
    assert_eq!(resized.runs.len(), 3);
    stack.shutdown().await;
}

#[tokio::test]
async fn lists_never_show_another_environments_runs_and_carry_the_environment_block() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let mut client = stack.client().await;
    for environment in [
        &demo.production_environment_id,
        &demo.development_environment_id,
        &demo.orphaned_development_environment_id,
    ] {
        let expected = stack.databases.expected_ids(ALL_RUNS, environment).await;
        let runs = all_ids(&mut client, request(environment)).await;
        assert_eq!(runs, expected, "exactly the environment's own runs");
    }
    let development = list(&mut client, request(&demo.development_environment_id))
        .await
        .expect("a page");
    let block = development
        .runs
        .first()
        .and_then(|run| run.environment.clone())
        .expect("an environment block");
    assert_eq!(block.id, demo.development_environment_id);
    assert!(
        block
            .user
            .as_deref()
            .is_some_and(|user| !user.is_empty() && user != "Deleted")
    );
    let orphaned = list(
        &mut client,
        request(&demo.orphaned_development_environment_id),
    )
    .await
    .expect("a page");
    let block = orphaned
        .runs
        .first()
        .and_then(|run| run.environment.clone())
        .expect("an environment block");
    assert_eq!(block.user.as_deref(), Some("Deleted"));
    let production = list(&mut client, request(&demo.production_environment_id))
        .await
        .expect("a page");
    let block = production
        .runs
        .first()
        .and_then(|run| run.environment.clone())
        .expect("an environment block");
    assert_eq!(
        block.user, None,
        "only DEVELOPMENT environments name a user"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn list_items_hide_stream_keys_and_show_the_task_version() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let mut client = stack.client().await;
    let runs = all_ids(&mut client, request(&demo.production_environment_id)).await;
    let position = runs
        .iter()
        .position(|id| id == &demo.new_run_id)
        .expect("the highlighted run is listed");
    let page = list(
        &mut client,
        ListRunsRequest {
            page_size: 100,
            ..request(&demo.production_environment_id)
        },
    )
    .await
    .expect("a page");
    let mut listed = page.runs;
    let mut token = page.next_page_token;
    while listed.len() <= position && !token.is_empty() {
        let next = list(
            &mut client,
            ListRunsRequest {
                page_size: 100,
                page_token: token,
                ..request(&demo.production_environment_id)
            },
        )
        .await
        .expect("a page");
        listed.extend(next.runs);
        token = next.next_page_token;
    }
    let run = &listed[position];
    assert!(
        run.metadata
            .as_deref()
            .is_some_and(|metadata| !metadata.contains("$$streams")),
        "{:?}",
        run.metadata
    );
    assert!(run.version.is_some());
    assert!(!run.task_kind.is_empty());
    assert!(
        run.finished_at.is_some(),
        "a completed run shows when it finished"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn hostile_filters_are_invalid_arguments_naming_their_field_and_the_server_keeps_serving() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let mut client = stack.client().await;
    let timestamp = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
    let cases = [
        (
            ListRunsRequest {
                period: Some(prost_types::Duration {
                    seconds: 10_000_000_000_000,
                    nanos: 0,
                }),
                ..request(&environment)
            },
            "period",
        ),
        (
            ListRunsRequest {
                created_after: Some(timestamp(-300_000_000_000)),
                ..request(&environment)
            },
            "created_after",
        ),
        (
            ListRunsRequest {
                tags: vec!["ok".into(), "nul\0inside".into()],
                ..request(&environment)
            },
            "tags[1]",
        ),
        (
            ListRunsRequest {
                tags: (0..1_000).map(|n| format!("tag-{n}")).collect(),
                ..request(&environment)
            },
            "tags",
        ),
        (
            ListRunsRequest {
                queues: vec!["q".repeat(4_096)],
                ..request(&environment)
            },
            "queues[0]",
        ),
        (
            ListRunsRequest {
                bulk_action_id: Some("bulk_\0".into()),
                ..request(&environment)
            },
            "bulk_action_id",
        ),
    ];
    for (hostile, field) in cases {
        let status = list(&mut client, hostile).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(reason(&status), "INVALID_ARGUMENT", "{field}");
        let violations = tonic_types::StatusExt::get_error_details(&status)
            .bad_request()
            .map(|bad| bad.field_violations.clone())
            .unwrap_or_default();
        assert_eq!(
            violations.first().map(|v| v.field.as_str()),
            Some(field),
            "{status:?}"
        );
    }
    // No panic, no poisoned connection: the next ordinary call answers.
    let page = list(&mut client, request(&environment)).await;
    assert!(page.is_ok(), "{page:?}");
    stack.shutdown().await;
}

#[tokio::test]
async fn with_a_small_scan_budget_a_rare_status_comes_in_short_pages_that_miss_nothing() {
    let config = runview::config::Config {
        list_scan_budget: 20,
        ..crate::harness::test_config()
    };
    let stack = TestStack::start_with(config).await;
    let environment = stack.demo().production_environment_id.clone();
    let expected = stack
        .databases
        .expected_ids(&format!("{ALL_RUNS} AND status = 'CRASHED'"), &environment)
        .await;
    assert!(!expected.is_empty(), "the demo has crashed runs");
    let mut client = stack.client().await;
    let pages = walk_forward(
        &mut client,
        ListRunsRequest {
            statuses: vec!["CRASHED".into()],
            page_size: 10,
            ..request(&environment)
        },
    )
    .await;
    assert_eq!(pages.concat(), expected);
    assert!(
        pages.iter().any(|page| page.len() < 10) && pages.len() > expected.len().div_ceil(10),
        "walks of 20 runs per store end pages early: {:?}",
        pages.iter().map(Vec::len).collect::<Vec<_>>()
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn an_old_batch_filters_runs_by_its_friendly_id() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let legacy = stack.databases.legacy.pool();
    // The oldest batches have a nanoid friendly id beside their cuid id.
    let (id, friendly) = ("cm0oldbatch000000000000001", "batch_V1StGXR8Z5jdHi6BmyT2a");
    sqlx::query(
        r#"INSERT INTO "BatchTaskRun" (id, "friendlyId", "runtimeEnvironmentId", status,
               "runCount", "batchVersion", "createdAt", "updatedAt")
           VALUES ($1, $2, $3, 'COMPLETED', 3, 'v1', now(), now())"#,
    )
    .bind(id)
    .bind(friendly)
    .bind(&environment)
    .execute(legacy)
    .await
    .expect("an old batch");
    let members: Vec<String> = sqlx::query_scalar(
        r#"UPDATE "TaskRun" SET "batchId" = $1
           WHERE id IN (SELECT id FROM "TaskRun" WHERE "runtimeEnvironmentId" = $2
                        AND "createdAt" > now() - interval '1 day' LIMIT 3)
           RETURNING "friendlyId""#,
    )
    .bind(id)
    .bind(&environment)
    .fetch_all(legacy)
    .await
    .expect("runs of the old batch");
    let mut client = stack.client().await;
    let mut listed = all_ids(
        &mut client,
        ListRunsRequest {
            batch_id: Some(friendly.to_owned()),
            ..request(&environment)
        },
    )
    .await;
    listed.sort();
    let mut expected = members;
    expected.sort();
    assert_eq!(listed, expected);
    stack.shutdown().await;
}
