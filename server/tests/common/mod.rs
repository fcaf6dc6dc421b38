//! The real `mnemo` binary, as these tests launch it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deps_dir() -> PathBuf {
    std::env::var_os("MNEMO_DEPS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.deps"))
}

/// Whether the embedding model is installed; says why the test is skipped when it is not.
pub(crate) fn model_installed() -> bool {
    let model = deps_dir().join("models/all-minilm-l6-v2/model.onnx");
    if !model.is_file() {
        eprintln!("SKIP: {} is missing (run scripts/setup)", model.display());
    }
    model.is_file()
}

/// `mnemo --data-dir DATA ARGS...` with the installed model, logging warnings only.
pub(crate) fn mnemo(data: &Path, args: &[&str]) -> Command {
    let deps = deps_dir();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mnemo"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env(
            "MNEMO__EMBEDDING__MODEL_DIR",
            deps.join("models/all-minilm-l6-v2"),
        )
        .env(
            "MNEMO__EMBEDDING__ORT_LIBRARY",
            deps.join("onnxruntime/libonnxruntime.so"),
        )
        .env("MNEMO_LOG", "warn");
    command
}
