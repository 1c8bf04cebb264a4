//! The upstream's real schemas through the real server: untagged runs and tokens (NULL tag
//! lists), LEGACY's implicit connection table, V1 attempt counts, the primaries asked on a miss,
//! and the boot check that refuses a schema missing a column.

use runview::proto::{self as pb, GetRunRequest, GetWaitpointRequest, ListRunsRequest};
use runview::server;
use secrecy::SecretString;
use sqlx::PgPool;
use tonic::Code;

use crate::harness::{SeededDatabases, TestStack, test_config};

async fn get_run(stack: &TestStack, environment_id: &str, run_id: &str) -> pb::Run {
    let mut client = stack.client().await;
    let request = GetRunRequest {
        environment_id: environment_id.to_owned(),
        run_id: run_id.to_owned(),
        ..GetRunRequest::default()
    };
    client
        .get_run(request)
        .await
        .expect("GetRun answers")
        .into_inner()
}

async fn get_waitpoint(
    stack: &TestStack,
    environment_id: &str,
    waitpoint_id: &str,
) -> Result<pb::Waitpoint, tonic::Status> {
    let mut client = stack.client().await;
    let request = GetWaitpointRequest {
        environment_id: environment_id.to_owned(),
        waitpoint_id: waitpoint_id.to_owned(),
    };
    client
        .get_waitpoint(request)
        .await
        .map(tonic::Response::into_inner)
}

/// (environment, friendly id) of the first run that `condition` (on "TaskRun" `t`) picks.
async fn a_run(pool: &PgPool, condition: &str) -> (String, String) {
    sqlx::query_as(&format!(
        r#"SELECT t."runtimeEnvironmentId", t."friendlyId" FROM "TaskRun" t WHERE {condition}
           ORDER BY t.id LIMIT 1"#
    ))
    .fetch_one(pool)
    .await
    .unwrap_or_else(|error| panic!("the demo data has a run where {condition}: {error}"))
}

#[tokio::test]
async fn untagged_runs_with_untagged_relations_answer_in_both_stores() {
    let stack = TestStack::start().await;
    let untagged_with_untagged_parent = r#"t."runTags" IS NULL AND EXISTS (
        SELECT FROM "TaskRun" p WHERE p.id = t."parentTaskRunId" AND p."runTags" IS NULL)"#;
    for pool in [stack.databases.legacy.pool(), stack.databases.new.pool()] {
        let (environment, run_id) = a_run(pool, untagged_with_untagged_parent).await;
        let run = get_run(&stack, &environment, &run_id).await;
        assert!(run.tags.is_empty(), "{run_id}");
        let parent = run.relations.and_then(|relations| relations.parent);
        assert!(parent.is_some_and(|parent| parent.tags.is_empty()));

        // A whole list page of the environment, untagged runs included, answers too.
        let mut client = stack.client().await;
        let page = client
            .list_runs(ListRunsRequest {
                environment_id: environment.clone(),
                page_size: 100,
                ..ListRunsRequest::default()
            })
            .await
            .expect("ListRuns answers")
            .into_inner();
        assert!(page.runs.iter().any(|run| run.tags.is_empty()));
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_v1_run_shows_the_number_of_its_attempt_rows() {
    let stack = TestStack::start().await;
    let pool = stack.databases.legacy.pool();
    let (environment, run_id) = a_run(
        pool,
        r#"t.engine = 'V1' AND EXISTS (SELECT FROM "TaskRunAttempt" a WHERE a."taskRunId" = t.id)"#,
    )
    .await;
    let attempts: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM "TaskRunAttempt" a JOIN "TaskRun" t ON t.id = a."taskRunId"
           WHERE t."friendlyId" = $1"#,
    )
    .bind(&run_id)
    .fetch_one(pool)
    .await
    .expect("attempts");
    let run = get_run(&stack, &environment, &run_id).await;
    assert_eq!(i64::from(run.attempt_count), attempts);
    stack.shutdown().await;
}

