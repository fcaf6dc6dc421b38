//! The run spec: what is needed to reproduce a run.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::run::RunOptions;

/// The machine a run ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub os: String,
}

/// Everything that identifies a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub dataset: String,
    pub dataset_sha256: String,
    pub conversations: Vec<String>,
    pub questions: usize,
    /// `in-process` or the server's URL.
    pub backend: String,
    pub options: RunOptions,
    /// The engine configuration (in process) as JSON.
    pub engine_config: Option<serde_json::Value>,
    pub git_commit: String,
    pub mnemo_version: String,
    pub machine: Machine,
    pub started_at: String,
}

/// The sha256 of a file's bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn first_line_with(path: &str, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(prefix))?;
    Some(line.split(':').nth(1)?.trim().to_owned())
}

/// What this machine is, read from /proc where there is one.
pub fn machine() -> Machine {
    let kib: f64 = first_line_with("/proc/meminfo", "MemTotal")
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    Machine {
        cpu: first_line_with("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".to_owned()),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        memory_gib: (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// The commit of the working tree, with `-dirty` when it has changes; `unknown` outside git.
pub fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        }
        None => "unknown".to_owned(),
    }
}
