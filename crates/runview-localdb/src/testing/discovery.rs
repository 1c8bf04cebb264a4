//! Finding the PostgreSQL server that the tests of this process use.

use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

use super::url::{with_database, without_database};
use crate::server::socket_url;
use crate::{LocalDbError, LocalPostgres};

const URL_VARIABLE: &str = "RUNVIEW_TEST_DATABASE_URL";

/// A developer's or CI's PostgreSQL, used when it answers.
const MACHINE_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// How long a server may take to accept a connection before it counts as absent.
const CONNECT_PATIENCE: Duration = Duration::from_secs(2);

/// The URL of the server tests use (no database in it), found once per process.
///
/// Panics when there is none: tests cannot run without one.
pub async fn server_url() -> String {
    static SERVER_URL: OnceCell<String> = OnceCell::const_new();
    SERVER_URL.get_or_init(discover).await.clone()
}

async fn discover() -> String {
    if let Ok(url) = std::env::var(URL_VARIABLE) {
        return without_database(&url);
    }
    if accepts_connections(MACHINE_SERVER).await {
        return MACHINE_SERVER.to_owned();
    }
    private_server().await.unwrap_or_else(|e| {
        panic!(
            "no PostgreSQL for tests: set {URL_VARIABLE}, run one on 127.0.0.1:5432 \
             (user postgres, trust auth), or install the server programs for a private one: {e}"
        )
    })
}

async fn accepts_connections(server_url: &str) -> bool {
    let connect = PgConnection::connect(&with_database(server_url, "postgres"));
    match tokio::time::timeout(CONNECT_PATIENCE, connect).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            true
        }
        _ => false,
    }
}

/// A private server shared by all test processes of the machine and reached through its socket.
///
/// Test processes come and go (one per test under cargo-nextest), so the first one to need the
/// server starts it, under a file lock that keeps the others from racing it, and leaves it running.
async fn private_server() -> Result<String, LocalDbError> {
    let data_dir = std::env::temp_dir().join("runview-test-pg");
    let server_url = without_database(&socket_url(&data_dir, "postgres"));
    let _lock = lock_exclusively(data_dir.with_extension("lock")).await?;
    if !accepts_connections(&server_url).await {
        LocalPostgres::start(&data_dir).await?.leave_running();
    }
    Ok(server_url)
}

/// Held until the returned file is dropped.
async fn lock_exclusively(path: PathBuf) -> Result<File, LocalDbError> {
    let locked = tokio::task::spawn_blocking(move || {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await;
    match locked {
        Ok(result) => result.map_err(|e| LocalDbError::io("locking the shared test server", e)),
        Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
    }
}
