//! Sockets that hold connections without using them: every port closes one that never sends a
//! byte or goes quiet, and a port's connection cap, filled by such sockets, refuses the next
//! connection at once while the health port, capped apart, still answers.

use std::net::SocketAddr;
use std::time::Duration;

use runview::config::Config;
use runview::proto::Run;
use runview::proto::read_service_client::ReadServiceClient;
use runview::server::READINESS;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{bounded, eventually, get_run, health_status, wait_for_health};
use crate::harness::{TestStack, test_config};

/// How long a test waits for the server to close a socket; the timeouts it sets are far shorter.
const CLOSE_BOUND: Duration = Duration::from_secs(10);
/// Long enough never to fire during a test.
const NEVER: Duration = Duration::from_secs(600);
/// An HTTP/2 client's first line, sent alone: the preface is left unfinished.
const PREFACE_START: &[u8] = b"PRI * HTTP/2.0\r\n";
/// A whole HTTP/2 client opening: the preface and an empty SETTINGS frame.
const OPENING: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";
const METRICS_REQUEST: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: runview\r\n\r\n";

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("the port accepts")
}

/// Everything the server sent until it closed the connection.
pub(super) async fn read_until_closed(mut socket: TcpStream, what: &str) -> Vec<u8> {
    let read = async {
        let mut received = Vec::new();
        let mut buffer = [0; 4096];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return received,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    };
    tokio::time::timeout(CLOSE_BOUND, read)
        .await
        .unwrap_or_else(|_| panic!("the server closes {what} within {CLOSE_BOUND:?}"))
}

/// Polls until a GetRun on a fresh connection is served.
async fn served_on_a_fresh_connection(stack: &TestStack, what: &str) -> Run {
    let demo = stack.demo();
    let request = get_run(&demo.production_environment_id, &demo.new_run_id);
    let endpoint =
        Channel::from_shared(format!("http://{}", stack.server.grpc_addr)).expect("a valid URI");
    eventually(CLOSE_BOUND, what, async || {
        let channel = endpoint.connect().await.ok()?;
        let run = ReadServiceClient::new(channel)
            .get_run(request.clone())
            .await;
        run.ok().map(tonic::Response::into_inner)
    })
    .await
}

#[tokio::test]
async fn a_socket_that_never_sends_a_byte_is_closed_on_every_port() {
    bounded(async {
        let stack = TestStack::start_with(Config {
            connection_first_byte_timeout: Duration::from_secs(1),
            ..test_config()
        })
        .await;
        let server = &stack.server;
        let ports = [
            ("gRPC", server.grpc_addr),
            ("health", server.health_addr),
            ("metrics", server.metrics_addr),
        ];
        let mut silent = Vec::new();
        for (port, addr) in ports {
            silent.push(read_until_closed(connect(addr).await, port));
        }
        futures::future::join_all(silent).await;
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_connection_that_goes_quiet_is_closed_by_the_idle_timeout_on_every_port() {
    bounded(async {
        let stack = TestStack::start_with(Config {
            connection_first_byte_timeout: NEVER,
            connection_idle_timeout: Duration::from_secs(2),
            http2_keepalive_interval: Duration::from_millis(500),
            http2_keepalive_timeout: Duration::from_secs(1),
            ..test_config()
        })
        .await;
        let server = &stack.server;
        let quiet = [
            ("gRPC, mid-preface", server.grpc_addr, PREFACE_START),
            ("gRPC, after its opening", server.grpc_addr, OPENING),
            ("health, mid-preface", server.health_addr, PREFACE_START),
            ("health, after its opening", server.health_addr, OPENING),
            (
                "metrics, mid-request",
                server.metrics_addr,
                &METRICS_REQUEST[..16],
            ),
            (
                "metrics, after a scrape",
                server.metrics_addr,
                METRICS_REQUEST,
            ),
        ];
        let mut closed = Vec::new();
        for (what, addr, sent) in quiet {
            let mut socket = connect(addr).await;
            socket.write_all(sent).await.expect("sent");
            closed.push(async move { (what, read_until_closed(socket, what).await) });
        }
        for (what, received) in futures::future::join_all(closed).await {
            if what == "metrics, after a scrape" {
                assert!(
                    received.starts_with(b"HTTP/1.1 200"),
                    "answered, then closed"
                );
            }
        }
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn beyond_the_grpc_connection_cap_a_connection_is_refused_at_once_while_health_answers() {
    bounded(async {
        const CAP: usize = 4;
        let stack = TestStack::start_with(Config {
            grpc_max_connections: CAP,
            connection_first_byte_timeout: NEVER,
            ..test_config()
        })
        .await;
        let health = stack.server.health_addr;
        wait_for_health(health, READINESS, ServingStatus::Serving).await;
        let mut admitted = Vec::new();
        for _ in 0..CAP {
            let mut socket = connect(stack.server.grpc_addr).await;
            // HTTP/2 servers speak first: the server's settings mean it took the connection.
            let read = socket.read(&mut [0; 64]).await.expect("admitted");
            assert!(read > 0, "the server sends its settings");
            admitted.push(socket);
        }

        let refused = read_until_closed(
            connect(stack.server.grpc_addr).await,
            "a connection beyond the cap",
        )
        .await;
        assert!(refused.is_empty(), "closed before a byte was served");
        assert_eq!(
            health_status(health, READINESS).await,
            ServingStatus::Serving,
            "the health port has a cap of its own"
        );

        drop(admitted.pop());
        let run = served_on_a_fresh_connection(&stack, "a call takes the freed slot").await;
        assert_eq!(run.id, stack.demo().new_run_id);
        stack.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn once_silent_sockets_filling_the_grpc_cap_time_out_calls_are_served_again() {
    bounded(async {
        const CAP: usize = 4;
        let stack = TestStack::start_with(Config {
            grpc_max_connections: CAP,
            connection_first_byte_timeout: Duration::from_secs(1),
            ..test_config()
        })
        .await;
        let mut silent = Vec::new();
        for _ in 0..CAP {
            silent.push(connect(stack.server.grpc_addr).await);
        }
        wait_for_health(stack.server.health_addr, READINESS, ServingStatus::Serving).await;

        let run =
            served_on_a_fresh_connection(&stack, "a call once the silent ones are closed").await;
        assert_eq!(run.id, stack.demo().new_run_id);
        for socket in silent {
            read_until_closed(socket, "a silent socket").await;
        }
        stack.shutdown().await;
    })
    .await;
}
