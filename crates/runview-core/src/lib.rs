//! The runview domain. It knows neither gRPC nor SQL: adapters implement the [`ports`] and the
//! edge converts requests into the presenters' queries and their views back into responses.

pub mod batch;
pub mod control_plane;
pub mod error;
pub mod filter;
pub mod ids;
pub mod packet;
pub mod page;
pub mod page_token;
pub mod ports;
pub mod presenter;
pub mod run;
pub mod run_error;
pub mod status;
pub mod tags;
pub mod waitpoint;

pub use error::{Error, Result};
