//! The gRPC edge: adapters, conversions, authentication and the status mapping.

mod auth;
mod cache;
mod convert;
mod deadline;
mod read;
mod status;

pub use auth::BearerAuth;
pub use cache::CacheAdapter;
pub use read::ReadAdapter;