/// The five most recent runs of `environment` connected to the token in either store, as the
/// databases hold them.
async fn most_recent_connected_runs(
    databases: &SeededDatabases,
    environment: &str,
    waitpoint_id: &str,
) -> Vec<String> {
    let body = waitpoint_id.trim_start_matches("waitpoint_");
    let stores = [
        (
            databases.legacy.pool(),
            r#""_WaitpointRunConnections" c ON c."A" = r.id AND c."B""#,
        ),
        (
            databases.new.pool(),
            r#""WaitpointRunConnection" c ON c."taskRunId" = r.id AND c."waitpointId""#,
        ),
    ];
    let mut runs: Vec<(chrono::NaiveDateTime, String)> = Vec::new();
    for (pool, connection) in stores {
        let rows: Vec<(chrono::NaiveDateTime, String)> = sqlx::query_as(&format!(
            r#"SELECT r."createdAt", r.id FROM "TaskRun" r JOIN {connection} = $1
               WHERE r."runtimeEnvironmentId" = $2"#
        ))
        .bind(body)
        .bind(environment)
        .fetch_all(pool)
        .await
        .expect("connections");
        runs.extend(rows);
    }
    runs.sort_by(|a, b| b.cmp(a));
    runs.into_iter()
        .take(5)
        .map(|(_, id)| format!("run_{id}"))
        .collect()
}

