//! The read pool hands connections back without a round trip, and closes those whose statement
//! was cut off.

use std::time::Duration;

use runview_core::ids::Residency;
use runview_store::PgRunStore;

use crate::support::{self, runops_database};

/// A store whose read pool holds at most one connection.
async fn one_connection_store() -> (runview_localdb::testing::TestDatabase, PgRunStore) {
    let database = runops_database(Residency::Legacy).await;
    let store = support::one_connection_store(&database, Residency::Legacy);
    (database, store)
}

async fn backend_pid(store: &PgRunStore) -> i32 {
    let mut lease = store.read_pool().lease().await.expect("a connection");
    let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(lease.connection())
        .await;
    lease.finish(pid).expect("the backend pid")
}

#[tokio::test]
async fn a_finished_statement_hands_its_connection_back_for_reuse() {
    let (_database, store) = one_connection_store().await;

    let first = backend_pid(&store).await;
    let second = backend_pid(&store).await;

    assert_eq!(first, second, "the same session served both statements");
    let state = store.read_pool().state();
    assert_eq!((state.connections, state.discarded), (1, 0));
}

#[tokio::test]
async fn a_statement_refused_by_the_database_keeps_its_connection() {
    let (_database, store) = one_connection_store().await;
    let before = backend_pid(&store).await;

    let mut lease = store.read_pool().lease().await.expect("a connection");
    let refused = sqlx::query("SELECT 1 / 0")
        .execute(lease.connection())
        .await;
    assert!(matches!(
        lease.finish(refused),
        Err(sqlx::Error::Database(_))
    ));

    assert_eq!(backend_pid(&store).await, before);
    assert_eq!(store.read_pool().state().discarded, 0);
}

#[tokio::test]
async fn a_cancelled_statement_closes_its_connection_and_the_next_call_gets_a_fresh_one() {
    let (_database, store) = one_connection_store().await;
    let before = backend_pid(&store).await;

    let mut lease = store.read_pool().lease().await.expect("a connection");
    let cut_off = tokio::time::timeout(
        Duration::from_millis(50),
        sqlx::query("SELECT pg_sleep(5)").execute(lease.connection()),
    )
    .await;
    assert!(cut_off.is_err(), "the statement was still running");
    drop(lease);

    let after = backend_pid(&store).await;
    assert_ne!(
        after, before,
        "a new session, not the one left mid-statement"
    );
    assert_eq!(store.read_pool().state().discarded, 1);
}

#[tokio::test]
async fn a_statement_past_its_timeout_is_a_deadline_not_a_retryable_outage() {
    let database = runops_database(Residency::Legacy).await;
    let settings = runview_pg::PoolSettings {
        statement_timeout: Duration::from_millis(50),
        ..runview_pg::PoolSettings::default()
    };
    let url = secrecy::SecretString::from(database.url().to_owned());
    let pool = runview_pg::lazy_pool(&url, &settings).expect("a lazy pool");
    let error = sqlx::query("SELECT pg_sleep(5)")
        .execute(&pool)
        .await
        .expect_err("the statement timeout ends it");
    let mapped = runview_pg::map_error("legacy run-ops store", error);
    assert_eq!(mapped, runview_core::Error::DeadlineExceeded);
}
