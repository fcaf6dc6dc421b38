//! Every bad request gets a JSON error with a stable code, and nothing stored is lost.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tests::{
    call, call_raw, config, embedder, external_ids, fixture, ingest_conversation, open_engine,
};

fn turn(text: &str) -> Value {
    json!({ "speaker": "Ann", "text": text })
}

fn session(turns: Vec<Value>) -> Value {
    json!({ "session_id": "new", "started_at": "2024-01-01T00:00:00Z", "turns": turns })
}

/// A case: name, method, path, body, expected status and code.
type Case = (
    &'static str,
    Method,
    String,
    Option<Value>,
    StatusCode,
    &'static str,
);

#[tokio::test]
async fn bad_requests_get_stable_codes_and_change_nothing() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.server.max_body_bytes = 16 * 1024;
    config.limits.max_turns_per_session = 10;
    config.limits.max_text_chars = 500;
    let app = server::app(open_engine(config, &model));
    let conversation = &fixture()[0];
    ingest_conversation(&app, conversation).await;
    let (_, units_before) =
        call(&app, Method::GET, "/v1/users/conv-a/units?limit=1000", None).await;

    let sessions = "/v1/users/conv-a/sessions";
    let long = "x".repeat(501);
    let cases: Vec<Case> = vec![
        (
            "missing text",
            Method::POST,
            sessions.into(),
            Some(json!({ "turns": [{ "speaker": "Ann" }] })),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "missing turns",
            Method::POST,
            sessions.into(),
            Some(json!({ "session_id": "x" })),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "unknown field",
            Method::POST,
            sessions.into(),
            Some(json!({ "turns": [turn("hi")], "colour": 1 })),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            "bad role",
            Method::POST,
            sessions.into(),
            Some(json!({ "turns": [{ "speaker": "A", "text": "hi", "role": "robot" }] })),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "text not a string",
            Method::POST,
            sessions.into(),
            Some(json!({ "turns": [{ "speaker": "A", "text": 5 }] })),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "metadata not an object",
            Method::POST,
            sessions.into(),
            Some(json!({ "turns": [{ "speaker": "A", "text": "hi", "metadata": [1] }] })),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "empty text",
            Method::POST,
            sessions.into(),
            Some(session(vec![turn("ok"), turn("   ")])),
            StatusCode::BAD_REQUEST,
            "empty_text",
        ),
        (
            "text of zero-width characters",
            Method::POST,
            sessions.into(),
            Some(session(vec![
                turn("ok"),
                turn("\u{200B}\u{2060}\u{FEFF} \u{200D}"),
            ])),
            StatusCode::BAD_REQUEST,
            "empty_text",
        ),
        (
            "a right-to-left override in a speaker name",
            Method::POST,
            sessions.into(),
            Some(session(vec![
                json!({ "speaker": "Ann\u{202E}nimda", "text": "hi" }),
            ])),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "a line break in a speaker name",
            Method::POST,
            sessions.into(),
            Some(session(vec![
                json!({ "speaker": "Ann\nSystem", "text": "hi" }),
            ])),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "no turns",
            Method::POST,
            sessions.into(),
            Some(session(vec![])),
            StatusCode::BAD_REQUEST,
            "empty_session",
        ),
        (
            "text too long",
            Method::POST,
            sessions.into(),
            Some(session(vec![turn(&long)])),
            StatusCode::BAD_REQUEST,
            "text_too_long",
        ),
        (
            "too many turns",
            Method::POST,
            sessions.into(),
            Some(session(
                (0..11).map(|i| turn(&format!("turn {i}"))).collect(),
            )),
            StatusCode::BAD_REQUEST,
            "too_many_turns",
        ),
        (
            "duplicate external id",
            Method::POST,
            sessions.into(),
            Some(session(vec![
                json!({ "speaker": "A", "text": "a", "external_id": "D1" }),
                json!({ "speaker": "A", "text": "b", "external_id": "D1" }),
            ])),
            StatusCode::BAD_REQUEST,
            "duplicate_external_id",
        ),
        (
            "bad timestamp",
            Method::POST,
            sessions.into(),
            Some(json!({ "started_at": "yesterday", "turns": [turn("hi")] })),
            StatusCode::BAD_REQUEST,
            "invalid_timestamp",
        ),
        (
            "bad user id",
            Method::POST,
            "/v1/users/a%20b/sessions".into(),
            Some(session(vec![turn("hi")])),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "bad session id",
            Method::POST,
            sessions.into(),
            Some(json!({ "session_id": "a/b", "turns": [turn("hi")] })),
            StatusCode::BAD_REQUEST,
            "invalid_id",
        ),
        (
            "stored session changed",
            Method::POST,
            sessions.into(),
            Some(
                json!({ "session_id": "session_1", "started_at": "2023-03-03T19:15:00Z", "turns": [turn("hi")] }),
            ),
            StatusCode::CONFLICT,
            "session_conflict",
        ),
        (
            "append to unknown session",
            Method::POST,
            format!("{sessions}/nope/turns"),
            Some(json!({ "turns": [turn("hi")] })),
            StatusCode::NOT_FOUND,
            "session_not_found",
        ),
        (
            "append nothing",
            Method::POST,
            format!("{sessions}/session_1/turns"),
            Some(json!({ "turns": [] })),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "append a duplicate id",
            Method::POST,
            format!("{sessions}/session_1/turns"),
            Some(json!({ "turns": [{ "speaker": "A", "text": "b", "external_id": "D1:1" }] })),
            StatusCode::BAD_REQUEST,
            "duplicate_external_id",
        ),
        (
            "get unknown session",
            Method::GET,
            format!("{sessions}/nope"),
            None,
            StatusCode::NOT_FOUND,
            "session_not_found",
        ),
        (
            "delete unknown session",
            Method::DELETE,
            format!("{sessions}/nope"),
            None,
            StatusCode::NOT_FOUND,
            "session_not_found",
        ),
        (
            "sessions of unknown user",
            Method::GET,
            "/v1/users/nobody/sessions".into(),
            None,
            StatusCode::NOT_FOUND,
            "user_not_found",
        ),
        (
            "search unknown user",
            Method::POST,
            "/v1/users/nobody/search".into(),
            Some(json!({ "query": "hi" })),
            StatusCode::NOT_FOUND,
            "user_not_found",
        ),
        (
            "empty query",
            Method::POST,
            "/v1/users/conv-a/search".into(),
            Some(json!({ "query": "  " })),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "query of zero-width characters",
            Method::POST,
            "/v1/users/conv-a/search".into(),
            Some(json!({ "query": "\u{200B}\u{200B}" })),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "top_k zero",
            Method::POST,
            "/v1/users/conv-a/search".into(),
            Some(json!({ "query": "hi", "top_k": 0 })),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "top_k too large",
            Method::POST,
            "/v1/users/conv-a/search".into(),
            Some(json!({ "query": "hi", "top_k": 101 })),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "backwards time range",
            Method::POST,
            "/v1/users/conv-a/search".into(),
            Some(
                json!({ "query": "hi", "time_from": "2024-01-02T00:00:00Z", "time_to": "2024-01-01T00:00:00Z" }),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "unknown granularity",
            Method::POST,
            "/v1/users/conv-a/search".into(),
            Some(json!({ "query": "hi", "granularities": ["sentence"] })),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "unknown unit",
            Method::GET,
            "/v1/users/conv-a/units/999999".into(),
            None,
            StatusCode::NOT_FOUND,
            "unit_not_found",
        ),
        (
            "unit id not a number",
            Method::GET,
            "/v1/users/conv-a/units/abc".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        (
            "bad wait flag",
            Method::POST,
            format!("{sessions}?wait=maybe"),
            Some(session(vec![turn("hi")])),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "bad unit filter",
            Method::GET,
            "/v1/users/conv-a/units?granularity=sentence".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "page too large",
            Method::GET,
            "/v1/users/conv-a/units?limit=5000".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "no such route",
            Method::GET,
            "/v2/nothing".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "wrong method",
            Method::PUT,
            sessions.into(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (name, method, uri, body, status, code) in cases {
        let (got_status, got) = call(&app, method, &uri, body.as_ref()).await;
        assert_eq!(
            (got_status, got["error"]["code"].as_str()),
            (status, Some(code)),
            "{name}: {got}"
        );
        assert!(
            got["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}: {got}"
        );
    }

    let raw = |body: &str, content_type: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(sessions)
            .header("content-type", content_type)
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let raw_cases = [
        (
            "malformed json",
            raw("{\"turns\": [", "application/json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "empty body",
            raw("", "application/json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "not json",
            raw("turns=1", "application/x-www-form-urlencoded"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "too large",
            raw(
                &format!(
                    "{{\"turns\": [{{\"speaker\": \"A\", \"text\": \"{}\"}}]}}",
                    "y".repeat(20_000)
                ),
                "application/json",
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (name, request, status, code) in raw_cases {
        let (got_status, got) = call_raw(&app, request).await;
        assert_eq!(
            (got_status, got["error"]["code"].as_str()),
            (status, Some(code)),
            "{name}: {got}"
        );
    }

    // Nothing stored was lost or changed, and nothing half-made was left behind.
    let (_, units_after) = call(&app, Method::GET, "/v1/users/conv-a/units?limit=1000", None).await;
    assert_eq!(units_before, units_after);
    let (_, list) = call(&app, Method::GET, sessions, None).await;
    assert_eq!(
        list["sessions"].as_array().unwrap().len(),
        conversation.sessions.len()
    );
    let (status, _) = call(&app, Method::GET, &format!("{sessions}/new"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let query = json!({ "query": "Who taught Theo to play the cello?", "top_k": 1, "granularities": ["turn"] });
    let (_, found) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert_eq!(external_ids(&found["results"][0]), vec!["D2:5"]);
}
