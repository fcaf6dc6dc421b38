//! A full disk: on a size-limited tmpfs (mounted by the test, which needs root; it prints a SKIP
//! line where it cannot mount), a write that needs space is answered `507 insufficient_storage`
//! and stores nothing, reads keep working, and once space is freed the same write works without
//! a restart. With the deterministic stand-in embedder: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, config, open_hashed, store_lockers};

/// A tmpfs of `size` mounted on a new directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Self { dir }),
            Ok(out) => {
                eprintln!(
                    "SKIP: cannot mount a tmpfs to fill (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIP: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the filesystem of `dir` with a file until no byte more fits; returns the file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
    while file.write_all(&chunk[..1]).is_ok() {}
    path
}

/// A session large enough that storing it must grow the database.
fn large_session() -> Value {
    let turns: Vec<Value> = (0..100)
        .map(|i| json!({ "speaker": "Ann", "text": format!("Entry {i}: {}", "the garden diary goes on about tomatoes. ".repeat(40)) }))
        .collect();
    json!({ "session_id": "diary", "started_at": "2024-03-02T10:00:00Z", "turns": turns })
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_when_freed() {
    let Some(disk) = Tmpfs::mount("6m") else {
        return;
    };
    let data = disk.path().join("data");
    let engine = open_hashed(config(&data), &data);
    let app = server::app(engine.clone());
    store_lockers(&app, 0..3).await;
    let filler = fill(disk.path());

    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions",
        Some(&large_session()),
    )
    .await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_storage", "{body}");
    let (status, _) = call(&app, Method::GET, "/v1/users/ann/sessions/diary", None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused session is not stored"
    );

    // Reads go on.
    let (status, list) = call(&app, Method::GET, "/v1/users/ann/sessions", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["sessions"].as_array().unwrap().len(), 3);
    let query = json!({ "query": "locker number 4001", "top_k": 1, "granularities": ["turn"] });
    let (status, found) = call(&app, Method::POST, "/v1/users/ann/search", Some(&query)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["results"][0]["session_id"], "s1", "{found}");

    // Space freed: the same write works, without a restart.
    std::fs::remove_file(filler).unwrap();
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions",
        Some(&large_session()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
    store_lockers(&app, 3..4).await;
    assert_eq!(engine.check_indexes().await.unwrap(), Vec::<String>::new());
    drop(app);
    drop(engine);
    let check = server::maintenance::check(&data).unwrap();
    assert!(check.is_clean(), "{check:?}");
}
