//! Compiles the contract in proto/ into OUT_DIR, with a file descriptor set for reflection.
//! A vendored protoc is used so no system protoc is needed; `PROTOC` still overrides it.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "proto/runview/v1/common.proto",
    "proto/runview/v1/run.proto",
    "proto/runview/v1/waitpoint.proto",
    "proto/runview/v1/batch.proto",
    "proto/runview/v1/read_service.proto",
    "proto/runview/v1/cache_service.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut includes = vec![PathBuf::from("proto")];
    let protoc = match std::env::var_os("PROTOC") {
        Some(path) => PathBuf::from(path),
        None => {
            includes.push(protoc_bin_vendored::include_path()?);
            protoc_bin_vendored::protoc_bin_path()?
        }
    };
    let protos: Vec<PathBuf> = PROTOS.iter().map(PathBuf::from).collect();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        // Undecodable requests are the caller's fault, not an internal error: see src/grpc/codec.rs.
        .codec_path("crate::grpc::ProtoCodec")
        .file_descriptor_set_path(out_dir.join("runview_descriptor.bin"))
        .compile_with_config(config, &protos, &includes)?;
    // Naming one trigger turns off cargo's default of rerunning on any change, so name both.
    println!("cargo:rerun-if-env-changed=PROTOC");
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
