//! The resolver against a real PostgreSQL: a fresh control-plane database per test, seeded with a
//! small fixture.

mod caching;
mod fixture;
mod invalidation;
mod records;
mod replicas;
mod stale;
mod triggers;
