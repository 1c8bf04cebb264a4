//! ListBatches through the real server: paging across stores, run counts over every store, the
//! empty state, and refusing partial counts when a store is down.

use std::collections::HashMap;

use runview::proto::read_service_client::ReadServiceClient;
use runview::proto::{self as pb, ListBatchesRequest};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{TestStack, reason};

const ALL_BATCHES: &str =
    r#"SELECT "friendlyId", "createdAt", id FROM "BatchTaskRun" WHERE "runtimeEnvironmentId" = $1"#;

fn request(environment_id: &str) -> ListBatchesRequest {
    ListBatchesRequest {
        environment_id: environment_id.to_owned(),
        ..ListBatchesRequest::default()
    }
}

async fn all_batches(
    client: &mut ReadServiceClient<Channel>,
    mut request: ListBatchesRequest,
) -> Vec<pb::BatchSummary> {
    let mut batches = Vec::new();
    loop {
        let page = client
            .list_batches(request.clone())
            .await
            .expect("a page")
            .into_inner();
        assert!(page.has_any_batches);
        batches.extend(page.batches);
        if page.next_page_token.is_empty() {
            return batches;
        }
        request.page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn batches_page_across_both_stores_in_order() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let expected = stack
        .databases
        .expected_ids(ALL_BATCHES, &environment)
        .await;
    let mut client = stack.client().await;
    let batches = all_batches(
        &mut client,
        ListBatchesRequest {
            page_size: 3,
            ..request(&environment)
        },
    )
    .await;
    let ids: Vec<String> = batches.iter().map(|batch| batch.id.clone()).collect();
    assert_eq!(ids, expected);
    for batch in &batches {
        let finished = !matches!(
            batch.status(),
            pb::BatchStatus::Pending | pb::BatchStatus::Processing
        );
        assert_eq!(batch.has_finished, finished);
        assert_eq!(batch.finished_at.is_some(), finished);
        assert!(batch.run_counts.is_empty(), "counts only when asked");
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn run_counts_sum_every_store() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    let mut client = stack.client().await;
    let batches = all_batches(
        &mut client,
        ListBatchesRequest {
            include_run_counts: true,
            ..request(&environment)
        },
    )
    .await;
    for batch in &batches {
        let body = batch.id.trim_start_matches("batch_");
        let mut expected: HashMap<String, i64> = HashMap::new();
        for store in [&stack.databases.legacy, &stack.databases.new] {
            let rows: Vec<(String, i64)> = sqlx::query_as(
                r#"SELECT status::text, count(*) FROM "TaskRun" WHERE "runtimeEnvironmentId" = $1 AND "batchId" = $2 GROUP BY 1"#,
            )
            .bind(&environment)
            .bind(body)
            .fetch_all(store.pool())
            .await
            .expect("counts");
            for (status, count) in rows {
                *expected.entry(status).or_default() += count;
            }
        }
        assert_eq!(batch.run_counts, expected, "counts of {}", batch.id);
    }
    assert!(
        batches
            .iter()
            .any(|batch| batch.id == demo.cuid_batch_in_new_id && !batch.run_counts.is_empty())
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn status_and_id_filters_narrow_the_list() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = demo.production_environment_id.clone();
    let mut client = stack.client().await;
    let partial = all_batches(
        &mut client,
        ListBatchesRequest {
            statuses: vec![pb::BatchStatus::PartialFailed as i32],
            ..request(&environment)
        },
    )
    .await;
    let expected = stack
        .databases
        .expected_ids(
            &format!("{ALL_BATCHES} AND status = 'PARTIAL_FAILED'"),
            &environment,
        )
        .await;
    assert_eq!(
        partial
            .iter()
            .map(|batch| batch.id.clone())
            .collect::<Vec<_>>(),
        expected
    );
    let one = all_batches(
        &mut client,
        ListBatchesRequest {
            batch_id: Some(demo.legacy_batch_id.clone()),
            ..request(&environment)
        },
    )
    .await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, demo.legacy_batch_id);
    stack.shutdown().await;
}

#[tokio::test]
async fn an_environment_without_batches_says_so_for_the_empty_state() {
    let stack = TestStack::start().await;
    let mut client = stack.client().await;
    let page = client
        .list_batches(request("cnobatches000000000000000"))
        .await
        .expect("answers")
        .into_inner();
    assert!(page.batches.is_empty());
    assert!(!page.has_any_batches);
    assert!(page.next_page_token.is_empty() && page.previous_page_token.is_empty());
    stack.shutdown().await;
}

#[tokio::test]
async fn run_counts_fail_rather_than_come_back_partial_when_a_store_is_down() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    stack.databases.drop_new_store().await;
    let mut client = stack.client().await;
    let status = client
        .list_batches(ListBatchesRequest {
            include_run_counts: true,
            ..request(&environment)
        })
        .await
        .expect_err("no partial answer");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "STORE_UNAVAILABLE");
    stack.shutdown().await;
}
