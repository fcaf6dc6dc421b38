//! The real binary: `mnemo backup` while `mnemo serve` takes sessions, a graceful stop (SIGTERM)
//! that leaves every commit in the store's main file, `mnemo check`, and `mnemo restore` into a
//! new data directory that a new server serves.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

mod common;
use common::{get, mnemo, model_installed, post, start};

fn session(i: usize) -> Value {
    json!({
        "session_id": format!("s{i}"),
        "started_at": "2024-03-01T10:00:00Z",
        "turns": [{"speaker": "Ann", "text": format!("My locker number at the climbing gym is {}.", 4000 + i)}]
    })
}

async fn store(client: &reqwest::Client, base: &str, sessions: std::ops::Range<usize>) {
    for i in sessions {
        let stored = post(client, format!("{base}/v1/users/ann/sessions"), &session(i)).await;
        assert_eq!(stored["status"], "ready", "{stored}");
    }
}

fn run(data: &Path, args: &[&str]) -> Output {
    mnemo(data, args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[tokio::test]
async fn a_backup_of_a_serving_store_restores_into_a_new_data_directory() {
    if !model_installed() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("backup");
    let client = reqwest::Client::new();

    let (mut server, base) = start(data.path());
    store(&client, &base, 0..4).await;
    // Sessions keep arriving while the backup is taken.
    let writer = {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move { store(&client, &base, 4..12).await })
    };
    let backup = {
        let (data, out) = (data.path().to_path_buf(), out.clone());
        tokio::task::spawn_blocking(move || run(&data, &["backup", out.to_str().unwrap()]))
            .await
            .unwrap()
    };
    writer.await.unwrap();
    assert!(backup.status.success(), "{backup:?}");
    assert!(
        stdout(&backup).starts_with("backup written to "),
        "{backup:?}"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("backup.json")).unwrap()).unwrap();
    let backed_up = manifest["sessions"].as_u64().unwrap() as usize;
    assert!((4..=12).contains(&backed_up), "{manifest}");

    // A graceful stop: the main file alone then holds all twelve sessions.
    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(server.wait().unwrap().success());
    assert_eq!(file_len(&data.path().join("mnemo.sqlite3-wal")), 0);
    let check = run(data.path(), &["check"]);
    assert!(check.status.success(), "{check:?}");
    let report = stdout(&check);
    assert!(
        report.contains(": 12 sessions, ") && report.ends_with("; 0 problems\n"),
        "{report}"
    );

    // Restored into a new directory, and refused a second time there without --force.
    let restored = tempfile::tempdir().unwrap();
    let restore = run(restored.path(), &["restore", out.to_str().unwrap()]);
    assert!(restore.status.success(), "{restore:?}");
    let again = run(restored.path(), &["restore", out.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("--force"),
        "{again:?}"
    );

    let (mut server, base) = start(restored.path());
    let list = get(&client, format!("{base}/v1/users/ann/sessions?limit=100")).await;
    let mut ids: Vec<String> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_by_key(|id| id[1..].parse::<usize>().unwrap());
    assert_eq!(
        ids,
        (0..backed_up).map(|i| format!("s{i}")).collect::<Vec<_>>()
    );
    let query = json!({ "query": "locker number 4002", "top_k": 1, "granularities": ["turn"] });
    let found = post(&client, format!("{base}/v1/users/ann/search"), &query).await;
    assert_eq!(found["results"][0]["session_id"], "s2", "{found:#}");
    server.kill().unwrap();
    server.wait().unwrap();

    // A directory with no store is a problem: non-zero exit, one line naming it.
    let empty = tempfile::tempdir().unwrap();
    let check = run(empty.path(), &["check"]);
    assert!(!check.status.success());
    assert!(stdout(&check).starts_with("problem: "), "{check:?}");
}
