//! Throwaway databases for the tests of the workspace.
//!
//! Every test gets its own database, copied from a template that holds the requested reference
//! schemas. The server is, in order of preference: the one `RUNVIEW_TEST_DATABASE_URL` names, a
//! PostgreSQL on `127.0.0.1:5432` (user `postgres`, no password), or a private [`LocalPostgres`]
//! shared by all test processes and left running for the next ones.
//!
//! [`LocalPostgres`]: crate::LocalPostgres

mod database;
mod discovery;
mod template;
mod url;

pub use database::TestDatabase;
pub use discovery::server_url;
