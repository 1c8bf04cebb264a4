//! The generated contract (`runview.v1`), compiled from proto/ by build.rs.

#![allow(clippy::all, missing_docs)]

tonic::include_proto!("runview.v1");

/// The encoded descriptors of the contract, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("runview_descriptor");
