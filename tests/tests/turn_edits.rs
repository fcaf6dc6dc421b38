//! A person edits and deletes turns: the session's units are rebuilt from the turns as they
//! are now before the answer, persona statements the removed text alone supported are
//! withdrawn, and the session stays whole (positions without gaps, appends still work).
//! Through the real router, SQLite and tantivy, with the deterministic test embedder.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, hashed_app, turn};

async fn setup() -> (tempfile::TempDir, server::Engine, Router) {
    let (dir, engine, app) = hashed_app();
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions?wait=true",
        Some(
            &json!({"session_id": "s1", "started_at": "2024-03-01T10:00:00Z", "turns": [
                turn("t1", "Ann", "user", "I love playing the cello on Sunday mornings."),
                turn("t2", "Bot", "assistant", "The cello on Sundays sounds peaceful."),
                turn("t3", "Ann", "user", "My brother Tom lives in Porto near the river."),
            ]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (dir, engine, app)
}

async fn session(app: &Router) -> Value {
    let (status, body) = call(app, Method::GET, "/v1/users/ann/sessions/s1", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn turn_id(session: &Value, external: &str) -> i64 {
    session["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["external_id"] == external)
        .unwrap()["turn_id"]
        .as_i64()
        .unwrap()
}

/// The texts of the user's units of every granularity, and of their persona statements.
async fn remembered(app: &Router) -> (Vec<String>, Vec<String>) {
    let (_, units) = call(app, Method::GET, "/v1/users/ann/units?limit=1000", None).await;
    let (_, persona) = call(app, Method::GET, "/v1/users/ann/persona", None).await;
    let texts = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["text"].as_str().unwrap().to_owned())
            .collect()
    };
    (texts(&units, "units"), texts(&persona, "statements"))
}

#[tokio::test]
async fn editing_a_turn_rebuilds_its_units_and_withdraws_what_only_it_said() {
    let (_dir, engine, app) = setup().await;
    let (_, statements) = remembered(&app).await;
    assert!(
        statements.iter().any(|s| s.contains("cello")),
        "{statements:?}"
    );
    let t1 = turn_id(&session(&app).await, "t1");

    let (status, edited) = call(
        &app,
        Method::PATCH,
        &format!("/v1/users/ann/sessions/s1/turns/{t1}"),
        Some(&json!({"text": "I love playing the harp on Sunday mornings."})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "ready", "{edited}");
    assert_eq!(edited["turns"][0]["turn_id"], t1);
    assert_eq!(
        edited["turns"][0]["text"],
        "I love playing the harp on Sunday mornings."
    );

    let (units, statements) = remembered(&app).await;
    // The units built from the turn say harp now; none keeps the old sentence.
    assert!(units.iter().any(|u| u.contains("harp")), "{units:?}");
    assert!(
        !units.iter().any(|u| u.contains("cello on Sunday mornings")),
        "{units:?}"
    );
    // The statement read from the old text is withdrawn; the new text gives its own.
    assert!(
        !statements.iter().any(|s| s.contains("cello")),
        "{statements:?}"
    );
    assert!(
        statements.iter().any(|s| s.contains("harp")),
        "{statements:?}"
    );
    // Unrelated evidence stays.
    assert!(
        statements.iter().any(|s| s.contains("Tom")),
        "{statements:?}"
    );

    let (_, audit) = call(
        &app,
        Method::GET,
        "/v1/users/ann/audit?action=edit_turn",
        None,
    )
    .await;
    assert_eq!(
        audit["entries"][0]["before"]["text"],
        "I love playing the cello on Sunday mornings."
    );

    let problems = engine.check_indexes().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn deleting_a_turn_keeps_the_session_whole() {
    let (_dir, engine, app) = setup().await;
    let t3 = turn_id(&session(&app).await, "t3");
    let t2 = turn_id(&session(&app).await, "t2");

    let (status, after) = call(
        &app,
        Method::DELETE,
        &format!("/v1/users/ann/sessions/s1/turns/{t2}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let ids: Vec<&str> = after["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["t1", "t3"]);
    let (units, statements) = remembered(&app).await;
    assert!(
        !units.iter().any(|u| u.contains("sounds peaceful")),
        "{units:?}"
    );
    assert!(
        statements.iter().any(|s| s.contains("cello")),
        "{statements:?}"
    );

    // Appending still works: positions have no gap for the new turn to collide with.
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions/s1/turns?wait=true",
        Some(&json!({"turns": [turn("t4", "Bot", "assistant", "Porto by the river is lovely.")]})),
    )
    .await;
    assert!(status.is_success(), "{body}");
    let ids: Vec<String> = session(&app).await["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["external_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec!["t1", "t3", "t4"]);

    // Deleting the turn that alone said where Tom lives withdraws that statement.
    let (status, body) = call(
        &app,
        Method::DELETE,
        &format!("/v1/users/ann/sessions/s1/turns/{t3}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, statements) = remembered(&app).await;
    assert!(
        !statements.iter().any(|s| s.contains("Tom")),
        "{statements:?}"
    );

    let problems = engine.check_indexes().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn turn_edits_refuse_what_cannot_work() {
    let (_dir, _engine, app) = setup().await;
    let s = session(&app).await;
    let t1 = turn_id(&s, "t1");
    let uri = format!("/v1/users/ann/sessions/s1/turns/{t1}");
    for (body, code) in [
        (json!({"text": " \u{200b}"}), "invalid_field"),
        (json!({"text": "x".repeat(20_001)}), "text_too_long"),
        (json!({}), "missing_field"),
    ] {
        let (status, reply) = call(&app, Method::PATCH, &uri, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
        assert_eq!(reply["error"]["code"], code, "{reply}");
    }
    for (method, uri, code) in [
        (
            Method::PATCH,
            "/v1/users/ann/sessions/s1/turns/999999".to_owned(),
            "turn_not_found",
        ),
        (
            Method::DELETE,
            "/v1/users/ann/sessions/nope/turns/1".to_owned(),
            "session_not_found",
        ),
        (
            Method::DELETE,
            format!("/v1/users/bo/sessions/s1/turns/{t1}"),
            "user_not_found",
        ),
    ] {
        let body = json!({"text": "hello"});
        let send = (method == Method::PATCH).then_some(&body);
        let (status, reply) = call(&app, method, &uri, send).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{uri}: {reply}");
    }
    assert_eq!(session(&app).await, s, "nothing changed");

    // The only turn of a session cannot go; the session can.
    let (status, _) = call(
        &app,
        Method::POST,
        "/v1/users/ann/sessions?wait=true",
        Some(&json!({"session_id": "one", "turns": [turn("o1", "Ann", "user", "Hello.")]})),
    )
    .await;
    assert!(status.is_success());
    let (_, one) = call(&app, Method::GET, "/v1/users/ann/sessions/one", None).await;
    let only = one["turns"][0]["turn_id"].as_i64().unwrap();
    let (status, reply) = call(
        &app,
        Method::DELETE,
        &format!("/v1/users/ann/sessions/one/turns/{only}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["error"]["code"], "empty_session");
}
