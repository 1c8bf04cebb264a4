//! GetRun through the real server: routing across stores, hydration, views, relations, errors.

use runview::proto::{self as pb, GetRunRequest};
use tonic::Code;
use tonic_types::StatusExt;

use crate::harness::{TestStack, reason, test_config};

fn request(environment_id: &str, run_id: &str) -> GetRunRequest {
    GetRunRequest {
        environment_id: environment_id.to_owned(),
        run_id: run_id.to_owned(),
        ..GetRunRequest::default()
    }
}

async fn get_run(stack: &TestStack, request: GetRunRequest) -> Result<pb::Run, tonic::Status> {
    let mut client = stack.client().await;
    client
        .get_run(request)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn get_run_returns_a_legacy_run_hydrated_from_the_control_plane() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let run = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect("the legacy run is found");

    assert_eq!(run.id, demo.legacy_run_id);
    let (slug, project_ref, organization_slug): (String, String, String) = sqlx::query_as(
        r#"SELECT e.slug, p."externalRef", o.slug FROM "RuntimeEnvironment" e
           JOIN "Project" p ON p.id = e."projectId" JOIN "Organization" o ON o.id = e."organizationId"
           WHERE e.id = $1"#,
    )
    .bind(&demo.production_environment_id)
    .fetch_one(stack.databases.control_plane.pool())
    .await
    .expect("the environment exists");
    let environment = run.environment.expect("the environment block is hydrated");
    assert_eq!(environment.id, demo.production_environment_id);
    assert_eq!(environment.r#type(), pb::EnvironmentType::Production);
    assert_eq!(
        (
            environment.slug,
            environment.project_ref,
            environment.organization_slug
        ),
        (slug, project_ref, organization_slug)
    );

    let (task_identifier, locked_to): (String, Option<String>) = sqlx::query_as(
        r#"SELECT "taskIdentifier", "lockedToVersionId" FROM "TaskRun" WHERE "friendlyId" = $1"#,
    )
    .bind(&demo.legacy_run_id)
    .fetch_one(stack.databases.legacy.pool())
    .await
    .expect("the run is in LEGACY");
    assert_eq!(run.task_identifier, task_identifier);
    let expected_version = match locked_to {
        Some(worker_id) => Some(
            sqlx::query_scalar::<_, String>(
                r#"SELECT version FROM "BackgroundWorker" WHERE id = $1"#,
            )
            .bind(worker_id)
            .fetch_one(stack.databases.control_plane.pool())
            .await
            .expect("the worker exists"),
        ),
        None => None,
    };
    assert_eq!(
        run.version, expected_version,
        "the version is resolved from the locked worker"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn get_run_finds_new_runs_and_misfiled_runs_in_either_store() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    for run_id in [&demo.new_run_id, &demo.misfiled_new_run_id] {
        let run = get_run(&stack, request(&demo.production_environment_id, run_id))
            .await
            .unwrap_or_else(|status| panic!("{run_id} is found: {status:?}"));
        assert_eq!(&run.id, run_id);
    }
    // The bare id (no `run_` prefix) names the same run.
    let bare = demo.new_run_id.trim_start_matches("run_");
    let run = get_run(&stack, request(&demo.production_environment_id, bare))
        .await
        .expect("bare ids work");
    assert_eq!(run.id, demo.new_run_id);
    stack.shutdown().await;
}

#[tokio::test]
async fn the_full_view_adds_payload_and_output_and_the_basic_view_does_not() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let basic = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect("found");
    assert_eq!((basic.payload, basic.output), (None, None));

    let full = get_run(
        &stack,
        GetRunRequest {
            view: pb::RunView::Full as i32,
            ..request(&demo.production_environment_id, &demo.legacy_run_id)
        },
    )
    .await
    .expect("found");
    assert_eq!(full.status(), pb::RunStatus::CompletedSuccessfully);
    assert!(full.is_success && full.is_completed && !full.is_failed);
    assert!(
        full.payload.is_some() && full.payload_type.is_some(),
        "payload in the full view"
    );
    assert!(
        full.output.is_some() && full.output_type.is_some(),
        "output of a successful run"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn relations_carry_parent_root_and_children_capped_at_the_default() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let parent = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.wide_parent_run_id),
    )
    .await
    .expect("found");
    let relations = parent.relations.expect("relations");
    assert_eq!(
        relations.children.len(),
        100,
        "children are capped at 100 by default"
    );
    assert!(relations.children_truncated);
    let created: Vec<_> = relations
        .children
        .iter()
        .map(|child| child.created_at.map(|t| (t.seconds, t.nanos)))
        .collect();
    assert!(
        created.windows(2).all(|pair| pair[0] <= pair[1]),
        "children are ordered by createdAt"
    );

    let child = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.child_run_id),
    )
    .await
    .expect("found");
    let relations = child.relations.expect("relations");
    let parent = relations.parent.expect("a child has a parent");
    let root = relations.root.expect("a child has a root");
    assert!(child.depth >= 1);
    assert!(!parent.id.is_empty() && root.id.starts_with("run_"));
    stack.shutdown().await;
}