#[tokio::test]
async fn connected_runs_are_the_five_most_recent_from_each_stores_own_table() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = &demo.production_environment_id;
    for waitpoint_id in [&demo.legacy_waitpoint_id, &demo.new_waitpoint_id] {
        let waitpoint = get_waitpoint(&stack, environment, waitpoint_id)
            .await
            .expect("found");
        let expected =
            most_recent_connected_runs(&stack.databases, environment, waitpoint_id).await;
        assert_eq!(
            expected.len(),
            5,
            "the demo connects more runs than are shown"
        );
        assert_eq!(waitpoint.connected_run_ids, expected);
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn untagged_tokens_answer_in_both_stores() {
    let stack = TestStack::start().await;
    for pool in [stack.databases.legacy.pool(), stack.databases.new.pool()] {
        let (environment, waitpoint_id): (String, String) = sqlx::query_as(
            r#"SELECT "environmentId", "friendlyId" FROM "Waitpoint"
               WHERE type = 'MANUAL' AND tags IS NULL ORDER BY id LIMIT 1"#,
        )
        .fetch_one(pool)
        .await
        .expect("the demo data has untagged tokens");
        let waitpoint = get_waitpoint(&stack, &environment, &waitpoint_id)
            .await
            .expect("found");
        assert!(waitpoint.tags.is_empty());
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_token_written_to_the_primary_only_is_found_there() {
    let databases = SeededDatabases::create().await;
    let primary =
        runview_localdb::testing::TestDatabase::create(&[runview_localdb::Schema::Full]).await;
    let environment = databases.demo.production_environment_id.clone();
    let body = "cprimaryonly0000000000001";
    sqlx::query(
        r#"INSERT INTO "Waitpoint" (id, "friendlyId", type, "environmentId", "projectId",
             "idempotencyKey", "userProvidedIdempotencyKey", "updatedAt")
           VALUES ($1, 'waitpoint_' || $1, 'MANUAL', $2, 'project', 'key', false, now())"#,
    )
    .bind(body)
    .bind(&environment)
    .execute(primary.pool())
    .await
    .expect("a token on the primary");
    let waitpoint_id = format!("waitpoint_{body}");

    let without_primary = TestStack::over(databases, test_config(), |_| {}).await;
    let missing = get_waitpoint(&without_primary, &environment, &waitpoint_id)
        .await
        .expect_err("the replicas do not have it yet");
    assert_eq!(missing.code(), Code::NotFound);

    let databases = without_primary.stop().await;
    let primary_url = SecretString::from(primary.url().to_owned());
    let with_primary = TestStack::over(databases, test_config(), |urls| {
        urls.legacy_primary = Some(primary_url);
    })
    .await;
    let found = get_waitpoint(&with_primary, &environment, &waitpoint_id)
        .await
        .expect("read from the primary");
    assert_eq!(found.id, waitpoint_id);
    with_primary.shutdown().await;
}

#[tokio::test]
async fn the_server_refuses_to_start_on_a_control_plane_without_a_column_it_reads() {
    let databases = SeededDatabases::create().await;
    sqlx::raw_sql(r#"ALTER TABLE "User" DROP COLUMN "displayName" CASCADE"#)
        .execute(databases.control_plane.pool())
        .await
        .expect("drop a column");
    let error = server::start(&test_config(), &databases.urls())
        .await
        .err()
        .expect("the boot check refuses");
    let message = format!("{error:#}");
    assert!(
        message.contains(
            "the control-plane database does not have what runview reads: column \
             \"User\".\"displayName\": expected text, found no such column"
        ),
        "{message}"
    );
    assert!(!message.contains("postgres://"), "{message}");
}

#[tokio::test]
async fn runs_show_errors_tags_metadata_and_related_runs_as_the_upstream_api_does() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    let pool = stack.databases.new.pool();
    let body = demo.child_run_id.trim_start_matches("run_");
    sqlx::query(
        r#"UPDATE "TaskRun" SET
             error = '{"type":"BUILT_IN_ERROR","name":"UnexpectedExitError",
                       "message":"Unexpected exit with code -1","stackTrace":"killed by SIGKILL"}',
             "runTags" = ARRAY['beta', 'Alpha', 'alpha'],
             metadata = '{"step":1,"$$streams":["logs"],"nested":{"$$streamsVersion":"v1","k":2}}',
             "metadataType" = 'application/json'
           WHERE id = $1"#,
    )
    .bind(body)
    .execute(pool)
    .await
    .expect("shape the child run");

    let run = get_run(&stack, &environment, &demo.child_run_id).await;
    let error = run.error.clone().expect("an error is shown");
    assert_eq!(
        (error.name, error.message.as_str(), error.stack_trace),
        (
            None,
            "trigger.dev internal error (TASK_PROCESS_MAYBE_OOM_KILLED)",
            None
        )
    );
    assert_eq!(run.tags, ["alpha", "Alpha", "beta"]);
    // The retrieve API keeps the stream keys; lists drop them at every depth.
    assert!(run.metadata().contains("$$streams"));

    let parent = run
        .relations
        .and_then(|relations| relations.parent)
        .expect("the child has a parent");
    let parent_body = parent.id.trim_start_matches("run_");
    let (cost, duration, is_test, region, key): (f64, i32, bool, Option<String>, Option<String>) =
        sqlx::query_as(
            r#"SELECT "costInCents", "usageDurationMs", "isTest",
                      NULLIF(CASE WHEN region <> '' THEN region
                                  ELSE split_part("masterQueue", ':', 1) END, ''),
                      coalesce(
                          CASE WHEN jsonb_typeof("idempotencyKeyOptions" -> 'key') = 'string'
                                AND "idempotencyKeyOptions" ->> 'scope' IN ('run', 'attempt', 'global')
                               THEN "idempotencyKeyOptions" ->> 'key' END,
                          "idempotencyKey")
               FROM "TaskRun" WHERE id = $1"#,
        )
        .bind(parent_body)
        .fetch_one(pool)
        .await
        .expect("the parent");
    assert_eq!(parent.cost_in_cents, cost);
    assert_eq!(parent.duration_ms, i64::from(duration));
    assert_eq!(parent.is_test, is_test);
    assert_eq!(parent.region, region);
    if let Some(key) = key {
        assert!(
            parent.idempotency_key.is_some(),
            "the parent shows its key ({key})"
        );
    }

    let mut client = stack.client().await;
    let mut listed = None;
    let mut page_token = String::new();
    while listed.is_none() {
        let page = client
            .list_runs(ListRunsRequest {
                environment_id: environment.clone(),
                page_size: 100,
                page_token: page_token.clone(),
                ..ListRunsRequest::default()
            })
            .await
            .expect("ListRuns answers")
            .into_inner();
        listed = page
            .runs
            .into_iter()
            .find(|run| run.id == demo.child_run_id);
        assert!(
            listed.is_some() || !page.next_page_token.is_empty(),
            "the child is listed"
        );
        page_token = page.next_page_token;
    }
    let listed = listed.expect("found");
    assert_eq!(listed.tags, ["alpha", "Alpha", "beta"]);
    assert_eq!(listed.metadata(), r#"{"step":1,"nested":{"k":2}}"#);
    stack.shutdown().await;
}
