//! The real `mnemo` binary, as these tests launch it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

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

/// Starts `mnemo serve` on a free port and returns it with its base URL, read from the line
/// it prints once it listens.
#[allow(dead_code, reason = "not every test binary starts a server")]
pub(crate) fn start(data: &Path) -> (Child, String) {
    start_with(data, &[])
}

/// [`start`] with more environment variables (settings as `MNEMO__SECTION__KEY`).
#[allow(dead_code, reason = "not every test binary starts a server")]
pub(crate) fn start_with(data: &Path, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = mnemo(data, &["serve", "--bind", "127.0.0.1:0"])
        .envs(env.iter().copied())
        // On loopback; keys are tested through the router and a real socket elsewhere.
        .env("MNEMO__AUTH__MODE", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("mnemo serve printed its address before exiting")
            .unwrap();
        if let Some(url) = line.strip_prefix("mnemo listening on ") {
            break url.to_owned();
        }
    };
    (child, base)
}

/// GETs a JSON answer.
#[allow(dead_code, reason = "not every test binary calls a server")]
pub(crate) async fn get(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// POSTs a JSON body and returns the JSON answer.
#[allow(dead_code, reason = "not every test binary calls a server")]
pub(crate) async fn post(client: &reqwest::Client, url: String, body: &Value) -> Value {
    client
        .post(url)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
