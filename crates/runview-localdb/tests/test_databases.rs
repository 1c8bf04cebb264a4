//! Test databases and the reference schemas, on the server the tests discover.

use runview_localdb::testing::{TestDatabase, server_url};
use runview_localdb::{Schema, apply_schema};
use sqlx::{Connection, PgConnection};

const CONTROL_PLANE_TABLES: [&str; 7] = [
    "BackgroundWorker",
    "OrgMember",
    "Organization",
    "Project",
    "RuntimeEnvironment",
    "TaskSchedule",
    "User",
];

const RUN_OPS_TABLES: [&str; 5] = [
    "BatchTaskRun",
    "TaskRun",
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
async fn both_reference_schemas_apply_to_one_database() {
    let database = TestDatabase::create(&[Schema::ControlPlane, Schema::RunOps]).await;

    let mut expected: Vec<&str> = CONTROL_PLANE_TABLES
        .iter()
        .chain(&RUN_OPS_TABLES)
        .copied()
        .collect();
    expected.sort();
    assert_eq!(tables(&database).await, expected);
}

#[tokio::test]
async fn each_reference_schema_applies_to_an_empty_database() {
    for (schema, expected) in [
        (Schema::ControlPlane, &CONTROL_PLANE_TABLES[..]),
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
async fn run_statuses_keep_the_upstream_order() {
    let database = TestDatabase::create(&[Schema::RunOps]).await;

    let labels: Vec<String> =
        sqlx::query_scalar(r#"SELECT unnest(enum_range(NULL::"TaskRunStatus"))::text"#)
            .fetch_all(database.pool())
            .await
            .expect("enum labels");
    assert_eq!(labels.len(), 17);
    assert_eq!(labels.first().map(String::as_str), Some("DELAYED"));
    assert_eq!(labels.last().map(String::as_str), Some("TIMED_OUT"));
}

#[tokio::test]
async fn test_databases_are_isolated_from_each_other() {
    let first = TestDatabase::create(&[Schema::ControlPlane]).await;
    let second = TestDatabase::create(&[Schema::ControlPlane]).await;
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
