//! A private PostgreSQL for the embedded default and for tests, and the reference schemas.
//!
//! [`LocalPostgres`] runs a throwaway server from the PostgreSQL binaries installed on the machine,
//! reachable only through a Unix socket in its data directory. [`apply_schema`] installs the
//! reference schemas of `migrations/` (the upstream tables runview reads, with the upstream's
//! indexes only); [`apply_recommended_indexes`] adds runview's optional indexes where wanted. With
//! the `testing` feature, [`testing::TestDatabase`] hands each test a fresh database with those
//! schemas.

mod binaries;
mod cluster;
mod error;
mod leftover;
mod pg_ctl;
mod process;
mod schema;
mod server;
mod server_user;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::LocalDbError;
pub use schema::{RECOMMENDED_INDEXES_SQL, Schema, apply_recommended_indexes, apply_schema};
pub use server::LocalPostgres;

/// Quotes an SQL identifier, for the statements (CREATE DATABASE ...) that cannot take parameters.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
