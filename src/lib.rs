//! runview: a gRPC read-model service for task runs, waitpoints and batches whose run data is
//! split across run-ops stores, hydrated with control-plane data through a cached resolver.

pub mod config;
pub mod embedded;
mod grpc;
pub mod metrics;
pub mod proto;
pub mod server;
pub mod telemetry;
