//! Ingest and search through the HTTP router, with the real model, SQLite and tantivy.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{
    call, config, embedder, external_ids, fixture, ingest_conversation, open_engine, session_body,
};

#[tokio::test]
async fn search_finds_a_fact_stated_once_as_the_first_turn() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    let conversations = fixture();
    for c in &conversations {
        ingest_conversation(&app, c).await;
    }
    let query = json!({ "query": "Who taught Theo to play the cello?", "top_k": 5, "granularities": ["turn"] });
    let (status, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = &body["results"][0];
    assert_eq!(external_ids(first), vec!["D2:5"], "{body:#}");
    assert_eq!(first["granularity"], "turn");
    assert_eq!(first["session_id"], "session_2");
    assert_eq!(first["event_time"], "2023-04-21T10:02:00Z");
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .starts_with("Theo: My grandmother taught me")
    );
    let scores = &first["scores"];
    assert!(scores["dense"].as_f64().unwrap() > 0.0 && scores["lexical"].as_f64().unwrap() > 0.0);
    assert!(scores["fused"].as_f64().unwrap() > 0.0);

    // Across every granularity, the best unit still covers that turn.
    let query = json!({ "query": "Who taught Theo to play the cello?", "top_k": 5 });
    let (_, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert!(
        external_ids(&body["results"][0]).contains(&"D2:5".to_owned()),
        "{body:#}"
    );

    // Memories stay with their user.
    let (_, body) = call(&app, Method::POST, "/v1/users/conv-b/search", Some(&query)).await;
    let results = body["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| !r["text"].as_str().unwrap().contains("cello")),
        "{body:#}"
    );
}

