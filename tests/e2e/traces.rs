//! Traces as an SRE sees them: the runview binary exports to a real OTLP/gRPC receiver, configured
//! only by the standard `OTEL_*` variables, and one call becomes a tree under the caller's span
//! down to each SQL statement, with nothing secret and no parameter value in it.

use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use runview::proto::GetRunRequest;
use runview::proto::read_service_client::ReadServiceClient;

use crate::faults::{bounded, eventually, get_run};
use crate::harness::{SeededDatabases, channel, with_password};
use crate::otlp::{Exported, Receiver, attribute, text};
use crate::process::ServerProcess;

const TOKEN: &str = "trace-test-bearer-token";
const PAGE_TOKEN_SECRET: &str = "trace-test-page-token-secret";

/// The caller's trace and span, as its `traceparent` names them (sampled).
struct Caller {
    trace_id: &'static str,
    span_id: &'static str,
}

const FIRST: Caller = Caller {
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    span_id: "00f067aa0ba902b7",
};
const SECOND: Caller = Caller {
    trace_id: "5cf92f3577b34da6a3ce929d0e0e4737",
    span_id: "01f067aa0ba902b8",
};

async fn call(
    client: &mut ReadServiceClient<tonic::transport::Channel>,
    request: GetRunRequest,
    caller: Option<&Caller>,
) {
    let mut request = tonic::Request::new(request);
    let metadata = request.metadata_mut();
    let bearer = format!("Bearer {TOKEN}").parse().expect("ASCII");
    metadata.insert("authorization", bearer);
    if let Some(caller) = caller {
        let traceparent = format!("00-{}-{}-01", caller.trace_id, caller.span_id);
        metadata.insert("traceparent", traceparent.parse().expect("ASCII"));
    }
    client.get_run(request).await.expect("the run is found");
}

#[tokio::test]
async fn a_call_is_exported_as_a_tree_under_the_callers_span_down_to_each_statement() {
    bounded(async {
        let databases = SeededDatabases::create().await;
        let receiver = Receiver::start().await;
        let (control_plane_url, password) = with_password(databases.control_plane.url());
        let (legacy_url, _) = with_password(databases.legacy.url());
        let (new_url, _) = with_password(databases.new.url());
        let server = ServerProcess::start(&[
            ("RUNVIEW_CONTROL_PLANE_DATABASE_URL", &control_plane_url),
            ("RUNVIEW_LEGACY_DATABASE_URL", &legacy_url),
            ("RUNVIEW_NEW_DATABASE_URL", &new_url),
            ("RUNVIEW_AUTH_TOKENS", TOKEN),
            ("RUNVIEW_PAGE_TOKEN_SECRETS", PAGE_TOKEN_SECRET),
            ("RUST_LOG", "info"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint),
            // Only what a sampled caller asks for: a call without a traceparent is a root, which
            // a ratio of zero never samples.
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ])
        .await;
        let demo = databases.demo.clone();
        let environment = &demo.production_environment_id;
        let mut client = ReadServiceClient::new(channel(server.grpc_addr).await);

        // The cache is cold for the first call, so it loads from the control plane.
        call(
            &mut client,
            get_run(environment, &demo.new_run_id),
            Some(&FIRST),
        )
        .await;
        call(&mut client, get_run(environment, &demo.new_run_id), None).await;
        call(
            &mut client,
            get_run(environment, &demo.legacy_run_id),
            Some(&SECOND),
        )
        .await;

        // A call's span ends after its children, and spans are exported in the order they end:
        // once the last call's span is in, everything before it is too.
        let exported = eventually(
            Duration::from_secs(20),
            "the second sampled call is exported",
            async || {
                let exported = receiver.exported();
                rpc_span(&exported, &SECOND).is_some().then_some(exported)
            },
        )
        .await;

        let mut traces: Vec<String> = exported
            .spans
            .iter()
            .map(|span| hex(&span.trace_id))
            .collect();
        traces.sort();
        traces.dedup();
        assert_eq!(
            traces,
            [FIRST.trace_id, SECOND.trace_id],
            "only the sampled callers' traces are exported"
        );
        assert_eq!(
            attribute(&exported.resource_attributes, "service.name").as_deref(),
            Some("runview")
        );

        let first = Tree::of(&exported, &FIRST);
        first.has_the_rpc_and_its_phases();
        first.statement_under(
            "primary_query",
            "new",
            databases.new.name(),
            "SELECT TaskRun TaskRunAttempt",
        );
        let load = first.load_of("environment");
        first.statement_under_span(
            load,
            "control_plane",
            databases.control_plane.name(),
            "SELECT RuntimeEnvironment Project Organization OrgMember User",
        );

        let second = Tree::of(&exported, &SECOND);
        second.has_the_rpc_and_its_phases();
        second.statement_under(
            "primary_query",
            "legacy",
            databases.legacy.name(),
            "SELECT TaskRun TaskRunAttempt",
        );

        let values: Vec<String> = exported
            .spans
            .iter()
            .flat_map(|span| {
                let events = span.events.iter().flat_map(|event| &event.attributes);
                span.attributes
                    .iter()
                    .chain(events)
                    .filter_map(|attribute| attribute.value.as_ref().map(text))
                    .chain([span.name.clone()])
            })
            .chain(
                exported
                    .resource_attributes
                    .iter()
                    .filter_map(|a| a.value.as_ref().map(text)),
            )
            .collect();
        let never = [
            password.as_str(),
            TOKEN,
            PAGE_TOKEN_SECRET,
            &demo.new_run_id,
            &demo.legacy_run_id,
            environment,
        ];
        for value in &values {
            for secret in never {
                assert!(
                    !value.contains(secret),
                    "`{secret}` in the exported value `{value}`"
                );
            }
        }
        for line in server.logs() {
            for secret in [password.as_str(), TOKEN, PAGE_TOKEN_SECRET] {
                assert!(
                    !line.contains(secret),
                    "`{secret}` in the log line `{line}`"
                );
            }
        }
    })
    .await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn rpc_span<'e>(exported: &'e Exported, caller: &Caller) -> Option<&'e Span> {
    exported.spans.iter().find(|span| {
        hex(&span.trace_id) == caller.trace_id && span.name == "runview.v1.ReadService/GetRun"
    })
}

