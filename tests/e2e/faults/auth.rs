//! Bearer tokens between the webapp and runview: several valid at once (rotation), and probes
//! exempt because Kubernetes' gRPC probes cannot send one.

use runview::proto::InvalidateRequest;
use runview::proto::cache_service_client::CacheServiceClient;
use runview::proto::invalidate_request::Scope;
use runview::server::{LIVENESS, READINESS};
use secrecy::SecretString;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{ProxiedStack, bounded, get_run, health_status, wait_for_health};
use crate::harness::{channel, reason, test_config};

fn with_authorization<T>(message: T, authorization: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = authorization {
        let value = value.parse().expect("an ASCII header value");
        request.metadata_mut().insert("authorization", value);
    }
    request
}

#[tokio::test]
async fn calls_without_a_valid_bearer_token_are_unauthenticated_and_health_needs_none() {
    bounded(async {
        let mut config = test_config();
        config.auth_tokens = Some(SecretString::from("t1,t2".to_owned()));
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let request = get_run(&demo.production_environment_id, &demo.legacy_run_id);
        let mut client = stack.client().await;

        for authorization in [None, Some("Bearer wrong"), Some("t2"), Some("Bearer ")] {
            let status = client
                .get_run(with_authorization(request.clone(), authorization))
                .await
                .expect_err("refused");
            assert_eq!(status.code(), Code::Unauthenticated, "{authorization:?}");
            assert_eq!(reason(&status), "UNAUTHENTICATED");
        }
        for token in ["Bearer t1", "Bearer t2"] {
            let run = client
                .get_run(with_authorization(request.clone(), Some(token)))
                .await
                .expect("a configured token is accepted")
                .into_inner();
            assert_eq!(run.id, demo.legacy_run_id);
        }

        let mut cache = CacheServiceClient::new(channel(stack.server.grpc_addr).await);
        let invalidate = InvalidateRequest {
            scope: Some(Scope::All(true)),
        };
        let status = cache
            .invalidate(with_authorization(invalidate.clone(), None))
            .await
            .expect_err("the cache service needs a token too");
        assert_eq!(status.code(), Code::Unauthenticated);
        cache
            .invalidate(with_authorization(invalidate, Some("Bearer t1")))
            .await
            .expect("accepted with a token");

        let health = stack.server.health_addr;
        wait_for_health(health, READINESS, ServingStatus::Serving).await;
        assert_eq!(
            health_status(health, LIVENESS).await,
            ServingStatus::Serving
        );
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn reflection_needs_a_token_when_authentication_is_on_and_the_scheme_is_case_insensitive() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;

    bounded(async {
        let mut config = test_config();
        config.auth_tokens = Some(SecretString::from("t1".to_owned()));
        let stack = ProxiedStack::start(config).await;
        let list_services = || {
            tokio_stream::iter([ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            }])
        };
        let mut reflection = ServerReflectionClient::new(channel(stack.server.grpc_addr).await);
        let status = reflection
            .server_reflection_info(with_authorization(list_services(), None))
            .await
            .expect_err("the contract is not served to strangers");
        assert_eq!(status.code(), Code::Unauthenticated);
        reflection
            .server_reflection_info(with_authorization(list_services(), Some("Bearer t1")))
            .await
            .expect("a token opens it");

        let demo = stack.demo();
        let request = get_run(&demo.production_environment_id, &demo.legacy_run_id);
        let mut client = stack.client().await;
        client
            .get_run(with_authorization(request.clone(), Some("bearer t1")))
            .await
            .expect("the scheme is case-insensitive");
        for malformed in ["Bearer  t1", "Bearer t1 "] {
            let status = client
                .get_run(with_authorization(request.clone(), Some(malformed)))
                .await
                .expect_err("one space, no trailing whitespace");
            assert_eq!(status.code(), Code::Unauthenticated, "{malformed:?}");
        }
        stack.shutdown().await;
    })
    .await;
}
