//! A fresh database per test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

use super::discovery::server_url;
use super::template::{execute, template_database};
use super::url::with_database;
use crate::{Schema, quote_identifier};

/// Enough for tests that run queries concurrently, few enough for hundreds of tests on one server.
const POOL_SIZE: u32 = 8;

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh, uniquely named database with reference schemas applied; dropped with the value.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
    pool: PgPool,
}

impl TestDatabase {
    /// Creates a database holding `schemas`.
    ///
    /// Panics when that fails: this is for tests only.
    pub async fn create(schemas: &[Schema]) -> TestDatabase {
        let server_url = server_url().await;
        match Self::try_create(server_url, schemas).await {
            Ok(database) => database,
            Err(e) => panic!("could not create a test database with {schemas:?}: {e}"),
        }
    }

    async fn try_create(server_url: String, schemas: &[Schema]) -> Result<Self, sqlx::Error> {
        let mut conn = PgConnection::connect(&with_database(&server_url, "postgres")).await?;
        let template = template_database(&mut conn, &server_url, schemas).await?;
        let name = unique_name();
        let create = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_identifier(&name),
            quote_identifier(&template)
        );
        execute(&mut conn, &create).await?;
        conn.close().await?;

        let url = with_database(&server_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(&url)
            .await?;
        Ok(TestDatabase {
            name,
            url,
            server_url,
            pool,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Marks the pool closed at once; the forced drop below ends the connections still open.
        // Awaiting the close is not possible here and could wait on connections a test still holds.
        drop(self.pool.close());
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Drop cannot await, and the test's runtime may be single-threaded and busy running this
        // very drop, so the database is dropped on a thread with a runtime of its own.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let _ = runtime.block_on(drop_database(&server_url, &name));
        });
        let _ = dropper.join();
    }
}

async fn drop_database(server_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(&with_database(server_url, "postgres")).await?;
    let statement = format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_identifier(name)
    );
    execute(&mut conn, &statement).await?;
    conn.close().await
}

/// Unique across the threads and processes of a test run, and across runs sharing a server.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "runview_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}
