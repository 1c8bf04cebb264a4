//! End-to-end tests: the real server on port 0, real PostgreSQL (a fresh set of databases per
//! test, seeded with the demo generator), and the generated gRPC client.

mod boot;
mod coalesced;
mod faults;
mod get_batch;
mod get_run;
mod get_waitpoint;
mod harness;
mod health;
mod list_batches;
mod list_runs;
mod list_waitpoints;
mod node;
mod observability;
mod otlp;
mod process;
mod proxy;
mod real_schema;
mod rotation;
mod tls;
mod traces;
