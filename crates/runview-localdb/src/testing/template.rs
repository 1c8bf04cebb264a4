//! Template databases: the schemas are applied once per server, and every test database is a
//! cheap file-level copy of the template.

use sha2::{Digest, Sha256};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, Row};

use super::url::with_database;
use crate::{Schema, apply_schema, quote_identifier};

/// The advisory lock that serializes template builds across test processes.
const BUILD_LOCK: i64 = 0x7275_6e76_6965_7701;

/// The template holding `schemas`, built first if the server lacks it.
///
/// `conn` is a maintenance connection to the `postgres` database of the server at `server_url`.
pub(super) async fn template_database(
    conn: &mut PgConnection,
    server_url: &str,
    schemas: &[Schema],
) -> Result<String, sqlx::Error> {
    let name = template_name(schemas);
    if database_exists(conn, &name).await? {
        return Ok(name);
    }
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(BUILD_LOCK)
        .execute(&mut *conn)
        .await?;
    // Another process may have built it while this one waited for the lock. Should the build
    // fail, the lock goes with the connection.
    if !database_exists(conn, &name).await? {
        build(conn, server_url, &name, schemas).await?;
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(BUILD_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(name)
}

/// Named after a hash of the schemas' SQL, so that changing a schema makes a new template.
fn template_name(schemas: &[Schema]) -> String {
    let mut hasher = Sha256::new();
    for schema in schemas {
        hasher.update(format!("{schema:?}\n"));
        hasher.update(schema.sql());
    }
    let digest = hasher.finalize();
    let short: String = digest[..6]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("runview_template_{short}")
}

async fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await?
        .try_get(0)
}

/// Builds under a temporary name and renames at the end, so a template that exists is complete.
async fn build(
    conn: &mut PgConnection,
    server_url: &str,
    name: &str,
    schemas: &[Schema],
) -> Result<(), sqlx::Error> {
    let building = format!("{name}_building");
    let (building_ident, name_ident) = (quote_identifier(&building), quote_identifier(name));
    // Left behind by a process that died while building.
    execute(
        conn,
        &format!("DROP DATABASE IF EXISTS {building_ident} WITH (FORCE)"),
    )
    .await?;
    execute(conn, &format!("CREATE DATABASE {building_ident}")).await?;

    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&with_database(server_url, &building))
        .await?;
    for schema in schemas {
        apply_schema(&pool, *schema).await?;
    }
    pool.close().await;

    execute(
        conn,
        &format!("ALTER DATABASE {building_ident} RENAME TO {name_ident}"),
    )
    .await?;
    // Copying needs a template nobody is connected to.
    execute(
        conn,
        &format!("ALTER DATABASE {name_ident} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
    )
    .await
}

/// Runs a statement that takes no parameters (database DDL) over the simple protocol.
pub(super) async fn execute(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(conn).await?;
    Ok(())
}
