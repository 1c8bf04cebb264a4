//! What every read and cache request passes through before tonic reads its body: the
//! concurrency limit, the request size limit, and the count of its outcome.
//!
//! Shedding here, on the raw HTTP request, means a request beyond the limit is answered without
//! its body ever being buffered or decoded. Counting here means a request is counted whatever
//! stopped it: a refused token, an undecodable or oversized body, the limit, or the handler's
//! answer. tonic answers errors trailers-only (grpc-status among the response headers) and OK in
//! the trailers at the end of the body, so the outcome is read from whichever comes, and
//! recorded exactly once when the response body is dropped.
//!
//! The RPC's span starts here too, so that it covers whatever stopped the request, and ends with
//! the response body, carrying the status code.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use runview_core::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::{Code, Status};
use tower::Service;
use tracing::Instrument;

use super::status::{request_too_large, to_status};
use crate::{metrics, telemetry};

/// The gRPC frame header: a compression flag and the message length.
const FRAME_HEADER: usize = 5;

/// Wraps one generated service (behind its authentication) with a limit of its own.
#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    in_flight: Arc<Semaphore>,
    max_request_bytes: usize,
}

impl<S> Edge<S> {
    pub fn new(inner: S, in_flight: Arc<Semaphore>, max_request_bytes: usize) -> Self {
        Self {
            inner,
            in_flight,
            max_request_bytes,
        }
    }
}

impl<S: NamedService> NamedService for Edge<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<Body>> for Edge<S>
where
    S: Service<http::Request<Body>, Response = http::Response<B>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let method = method_of(request.uri().path());
        let span = telemetry::rpc_span(S::NAME, method, request.headers());
        let outcome = Outcome::new(method, span.clone());
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            let response = to_status(Error::Overloaded).into_http();
            return Box::pin(std::future::ready(Ok(counted(response, outcome, None))));
        };
        // The ready service answers this request; a fresh clone waits for the next one.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let limit = self.max_request_bytes;
        let request = request.map(|body| Body::new(SizeLimited::new(body, limit)));
        Box::pin(
            async move {
                let Ok(response) = inner.call(request).await;
                Ok(counted(response.map(Body::new), outcome, Some(permit)))
            }
            .instrument(span),
        )
    }
}

/// The response with its outcome attached: the code of a trailers-only answer is known now; an
/// OK answer's comes with the trailers.
fn counted(
    response: http::Response<Body>,
    mut outcome: Outcome,
    permit: Option<OwnedSemaphorePermit>,
) -> http::Response<Body> {
    outcome.read_status(response.headers());
    response.map(|body| {
        Body::new(Counted {
            body,
            outcome,
            _permit: permit,
        })
    })
}

/// The method label of a request path (`/runview.v1.ReadService/GetRun` → `GetRun`). Only the
/// contract's methods get their own label, so no caller can grow the label set.
pub fn method_of(path: &str) -> &'static str {
    const METHODS: [&str; 7] = [
        "GetRun",
        "ListRuns",
        "GetWaitpoint",
        "ListBatches",
        "ListWaitpoints",
        "GetBatch",
        "Invalidate",
    ];
    let method = path.rsplit_once('/').map_or("", |(_, method)| method);
    METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("unknown")
}

/// One request's count, recorded when dropped: with the code seen, or CANCELLED when the caller
/// left before any came. It holds the request's span open until then.
struct Outcome {
    method: &'static str,
    started: Instant,
    code: Option<Code>,
    span: tracing::Span,
}

impl Outcome {
    fn new(method: &'static str, span: tracing::Span) -> Self {
        Self {
            method,
            started: Instant::now(),
            code: None,
            span,
        }
    }

    fn read_status(&mut self, headers: &http::HeaderMap) {
        if let Some(value) = headers.get("grpc-status") {
            self.code = Some(Code::from_bytes(value.as_bytes()));
        }
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        let code = self.code.unwrap_or(Code::Cancelled);
        metrics::record_request(self.method, code, self.started.elapsed());
        telemetry::record_rpc_code(&self.span, code);
    }
}

