//! The run-ops stores against real PostgreSQL, a fresh database per test.

mod batches;
mod boot;
mod coalesced_runs;
mod coalesced_waitpoints;
mod find_batch;
mod find_run;
mod generic_plans;
mod indexed_plans;
mod list_plans;
mod list_runs;
mod lookup_plans;
mod paging;
mod plan;
mod primaries;
mod read_pool;
mod routing;
mod scan_budget;
mod support;
mod upstream_rules;
mod waitpoint_list;
mod waitpoint_plans;
mod waitpoints;
