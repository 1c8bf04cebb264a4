//! Split-mode boot checks: refuse to start rather than serve from a misconfiguration.

use runview::server::{self, DatabaseUrls};
use runview_localdb::Schema;
use runview_localdb::testing::TestDatabase;
use secrecy::SecretString;

use crate::harness::test_config;

fn url(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

#[tokio::test]
async fn split_boot_refuses_two_urls_that_name_the_same_database() {
    let database = TestDatabase::create(&[Schema::Full]).await;
    let separator = if database.url().contains('?') {
        '&'
    } else {
        '?'
    };
    let same_database = format!(
        "{}{separator}application_name=another-spelling",
        database.url()
    );
    let urls = DatabaseUrls {
        control_plane: url(database.url()),
        control_plane_primary: None,
        legacy: url(database.url()),
        new: Some(url(&same_database)),
        legacy_primary: None,
        new_primary: None,
    };
    let error = server::start(&test_config(), &urls)
        .await
        .err()
        .expect("the boot check refuses");
    let message = format!("{error:#}");
    assert!(message.contains("both reach database"), "{message}");
    assert!(
        message.contains(database.name()),
        "the message names the database: {message}"
    );
}

#[tokio::test]
async fn split_boot_refuses_when_a_store_cannot_be_probed() {
    let database = TestDatabase::create(&[Schema::Full]).await;
    let urls = DatabaseUrls {
        control_plane: url(database.url()),
        control_plane_primary: None,
        legacy: url(database.url()),
        new: Some(url("postgres://postgres:hunter2@127.0.0.1:1/runview_new")),
        legacy_primary: None,
        new_primary: None,
    };
    let error = server::start(&test_config(), &urls)
        .await
        .err()
        .expect("fail closed");
    let message = format!("{error:#}");
    assert!(
        !message.contains("hunter2"),
        "no password in boot errors: {message}"
    );
}

#[tokio::test]
async fn passthrough_mode_serves_from_one_database() {
    let database = TestDatabase::create(&[Schema::Full]).await;
    let urls = DatabaseUrls {
        control_plane: url(database.url()),
        control_plane_primary: None,
        legacy: url(database.url()),
        new: None,
        legacy_primary: None,
        new_primary: None,
    };
    let running = server::start(&test_config(), &urls)
        .await
        .expect("passthrough starts");
    running.shutdown().await.expect("stops cleanly");
}
