//! Boot: passthrough or split, the fingerprint checks that refuse a split onto one database, and
//! the schema checks that refuse a store without what runview reads but only warn about a missing
//! recommended index.

use runview_core::ids::Residency;
use runview_localdb::apply_recommended_indexes;
use runview_store::{BootError, RunOpsTopology};

use crate::support::{CLOSED_PORT_URL, record_warnings, runops_database, topology_settings};

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

/// The tables of the recommended indexes the database lacks.
async fn missing_recommended(pool: &sqlx::PgPool) -> Vec<&'static str> {
    let missing = runview_pg::missing_indexes(pool, runview_store::RECOMMENDED_INDEXES)
        .await
        .expect("the catalog answers");
    missing.iter().map(|index| index.table).collect()
}

/// The tables named by the warnings about a missing recommended index.
fn warned_tables(warnings: Vec<Vec<String>>) -> Vec<String> {
    let missing = "message=a recommended index is missing: reads stay correct but may be slower";
    warnings
        .into_iter()
        .filter(|fields| fields.iter().any(|field| field == missing))
        .filter_map(|fields| {
            let table = fields.iter().find_map(|field| field.strip_prefix("table="));
            table.map(str::to_owned)
        })
        .collect()
}

/// The reference schemas hold the upstream's indexes alone, as a database runview is pointed at
/// may: boot warns once per missing index in each store, and serves.
#[tokio::test]
async fn boot_serves_on_the_upstream_s_indexes_alone_and_warns_about_each_missing_one() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    for database in [&legacy, &new] {
        assert_eq!(
            missing_recommended(database.pool()).await,
            ["TaskRun", "BatchTaskRun"]
        );
    }

    let (warnings, _recording) = record_warnings();
    let settings = topology_settings(legacy.url(), Some(new.url()), true);
    let topology = RunOpsTopology::connect(&settings).await;
    assert!(topology.is_ok(), "only a warning: {topology:?}");
    let mut warned = warned_tables(warnings.take());
    warned.sort();
    assert_eq!(
        warned,
        ["BatchTaskRun", "BatchTaskRun", "TaskRun", "TaskRun"]
    );
}

#[tokio::test]
async fn boot_does_not_warn_where_the_recommended_indexes_were_created() {
    let (legacy, new) = (
        runops_database(Residency::Legacy).await,
        runops_database(Residency::New).await,
    );
    for database in [&legacy, &new] {
        apply_recommended_indexes(database.pool())
            .await
            .expect("create the recommended indexes");
        assert_eq!(missing_recommended(database.pool()).await, [""; 0]);
    }

    let (warnings, _recording) = record_warnings();
    let settings = topology_settings(legacy.url(), Some(new.url()), true);
    let topology = RunOpsTopology::connect(&settings).await;
    assert!(topology.is_ok(), "{topology:?}");
    assert_eq!(warned_tables(warnings.take()), [""; 0]);
}
