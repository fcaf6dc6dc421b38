//! The consistency check and the start-up guards around derived data: a store that lost its
//! newest commits is refused at start and named by `check` (never silently emptied), a damaged
//! full-text segment is rebuilt at start, and `check` names a unit whose vector is broken or an
//! edge to nothing; the running engine's catalog, vectors and association graph are compared
//! with the store. With the deterministic stand-in embedder: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use axum::Router;
use axum::http::{Method, StatusCode};
use memory::MemoryError;
use serde_json::json;
use server::maintenance::{self, MaintenanceError};
use tests::{call, config, open_hashed, store_lockers, try_open_hashed};

async fn with_engine(dir: &Path, from: usize, to: usize) {
    let app = server::app(open_hashed(config(dir), dir));
    store_lockers(&app, from..to).await;
}

async fn lexical_hit(app: &Router, query: &str) -> String {
    let body = json!({ "query": query, "top_k": 1, "granularities": ["turn"], "strategy": "hybrid", "fusion": "lexical" });
    let (status, found) = call(app, Method::POST, "/v1/users/ann/search", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found["results"][0]["session_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_store_that_lost_its_newest_commits_is_refused_at_start_and_named_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let old = tempfile::tempdir().unwrap();
    with_engine(dir.path(), 0, 3).await;
    std::fs::copy(
        dir.path().join("mnemo.sqlite3"),
        old.path().join("mnemo.sqlite3"),
    )
    .unwrap();
    with_engine(dir.path(), 3, 6).await;
    // The main file as it was before the last three sessions: what a lost write-ahead log
    // leaves.
    std::fs::copy(
        old.path().join("mnemo.sqlite3"),
        dir.path().join("mnemo.sqlite3"),
    )
    .unwrap();

    let refused = try_open_hashed(config(dir.path()), dir.path()).unwrap_err();
    assert!(
        matches!(
            refused,
            server::Error::Memory(MemoryError::StoreBehindIndex { .. })
        ),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(
        message.contains("mnemo.sqlite3-wal") && message.contains("mnemo check"),
        "{message}"
    );
    // Nothing was changed by the refusal: it says the same again.
    assert!(try_open_hashed(config(dir.path()), dir.path()).is_err());
    let check = maintenance::check(dir.path()).unwrap();
    assert_eq!(check.problems().len(), 1, "{check:?}");
    assert!(
        check.problems()[0].contains("older than its full-text index"),
        "{check:?}"
    );

    // The operator accepts the store as it is.
    let repaired = maintenance::repair(dir.path()).unwrap();
    assert!(repaired.is_clean(), "{repaired:?}");
    let app = server::app(try_open_hashed(config(dir.path()), dir.path()).unwrap());
    let (_, list) = call(&app, Method::GET, "/v1/users/ann/sessions", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 3, "{list}");
    assert_eq!(lexical_hit(&app, "4005").await, "");
    assert_eq!(lexical_hit(&app, "4002").await, "s2");
}

/// Cuts every segment file of the full-text index with this extension to half its length.
fn truncate_segments(dir: &Path, extension: &str) -> usize {
    let mut cut = 0;
    for entry in std::fs::read_dir(dir.join("text")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some(extension) {
            let len = std::fs::metadata(&path).unwrap().len();
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(len / 2).unwrap();
            cut += 1;
        }
    }
    cut
}

#[tokio::test]
async fn a_truncated_full_text_segment_is_named_by_check_and_rebuilt_at_start() {
    for extension in ["term", "idx", "store"] {
        let dir = tempfile::tempdir().unwrap();
        with_engine(dir.path(), 0, 4).await;
        assert!(maintenance::check(dir.path()).unwrap().is_clean());
        assert!(truncate_segments(dir.path(), extension) > 0, "{extension}");

        let check = maintenance::check(dir.path()).unwrap();
        assert_eq!(check.problems().len(), 1, "{extension}: {check:?}");
        assert!(
            check.problems()[0].contains("full-text index damaged"),
            "{check:?}"
        );

        let app = server::app(try_open_hashed(config(dir.path()), dir.path()).unwrap());
        assert_eq!(lexical_hit(&app, "4003").await, "s3", "{extension}");
        store_lockers(&app, 4..5).await;
        assert_eq!(lexical_hit(&app, "4004").await, "s4", "{extension}");
        let check = maintenance::check(dir.path()).unwrap();
        assert!(check.is_clean(), "{extension}: {check:?}");
    }
}

#[tokio::test]
async fn check_names_a_broken_vector_and_an_edge_to_nothing_and_repair_refuses_that_store() {
    let dir = tempfile::tempdir().unwrap();
    with_engine(dir.path(), 0, 3).await;
    let unit: i64 = {
        let conn = rusqlite::Connection::open(dir.path().join("mnemo.sqlite3")).unwrap();
        let unit: i64 = conn
            .query_row("SELECT MIN(id) FROM units", [], |r| r.get(0))
            .unwrap();
        conn.execute("UPDATE units SET embedding = x'0000' WHERE id = ?1", [unit])
            .unwrap();
        // What a tool with foreign keys off can leave.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        conn.execute(
            "INSERT INTO unit_edges (src, dst, weight) VALUES (?1, 999999, 0.5)",
            [unit],
        )
        .unwrap();
        unit
    };
    let check = maintenance::check(dir.path()).unwrap();
    let problems = check.problems();
    assert!(
        problems.contains(
            &format!("unit {unit}: its vector is 2 bytes, not whole 32-bit floats").as_str()
        ),
        "{problems:?}"
    );
    assert!(
        problems.contains(&format!("edge {unit}-999999 joins a unit that does not exist").as_str()),
        "{problems:?}"
    );
    // Repair rebuilds derived indexes only: from a damaged store it refuses, naming the damage.
    let refused = maintenance::repair(dir.path()).unwrap_err();
    assert!(
        matches!(&refused, MaintenanceError::Damaged { problems, .. } if problems.len() == 3),
        "{refused}"
    );
}

#[tokio::test]
async fn a_corrupt_store_page_refuses_start_naming_the_file_and_check_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    with_engine(dir.path(), 0, 20).await;
    let file = dir.path().join("mnemo.sqlite3");
    let mut bytes = std::fs::read(&file).unwrap();
    // Overwrite pages in the middle of the file (not the header page).
    let page = 4096;
    let middle = bytes.len() / page / 2 * page;
    for b in &mut bytes[middle..middle + 2 * page] {
        *b = 0x5A;
    }
    std::fs::write(&file, bytes).unwrap();

    let refused = try_open_hashed(config(dir.path()), dir.path()).unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("mnemo.sqlite3") && message.contains("mnemo check"),
        "{message}"
    );
    let check = maintenance::check(dir.path()).unwrap();
    assert!(!check.is_clean(), "{check:?}");
    assert!(
        check.problems()[0].to_lowercase().contains("sqlite"),
        "{check:?}"
    );
}

