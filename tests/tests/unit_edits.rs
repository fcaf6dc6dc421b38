//! A person edits and deletes units: the change reaches both search channels and the
//! association graph before the answer, is kept in the unit's history, and survives the
//! session's rebuild after an append; unit ids stay stable across rebuilds. Through the real
//! router, SQLite and tantivy, with the deterministic test embedder (nothing here is about
//! the model's quality).

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, hashed_app, turn};

async fn post(app: &Router, uri: &str, body: &Value) -> Value {
    let (status, reply) = call(app, Method::POST, uri, Some(body)).await;
    assert!(status.is_success(), "{uri}: {reply}");
    reply
}

/// The user's units by id: (granularity, text, producer, version).
async fn units(app: &Router, session: &str) -> BTreeMap<i64, (String, String, String, u64)> {
    let (status, page) = call(
        app,
        Method::GET,
        &format!("/v1/users/ann/units?session_id={session}&limit=1000"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit_id"].as_i64().unwrap(),
                (
                    u["granularity"].as_str().unwrap().to_owned(),
                    u["text"].as_str().unwrap().to_owned(),
                    u["producer"].as_str().unwrap().to_owned(),
                    u["version"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// The unit ids a search returns, best first.
async fn found(app: &Router, query: &str) -> Vec<i64> {
    let reply = post(
        app,
        "/v1/users/ann/search",
        &json!({"query": query, "top_k": 20}),
    )
    .await;
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit_id"].as_i64().unwrap())
        .collect()
}

/// The unit ids the full-text channel alone returns: only units holding a query word.
async fn lexical(app: &Router, query: &str) -> Vec<i64> {
    let reply = post(
        app,
        "/v1/users/ann/search",
        &json!({"query": query, "strategy": "hybrid", "fusion": "lexical", "top_k": 20}),
    )
    .await;
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit_id"].as_i64().unwrap())
        .collect()
}

/// The id of the unit of this granularity whose provenance starts at the turn with this
/// external id.
async fn unit_at(app: &Router, session: &str, granularity: &str, first: &str) -> Option<i64> {
    let (_, page) = call(
        app,
        Method::GET,
        &format!("/v1/users/ann/units?session_id={session}&granularity={granularity}&limit=1000"),
        None,
    )
    .await;
    page["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["turns"][0]["external_id"] == first)
        .map(|u| u["unit_id"].as_i64().unwrap())
}

async fn setup() -> (tempfile::TempDir, server::Engine, Router) {
    let (dir, engine, app) = hashed_app();
    post(
        &app,
        "/v1/users/ann/sessions?wait=true",
        &json!({"session_id": "s1", "started_at": "2024-03-01T10:00:00Z", "turns": [
            turn("t1", "Ann", "user", "I play the cello in a small orchestra."),
            turn("t2", "Bot", "assistant", "How long have you been playing the cello?"),
            turn("t3", "Ann", "user", "Since I was nine, my teacher lived next door."),
        ]}),
    )
    .await;
    post(
        &app,
        "/v1/users/ann/sessions?wait=true",
        &json!({"session_id": "s2", "started_at": "2024-04-01T10:00:00Z", "turns": [
            turn("u1", "Ann", "user", "The orchestra plays a bassoon concerto next week."),
            turn("u2", "Bot", "assistant", "A bassoon concerto sounds rare and lovely."),
        ]}),
    )
    .await;
    (dir, engine, app)
}

#[tokio::test]
async fn an_edited_unit_is_searched_by_its_new_text_and_keeps_its_history() {
    let (_dir, engine, app) = setup().await;
    let unit = unit_at(&app, "s1", "turn", "t1").await.unwrap();
    let old_text = units(&app, "s1").await[&unit].1.clone();
    assert!(!lexical(&app, "bassoon").await.contains(&unit));

    let (status, edited) = call(
        &app,
        Method::PATCH,
        &format!("/v1/users/ann/units/{unit}"),
        Some(&json!({"text": "Ann plays the bassoon in a small orchestra."})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["unit_id"], unit);
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["producer"], "edited");
    assert_eq!(
        edited["text"],
        "Ann plays the bassoon in a small orchestra."
    );
    // Associated again from its new text: the bassoon session's units are now its links.
    let links = edited["links"].as_array().unwrap();
    let s2: Vec<i64> = units(&app, "s2").await.keys().copied().collect();
    assert!(
        links
            .iter()
            .any(|l| s2.contains(&l["unit_id"].as_i64().unwrap())),
        "{edited}"
    );

    // Both channels see the new text before the answer came back.
    assert!(found(&app, "bassoon orchestra").await.contains(&unit));
    assert!(lexical(&app, "bassoon").await.contains(&unit));

    let (status, history) = call(
        &app,
        Method::GET,
        &format!("/v1/users/ann/units/{unit}/history"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let versions = history["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(versions[0]["action"], "built");
    assert_eq!(versions[0]["text"], old_text.as_str());
    assert_eq!(versions[1]["action"], "edited");
    assert_eq!(versions[1]["version"], 2);
    assert_eq!(versions[1]["actor"], "anonymous");

    let (_, audit) = call(
        &app,
        Method::GET,
        "/v1/users/ann/audit?action=edit_unit",
        None,
    )
    .await;
    assert_eq!(audit["entries"][0]["unit_id"], unit, "{audit}");
    assert_eq!(audit["entries"][0]["before"]["text"], old_text.as_str());

    let problems = engine.check_indexes().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn a_rebuild_after_an_append_keeps_ids_edits_and_deletes() {
    let (_dir, engine, app) = setup().await;
    let before = units(&app, "s1").await;
    // The last round starts at t3; an append gives it a reply, so its built text changes.
    let round = unit_at(&app, "s1", "round", "t3").await.unwrap();
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/v1/users/ann/units/{round}"),
        Some(&json!({"text": "Ann learnt the cello from a neighbour at nine."})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let doomed = unit_at(&app, "s1", "turn", "t2").await.unwrap();
    let (status, deleted) = call(
        &app,
        Method::DELETE,
        &format!("/v1/users/ann/units/{doomed}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["deleted"]["action"], "deleted");
    assert!(
        !found(&app, "how long have you been playing")
            .await
            .contains(&doomed)
    );
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/users/ann/units/{doomed}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    post(
        &app,
        "/v1/users/ann/sessions/s1/turns?wait=true",
        &json!({"turns": [turn("t4", "Bot", "assistant", "A teacher next door is a lucky start.")]}),
    )
    .await;
    let after = units(&app, "s1").await;

    // The edit stands, under the same id, at the same version.
    let (granularity, text, producer, version) = &after[&round];
    assert_eq!(granularity, "round");
    assert_eq!(text, "Ann learnt the cello from a neighbour at nine.");
    assert_eq!(producer, "edited");
    assert_eq!(*version, 2);
    // The deleted turn unit is not built again.
    assert!(!after.contains_key(&doomed));
    assert_eq!(unit_at(&app, "s1", "turn", "t2").await, None);
    // Every turn unit the append left unchanged keeps its id.
    for (id, (granularity, text, _, _)) in &before {
        if granularity == "turn" && *id != doomed {
            assert_eq!(after.get(id).map(|u| &u.1), Some(text), "unit {id}");
        }
    }
    // The new turn has a unit of its own.
    assert!(unit_at(&app, "s1", "turn", "t4").await.is_some());

    let problems = engine.check_indexes().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn unit_edits_refuse_bad_input_and_fact_units() {
    let (_dir, _engine, app) = setup().await;
    let unit = unit_at(&app, "s1", "turn", "t1").await.unwrap();
    let cases = [
        (json!({"text": "  \u{200b} "}), "invalid_field"),
        (json!({"text": "x".repeat(20_001)}), "text_too_long"),
        (json!({"text": 5}), "invalid_field"),
        (json!({"text": "ok", "producer": "llm"}), "unknown_field"),
        (json!({}), "missing_field"),
    ];
    for (body, code) in cases {
        let (status, reply) = call(
            &app,
            Method::PATCH,
            &format!("/v1/users/ann/units/{unit}"),
            Some(&body),
        )
        .await;
        assert!(status.is_client_error(), "{body}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{body}: {reply}");
    }
    // Nothing changed.
    assert_eq!(units(&app, "s1").await[&unit].3, 1);

    let (status, reply) = call(
        &app,
        Method::PATCH,
        "/v1/users/ann/units/999999",
        Some(&json!({"text": "hello"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(reply["error"]["code"], "unit_not_found");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/v1/users/bo/units/{unit}"),
        Some(&json!({"text": "hello"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A fact unit shows a persona statement: the statement is what a person edits.
    let facts: Vec<i64> = units(&app, "s1")
        .await
        .into_iter()
        .filter(|(_, u)| u.0 == "fact")
        .map(|(id, _)| id)
        .collect();
    assert!(!facts.is_empty(), "the first-person sentence gives a fact");
    for method in [Method::PATCH, Method::DELETE] {
        let (status, reply) = call(
            &app,
            method.clone(),
            &format!("/v1/users/ann/units/{}", facts[0]),
            Some(&json!({"text": "Ann plays the drums."})).filter(|_| method == Method::PATCH),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{reply}");
        assert_eq!(reply["error"]["code"], "fact_unit");
    }
}
