//! Health and reflection, as Kubernetes probes and grpcurl users see them.

use runview::server::{LIVENESS, READINESS};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::harness::{TestStack, channel};

#[tokio::test]
async fn health_reports_liveness_at_once_and_readiness_once_databases_answer() {
    let stack = TestStack::start().await;
    let mut health = stack.health().await;
    let liveness = health
        .check(HealthCheckRequest {
            service: LIVENESS.to_owned(),
        })
        .await
        .expect("liveness answers");
    assert_eq!(liveness.into_inner().status(), ServingStatus::Serving);
    assert_eq!(
        stack.wait_for_readiness(ServingStatus::Serving).await,
        ServingStatus::Serving
    );
    let overall = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("answers");
    assert_eq!(overall.into_inner().status(), ServingStatus::Serving);
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope".to_owned(),
        })
        .await;
    assert_eq!(
        unknown.expect_err("unknown service").code(),
        tonic::Code::NotFound
    );
    assert_ne!(READINESS, LIVENESS);
    stack.shutdown().await;
}

#[tokio::test]
async fn reflection_lists_the_contract_services() {
    let stack = TestStack::start().await;
    let mut reflection = ServerReflectionClient::new(channel(stack.server.grpc_addr).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses
        .message()
        .await
        .expect("a response")
        .expect("not empty");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list");
    };
    let names: Vec<_> = list
        .service
        .into_iter()
        .map(|service| service.name)
        .collect();
    assert!(
        names.contains(&"runview.v1.ReadService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    stack.shutdown().await;
}
