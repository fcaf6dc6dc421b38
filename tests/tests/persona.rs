//! Persona over the REST API with the real model, store and indexes: statements per speaker
//! with provenance, fact units in search, supersession with history, edits and deletes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, config, embedder, fixture, ingest_conversation, open_engine, sqlite_count};

/// Posts a session of one speaker (role `user`, or `assistant` for lines starting with "AI:").
async fn post_session(app: &Router, user: &str, id: &str, at: &str, lines: &[&str]) -> Value {
    let turns: Vec<Value> = lines
        .iter()
        .map(|l| match l.strip_prefix("AI: ") {
            Some(text) => json!({ "speaker": "Bot", "role": "assistant", "text": text }),
            None => json!({ "speaker": "Ana", "role": "user", "text": l }),
        })
        .collect();
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/v1/users/{user}/sessions"),
        Some(&json!({ "session_id": id, "started_at": at, "turns": turns })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn persona(app: &Router, user: &str, query: &str) -> Value {
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/v1/users/{user}/persona{query}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn statements(persona: &Value) -> Vec<Value> {
    persona["statements"].as_array().unwrap().clone()
}

/// The statement whose text contains `needle`.
fn find(persona: &Value, needle: &str) -> Value {
    statements(persona)
        .into_iter()
        .find(|s| s["text"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no statement with {needle:?} in {persona:#}"))
}

/// The texts of a session's fact units.
async fn fact_units(app: &Router, user: &str, session: &str) -> Vec<String> {
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/v1/users/{user}/units?session_id={session}&granularity=fact"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn search_facts(app: &Router, user: &str, query: &str) -> Vec<String> {
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/v1/users/{user}/search"),
        Some(&json!({ "query": query, "top_k": 5, "granularities": ["fact"] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn statements_are_attributed_to_their_speaker_with_provenance_and_searchable() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;

    let all = persona(&app, "conv-a", "").await;
    let pepper = find(&all, "greyhound named Pepper");
    assert_eq!(pepper["speaker"], "Maya");
    assert_eq!(pepper["status"], "active");
    assert_eq!(pepper["producer"], "extractive");
    assert_eq!(pepper["turns"][0]["external_id"], "D3:1");
    assert_eq!(pepper["turns"][0]["session_id"], "session_3");
    let music = find(&all, "music lessons");
    assert_eq!(music["speaker"], "Theo");
    assert!(
        all["summary"].as_str().unwrap().contains("Maya:")
            && all["summary"].as_str().unwrap().contains("Theo:"),
        "{all:#}"
    );

    let theo = persona(&app, "conv-a", "?speaker=Theo").await;
    assert!(!statements(&theo).is_empty());
    assert!(statements(&theo).iter().all(|s| s["speaker"] == "Theo"));
    assert!(!theo["summary"].as_str().unwrap().contains("Maya:"));

    // Statements are fact units too: search finds them, with their source turn.
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/conv-a/search",
        Some(&json!({ "query": "Who adopted a dog?", "top_k": 3, "granularities": ["fact"] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let top = &body["results"][0];
    assert_eq!(top["granularity"], "fact");
    assert!(top["text"].as_str().unwrap().contains("Pepper"), "{body:#}");
    assert_eq!(tests::external_ids(top), vec!["D3:1"]);
}

#[tokio::test]
async fn an_assistant_says_nothing_about_the_user() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    post_session(
        &app,
        "u1",
        "s1",
        "2024-03-01T09:00:00Z",
        &[
            "I live in Lisbon with my cat Miso.",
            "AI: I love cats! I live in the cloud.",
        ],
    )
    .await;
    let body = persona(&app, "u1", "").await;
    assert!(
        statements(&body).iter().all(|s| s["speaker"] == "Ana"),
        "{body:#}"
    );
    find(&body, "Lisbon");
}

#[tokio::test]
async fn a_move_supersedes_the_old_home_keeps_its_history_and_drops_its_fact_unit() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    post_session(
        &app,
        "u1",
        "s1",
        "2023-01-01T10:00:00Z",
        &["I live in Lisbon.", "My sister works as a nurse."],
    )
    .await;
    assert!(
        fact_units(&app, "u1", "s1")
            .await
            .iter()
            .any(|t| t.contains("Lisbon"))
    );
    post_session(
        &app,
        "u1",
        "s2",
        "2023-06-01T10:00:00Z",
        &["Big news: I moved to Porto last month!"],
    )
    .await;

    let current = persona(&app, "u1", "").await;
    assert!(statements(&current).iter().all(|s| s["status"] == "active"));
    assert!(!current.to_string().contains("Lisbon."), "{current:#}");
    let porto = find(&current, "Porto");

    let with_history = persona(&app, "u1", "?history=true").await;
    let lisbon = find(&with_history, "lives in Lisbon");
    assert_eq!(lisbon["status"], "superseded");
    assert_eq!(lisbon["superseded_by"], porto["statement_id"]);

    let (status, history) = call(
        &app,
        Method::GET,
        &format!(
            "/v1/users/u1/persona/statements/{}/history",
            lisbon["statement_id"]
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let actions: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["extracted", "superseded"]);
    assert_eq!(history["versions"][0]["statement"]["status"], "active");
    // Each version names the session and speaker of its provenance turns.
    for version in history["versions"].as_array().unwrap() {
        let turn = &version["statement"]["turns"][0];
        assert_eq!(turn["session_id"], "s1", "{history}");
        assert_eq!(turn["speaker"], "Ana", "{history}");
    }

    // The old home's session was rebuilt: its fact units are the statements that still hold.
    let s1_facts = fact_units(&app, "u1", "s1").await;
    assert!(
        !s1_facts.iter().any(|t| t.contains("Lisbon.")),
        "{s1_facts:?}"
    );
    assert!(s1_facts.iter().any(|t| t.contains("nurse")), "{s1_facts:?}");
    let found = search_facts(&app, "u1", "Where does Ana live?").await;
    assert!(found.iter().any(|t| t.contains("Porto")), "{found:?}");
    assert!(!found.iter().any(|t| t.contains("Lisbon.")), "{found:?}");
}

#[tokio::test]
async fn edits_and_deletes_reach_search_are_kept_in_history_and_are_not_relearnt() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    post_session(
        &app,
        "u1",
        "s1",
        "2024-03-01T09:00:00Z",
        &[
            "I adopted a puppy named Biscuit.",
            "I love hiking in the mountains.",
        ],
    )
    .await;
    let before = persona(&app, "u1", "").await;
    let puppy = find(&before, "Biscuit");
    let hiking = find(&before, "hiking");
    let uri = |s: &Value| format!("/v1/users/u1/persona/statements/{}", s["statement_id"]);

    let (status, edited) = call(
        &app,
        Method::PATCH,
        &uri(&puppy),
        Some(&json!({ "text": "Ana adopted a beagle puppy named Biscuit.", "confidence": 1.0 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["producer"], "edited");
    assert_eq!(edited["version"], puppy["version"].as_u64().unwrap() + 1);
    let found = search_facts(&app, "u1", "What breed is Ana's dog?").await;
    assert_eq!(
        found[0], "Ana adopted a beagle puppy named Biscuit.",
        "{found:?}"
    );

    let (status, deleted) = call(&app, Method::DELETE, &uri(&hiking), None).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["status"], "deleted");
    assert!(!persona(&app, "u1", "").await.to_string().contains("hiking"));
    assert!(
        !search_facts(&app, "u1", "hiking mountains")
            .await
            .iter()
            .any(|t| t.contains("hiking"))
    );
    let (status, body) = call(&app, Method::DELETE, &uri(&hiking), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "statement_not_found");

    // Appending to the session rebuilds it from its turns: the edit stays, the delete holds.
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/users/u1/sessions/s1/turns",
        Some(&json!({ "turns": [{ "speaker": "Ana", "text": "Biscuit chewed my shoes again." }] })),
    )
    .await;
    assert!(status.is_success(), "{body}");
    let after = persona(&app, "u1", "").await;
    assert_eq!(
        find(&after, "Biscuit")["text"],
        "Ana adopted a beagle puppy named Biscuit."
    );
    assert!(!after.to_string().contains("hiking"), "{after:#}");
    let audited = sqlite_count(
        dir.path(),
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('edit_statement', 'delete_statement')",
    );
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn bad_persona_requests_get_stable_errors_and_change_nothing() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    post_session(
        &app,
        "u1",
        "s1",
        "2024-03-01T09:00:00Z",
        &["I live in Lisbon."],
    )
    .await;
    let before = persona(&app, "u1", "?history=true").await;
    let id = find(&before, "Lisbon")["statement_id"].clone();
    let uri = format!("/v1/users/u1/persona/statements/{id}");

    let long = "x".repeat(1_001);
    for (body, code) in [
        (json!({}), "invalid_field"),
        (json!({ "text": "   " }), "invalid_field"),
        (json!({ "text": long }), "text_too_long"),
        (json!({ "confidence": 0 }), "invalid_field"),
        (json!({ "confidence": "high" }), "invalid_field"),
        (json!({ "kind": "hobby" }), "invalid_field"),
        (json!({ "text": "ok", "status": "active" }), "unknown_field"),
    ] {
        let (status, reply) = call(&app, Method::PATCH, &uri, Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {reply}");
        assert_eq!(reply["error"]["code"], code, "{body} -> {reply}");
    }
    for (method, uri, status, code) in [
        (
            Method::GET,
            "/v1/users/nobody/persona",
            StatusCode::NOT_FOUND,
            "user_not_found",
        ),
        (
            Method::GET,
            "/v1/users/u1/persona?speaker=",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::GET,
            "/v1/users/u1/persona?colour=red",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            Method::DELETE,
            "/v1/users/u1/persona/statements/999999",
            StatusCode::NOT_FOUND,
            "statement_not_found",
        ),
        (
            Method::GET,
            "/v1/users/u1/persona/statements/999999/history",
            StatusCode::NOT_FOUND,
            "statement_not_found",
        ),
    ] {
        let (got, reply) = call(&app, method, uri, None).await;
        assert_eq!(
            (got, reply["error"]["code"].as_str()),
            (status, Some(code)),
            "{uri}"
        );
    }
    assert_eq!(persona(&app, "u1", "?history=true").await, before);
}

#[tokio::test]
async fn deleting_a_session_drops_the_statements_only_it_supported() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    post_session(
        &app,
        "u1",
        "s1",
        "2024-03-01T09:00:00Z",
        &["I live in Lisbon.", "I love hiking in the mountains."],
    )
    .await;
    post_session(
        &app,
        "u1",
        "s2",
        "2024-04-01T09:00:00Z",
        &["I live in Lisbon, by the sea."],
    )
    .await;
    let lisbon = find(&persona(&app, "u1", "").await, "Lisbon");
    assert_eq!(lisbon["turns"].as_array().unwrap().len(), 2, "{lisbon:#}");

    let (status, body) = call(&app, Method::DELETE, "/v1/users/u1/sessions/s1", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"]["statements"], 1, "{body}");
    let after = persona(&app, "u1", "").await;
    assert!(!after.to_string().contains("hiking"));
    let lisbon = find(&after, "Lisbon");
    assert_eq!(lisbon["turns"].as_array().unwrap().len(), 1);
    assert_eq!(lisbon["turns"][0]["session_id"], "s2");
    // The surviving statement's fact unit now lives in s2.
    assert!(
        fact_units(&app, "u1", "s2")
            .await
            .iter()
            .any(|t| t.contains("Lisbon"))
    );
}