#[tokio::test]
async fn the_children_cap_is_configurable() {
    let mut config = test_config();
    config.children_limit = 5;
    let stack = TestStack::start_with(config).await;
    let demo = stack.demo();
    let parent = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.wide_parent_run_id),
    )
    .await
    .expect("found");
    let relations = parent.relations.expect("relations");
    assert_eq!(relations.children.len(), 5);
    assert!(relations.children_truncated);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_run_of_another_environment_is_not_found_exactly_like_a_missing_one() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let foreign = get_run(
        &stack,
        request(&demo.development_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect_err("another environment's run is hidden");
    let missing = get_run(
        &stack,
        request(
            &demo.production_environment_id,
            "run_cmissing000000000000000000",
        ),
    )
    .await
    .expect_err("a missing run is not found");
    for status in [&foreign, &missing] {
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(reason(status), "RUN_NOT_FOUND");
    }
    assert_eq!(
        foreign.message().replace(&demo.legacy_run_id, "ID"),
        missing
            .message()
            .replace("run_cmissing000000000000000000", "ID")
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn malformed_ids_are_invalid_arguments_that_name_the_field() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    for (request, field) in [
        (
            request(&demo.production_environment_id, "run_not-an-id"),
            "run_id",
        ),
        (
            request(
                &demo.production_environment_id,
                "batch_clxyz0123456789abcdefghij",
            ),
            "run_id",
        ),
        (request("", &demo.legacy_run_id), "environment_id"),
        (
            GetRunRequest {
                api_version: 42,
                ..request(&demo.production_environment_id, &demo.legacy_run_id)
            },
            "api_version",
        ),
    ] {
        let status = get_run(&stack, request).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(reason(&status), "INVALID_ARGUMENT");
        let details = status.get_error_details();
        let violations = &details
            .bad_request()
            .expect("a BadRequest detail")
            .field_violations;
        assert_eq!(violations[0].field, field);
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_second_get_run_in_the_same_environment_makes_no_control_plane_query() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    get_run(
        &stack,
        request(&demo.production_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect("found");
    let after_first = stack.server.resolver_stats();
    get_run(
        &stack,
        request(&demo.production_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect("found");
    get_run(
        &stack,
        request(&demo.production_environment_id, &demo.new_run_id),
    )
    .await
    .expect("found");
    let after_more = stack.server.resolver_stats();
    assert!(
        after_first.environments.loads >= 1,
        "the first request loaded the environment"
    );
    assert_eq!(
        after_more.environments.loads, after_first.environments.loads,
        "no new environment query"
    );
    assert!(after_more.environments.hits > after_first.environments.hits);
    stack.shutdown().await;
}

#[tokio::test]
async fn api_versions_map_a_waiting_run_differently() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    sqlx::query(r#"UPDATE "TaskRun" SET status = 'WAITING_TO_RESUME' WHERE "friendlyId" = $1"#)
        .bind(&demo.legacy_run_id)
        .execute(stack.databases.legacy.pool())
        .await
        .expect("updated");
    let v1 = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect("found");
    assert_eq!(
        (v1.api_status.as_str(), v1.is_executing, v1.is_waiting),
        ("FROZEN", true, false)
    );
    let v2 = get_run(
        &stack,
        GetRunRequest {
            api_version: pb::ApiVersion::ApiVersion20250716 as i32,
            ..request(&demo.production_environment_id, &demo.legacy_run_id)
        },
    )
    .await
    .expect("found");
    assert_eq!(
        (v2.api_status.as_str(), v2.is_executing, v2.is_waiting),
        ("WAITING", false, true)
    );
    assert_eq!(v2.status(), pb::RunStatus::WaitingToResume);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_store_that_goes_away_answers_unavailable_not_not_found() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    stack.databases.drop_new_store().await;
    let status = get_run(
        &stack,
        request(&demo.production_environment_id, &demo.new_run_id),
    )
    .await
    .expect_err("the NEW store cannot answer");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), "STORE_UNAVAILABLE");
    assert!(status.get_error_details().retry_info().is_some());
    // LEGACY ids whose home store still answers keep working.
    get_run(
        &stack,
        request(&demo.production_environment_id, &demo.legacy_run_id),
    )
    .await
    .expect("LEGACY still serves");
    stack.shutdown().await;
}