#[tokio::test]
async fn explain_rates_each_covered_turn_by_its_own_relevance() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;
    let query = json!({ "query": "Who taught Theo to play the cello?", "top_k": 1, "granularities": ["session"], "explain": true });
    let (_, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    let turns = body["results"][0]["turns"].as_array().unwrap();
    let best = turns
        .iter()
        .max_by(|a, b| {
            a["relevance"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["relevance"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(best["external_id"], "D2:5", "{body:#}");
    // Without explain, no relevance is sent.
    let query = json!({ "query": "Who taught Theo to play the cello?", "top_k": 1, "granularities": ["session"] });
    let (_, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert!(body["results"][0]["turns"][0].get("relevance").is_none());
}

#[tokio::test]
async fn captions_and_speakers_are_searchable() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;
    let query = json!({ "query": "grey dog lying on a blue blanket", "top_k": 1, "granularities": ["turn"] });
    let (_, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert_eq!(external_ids(&body["results"][0]), vec!["D3:3"], "{body:#}");
}

async fn unit_count(app: &axum::Router, user: &str) -> usize {
    let (_, body) = call(
        app,
        Method::GET,
        &format!("/v1/users/{user}/units?limit=1000"),
        None,
    )
    .await;
    body["units"].as_array().unwrap().len()
}

#[tokio::test]
async fn resending_a_session_is_idempotent_and_extending_it_appends() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    let c = &fixture()[1];
    ingest_conversation(&app, c).await;
    let before = unit_count(&app, "conv-b").await;
    let mut body = session_body(c, 1);
    let (status, again) = call(&app, Method::POST, "/v1/users/conv-b/sessions", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(unit_count(&app, "conv-b").await, before);

    // The same session sent with one more turn appends that turn and rebuilds the units.
    let new_turn = json!({ "speaker": "Ken", "text": "Emi also wants a telescope for her birthday.", "external_id": "D2:5" });
    body["turns"].as_array_mut().unwrap().push(new_turn);
    let (status, extended) =
        call(&app, Method::POST, "/v1/users/conv-b/sessions", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{extended}");
    assert_eq!(extended["outcome"], "appended");
    assert_eq!(extended["turns"].as_array().unwrap().len(), 5);
    assert_eq!(
        extended["turns"][0]["turn_id"],
        again["turns"][0]["turn_id"]
    );

    // The append endpoint does the same.
    let more = json!({ "turns": [{ "speaker": "Rosa", "text": "A telescope! She could watch Saturn's rings.", "external_id": "D2:6" }] });
    let (status, appended) = call(
        &app,
        Method::POST,
        "/v1/users/conv-b/sessions/session_2/turns",
        Some(&more),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    assert_eq!(appended["status"], "ready");
    assert_eq!(appended["units"]["turn"], 6);
    let query = json!({ "query": "What does Emi want for her birthday?", "top_k": 1, "granularities": ["turn"] });
    let (_, found) = call(&app, Method::POST, "/v1/users/conv-b/search", Some(&query)).await;
    assert_eq!(
        external_ids(&found["results"][0]),
        vec!["D2:5"],
        "{found:#}"
    );

    // Different content under a stored id is refused and changes nothing.
    let mut clash = session_body(c, 1);
    clash["turns"][0]["text"] = Value::from("Something else entirely.");
    let (status, error) = call(
        &app,
        Method::POST,
        "/v1/users/conv-b/sessions",
        Some(&clash),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["error"]["code"], "session_conflict");
    let (_, session) = call(
        &app,
        Method::GET,
        "/v1/users/conv-b/sessions/session_2",
        None,
    )
    .await;
    assert_eq!(session["turns"].as_array().unwrap().len(), 6);
    assert_eq!(
        session["turns"][0]["text"],
        c.sessions[1].turns[0].text.as_str()
    );
}

#[tokio::test]
async fn time_range_restricts_results_to_sessions_in_it() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;
    let query = json!({ "query": "Theo's flat in Porto", "top_k": 20, "time_from": "2023-06-01T00:00:00Z" });
    let (status, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(
        results.iter().all(|r| r["session_id"] == "session_3"),
        "{body:#}"
    );
    let query =
        json!({ "query": "Theo's flat in Porto", "top_k": 20, "time_to": "2023-03-04T00:00:00Z" });
    let (_, body) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert!(
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["session_id"] == "session_1")
    );
}

#[tokio::test]
async fn sessions_and_units_can_be_listed_and_read() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;

    let (status, list) = call(&app, Method::GET, "/v1/users/conv-a/sessions", None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["session_1", "session_2", "session_3"]);
    assert_eq!(list["sessions"][0]["turn_count"], 8);
    assert_eq!(list["sessions"][0]["status"], "ready");
    assert!(list["next_after"].is_null());
    // Pages of two, continued with the cursor of the first.
    let (_, first) = call(&app, Method::GET, "/v1/users/conv-a/sessions?limit=2", None).await;
    assert_eq!(first["sessions"].as_array().unwrap().len(), 2);
    let after = first["next_after"].as_str().unwrap();
    let (_, second) = call(
        &app,
        Method::GET,
        &format!("/v1/users/conv-a/sessions?limit=2&after={after}"),
        None,
    )
    .await;
    assert_eq!(second["sessions"][0]["session_id"], "session_3");
    assert_eq!(second["sessions"].as_array().unwrap().len(), 1);
    assert!(second["next_after"].is_null());
    let (status, bad) = call(
        &app,
        Method::GET,
        "/v1/users/conv-a/sessions?after=nope",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["code"], "invalid_query");

    let (_, session) = call(
        &app,
        Method::GET,
        "/v1/users/conv-a/sessions/session_3",
        None,
    )
    .await;
    assert_eq!(session["started_at"], "2023-06-09T16:40:00Z");
    assert_eq!(
        session["turns"][2]["caption"],
        "a photo of a grey dog lying on a blue blanket"
    );
    assert_eq!(session["turns"][2]["external_id"], "D3:3");
    assert_eq!(session["turns"][2]["metadata"]["re-download"], true);

    let uri = "/v1/users/conv-a/units?session_id=session_2&granularity=turn";
    let (_, turns) = call(&app, Method::GET, uri, None).await;
    let turns = turns["units"].as_array().unwrap();
    assert_eq!(turns.len(), 8);
    assert!(
        turns
            .iter()
            .all(|u| u["granularity"] == "turn" && u["session_id"] == "session_2")
    );
    for g in ["round", "session", "summary", "keywords"] {
        let (_, units) = call(
            &app,
            Method::GET,
            &format!("/v1/users/conv-a/units?session_id=session_2&granularity={g}"),
            None,
        )
        .await;
        assert!(
            !units["units"].as_array().unwrap().is_empty(),
            "no {g} unit"
        );
    }

    let id = turns[4]["unit_id"].as_i64().unwrap();
    let (status, unit) = call(
        &app,
        Method::GET,
        &format!("/v1/users/conv-a/units/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(external_ids(&unit), vec!["D2:5"]);
    assert_eq!(unit["producer"], "verbatim");
    assert_eq!(unit["version"], 1);

    // Pages follow each other without overlap.
    let (_, page1) = call(&app, Method::GET, "/v1/users/conv-a/units?limit=5", None).await;
    let after = page1["next_after"].as_i64().unwrap();
    let (_, page2) = call(
        &app,
        Method::GET,
        &format!("/v1/users/conv-a/units?limit=5&after={after}"),
        None,
    )
    .await;
    assert!(page2["units"][0]["unit_id"].as_i64().unwrap() > after);

    let (_, users) = call(&app, Method::GET, "/v1/users", None).await;
    assert_eq!(users["users"], json!(["conv-a"]));
}