#[tokio::test]
async fn the_running_engines_indexes_agree_with_the_store_and_a_row_removed_behind_its_back_is_named()
 {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_hashed(config(dir.path()), dir.path());
    let app = server::app(engine.clone());
    store_lockers(&app, 0..4).await;
    assert_eq!(engine.check_indexes().await.unwrap(), Vec::<String>::new());
    let (status, _) = call(&app, Method::DELETE, "/v1/users/ann/sessions/s1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(engine.check_indexes().await.unwrap(), Vec::<String>::new());

    // A tool writing to the store while the server runs: the engine never saw these go.
    let (unit, edge) = {
        let conn = rusqlite::Connection::open(dir.path().join("mnemo.sqlite3")).unwrap();
        let unit: i64 = conn
            .query_row("SELECT MAX(id) FROM units", [], |r| r.get(0))
            .unwrap();
        let edge: (i64, i64) = conn
            .query_row(
                "SELECT src, dst FROM unit_edges WHERE src <> ?1 AND dst <> ?1 ORDER BY src, dst LIMIT 1",
                [unit],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        conn.execute("DELETE FROM units WHERE id = ?1", [unit])
            .unwrap();
        conn.execute(
            "DELETE FROM unit_edges WHERE src = ?1 AND dst = ?2",
            [edge.0, edge.1],
        )
        .unwrap();
        (unit, edge)
    };
    let problems = engine.check_indexes().await.unwrap();
    for line in [
        format!("catalog: user ann: unit {unit} is not in the store"),
        format!("vector index: user ann: unit {unit} is not in the store"),
        format!(
            "association graph: user ann: the edge {}-{} is not in the store",
            edge.0.min(edge.1),
            edge.0.max(edge.1)
        ),
    ] {
        assert!(problems.contains(&line), "{line} not in {problems:?}");
    }
}
