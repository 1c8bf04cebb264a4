//! GetWaitpoint through the real server: both stores, the signed callback URL, isolation.

use hmac::{Hmac, Mac};
use runview::proto::{self as pb, GetWaitpointRequest};
use sha2::Sha256;
use tonic::Code;

use crate::harness::{TestStack, reason};

const CALLBACK_BASE: &str = "http://localhost:3030";

fn request(environment_id: &str, waitpoint_id: &str) -> GetWaitpointRequest {
    GetWaitpointRequest {
        environment_id: environment_id.to_owned(),
        waitpoint_id: waitpoint_id.to_owned(),
    }
}

async fn get(
    stack: &TestStack,
    request: GetWaitpointRequest,
) -> Result<pb::Waitpoint, tonic::Status> {
    let mut client = stack.client().await;
    client
        .get_waitpoint(request)
        .await
        .map(tonic::Response::into_inner)
}

/// The URL the webapp would build, from the key the control plane holds.
pub(crate) async fn expected_url(
    stack: &TestStack,
    environment_id: &str,
    waitpoint_id: &str,
) -> String {
    let key: String = sqlx::query_scalar(
        r#"SELECT COALESCE(parent."apiKey", e."apiKey") FROM "RuntimeEnvironment" e
           LEFT JOIN "RuntimeEnvironment" parent ON parent.id = e."parentEnvironmentId" WHERE e.id = $1"#,
    )
    .bind(environment_id)
    .fetch_one(stack.databases.control_plane.pool())
    .await
    .expect("the environment exists");
    let body = waitpoint_id.trim_start_matches("waitpoint_");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!(
        "{CALLBACK_BASE}/api/v1/waitpoints/tokens/waitpoint_{body}/callback/{}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn waitpoints_in_either_store_come_with_their_signed_callback_url() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    for waitpoint_id in [&demo.legacy_waitpoint_id, &demo.new_waitpoint_id] {
        let waitpoint = get(
            &stack,
            request(&demo.production_environment_id, waitpoint_id),
        )
        .await
        .expect("found");
        assert_eq!(&waitpoint.id, waitpoint_id);
        assert_eq!(waitpoint.r#type(), pb::WaitpointType::Manual);
        assert_eq!(waitpoint.status(), pb::WaitpointStatus::Waiting);
        assert!(waitpoint.timeout_at.is_some());
        // Its user gave the key, which was never reset.
        assert_eq!(
            waitpoint.user_idempotency_key.as_deref(),
            Some(waitpoint.idempotency_key.as_str())
        );
        assert_eq!(
            waitpoint.connected_run_ids.len(),
            5,
            "seven connected runs, five shown"
        );
        assert!(
            waitpoint
                .connected_run_ids
                .iter()
                .all(|id| id.starts_with("run_"))
        );
        assert_eq!(
            waitpoint.url,
            expected_url(&stack, &demo.production_environment_id, waitpoint_id).await
        );
    }
    stack.shutdown().await;
}

#[tokio::test]
async fn a_branch_signs_callback_urls_with_its_parents_key_which_never_leaves_the_server() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let body = "cbranchwaitpoint000000001";
    sqlx::query(
        r#"INSERT INTO "Waitpoint" (id, "friendlyId", type, status, "environmentId", "projectId", "idempotencyKey",
             "userProvidedIdempotencyKey", "outputIsError", "updatedAt")
           VALUES ($1, 'waitpoint_' || $1, 'MANUAL', 'COMPLETED', $2, 'project', 'key', false, true, now())"#,
    )
    .bind(body)
    .bind(&demo.branch_environment_id)
    .execute(stack.databases.legacy.pool())
    .await
    .expect("a waitpoint in the branch");
    let waitpoint_id = format!("waitpoint_{body}");
    let waitpoint = get(&stack, request(&demo.branch_environment_id, &waitpoint_id))
        .await
        .expect("found");
    assert_eq!(
        waitpoint.status(),
        pb::WaitpointStatus::TimedOut,
        "completed with an error output"
    );
    assert_eq!(
        waitpoint.url,
        expected_url(&stack, &demo.branch_environment_id, &waitpoint_id).await
    );
    let keys: Vec<String> = sqlx::query_scalar(r#"SELECT "apiKey" FROM "RuntimeEnvironment""#)
        .fetch_all(stack.databases.control_plane.pool())
        .await
        .expect("keys");
    let response = format!("{waitpoint:?}");
    assert!(
        keys.iter().all(|key| !response.contains(key.as_str())),
        "no API key in a response"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn missing_foreign_and_malformed_waitpoints_are_refused() {
    let stack = TestStack::start().await;
    let demo = stack.demo();
    let foreign = get(
        &stack,
        request(&demo.development_environment_id, &demo.legacy_waitpoint_id),
    )
    .await
    .expect_err("hidden");
    let missing = get(
        &stack,
        request(
            &demo.production_environment_id,
            "waitpoint_cmissing000000000000000000",
        ),
    )
    .await
    .expect_err("missing");
    for status in [foreign, missing] {
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(reason(&status), "WAITPOINT_NOT_FOUND");
    }
    let malformed = get(
        &stack,
        request(&demo.production_environment_id, "waitpoint_?"),
    )
    .await
    .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    stack.shutdown().await;
}
