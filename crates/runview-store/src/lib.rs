//! The run-ops stores over sqlx: one PostgreSQL database per store, queried with plain SQL that
//! reads only run-ops tables, and the topology that routes lookups between LEGACY and NEW and
//! merges what every store answers.

mod batches;
mod boot;
mod coalesce;
mod find_batch;
mod find_run;
mod keyset;
mod list_runs;
mod merge;
mod run_row;
mod schema;
mod store;
mod telemetry;
mod topology;
mod waitpoint;
mod waitpoint_list;
mod waitpoint_sql;

pub use batches::list_batches_sql;
pub use boot::{BootError, TopologySettings};
pub use coalesce::{Coalescing, DEFAULT_MAX_COALESCED_LOOKUPS};
pub use find_batch::FIND_BATCH_SQL;
pub use find_run::{FIND_RUN_SQL, FIND_RUNS_SQL};
pub use list_runs::{list_runs_indexed_sql, list_runs_sql};
pub use schema::{RECOMMENDED_INDEXES, column_needs};
pub use store::PgRunStore;
pub use topology::RunOpsTopology;
pub use waitpoint_list::list_waitpoints_sql;
pub use waitpoint_sql::coalesced_waitpoint_sql;
