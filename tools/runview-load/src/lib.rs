//! runview-load: runs ghz configuration files against runview and reports like ghz, for
//! machines where ghz itself is not available. Requests are encoded from JSON with the runview
//! contract compiled into the binary; responses are only checked for their status.

pub mod cli;
pub mod codec;
pub mod config;
pub mod contract;
pub mod duration;
pub mod ids;
pub mod report;
pub mod request;
pub mod runner;
pub mod stats;
pub mod summary;
pub mod template;
