//! Hostile and careless callers at the edge: bodies that are no message at all, bodies larger
//! than the limit, and floods beyond the concurrency limits (the reads' and Invalidate's own). Each is refused with ErrorInfo,
//! before its body is buffered where it can be, and counted once under its method and code.

use std::time::Duration;

use bytes::{Buf, BufMut};
use runview::config::Config;
use runview::proto::cache_service_client::CacheServiceClient;
use runview::proto::invalidate_request::Scope;
use runview::proto::{InvalidateRequest, ListBatchesRequest, ListRunsRequest};
use runview::server::READINESS;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

use super::metrics::{request_count, scrape};
use super::{
    ProxiedStack, alone, bounded, eventually, quiet_readiness_config, wait_for_health,
    wait_until_listening,
};
use crate::harness::{TestStack, channel, reason, test_config};

/// Sends bytes as they are and takes the reply's bytes as they come: a client that can send
/// what no generated client would.
#[derive(Default)]
pub(super) struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }

    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// One unary call to `path` with `body` as the message.
pub(super) async fn raw_call(
    channel: Channel,
    path: &'static str,
    body: Vec<u8>,
) -> Result<Vec<u8>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|error| tonic::Status::unknown(error.to_string()))?;
    grpc.unary(
        tonic::Request::new(body),
        PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .map(tonic::Response::into_inner)
}

