//! Rotating secrets without a restart: the bearer tokens and page-token secrets live in files laid
//! out as Kubernetes mounts a Secret, the files are updated the way the kubelet updates them, and
//! calls on a connection opened before the update see the new secrets.

use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use runview::config::Config;
use runview::proto::read_service_client::ReadServiceClient;
use runview::proto::{GetRunRequest, ListRunsRequest};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic::{Code, Status};

use crate::faults::metrics::scrape;
use crate::faults::{bounded, eventually, get_run};
use crate::harness::{TestStack, test_config};

/// Short, so the tests wait little for the server to read the files again.
const RELOAD_INTERVAL: Duration = Duration::from_millis(100);
/// Generous: the server reads the files every [`RELOAD_INTERVAL`].
const RELOAD_WITHIN: Duration = Duration::from_secs(10);

/// A directory laid out as the kubelet mounts a Secret: `KEY` links to `..data/KEY`, `..data` to
/// a directory of the current version, and an update swaps `..data` in one rename.
struct MountedSecret {
    directory: TempDir,
    key: &'static str,
    versions: usize,
}

impl MountedSecret {
    fn new(key: &'static str, content: &str) -> Self {
        let mut secret = Self {
            directory: tempfile::tempdir().expect("a temporary directory"),
            key,
            versions: 0,
        };
        secret.update(content);
        symlink(format!("..data/{key}"), secret.path()).expect("the key links into ..data");
        secret
    }

    fn path(&self) -> PathBuf {
        self.directory.path().join(self.key)
    }

    fn update(&mut self, content: &str) {
        self.versions += 1;
        let version = format!("..{}", self.versions);
        let root = self.directory.path();
        std::fs::create_dir(root.join(&version)).expect("a version directory");
        std::fs::write(root.join(&version).join(self.key), content).expect("the new content");
        symlink(&version, root.join("..data_tmp")).expect("a link to the new version");
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).expect("the swap");
    }
}

/// The value of `runview_secret_reloads_total` for `secret` and `outcome`.
async fn reloads(metrics: SocketAddr, secret: &str, outcome: &str) -> u64 {
    let labels = [
        format!("secret=\"{secret}\""),
        format!("outcome=\"{outcome}\""),
    ];
    scrape(metrics)
        .await
        .lines()
        .filter(|line| line.starts_with("runview_secret_reloads_total{"))
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}

/// Waits until the server has counted one more reload of `secret` with `outcome` than `before`.
async fn reloaded(metrics: SocketAddr, secret: &str, outcome: &str, before: u64) {
    eventually(
        RELOAD_WITHIN,
        &format!("a reload of {secret}: {outcome}"),
        async || (reloads(metrics, secret, outcome).await > before).then_some(()),
    )
    .await;
}

/// A channel over one connection, and how many connections it has opened.
async fn counted_channel(addr: SocketAddr) -> (Channel, Arc<AtomicUsize>) {
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let connector = tower::service_fn(move |_: Uri| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { TcpStream::connect(addr).await.map(TokioIo::new) }
    });
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect_with_connector(connector)
        .await
        .expect("the server accepts connections");
    (channel, connections)
}

async fn get_run_with(
    client: &ReadServiceClient<Channel>,
    request: &GetRunRequest,
    token: &str,
) -> Result<(), Status> {
    let mut request = tonic::Request::new(request.clone());
    let bearer = format!("Bearer {token}").parse().expect("ASCII");
    request.metadata_mut().insert("authorization", bearer);
    client.clone().get_run(request).await.map(|_| ())
}

#[tokio::test]
async fn rotated_bearer_tokens_apply_to_open_connections_and_a_broken_file_changes_nothing() {
    bounded(async {
        let mut secret = MountedSecret::new("tokens", "token-a\n");
        let stack = TestStack::start_with(Config {
            auth_tokens_file: Some(secret.path()),
            secret_reload_interval: RELOAD_INTERVAL,
            ..test_config()
        })
        .await;
        let metrics = stack.server.metrics_addr;
        let demo = stack.demo();
        let request = get_run(&demo.production_environment_id, &demo.new_run_id);
        let (channel, connections) = counted_channel(stack.server.grpc_addr).await;
        let client = ReadServiceClient::new(channel);
        get_run_with(&client, &request, "token-a")
            .await
            .expect("the token of the file is accepted");

        let before = reloads(metrics, "auth_tokens", "reloaded").await;
        secret.update("token-b\n");
        reloaded(metrics, "auth_tokens", "reloaded", before).await;
        get_run_with(&client, &request, "token-b")
            .await
            .expect("the new token is accepted");
        let refused = get_run_with(&client, &request, "token-a")
            .await
            .expect_err("the old token is refused");
        assert_eq!(refused.code(), Code::Unauthenticated);

        let before = reloads(metrics, "auth_tokens", "failed").await;
        secret.update("\n");
        reloaded(metrics, "auth_tokens", "failed", before).await;
        get_run_with(&client, &request, "token-b")
            .await
            .expect("an empty file keeps the tokens in force");

        assert_eq!(
            connections.load(Ordering::SeqCst),
            1,
            "every call went over the connection opened first"
        );
        stack.shutdown().await;
    })
    .await;
}

async fn next_page_token(
    client: &mut ReadServiceClient<Channel>,
    request: ListRunsRequest,
) -> Result<String, Status> {
    let page = client.list_runs(request).await?.into_inner();
    assert!(!page.next_page_token.is_empty(), "a further page");
    Ok(page.next_page_token)
}

#[tokio::test]
async fn rotated_page_token_secrets_open_the_tokens_of_every_secret_still_listed() {
    bounded(async {
        let mut secret = MountedSecret::new("secrets", "secret-old\n");
        let stack = TestStack::start_with(Config {
            page_token_secrets_file: Some(secret.path()),
            secret_reload_interval: RELOAD_INTERVAL,
            ..test_config()
        })
        .await;
        let metrics = stack.server.metrics_addr;
        let mut client = stack.client().await;
        let first_page = ListRunsRequest {
            environment_id: stack.demo().production_environment_id.clone(),
            page_size: 2,
            ..ListRunsRequest::default()
        };
        let from = |token: &str| ListRunsRequest {
            page_token: token.to_owned(),
            ..first_page.clone()
        };
        let of_old = next_page_token(&mut client, first_page.clone())
            .await
            .expect("a first page");

        // A new secret first, the old one still listed: tokens of both open.
        let before = reloads(metrics, "page_token_secrets", "reloaded").await;
        secret.update("secret-new\nsecret-old\n");
        reloaded(metrics, "page_token_secrets", "reloaded", before).await;
        next_page_token(&mut client, from(&of_old))
            .await
            .expect("a token of the old secret still opens");
        let of_new = next_page_token(&mut client, first_page.clone())
            .await
            .expect("a first page");

        // The old secret dropped: only the new one's tokens open, so the new one signed.
        let before = reloads(metrics, "page_token_secrets", "reloaded").await;
        secret.update("secret-new\n");
        reloaded(metrics, "page_token_secrets", "reloaded", before).await;
        let refused = next_page_token(&mut client, from(&of_old))
            .await
            .expect_err("a token of a dropped secret no longer opens");
        assert_eq!(refused.code(), Code::InvalidArgument);
        next_page_token(&mut client, from(&of_new))
            .await
            .expect("a token signed after the rotation opens");
        stack.shutdown().await;
    })
    .await;
}
