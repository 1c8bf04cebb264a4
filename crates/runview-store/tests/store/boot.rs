//! Boot: passthrough or split, and the fingerprint checks that refuse a split onto one database.

use runview_core::ids::Residency;
use runview_store::{BootError, RunOpsTopology};

use crate::support::{CLOSED_PORT_URL, runops_database, topology_settings};

#[tokio::test]
async fn boot_is_passthrough_without_split_mode_or_a_new_url() {
    let database = runops_database(Residency::Legacy).await;
    for (new_url, split) in [(Some(database.url()), false), (None, true)] {
        let settings = topology_settings(database.url(), new_url, split);
        let topology = RunOpsTopology::connect(&settings).await;
        assert!(
            topology.as_ref().is_ok_and(|topology| !topology.is_split()),
            "{topology:?}"
        );
    }
}

#[tokio::test]
async fn boot_refuses_two_urls_naming_the_same_database() {
    let database = runops_database(Residency::Legacy).await;
    let other_spelling = database.url().replacen("127.0.0.1", "localhost", 1);
    let settings = topology_settings(database.url(), Some(&other_spelling), true);

    let error = RunOpsTopology::connect(&settings).await.err();
    let Some(error @ BootError::SameDatabase { .. }) = error else {
        panic!("expected SameDatabase, got {error:?}");
    };
    let message = error.to_string();
    assert!(message.contains(database.name()), "{message}");
    assert!(
        !message.contains("postgres://") && !message.contains("localhost"),
        "{message}"
    );
}

#[tokio::test]
async fn boot_accepts_two_databases_of_one_cluster() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    let settings = topology_settings(legacy.url(), Some(new.url()), true);

    let topology = RunOpsTopology::connect(&settings)
        .await
        .expect("two databases are a split");
    assert!(topology.is_split());
    let stores: Vec<Residency> = topology
        .stores()
        .into_iter()
        .map(|store| store.residency())
        .collect();
    assert_eq!(stores, [Residency::Legacy, Residency::New]);
}

#[tokio::test]
async fn boot_refuses_when_a_probe_fails() {
    let database = runops_database(Residency::Legacy).await;
    let settings = topology_settings(database.url(), Some(CLOSED_PORT_URL), true);

    let error = RunOpsTopology::connect(&settings).await.err();
    assert!(
        matches!(
            error,
            Some(BootError::Probe {
                store: Residency::New,
                ..
            })
        ),
        "{error:?}"
    );
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(!message.contains("127.0.0.1:1"), "{message}");
}

/// The boot error of a passthrough over `database` after `drift` changed its schema.
async fn boot_error_after(drift: &str) -> String {
    let database = runops_database(Residency::Legacy).await;
    sqlx::raw_sql(drift)
        .execute(database.pool())
        .await
        .expect("change the schema");
    let settings = topology_settings(database.url(), None, false);
    let error = RunOpsTopology::connect(&settings).await.err();
    assert!(
        matches!(error, Some(BootError::Schema(_))),
        "a drifted schema is refused: {error:?}"
    );
    let message = error.map(|error| error.to_string()).unwrap_or_default();
    assert!(!message.contains("postgres://"), "{message}");
    message
}

#[tokio::test]
async fn boot_refuses_a_store_without_a_column_it_reads_and_says_which() {
    let message = boot_error_after(r#"ALTER TABLE "TaskRun" DROP COLUMN "runTags""#).await;
    assert_eq!(
        message,
        "the LEGACY run-ops database does not have what runview reads: column \
         \"TaskRun\".\"runTags\": expected text[], found no such column"
    );
}

#[tokio::test]
async fn boot_refuses_a_retyped_column_and_a_nullable_one_read_as_a_value_in_one_message() {
    let message = boot_error_after(
        r#"ALTER TABLE "TaskRun" ALTER COLUMN depth TYPE bigint;
           ALTER TABLE "Waitpoint" ALTER COLUMN "createdAt" DROP NOT NULL"#,
    )
    .await;
    assert!(
        message.contains(
            "column \"TaskRun\".\"depth\": expected integer NOT NULL, found bigint; column \
             \"Waitpoint\".\"createdAt\": expected timestamp without time zone NOT NULL, found a \
             nullable column"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn boot_refuses_a_legacy_store_with_the_new_stores_connection_table() {
    // The shape a schema written for both stores alike would have: LEGACY has no such table.
    let message = boot_error_after(
        r#"DROP TABLE "_WaitpointRunConnections";
           CREATE TABLE "WaitpointRunConnection" (id text, "taskRunId" text, "waitpointId" text)"#,
    )
    .await;
    assert!(
        message.contains("table \"_WaitpointRunConnections\": expected it to exist"),
        "{message}"
    );
}

#[tokio::test]
async fn boot_serves_without_a_recommended_index() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    sqlx::raw_sql(r#"DROP INDEX "runview_TaskRun_environment_createdAt_id_idx""#)
        .execute(new.pool())
        .await
        .expect("drop the recommended index");
    let missing = runview_pg::missing_indexes(new.pool(), runview_store::RECOMMENDED_INDEXES)
        .await
        .expect("the catalog answers");
    let missing: Vec<&str> = missing.iter().map(|index| index.table).collect();
    assert_eq!(missing, ["TaskRun"]);

    let settings = topology_settings(legacy.url(), Some(new.url()), true);
    let topology = RunOpsTopology::connect(&settings).await;
    assert!(topology.is_ok(), "only a warning: {topology:?}");
}
