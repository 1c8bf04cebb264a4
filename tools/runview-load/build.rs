//! Compiles the runview contract (`proto/` at the workspace root) into an encoded
//! FileDescriptorSet, the only thing this tool needs from it: requests are built dynamically.
//! The vendored protoc means no system protoc is needed; `PROTOC` still overrides it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let contract_dir = proto_root.join("runview/v1");
    let mut protos: Vec<PathBuf> = std::fs::read_dir(&contract_dir)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    protos.retain(|path| path.extension().is_some_and(|ext| ext == "proto"));
    protos.sort();

    let protoc = match std::env::var_os("PROTOC") {
        Some(path) => PathBuf::from(path),
        None => protoc_bin_vendored::protoc_bin_path()?,
    };
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("runview_descriptor.bin");
    let status = Command::new(protoc)
        .arg("--include_imports")
        .arg(format!("--descriptor_set_out={}", out.display()))
        .arg("-I")
        .arg(&proto_root)
        .arg("-I")
        .arg(protoc_bin_vendored::include_path()?)
        .args(&protos)
        .status()?;
    if !status.success() {
        return Err(format!(
            "protoc failed ({status}) compiling {}",
            contract_dir.display()
        )
        .into());
    }
    println!("cargo:rerun-if-changed={}", contract_dir.display());
    println!("cargo:rerun-if-env-changed=PROTOC");
    Ok(())
}
