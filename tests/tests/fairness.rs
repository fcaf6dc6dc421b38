//! Building under load: a large session is embedded in slices with the sessions queued behind
//! it built in between; ingest beyond the build queue is refused with `503 overloaded` and
//! stores nothing; an ingest that waits longer than the request timeout is answered "stored,
//! still building" (202). With a stand-in embedder that hashes words (nothing here is about
//! ranking) behind a gate the test opens, so the order of events does not depend on timing.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Condvar, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use server::{Config, Engine};
use tests::keyed::session;
use tests::{HookedWords, call, config, open_with_ingest};
use tower::ServiceExt;

/// A gate the stand-in embedder waits at, and the log of what it embedded.
#[derive(Debug, Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    calls: Mutex<Vec<Vec<String>>>,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().clone()
    }

    /// Waits until the gate is open, then logs the texts.
    fn pass(&self, texts: &[&str]) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        drop(open);
        self.calls
            .lock()
            .unwrap()
            .push(texts.iter().map(|t| (*t).to_owned()).collect());
    }
}

fn open(config: Config, dir: &std::path::Path) -> (Engine, Arc<Gate>) {
    let gate = Arc::new(Gate::default());
    let hook = Arc::clone(&gate);
    let ingest = HookedWords(Box::new(move |texts| {
        hook.pass(texts);
        Ok(())
    }));
    (open_with_ingest(config, dir, Arc::new(ingest)), gate)
}

fn big_session(turns: usize) -> Value {
    let turns: Vec<Value> = (0..turns)
        .map(|i| json!({ "speaker": if i % 2 == 0 { "Ann" } else { "Bo" }, "text": format!("Long import turn {i} about gardening and weather.") }))
        .collect();
    json!({ "session_id": "big", "started_at": "2024-03-01T10:00:00Z", "turns": turns })
}

async fn status_of(app: &Router, user: &str, session: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::GET,
        &format!("/v1/users/{user}/sessions/{session}"),
        None,
    )
    .await
}

#[tokio::test]
async fn a_small_session_is_built_between_slices_of_a_large_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.worker.slice_texts = 16;
    let (engine, gate) = open(config, dir.path());
    let app = server::app(engine.clone());
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions?wait=false",
        Some(&big_session(120)),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let small = session("small", "Bo's one-line note about the zebra crossing.");
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/bo/sessions?wait=false",
        Some(&small),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    gate.open();
    engine.flush().await.unwrap();

    let calls = gate.calls();
    let has = |call: &Vec<String>, word: &str| call.iter().any(|t| t.contains(word));
    let small_at = calls.iter().position(|c| has(c, "zebra")).unwrap();
    let big_last = calls.iter().rposition(|c| has(c, "Long import")).unwrap();
    assert!(
        small_at < big_last,
        "the small session waited for the whole large one: embedded at call {small_at} of {}",
        calls.len()
    );
    assert!(
        calls
            .iter()
            .all(|c| c.len() <= 16 || !has(c, "Long import turn")),
        "a slice is at most 16 texts"
    );
    for (user, id) in [("ann", "big"), ("bo", "small")] {
        let (_, stored) = status_of(&app, user, id).await;
        assert_eq!(stored["status"], "ready", "{stored}");
    }
}

/// Sends a request through the router and returns the status, the `Retry-After` header and
/// the JSON body.
async fn post_with_headers(
    app: &Router,
    uri: &str,
    body: &Value,
) -> (StatusCode, Option<String>, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, retry, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn ingest_beyond_the_build_queue_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.worker.max_queued_sessions = 2;
    let (engine, gate) = open(config, dir.path());
    let app = server::app(engine.clone());
    let uri = "/v1/users/ann/sessions?wait=false";
    for id in ["s1", "s2"] {
        let (status, _, body) = post_with_headers(&app, uri, &session(id, "A note.")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let (status, retry, body) = post_with_headers(&app, uri, &session("s3", "A third note.")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    let (status, _) = status_of(&app, "ann", "s3").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Appends wait in the same queue.
    let turns = json!({ "turns": [{ "speaker": "Ann", "text": "More." }] });
    let (status, _, body) =
        post_with_headers(&app, "/v1/users/ann/sessions/s1/turns?wait=false", &turns).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("overloaded"))
    );
    let (_, stored) = status_of(&app, "ann", "s1").await;
    assert_eq!(stored["turns"].as_array().unwrap().len(), 1, "{stored}");

    // Once the queue drains, the same request is taken.
    gate.open();
    engine.flush().await.unwrap();
    let (status, _, body) = post_with_headers(
        &app,
        "/v1/users/ann/sessions",
        &session("s3", "A third note."),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_ingest_waiting_longer_than_the_request_timeout_is_answered_stored_and_pending() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.server.request_timeout_secs = 1;
    let (engine, gate) = open(config, dir.path());
    let app = server::app(engine.clone());
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions",
        Some(&session("s1", "A note.")),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending", "{body}");
    let (status, stored) = status_of(&app, "ann", "s1").await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    gate.open();
    engine.flush().await.unwrap();
    let (_, stored) = status_of(&app, "ann", "s1").await;
    assert_eq!(stored["status"], "ready", "{stored}");
}
