//! GetBatch through the real server on the real schemas: both stores, friendly and bare ids,
//! the views, item errors in index order, NULL columns, the environment block, isolation, and a
//! store outage.

use chrono::NaiveDateTime;
use prost_types::Timestamp;
use runview::proto::{self as pb, GetBatchRequest, ListBatchesRequest};
use sqlx::PgPool;
use tonic::Code;
use tonic_types::StatusExt;

use crate::harness::{TestStack, reason};

fn request(environment_id: &str, batch_id: &str, view: pb::BatchView) -> GetBatchRequest {
    GetBatchRequest {
        environment_id: environment_id.to_owned(),
        batch_id: batch_id.to_owned(),
        view: view as i32,
    }
}

async fn get(stack: &TestStack, request: GetBatchRequest) -> Result<pb::Batch, tonic::Status> {
    let mut client = stack.client().await;
    client
        .get_batch(request)
        .await
        .map(tonic::Response::into_inner)
}

fn timestamp(at: NaiveDateTime) -> Timestamp {
    let at = at.and_utc();
    Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).expect("below a second"),
    }
}

/// A "BatchTaskRun" row as the oracle reads it.
#[derive(sqlx::FromRow)]
struct StoredBatch {
    id: String,
    status: String,
    idempotency_key: Option<String>,
    run_count: i32,
    run_ids: Option<Vec<String>>,
    successful_run_count: Option<i32>,
    failed_run_count: Option<i32>,
    batch_version: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    completed_at: Option<NaiveDateTime>,
    processing_started_at: Option<NaiveDateTime>,
    processing_completed_at: Option<NaiveDateTime>,
}

/// The batch as `store` holds it, without its environment: the oracle GetBatch is compared with.
async fn stored_batch(store: &PgPool, friendly_id: &str, view: pb::BatchView) -> pb::Batch {
    let row: StoredBatch = sqlx::query_as(
        r#"SELECT id, status::text AS status, "idempotencyKey" AS idempotency_key,
                  "runCount" AS run_count, "runIds" AS run_ids,
                  "successfulRunCount" AS successful_run_count,
                  "failedRunCount" AS failed_run_count, "batchVersion" AS batch_version,
                  "createdAt" AS created_at, "updatedAt" AS updated_at,
                  "completedAt" AS completed_at, "processingStartedAt" AS processing_started_at,
                  "processingCompletedAt" AS processing_completed_at
           FROM "BatchTaskRun" WHERE "friendlyId" = $1"#,
    )
    .bind(friendly_id)
    .fetch_one(store)
    .await
    .expect("the batch is in this store");
    let errors: Vec<(String, i32, String, String, Option<String>, NaiveDateTime)> = sqlx::query_as(
        r#"SELECT id, index, "taskIdentifier", error, "errorCode", "createdAt"
               FROM "BatchTaskRunError" WHERE "batchTaskRunId" = $1 ORDER BY index"#,
    )
    .bind(&row.id)
    .fetch_all(store)
    .await
    .expect("the batch's errors");
    let status = pb::BatchStatus::from_str_name(&format!("BATCH_STATUS_{}", row.status))
        .expect("a known status");
    let has_finished = !matches!(
        status,
        pb::BatchStatus::Pending | pb::BatchStatus::Processing
    );
    pb::Batch {
        id: friendly_id.to_owned(),
        status: status as i32,
        idempotency_key: row.idempotency_key,
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        completed_at: row.completed_at.map(timestamp),
        processing_started_at: row.processing_started_at.map(timestamp),
        processing_completed_at: row.processing_completed_at.map(timestamp),
        has_finished,
        finished_at: row
            .completed_at
            .or(has_finished.then_some(row.updated_at))
            .map(timestamp),
        run_count: row.run_count,
        run_ids: match view {
            pb::BatchView::Full => row.run_ids.unwrap_or_default(),
            _ => Vec::new(),
        },
        successful_run_count: row.successful_run_count,
        failed_run_count: row.failed_run_count,
        batch_version: row.batch_version,
        errors: errors
            .into_iter()
            .map(
                |(id, index, task_identifier, error, error_code, created_at)| pb::BatchItemError {
                    id,
                    index,
                    task_identifier,
                    error,
                    error_code,
                    created_at: Some(timestamp(created_at)),
                },
            )
            .collect(),
        environment: None,
    }
}

/// `batch` without its environment, to compare with [`stored_batch`].
fn without_environment(batch: &pb::Batch) -> pb::Batch {
    pb::Batch {
        environment: None,
        ..batch.clone()
    }
}

