//! The embedder failing while a session is built: the session stays stored and pending with no
//! unit half-written, the waiting client is told so (202), and the worker builds it again after
//! a short wait until it works, or leaves it pending for the next start. With a stand-in
//! embedder that hashes words and fails its first calls (nothing here is about ranking).

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use memory::MemoryError;
use server::Engine;
use tests::keyed::session;
use tests::{HookedWords, call, config, open_with_ingest, sqlite_count};

/// An engine whose model fails its first `failures` embedding calls.
fn open(dir: &std::path::Path, failures: usize) -> Engine {
    let mut config = config(dir);
    config.worker.retry_backoff_ms = 10;
    let left = Mutex::new(failures);
    let ingest = HookedWords(Box::new(move |_| {
        let mut left = left.lock().unwrap();
        if *left == 0 {
            return Ok(());
        }
        *left -= 1;
        Err(MemoryError::Embedding {
            reason: "the model crashed (scripted)".to_owned(),
        })
    }));
    open_with_ingest(config, dir, Arc::new(ingest))
}

fn units_of(dir: &std::path::Path) -> i64 {
    sqlite_count(dir, "SELECT COUNT(*) FROM units")
}

#[tokio::test]
async fn a_build_that_fails_leaves_the_session_pending_and_is_retried_until_it_works() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), 2);
    let app = server::app(engine.clone());
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions",
        Some(&session("s1", "A note about the zebra.")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending", "{body}");
    // Two failures: the first build and its first retry; the second retry works.
    engine.flush().await.unwrap();
    let (_, stored) = call(&app, Method::GET, "/v1/users/ann/sessions/s1", None).await;
    assert_eq!(stored["status"], "ready", "{stored}");
    assert!(units_of(dir.path()) > 0);
    assert_eq!(engine.check_indexes().await.unwrap(), Vec::<String>::new());
    drop(app);
    drop(engine);
    let check = server::maintenance::check(dir.path()).unwrap();
    assert!(check.is_clean(), "{check:?}");
}

#[tokio::test]
async fn a_build_that_keeps_failing_is_left_pending_with_no_unit_written() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), usize::MAX);
    let app = server::app(engine.clone());
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions",
        Some(&session("s1", "A note.")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // The flush returns once the last retry has failed.
    engine.flush().await.unwrap();
    let (_, stored) = call(&app, Method::GET, "/v1/users/ann/sessions/s1", None).await;
    assert_eq!(stored["status"], "pending", "{stored}");
    assert_eq!(stored["turns"].as_array().unwrap().len(), 1, "{stored}");
    assert_eq!(units_of(dir.path()), 0);
    assert_eq!(engine.check_indexes().await.unwrap(), Vec::<String>::new());
    drop(app);
    drop(engine);

    // The next start builds it, with a working model.
    let app = server::app(open(dir.path(), 0));
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions",
        Some(&session("s1", "A note.")),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready")),
        "{body}"
    );
    assert!(units_of(dir.path()) > 0);
}
