//! TLS and mTLS on the gRPC port, with certificates made for the test.

use std::path::PathBuf;

use rcgen::{CertifiedKey, generate_simple_self_signed};
use runview::config::Config;
use runview::proto::GetRunRequest;
use runview::proto::read_service_client::ReadServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::harness::{TestStack, test_config};

/// A certificate for `localhost`, written as PEM files the server reads.
struct ServerCertificate {
    directory: tempfile::TempDir,
    pem: String,
}

impl ServerCertificate {
    fn generate() -> Self {
        let CertifiedKey { cert, signing_key } =
            generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
        let directory = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(directory.path().join("cert.pem"), cert.pem()).expect("written");
        std::fs::write(
            directory.path().join("key.pem"),
            signing_key.serialize_pem(),
        )
        .expect("written");
        Self {
            directory,
            pem: cert.pem(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }
}

async fn tls_channel(stack: &TestStack, trusted: &str) -> Result<Channel, tonic::transport::Error> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(trusted))
        .domain_name("localhost");
    Channel::from_shared(format!(
        "https://localhost:{}",
        stack.server.grpc_addr.port()
    ))
    .expect("a valid URI")
    .tls_config(tls)?
    .connect()
    .await
}

#[tokio::test]
async fn the_grpc_port_serves_tls_with_the_configured_certificate() {
    let certificate = ServerCertificate::generate();
    let stack = TestStack::start_with(Config {
        tls_cert_file: Some(certificate.path("cert.pem")),
        tls_key_file: Some(certificate.path("key.pem")),
        ..test_config()
    })
    .await;
    let demo = stack.demo();
    let channel = tls_channel(&stack, &certificate.pem)
        .await
        .expect("the handshake succeeds");
    let run = ReadServiceClient::new(channel)
        .get_run(GetRunRequest {
            environment_id: demo.production_environment_id.clone(),
            run_id: demo.legacy_run_id.clone(),
            ..GetRunRequest::default()
        })
        .await
        .expect("served over TLS")
        .into_inner();
    assert_eq!(run.id, demo.legacy_run_id);

    let mut plaintext = stack.client().await;
    let refused = plaintext
        .get_run(GetRunRequest::default())
        .await
        .expect_err("plaintext is not served on a TLS port");
    assert_ne!(
        refused.code(),
        tonic::Code::InvalidArgument,
        "the request never reached a handler"
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn with_a_client_ca_a_client_without_a_certificate_is_refused() {
    let certificate = ServerCertificate::generate();
    let stack = TestStack::start_with(Config {
        tls_cert_file: Some(certificate.path("cert.pem")),
        tls_key_file: Some(certificate.path("key.pem")),
        tls_client_ca_file: Some(certificate.path("cert.pem")),
        ..test_config()
    })
    .await;
    let refused = match tls_channel(&stack, &certificate.pem).await {
        Err(_) => true,
        Ok(channel) => ReadServiceClient::new(channel)
            .get_run(GetRunRequest::default())
            .await
            .is_err_and(|status| {
                status.code() == tonic::Code::Unavailable || status.code() == tonic::Code::Unknown
            }),
    };
    assert!(refused, "mTLS requires a client certificate");
    stack.shutdown().await;
}

#[tokio::test]
async fn a_certificate_without_its_key_is_a_clear_startup_error() {
    let certificate = ServerCertificate::generate();
    let databases = crate::harness::SeededDatabases::create().await;
    let config = Config {
        tls_cert_file: Some(certificate.path("cert.pem")),
        ..test_config()
    };
    let error = runview::server::start(&config, &databases.urls())
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{error:#}").contains("tls_cert_file and tls_key_file"),
        "{error:#}"
    );
}
