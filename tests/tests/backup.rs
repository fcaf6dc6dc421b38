//! Backups and shutdown: a closed engine leaves every commit in the store's main file; a backup
//! taken while sessions are written restores to a consistent store that a new engine serves;
//! restore refuses what would lose data; one engine per data directory. With the deterministic
//! stand-in embedder: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use axum::Router;
use axum::http::{Method, StatusCode};
use memory::MemoryError;
use serde_json::{Value, json};
use server::maintenance::{self, MaintenanceError};
use tests::{call, config, open_hashed, sqlite_count, store_lockers, try_open_hashed};

/// The user's session ids, sorted by their number.
async fn session_numbers(app: &Router) -> Vec<usize> {
    let (status, list) = call(app, Method::GET, "/v1/users/ann/sessions?limit=1000", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut numbers: Vec<usize> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap()[1..].parse().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers
}

async fn first_hit(app: &Router, query: &str) -> Value {
    let body = json!({ "query": query, "top_k": 1, "granularities": ["turn"] });
    let (status, found) = call(app, Method::POST, "/v1/users/ann/search", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found["results"][0]["session_id"].clone()
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[tokio::test]
async fn closing_the_engine_leaves_every_commit_in_the_main_file() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = server::app(open_hashed(config(dir.path()), dir.path()));
        store_lockers(&app, 0..20).await;
        assert!(file_len(&dir.path().join("mnemo.sqlite3-wal")) > 0);
    }
    // What an operator who copies only the main file gets.
    assert_eq!(file_len(&dir.path().join("mnemo.sqlite3-wal")), 0);
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("mnemo.sqlite3"),
        copy.path().join("mnemo.sqlite3"),
    )
    .unwrap();
    let app = server::app(open_hashed(config(copy.path()), copy.path()));
    assert_eq!(session_numbers(&app).await, (0..20).collect::<Vec<_>>());
    assert_eq!(first_hit(&app, "locker number 4013").await, "s13");
}

#[tokio::test]
async fn a_backup_taken_while_sessions_are_written_restores_to_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("backup");
    let engine = open_hashed(config(dir.path()), dir.path());
    let app = server::app(engine.clone());
    store_lockers(&app, 0..10).await;
    let writer = {
        let app = app.clone();
        tokio::spawn(async move { store_lockers(&app, 10..40).await })
    };
    let manifest = {
        let (dir, out) = (dir.path().to_path_buf(), out.clone());
        tokio::task::spawn_blocking(move || maintenance::backup(&dir, &out))
            .await
            .unwrap()
            .unwrap()
    };
    writer.await.unwrap();
    assert!((10..=40).contains(&manifest.sessions), "{manifest:?}");
    assert_eq!(manifest.users, 1);
    drop(app);
    drop(engine);

    // Restored into a new directory: exactly the sessions stored before the copy, in order
    // (one writer stored them one after another), each searchable once a new engine is open.
    let restored = tempfile::tempdir().unwrap();
    let again = maintenance::restore(&out, restored.path(), false).unwrap();
    assert_eq!(again, manifest);
    let engine = open_hashed(config(restored.path()), restored.path());
    // A session pending when the copy was taken is built after the restore.
    engine.flush().await.unwrap();
    let app = server::app(engine);
    let n = manifest.sessions as usize;
    assert_eq!(session_numbers(&app).await, (0..n).collect::<Vec<_>>());
    assert_eq!(
        first_hit(&app, &format!("locker number {}", 4000 + n - 1)).await,
        format!("s{}", n - 1)
    );
    let check = maintenance::check(restored.path()).unwrap();
    assert!(check.is_clean(), "{check:?}");
    assert_eq!(check.sessions, manifest.sessions);
}

#[tokio::test]
async fn restore_refuses_a_running_engine_a_store_in_place_and_a_damaged_backup() {
    let source = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let good = backups.path().join("good");
    {
        let app = server::app(open_hashed(config(source.path()), source.path()));
        store_lockers(&app, 0..3).await;
        maintenance::backup(source.path(), &good).unwrap();
        // A backup never overwrites anything.
        assert!(matches!(
            maintenance::backup(source.path(), &good),
            Err(MaintenanceError::OutputExists { .. })
        ));
    }

    let target = tempfile::tempdir().unwrap();
    {
        let app = server::app(open_hashed(config(target.path()), target.path()));
        store_lockers(&app, 100..102).await;
        // The engine holds the directory.
        assert!(matches!(
            maintenance::restore(&good, target.path(), true),
            Err(MaintenanceError::Memory(MemoryError::DataDirLocked { .. }))
        ));
    }
    // A store in place stays unless --force.
    let refused = maintenance::restore(&good, target.path(), false).unwrap_err();
    assert!(
        matches!(refused, MaintenanceError::DataDirInUse { sessions: 2, .. }),
        "{refused}"
    );
    assert_eq!(
        sqlite_count(target.path(), "SELECT COUNT(*) FROM sessions"),
        2
    );

    // A backup whose store was damaged after it was written.
    let damaged = backups.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    std::fs::copy(good.join("backup.json"), damaged.join("backup.json")).unwrap();
    let mut bytes = std::fs::read(good.join("mnemo.sqlite3")).unwrap();
    let page = 4096;
    for b in &mut bytes[page * 2..page * 3] {
        *b = 0xA5;
    }
    std::fs::write(damaged.join("mnemo.sqlite3"), bytes).unwrap();
    let refused = maintenance::restore(&damaged, target.path(), true).unwrap_err();
    assert!(
        matches!(
            refused,
            MaintenanceError::Damaged { .. } | MaintenanceError::NotABackup { .. }
        ),
        "{refused}"
    );
    // A directory that is not a backup at all.
    let refused = maintenance::restore(source.path(), target.path(), true).unwrap_err();
    assert!(
        matches!(refused, MaintenanceError::NotABackup { .. }),
        "{refused}"
    );
    assert_eq!(
        sqlite_count(target.path(), "SELECT COUNT(*) FROM sessions"),
        2
    );

    // --force replaces the store; its old full-text index goes with it.
    maintenance::restore(&good, target.path(), true).unwrap();
    let app = server::app(open_hashed(config(target.path()), target.path()));
    assert_eq!(session_numbers(&app).await, vec![0, 1, 2]);
    assert_ne!(first_hit(&app, "locker number 4101").await, "s101");
}

#[test]
fn a_second_engine_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = open_hashed(config(dir.path()), dir.path());
    let refused = try_open_hashed(config(dir.path()), dir.path()).unwrap_err();
    assert!(
        matches!(
            refused,
            server::Error::Memory(MemoryError::DataDirLocked { .. })
        ),
        "{refused}"
    );
    drop(first);
}
