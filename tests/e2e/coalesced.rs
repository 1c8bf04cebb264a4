//! Coalesced lookups through the real server: GetRun and GetWaitpoint calls made all at once (so
//! the stores answer many of them per statement) answer exactly as the same calls one by one.

use std::future::Future;

use runview::proto::{GetRunRequest, GetWaitpointRequest, RunView};
use tonic::Code;

use crate::harness::{TestStack, reason};

/// What a call answered, comparable: the message, or the status code and reason.
type Answer<T> = Result<T, (Code, String)>;

fn answer<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Answer<T> {
    result
        .map(tonic::Response::into_inner)
        .map_err(|status| (status.code(), reason(&status)))
}

/// `count` friendly ids of `table` in `pool`, in id order.
async fn friendly_ids(pool: &sqlx::PgPool, table: &str, count: i64) -> Vec<String> {
    sqlx::query_scalar(&format!(
        r#"SELECT "friendlyId" FROM "{table}" ORDER BY id LIMIT $1"#
    ))
    .bind(count)
    .fetch_all(pool)
    .await
    .expect("ids of the seeded records")
}

/// The answers of `calls` made one by one, then of the same calls made all at once.
async fn one_by_one_then_together<T, F: Future<Output = Answer<T>>>(
    calls: impl Fn() -> Vec<F>,
) -> (Vec<Answer<T>>, Vec<Answer<T>>) {
    let mut one_by_one = Vec::new();
    for call in calls() {
        one_by_one.push(call.await);
    }
    let together = futures::future::join_all(calls()).await;
    (one_by_one, together)
}

#[tokio::test]
async fn get_runs_made_all_at_once_answer_as_one_by_one() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let databases = &stack.databases;
    let mut run_ids = vec![
        demo.legacy_run_id.clone(),
        demo.new_run_id.clone(),
        demo.misfiled_new_run_id.clone(),
        demo.misfiled_legacy_run_id.clone(),
        demo.wide_parent_run_id.clone(),
        demo.child_run_id.clone(),
        "run_doesnotexist0000000000".to_owned(),
    ];
    // 188 calls in all: under `max_concurrent_requests`, so none is shed.
    run_ids.extend(friendly_ids(databases.legacy.pool(), "TaskRun", 20).await);
    run_ids.extend(friendly_ids(databases.new.pool(), "TaskRun", 20).await);
    let mut requests = Vec::new();
    for run_id in &run_ids {
        for environment_id in [
            &demo.production_environment_id,
            &demo.staging_environment_id,
        ] {
            for view in [RunView::Basic, RunView::Full] {
                requests.push(GetRunRequest {
                    environment_id: environment_id.clone(),
                    run_id: run_id.clone(),
                    view: view.into(),
                    ..GetRunRequest::default()
                });
            }
        }
    }
    let client = stack.client().await;

    let (one_by_one, together) = one_by_one_then_together(|| {
        requests
            .iter()
            .map(|request| {
                let (mut client, request) = (client.clone(), request.clone());
                async move { answer(client.get_run(request).await) }
            })
            .collect()
    })
    .await;

    let found = one_by_one.iter().filter(|answer| answer.is_ok()).count();
    assert!(
        found >= 20,
        "{found} of {} calls find their run",
        requests.len()
    );
    for ((request, together), one_by_one) in requests.iter().zip(together).zip(one_by_one) {
        assert_eq!(together, one_by_one, "{request:?}");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn get_waitpoints_made_all_at_once_answer_as_one_by_one() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let databases = &stack.databases;
    let mut waitpoint_ids = vec![
        demo.legacy_waitpoint_id.clone(),
        demo.new_waitpoint_id.clone(),
        "waitpoint_doesnotexist00000000".to_owned(),
    ];
    waitpoint_ids.extend(friendly_ids(databases.legacy.pool(), "Waitpoint", 20).await);
    waitpoint_ids.extend(friendly_ids(databases.new.pool(), "Waitpoint", 20).await);
    let requests: Vec<GetWaitpointRequest> = waitpoint_ids
        .iter()
        .flat_map(|waitpoint_id| {
            [
                &demo.production_environment_id,
                &demo.staging_environment_id,
            ]
            .map(|environment_id| GetWaitpointRequest {
                environment_id: environment_id.clone(),
                waitpoint_id: waitpoint_id.clone(),
            })
        })
        .collect();
    let client = stack.client().await;

    let (one_by_one, together) = one_by_one_then_together(|| {
        requests
            .iter()
            .map(|request| {
                let (mut client, request) = (client.clone(), request.clone());
                async move { answer(client.get_waitpoint(request).await) }
            })
            .collect()
    })
    .await;

    let found = one_by_one.iter().filter(|answer| answer.is_ok()).count();
    assert!(
        found >= 10,
        "{found} of {} calls find their waitpoint",
        requests.len()
    );
    for ((request, together), one_by_one) in requests.iter().zip(together).zip(one_by_one) {
        assert_eq!(together, one_by_one, "{request:?}");
    }
    stack.shutdown().await;
}