#[tokio::test]
async fn batches_in_either_store_answer_by_friendly_or_bare_id_as_stored() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = &demo.production_environment_id;
    let databases = &stack.databases;
    for (batch_id, store) in [
        (&demo.legacy_batch_id, databases.legacy.pool()),
        (&demo.new_batch_id, databases.new.pool()),
        (&demo.cuid_batch_in_new_id, databases.new.pool()),
    ] {
        for view in [pb::BatchView::Basic, pb::BatchView::Full] {
            let friendly = get(&stack, request(environment, batch_id, view))
                .await
                .expect("found");
            let bare = batch_id.trim_start_matches("batch_");
            let by_bare_id = get(&stack, request(environment, bare, view))
                .await
                .expect("found by its bare id");
            assert_eq!(friendly, by_bare_id);
            assert_eq!(
                without_environment(&friendly),
                stored_batch(store, batch_id, view).await,
                "{batch_id} {view:?}"
            );
            let environment_block = friendly.environment.expect("always filled");
            assert_eq!(&environment_block.id, environment);
            assert_eq!(environment_block.r#type(), pb::EnvironmentType::Production);
            assert_eq!(environment_block.user_name, None);
        }
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn the_showcase_batches_show_each_failed_item_or_one_collapsed_error() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let environment = &demo.production_environment_id;
    let legacy = get(
        &stack,
        request(environment, &demo.legacy_batch_id, pb::BatchView::Full),
    )
    .await
    .expect("found");
    assert_eq!(legacy.status(), pb::BatchStatus::PartialFailed);
    assert_eq!(legacy.errors.len(), 4);
    assert_eq!(legacy.failed_run_count, Some(4));
    assert!(legacy.errors.iter().any(|error| error.error_code.is_none()));
    let indexes: Vec<i32> = legacy.errors.iter().map(|error| error.index).collect();
    assert!(indexes.is_sorted(), "{indexes:?}");

    let new = get(
        &stack,
        request(environment, &demo.new_batch_id, pb::BatchView::Full),
    )
    .await
    .expect("found");
    assert_eq!(new.failed_run_count, Some(12));
    let [collapsed] = new.errors.as_slice() else {
        panic!("one collapsed error: {:?}", new.errors);
    };
    assert_eq!(
        collapsed.error_code.as_deref(),
        Some("QUEUE_SIZE_LIMIT_EXCEEDED")
    );
    assert!(
        collapsed
            .error
            .ends_with("(12 items in this batch failed with the same error)")
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn the_basic_view_leaves_out_only_the_run_ids() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let batch_id: String = sqlx::query_scalar(
        r#"SELECT "friendlyId" FROM "BatchTaskRun"
           WHERE "runtimeEnvironmentId" = $1 AND cardinality("runIds") > 0 ORDER BY id LIMIT 1"#,
    )
    .bind(&environment)
    .fetch_one(stack.databases.legacy.pool())
    .await
    .expect("the demo data has batches with run ids");
    let full = get(
        &stack,
        request(&environment, &batch_id, pb::BatchView::Full),
    )
    .await
    .expect("found");
    assert!(full.run_ids.iter().all(|id| id.starts_with("run_")));
    assert!(!full.run_ids.is_empty());
    for view in [pb::BatchView::Unspecified, pb::BatchView::Basic] {
        let basic = get(&stack, request(&environment, &batch_id, view))
            .await
            .expect("found");
        assert_eq!(
            basic,
            pb::Batch {
                run_ids: Vec::new(),
                ..full.clone()
            },
            "{view:?}"
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn null_run_ids_and_null_error_columns_read_as_absent_and_errors_come_in_index_order() {
    let stack = TestStack::start().await;
    let environment = stack.demo().production_environment_id.clone();
    let pool = stack.databases.legacy.pool();
    let body = "cnullbatch000000000000001";
    sqlx::query(
        r#"INSERT INTO "BatchTaskRun" (id, "friendlyId", "runtimeEnvironmentId", status,
             "runCount", "batchVersion", "runIds", "updatedAt")
           VALUES ($1, 'batch_' || $1, $2, 'PARTIAL_FAILED', 9, 'runengine:v2', NULL, now())"#,
    )
    .bind(body)
    .bind(&environment)
    .execute(pool)
    .await
    .expect("a batch with NULL run ids");
    // Written out of order; payload, options and code left NULL but on one.
    for (index, code) in [(7, None), (2, Some("TRIGGER_ERROR")), (5, None)] {
        sqlx::query(
            r#"INSERT INTO "BatchTaskRunError" (id, "batchTaskRunId", index, "taskIdentifier",
                 error, "errorCode")
               VALUES ($1 || ':' || $2, $1, $2, 'import-csv', 'Task is not deployed', $3)"#,
        )
        .bind(body)
        .bind(index)
        .bind(code)
        .execute(pool)
        .await
        .expect("an item error");
    }
    let batch_id = format!("batch_{body}");
    let batch = get(
        &stack,
        request(&environment, &batch_id, pb::BatchView::Full),
    )
    .await
    .expect("found");
    assert!(batch.run_ids.is_empty(), "NULL run ids are none");
    assert_eq!(batch.idempotency_key, None);
    assert_eq!(
        (batch.successful_run_count, batch.failed_run_count),
        (None, None)
    );
    assert_eq!(
        (batch.completed_at, batch.processing_started_at),
        (None, None)
    );
    assert_eq!(batch.processing_completed_at, None);
    let errors: Vec<(i32, Option<&str>)> = batch
        .errors
        .iter()
        .map(|error| (error.index, error.error_code.as_deref()))
        .collect();
    assert_eq!(errors, [(2, Some("TRIGGER_ERROR")), (5, None), (7, None)]);
    assert_eq!(
        without_environment(&batch),
        stored_batch(pool, &batch_id, pb::BatchView::Full).await
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn the_environment_block_names_the_owner_of_a_development_environment_as_lists_do() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let mut client = stack.client().await;
    let environments = [
        (
            &demo.development_environment_id,
            "cdevbatch0000000000000001",
        ),
        (
            &demo.orphaned_development_environment_id,
            "corphanbatch0000000000001",
        ),
        (&demo.production_environment_id, "cprodbatch000000000000001"),
    ];
    for (environment, body) in environments {
        sqlx::query(
            r#"INSERT INTO "BatchTaskRun" (id, "friendlyId", "runtimeEnvironmentId", "updatedAt")
               VALUES ($1, 'batch_' || $1, $2, now())"#,
        )
        .bind(body)
        .bind(environment)
        .execute(stack.databases.new.pool())
        .await
        .expect("a batch");
        let batch_id = format!("batch_{body}");
        let batch = get(
            &stack,
            request(environment, &batch_id, pb::BatchView::Basic),
        )
        .await
        .expect("found");
        let listed = client
            .list_batches(ListBatchesRequest {
                environment_id: environment.clone(),
                batch_id: Some(batch_id.clone()),
                ..ListBatchesRequest::default()
            })
            .await
            .expect("listed")
            .into_inner();
        assert_eq!(
            batch.environment, listed.batches[0].environment,
            "{environment}"
        );
    }
    let owner_of = async |environment: &str, body: &str| {
        let batch_id = format!("batch_{body}");
        let batch = get(
            &stack,
            request(environment, &batch_id, pb::BatchView::Basic),
        )
        .await
        .expect("found");
        batch
            .environment
            .and_then(|environment| environment.user_name)
    };
    let named = owner_of(environments[0].0, environments[0].1).await;
    assert!(named.is_some_and(|name| !name.is_empty() && name != "Deleted"));
    let orphaned = owner_of(environments[1].0, environments[1].1).await;
    assert_eq!(orphaned.as_deref(), Some("Deleted"));
    assert_eq!(owner_of(environments[2].0, environments[2].1).await, None);
    stack.shutdown().await;
}

#[tokio::test]
async fn missing_and_foreign_batches_are_not_found_and_bad_requests_name_their_field() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let missing_id = "batch_cmissingbatch000000000001".to_owned();
    for (environment, batch_id) in [
        (&demo.development_environment_id, &demo.legacy_batch_id),
        (&demo.development_environment_id, &demo.new_batch_id),
        (&demo.production_environment_id, &missing_id),
    ] {
        let status = get(&stack, request(environment, batch_id, pb::BatchView::Full))
            .await
            .expect_err("hidden");
        assert_eq!(status.code(), Code::NotFound, "{batch_id}");
        assert_eq!(reason(&status), "BATCH_NOT_FOUND");
        let info = status.get_error_details().error_info().cloned();
        let metadata = info.expect("ErrorInfo").metadata;
        assert_eq!(metadata.get("batch_id"), Some(batch_id));
    }
    let environment = &demo.production_environment_id;
    for (request, field) in [
        (
            request(environment, "batch_?", pb::BatchView::Basic),
            "batch_id",
        ),
        (
            request(environment, &demo.legacy_run_id, pb::BatchView::Basic),
            "batch_id",
        ),
        (
            GetBatchRequest {
                view: 9,
                ..request(environment, &demo.legacy_batch_id, pb::BatchView::Basic)
            },
            "view",
        ),
    ] {
        let status = get(&stack, request).await.expect_err("refused");
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
async fn a_store_down_makes_get_batch_unavailable_even_for_a_batch_in_the_other() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    stack.databases.drop_new_store().await;
    let status = get(
        &stack,
        request(
            &demo.production_environment_id,
            &demo.legacy_batch_id,
            pb::BatchView::Basic,
        ),
    )
    .await
    .expect_err("a miss in the NEW store cannot be ruled out");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(reason(&status), "STORE_UNAVAILABLE");
    stack.shutdown().await;
}