/// A response body that reads the status from the trailers and holds the request's permit until
/// the answer is sent.
struct Counted {
    body: Body,
    outcome: Outcome,
    _permit: Option<OwnedSemaphorePermit>,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = std::task::ready!(Pin::new(&mut self.body).poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(trailers) = frame.trailers_ref()
        {
            self.outcome.read_status(trailers);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body refused as soon as it declares or carries more than `limit` bytes of message,
/// so an oversized request is never buffered whole. The error is a status, which tonic answers
/// as it is.
struct SizeLimited {
    body: Body,
    limit: usize,
    received: usize,
    header: [u8; FRAME_HEADER],
}

impl SizeLimited {
    fn new(body: Body, limit: usize) -> Self {
        Self {
            body,
            limit,
            received: 0,
            header: [0; FRAME_HEADER],
        }
    }

    /// Takes in a data frame: false once the request is over the limit.
    fn admit(&mut self, data: &[u8]) -> bool {
        let header_seen = self.received.min(FRAME_HEADER);
        let header_wanted = (FRAME_HEADER - header_seen).min(data.len());
        self.header[header_seen..header_seen + header_wanted]
            .copy_from_slice(&data[..header_wanted]);
        self.received = self.received.saturating_add(data.len());
        let declared = if self.received >= FRAME_HEADER {
            let length = [
                self.header[1],
                self.header[2],
                self.header[3],
                self.header[4],
            ];
            usize::try_from(u32::from_be_bytes(length)).unwrap_or(usize::MAX)
        } else {
            0
        };
        declared <= self.limit && self.received <= self.limit.saturating_add(FRAME_HEADER)
    }
}

impl HttpBody for SizeLimited {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = std::task::ready!(Pin::new(&mut self.body).poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(data) = frame.data_ref()
            && !self.admit(data)
        {
            return Poll::Ready(Some(Err(request_too_large(self.limit))));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    /// A response body that is only trailers, as an answered call ends.
    struct Trailers(Option<http::HeaderMap>);

    impl HttpBody for Trailers {
        type Data = Bytes;
        type Error = Status;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
            Poll::Ready(self.0.take().map(|trailers| Ok(Frame::trailers(trailers))))
        }
    }

    fn answered_ok() -> http::Response<Body> {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        http::Response::new(Body::new(Trailers(Some(trailers))))
    }

    fn answered_not_found() -> http::Response<Body> {
        Status::not_found("no such run").into_http()
    }

    /// An inner service named as a generated one is.
    #[derive(Clone)]
    struct Named<S>(S);

    impl<S> NamedService for Named<S> {
        const NAME: &'static str = "runview.v1.ReadService";
    }

    impl<S: Service<http::Request<Body>>> Service<http::Request<Body>> for Named<S> {
        type Response = S::Response;
        type Error = S::Error;
        type Future = S::Future;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.0.poll_ready(cx)
        }

        fn call(&mut self, request: http::Request<Body>) -> S::Future {
            self.0.call(request)
        }
    }

    /// Serves one GetRun through an edge with `permits` over an inner service answering
    /// `answer`, reads the whole response, and renders what was recorded.
    fn counted_after_one_call(permits: usize, answer: fn() -> http::Response<Body>) -> String {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        ::metrics::with_local_recorder(&recorder, || {
            runtime.block_on(async {
                let inner = Named(tower::service_fn(
                    move |_: http::Request<Body>| async move { Ok::<_, Infallible>(answer()) },
                ));
                let mut edge = Edge::new(inner, Arc::new(Semaphore::new(permits)), 1024);
                let request = http::Request::builder()
                    .uri("/runview.v1.ReadService/GetRun")
                    .body(Body::empty())
                    .expect("a request");
                let Ok(response) = edge.call(request).await;
                let mut body = response.into_body();
                while std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
                    .await
                    .is_some()
                {}
            });
        });
        handle.render()
    }

    fn requests_total(rendered: &str) -> Vec<&str> {
        rendered
            .lines()
            .filter(|line| line.starts_with("runview_requests_total{"))
            .collect()
    }

    #[test]
    fn an_answered_call_is_counted_once_with_the_status_of_its_trailers() {
        let rendered = counted_after_one_call(1, answered_ok);
        assert_eq!(
            requests_total(&rendered),
            ["runview_requests_total{method=\"GetRun\",code=\"OK\"} 1"]
        );
    }

    #[test]
    fn a_refused_call_is_counted_once_with_the_status_of_its_headers() {
        let rendered = counted_after_one_call(1, answered_not_found);
        assert_eq!(
            requests_total(&rendered),
            ["runview_requests_total{method=\"GetRun\",code=\"NOT_FOUND\"} 1"]
        );
    }

    #[test]
    fn a_shed_call_is_counted_once_and_never_reaches_the_service() {
        fn unreachable() -> http::Response<Body> {
            panic!("a shed call reached the service")
        }
        let rendered = counted_after_one_call(0, unreachable);
        assert_eq!(
            requests_total(&rendered),
            ["runview_requests_total{method=\"GetRun\",code=\"RESOURCE_EXHAUSTED\"} 1"]
        );
    }

    #[test]
    fn every_method_of_the_contract_is_named_by_the_last_path_segment() {
        use prost::Message;
        let contract = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
            .expect("the contract decodes");
        let mut methods = 0;
        for file in &contract.file {
            for service in &file.service {
                for method in &service.method {
                    let name = method.name();
                    let path = format!("/{}.{}/{name}", file.package(), service.name());
                    assert_eq!(method_of(&path), name, "{path}");
                    methods += 1;
                }
            }
        }
        assert_eq!(methods, 7, "every read and the invalidation");
    }

    #[test]
    fn any_other_path_is_unknown() {
        for path in [
            "/runview.v1.ReadService/DeleteRun",
            "/runview.v1.ReadService/",
            "/",
            "",
            "/runview.v1.ReadService/getrun",
        ] {
            assert_eq!(method_of(path), "unknown", "{path}");
        }
    }

    fn frame(declared: u32, body: usize) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&declared.to_be_bytes());
        bytes.resize(FRAME_HEADER + body, 7);
        bytes
    }

    #[test]
    fn a_message_within_the_limit_is_admitted_however_it_is_split() {
        let message = frame(10, 10);
        for split in 0..message.len() {
            let mut limited = SizeLimited::new(Body::empty(), 10);
            assert!(limited.admit(&message[..split]));
            assert!(limited.admit(&message[split..]), "split at {split}");
        }
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_with_the_header() {
        let message = frame(11, 0);
        let mut limited = SizeLimited::new(Body::empty(), 10);
        assert!(limited.admit(&message[..3]));
        assert!(!limited.admit(&message[3..]));
    }

    #[test]
    fn more_bytes_than_the_limit_are_refused_whatever_the_header_says() {
        let mut limited = SizeLimited::new(Body::empty(), 10);
        assert!(limited.admit(&frame(10, 10)));
        assert!(!limited.admit(&[0]));
    }
}
