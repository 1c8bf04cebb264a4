//! An OTLP/gRPC trace receiver: the collector's side of `TraceService/Export`, on a loopback port,
//! keeping every span it is sent.

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// What was exported: the spans, and the attributes of the resources that sent them.
#[derive(Clone, Debug, Default)]
pub struct Exported {
    pub spans: Vec<Span>,
    pub resource_attributes: Vec<KeyValue>,
}

pub struct Receiver {
    /// For `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: String,
    exported: Arc<Mutex<Exported>>,
    stop: CancellationToken,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        let exported = Arc::new(Mutex::new(Exported::default()));
        let stop = CancellationToken::new();
        let service = TraceServiceServer::new(Collector(exported.clone()));
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(
                    TcpListenerStream::new(listener),
                    stop.clone().cancelled_owned(),
                ),
        );
        Self {
            endpoint,
            exported,
            stop,
        }
    }

    /// Everything received so far.
    pub fn exported(&self) -> Exported {
        self.exported
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

struct Collector(Arc<Mutex<Exported>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut exported = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for resource_spans in request.into_inner().resource_spans {
            if let Some(resource) = resource_spans.resource {
                exported.resource_attributes.extend(resource.attributes);
            }
            for scope_spans in resource_spans.scope_spans {
                exported.spans.extend(scope_spans.spans);
            }
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

/// The value of `key` among `attributes`, as text (numbers and booleans written out).
pub fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(|attribute| attribute.value.as_ref())
        .map(text)
}

/// Every value in `value` as text, nested ones included.
pub fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(Value::StringValue(text)) => text.clone(),
        // An index into a dictionary the request carries; no exporter here sends one.
        Some(Value::StringValueStrindex(index)) => index.to_string(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) => number.to_string(),
        Some(Value::BytesValue(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(Value::ArrayValue(array)) => array.values.iter().map(text).collect(),
        Some(Value::KvlistValue(list)) => list
            .values
            .iter()
            .map(|pair| {
                format!(
                    "{}={}",
                    pair.key,
                    pair.value.as_ref().map(text).unwrap_or_default()
                )
            })
            .collect(),
        None => String::new(),
    }
}