/// Bodies no ListBatchesRequest (nor any other request) decodes from.
fn undecodable_bodies() -> [(&'static str, Vec<u8>); 3] {
    // Bytes that cannot even start a field: a tag varint longer than ten bytes.
    let mut random = vec![0xff; 11];
    random.extend((0..53).map(|_| rand::random::<u8>()));
    [
        ("random bytes", random),
        // Field 1 (a string) holding bytes that are not UTF-8.
        ("invalid UTF-8", vec![0x0a, 0x02, 0xc3, 0x28]),
        // Field 1 (a string) sent as a fixed32.
        ("wrong wire type", vec![0x0d, 0x01, 0x02, 0x03, 0x04]),
    ]
}

const READ_METHODS: [&str; 6] = [
    "/runview.v1.ReadService/GetRun",
    "/runview.v1.ReadService/ListRuns",
    "/runview.v1.ReadService/GetWaitpoint",
    "/runview.v1.ReadService/ListBatches",
    "/runview.v1.ReadService/GetBatch",
    "/runview.v1.ReadService/ListWaitpoints",
];

#[tokio::test]
async fn undecodable_bodies_are_invalid_argument_with_error_info_and_each_is_counted() {
    alone(bounded(async {
        let stack = TestStack::start().await;
        let channel = channel(stack.server.grpc_addr).await;

        for path in READ_METHODS {
            for (what, body) in undecodable_bodies() {
                let status = raw_call(channel.clone(), path, body)
                    .await
                    .expect_err("refused");
                assert_eq!(
                    status.code(),
                    Code::InvalidArgument,
                    "{path} {what}: {status:?}"
                );
                let info = status.get_error_details().error_info().cloned();
                let info = info.unwrap_or_else(|| panic!("{path} {what}: ErrorInfo"));
                assert_eq!(
                    (info.reason.as_str(), info.domain.as_str()),
                    ("INVALID_ARGUMENT", "runview")
                );
                for internal in ["decode", "wire type", "UTF-8", "utf-8", "Request", "buffer"] {
                    assert!(
                        !status.message().contains(internal),
                        "{path} {what}: no decoder text: {}",
                        status.message()
                    );
                }
            }
        }
        let demo = stack.demo();
        let mut client = stack.client().await;
        let ok_calls = 2;
        for _ in 0..ok_calls {
            client
                .list_batches(ListBatchesRequest {
                    environment_id: demo.production_environment_id.clone(),
                    ..ListBatchesRequest::default()
                })
                .await
                .expect("a well-formed call is served");
        }

        let metrics = scrape(stack.server.metrics_addr).await;
        for path in READ_METHODS {
            let method = path.rsplit_once('/').map_or(path, |(_, method)| method);
            assert_eq!(
                request_count(&metrics, method, "INVALID_ARGUMENT"),
                undecodable_bodies().len() as u64,
                "each undecodable body is counted once under {method}"
            );
        }
        assert_eq!(request_count(&metrics, "ListBatches", "OK"), ok_calls);
        stack.shutdown().await;
    }))
    .await;
}

#[tokio::test]
async fn beyond_the_concurrency_limit_requests_are_shed_before_their_body_is_decoded() {
    alone(bounded(async {
        let config = Config {
            max_concurrent_requests: 1,
            ..quiet_readiness_config()
        };
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let (client, request) = stack.warmed_client().await;

        let held = stack.hold_get_runs(&client, &request, 1).await;

        // About 900 KB, under the request size limit: only the concurrency limit refuses it.
        let large = ListRunsRequest {
            environment_id: demo.production_environment_id.clone(),
            tags: vec!["t".repeat(9_000); 100],
            ..ListRunsRequest::default()
        };
        let status = client.clone().list_runs(large).await.expect_err("shed");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(reason(&status), "OVERLOADED");
        assert!(status.get_error_details().retry_info().is_some());
        // A body that would not decode is shed all the same: the limit comes before decoding.
        let channel = channel(stack.server.grpc_addr).await;
        let (_, garbage) = undecodable_bodies()[0].clone();
        let status = raw_call(channel, "/runview.v1.ReadService/ListRuns", garbage)
            .await
            .expect_err("shed");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(reason(&status), "OVERLOADED");

        stack.new.release();
        for call in held {
            call.await
                .expect("the held call does not panic")
                .expect("the admitted call completes");
        }
        let metrics = scrape(stack.server.metrics_addr).await;
        assert_eq!(
            request_count(&metrics, "ListRuns", "RESOURCE_EXHAUSTED"),
            2,
            "each shed call is counted once"
        );
        stack.shutdown().await;
    }))
    .await;
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_refused_with_error_info_and_counted() {
    alone(bounded(async {
        let limit = 64 * 1024;
        let stack = TestStack::start_with(Config {
            max_request_bytes: limit,
            ..test_config()
        })
        .await;
        let mut client = stack.client().await;
        let status = client
            .list_batches(ListBatchesRequest {
                environment_id: "e".repeat(limit + 1),
                ..ListBatchesRequest::default()
            })
            .await
            .expect_err("too large");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        let info = status.get_error_details().error_info().cloned();
        let info = info.expect("ErrorInfo");
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            ("REQUEST_TOO_LARGE", "runview")
        );
        assert_eq!(info.metadata.get("limit_bytes"), Some(&limit.to_string()));

        // A request within the limit is still decoded and answered on its merits.
        let status = client
            .list_batches(ListBatchesRequest {
                environment_id: "e".repeat(limit / 2),
                ..ListBatchesRequest::default()
            })
            .await
            .expect_err("no such environment");
        assert_ne!(status.code(), Code::ResourceExhausted, "{status:?}");
        let metrics = scrape(stack.server.metrics_addr).await;
        assert_eq!(
            request_count(&metrics, "ListBatches", "RESOURCE_EXHAUSTED"),
            1
        );
        stack.shutdown().await;
    }))
    .await;
}

#[tokio::test]
async fn invalidations_beyond_their_own_limit_are_shed_while_reads_are_served() {
    bounded(async {
        let config = Config {
            max_concurrent_requests: 1,
            max_concurrent_invalidations: 1,
            ..quiet_readiness_config()
        };
        let stack = ProxiedStack::start(config).await;
        let demo = stack.demo();
        let (mut client, read) = stack.warmed_client().await;
        let cache = CacheServiceClient::new(channel(stack.server.grpc_addr).await);
        // Another environment's entries, so the warmed ones stay cached.
        let invalidate = InvalidateRequest {
            scope: Some(Scope::EnvironmentId(demo.staging_environment_id.clone())),
        };

        // Readiness has checked every database and the listener has run LISTEN, so nothing else
        // asks the control plane: the first reply held below is the held invalidation's.
        wait_for_health(stack.server.health_addr, READINESS, ServingStatus::Serving).await;
        wait_until_listening(&stack.databases.control_plane, 1).await;
        stack.control_plane.hold();
        let held = {
            let (mut cache, invalidate) = (cache.clone(), invalidate.clone());
            tokio::spawn(async move { cache.invalidate(invalidate).await })
        };
        eventually(
            Duration::from_secs(5),
            "the held invalidation waits on the control plane",
            async || (stack.control_plane.delayed_connections() >= 1).then_some(()),
        )
        .await;
        let status = cache
            .clone()
            .invalidate(invalidate.clone())
            .await
            .expect_err("a second invalidation is shed");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(reason(&status), "OVERLOADED");
        let run = client
            .get_run(read)
            .await
            .expect("reads have a limit of their own")
            .into_inner();
        assert_eq!(run.id, demo.new_run_id);

        stack.control_plane.release();
        held.await
            .expect("the held invalidation does not panic")
            .expect("the admitted invalidation completes");
        stack.shutdown().await;
    })
    .await;
}
