//! A private PostgreSQL for the embedded default and for tests, and the reference schemas.
//!
//! [`LocalPostgres`] runs a throwaway server from the PostgreSQL binaries installed on the machine,
//! reachable only through a Unix socket in its data directory. [`apply_schema`] installs the
//! reference schemas of `migrations/` (the upstream tables runview reads). With the `testing`
//! feature, [`testing::TestDatabase`] hands each test a fresh database with those schemas.

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
pub use schema::{Schema, apply_schema};
pub use server::LocalPostgres;

/// Quotes an SQL identifier, for the statements (CREATE DATABASE ...) that cannot take parameters.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
