//! Test databases and the reference schemas, on the server the tests discover.

use runview_localdb::testing::{TestDatabase, server_url};
use runview_localdb::{Schema, apply_schema};
use sqlx::{Connection, PgConnection};

/// The upstream's full schema: the control plane and LEGACY's run-ops tables.
const FULL_TABLES: [&str; 14] = [
    "BackgroundWorker",
    "BatchTaskRun",
    "BatchTaskRunError",
    "OrgMember",
    "Organization",
    "Project",
    "RuntimeEnvironment",
    "TaskRun",
    "TaskRunAttempt",
    "TaskRunWaitpoint",
    "TaskSchedule",
    "User",
    "Waitpoint",
    "_WaitpointRunConnections",
];

/// NEW's run-ops schema.
const RUN_OPS_TABLES: [&str; 7] = [
    "BatchTaskRun",
    "BatchTaskRunError",
    "TaskRun",
    "TaskRunAttempt",
    "TaskRunWaitpoint",
    "Waitpoint",
    "WaitpointRunConnection",
];

async fn tables(database: &TestDatabase) -> Vec<String> {
    let mut tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(database.pool())
            .await
            .expect("list tables");
    tables.sort();
    tables
}

async fn organizations(database: &TestDatabase) -> i64 {
    sqlx::query_scalar(r#"SELECT count(*) FROM "Organization""#)
        .fetch_one(database.pool())
        .await
        .expect("count")
}

/// The server's `postgres` database, from a server URL that has no database in it.
fn maintenance_url(server_url: &str) -> String {
    match server_url.split_once('?') {
        Some((base, query)) => format!("{base}/postgres?{query}"),
        None => format!("{server_url}/postgres"),
    }
}

#[tokio::test]
async fn each_reference_schema_applies_to_an_empty_database() {
    for (schema, expected) in [
        (Schema::Full, &FULL_TABLES[..]),
        (Schema::RunOps, &RUN_OPS_TABLES[..]),
    ] {
        let database = TestDatabase::create(&[]).await;
        apply_schema(database.pool(), schema)
            .await
            .expect("applies");
        assert_eq!(tables(&database).await, expected, "{schema:?}");
    }
}

#[tokio::test]
async fn a_template_database_holds_the_schemas_it_was_asked_for() {
    let database = TestDatabase::create(&[Schema::Full]).await;
    assert_eq!(tables(&database).await, FULL_TABLES);
}

#[tokio::test]
async fn run_statuses_keep_the_upstream_order() {
    for schema in [Schema::Full, Schema::RunOps] {
        let database = TestDatabase::create(&[schema]).await;

        let labels: Vec<String> =
            sqlx::query_scalar(r#"SELECT unnest(enum_range(NULL::"TaskRunStatus"))::text"#)
                .fetch_all(database.pool())
                .await
                .expect("enum labels");
        assert_eq!(labels.len(), 17, "{schema:?}");
        assert_eq!(labels.first().map(String::as_str), Some("DELAYED"));
        assert_eq!(labels.last().map(String::as_str), Some("TIMED_OUT"));
    }
}

#[tokio::test]
async fn test_databases_are_isolated_from_each_other() {
    let first = TestDatabase::create(&[Schema::Full]).await;
    let second = TestDatabase::create(&[Schema::Full]).await;
    assert_ne!(first.name(), second.name());
    assert!(first.url().contains(first.name()));

    sqlx::query(r#"INSERT INTO "Organization" (id, slug, title, "updatedAt") VALUES ('o1', 'acme', 'Acme', now())"#)
        .execute(first.pool())
        .await
        .expect("insert");
    assert_eq!(organizations(&first).await, 1);
    assert_eq!(organizations(&second).await, 0);
}

#[tokio::test]
async fn dropping_a_test_database_removes_it_from_the_server() {
    let database = TestDatabase::create(&[Schema::RunOps]).await;
    let name = database.name().to_owned();
    let mut held = PgConnection::connect(database.url())
        .await
        .expect("a connection of the test's own");
    sqlx::query("SELECT 1")
        .execute(&mut held)
        .await
        .expect("query");

    drop(database);

    let mut conn = PgConnection::connect(&maintenance_url(&server_url().await))
        .await
        .expect("maintenance connection");
    let remaining: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(
        remaining, 0,
        "{name} is gone, even with a connection still open"
    );
}