/// One caller's trace.
struct Tree<'e> {
    spans: Vec<&'e Span>,
    rpc: &'e Span,
    caller: &'e Caller,
}

impl<'e> Tree<'e> {
    fn of(exported: &'e Exported, caller: &'e Caller) -> Self {
        Self {
            spans: exported
                .spans
                .iter()
                .filter(|span| hex(&span.trace_id) == caller.trace_id)
                .collect(),
            rpc: rpc_span(exported, caller).expect("the RPC's span is exported"),
            caller,
        }
    }

    fn children(&self, parent: &Span) -> Vec<&'e Span> {
        self.spans
            .iter()
            .copied()
            .filter(|span| span.parent_span_id == parent.span_id)
            .collect()
    }

    fn child_of(&self, parent: &Span, name: &str) -> &'e Span {
        let children = self.children(parent);
        let names: Vec<&str> = children.iter().map(|span| span.name.as_str()).collect();
        children
            .into_iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no `{name}` under `{}`, only {names:?}", parent.name))
    }

    /// The hydration's load of one `kind` of control-plane record.
    fn load_of(&self, kind: &str) -> &'e Span {
        let hydrate = self.child_of(self.rpc, "hydrate");
        self.children(hydrate)
            .into_iter()
            .find(|span| {
                span.name == "control_plane.load"
                    && attribute(&span.attributes, "kind").as_deref() == Some(kind)
            })
            .unwrap_or_else(|| panic!("no load of `{kind}` under `hydrate`"))
    }

    /// The RPC's span is the server side of the caller's span, and the presenter's phases are
    /// its children.
    fn has_the_rpc_and_its_phases(&self) {
        let rpc = self.rpc;
        assert_eq!(
            hex(&rpc.parent_span_id),
            self.caller.span_id,
            "the caller's span is the parent"
        );
        assert_eq!(rpc.kind, SpanKind::Server as i32);
        for (key, value) in [
            ("rpc.system", "grpc"),
            ("rpc.service", "runview.v1.ReadService"),
            ("rpc.method", "GetRun"),
            ("rpc.grpc.status_code", "0"),
        ] {
            assert_eq!(
                attribute(&rpc.attributes, key).as_deref(),
                Some(value),
                "{key}"
            );
        }
        self.child_of(rpc, "primary_query");
        self.child_of(rpc, "hydrate");
    }

    fn statement_under(&self, phase: &str, database: &str, namespace: &str, summary: &str) {
        self.statement_under_span(self.child_of(self.rpc, phase), database, namespace, summary);
    }

    /// A statement's span under `parent`, described with the database semantic conventions.
    fn statement_under_span(&self, parent: &Span, database: &str, namespace: &str, summary: &str) {
        let statement = self.child_of(parent, summary);
        assert_eq!(statement.kind, SpanKind::Client as i32);
        for (key, value) in [
            ("db.system.name", "postgresql"),
            ("db.namespace", namespace),
            ("db.operation.name", "SELECT"),
            ("db.query.summary", summary),
            ("runview.database", database),
        ] {
            assert_eq!(
                attribute(&statement.attributes, key).as_deref(),
                Some(value),
                "{key} of `{summary}` under `{}`",
                parent.name
            );
        }
    }
}
