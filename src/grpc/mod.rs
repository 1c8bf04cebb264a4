//! The gRPC edge: adapters, conversions, authentication and the status mapping.

mod auth;
mod cache;
mod codec;
mod convert;
mod deadline;
mod edge;
mod panics;
mod read;
mod status;

pub use auth::BearerAuth;
pub use cache::CacheAdapter;
pub use codec::ProtoCodec;
pub use edge::Edge;
pub(crate) use panics::install_hook as install_panic_hook;
pub use read::ReadAdapter;
