//! Summaries, keywords and facts built by a language model during ingest, with a scripted
//! OpenAI-compatible server standing in for the model (the only fake): a good reply is used and
//! credited to the model; malformed replies, server errors and timeouts fall back to the
//! extractive path, which the units and statements say and `/v1/admin/stats` counts. Nothing is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use memory::store::{Actor, SqliteStore, TurnWrite};
use memory::validate::Limits;
use memory::{Channel, NewSession, NewTurn, Role, SessionId, Timestamp, UserId, UserRef};
use serde_json::{Value, json};
use server::llm::LlmConfig;
use tests::scripted_llm::{self, Script, Step};
use tests::{call, config, embedder, open_engine};

const GOOD: &str = r#"{
  "summary": "Ana tells the assistant she lives in Lisbon and is training for a marathon.",
  "keywords": ["Lisbon", "marathon training"],
  "facts": [
    {"speaker": "Ana", "kind": "life_fact", "text": "Ana lives in Lisbon.", "turns": [1], "slot": "lives_in"},
    {"speaker": "Ana", "kind": "plan", "text": "Ana is training for the Lisbon marathon in October.", "turns": [3]}
  ]
}"#;

/// An engine whose language model is the scripted server, and the script.
async fn app_with(steps: Vec<Step>, dir: &std::path::Path) -> Option<(Router, Script)> {
    let model = embedder()?;
    let (url, script) = scripted_llm::start(steps).await;
    let mut config = config(dir);
    config.llm = LlmConfig {
        base_url: Some(url),
        model: "scripted".into(),
        timeout_secs: 2,
        max_retries: 1,
        backoff_ms: 1,
        ..LlmConfig::default()
    };
    Some((server::app(open_engine(config, &model)), script))
}

async fn ingest(app: &Router) {
    let turns = json!([
        { "speaker": "Ana", "role": "user", "text": "I live in Lisbon, near the river." },
        { "speaker": "Bot", "role": "assistant", "text": "Lisbon is lovely. What are you up to?" },
        { "speaker": "Ana", "role": "user", "text": "I'm training for the Lisbon marathon in October." },
    ]);
    let (status, body) = call(
        app,
        Method::POST,
        "/v1/users/ana/sessions",
        Some(&json!({ "session_id": "s1", "started_at": "2024-05-01T10:00:00Z", "turns": turns })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "ready", "{body}");
}

async fn unit_of(app: &Router, granularity: &str) -> Value {
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/v1/users/ana/units?granularity={granularity}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["units"][0].clone()
}

async fn health_llm(app: &Router) -> Value {
    let (status, body) = call(app, Method::GET, "/v1/admin/stats", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["llm"].clone()
}

async fn statements(app: &Router) -> Vec<Value> {
    let (status, body) = call(app, Method::GET, "/v1/users/ana/persona", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["statements"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_reply_builds_summary_keywords_and_facts_with_a_scripted_llm() {
    let dir = tempfile::tempdir().unwrap();
    let Some((app, script)) = app_with(vec![Step::reply(GOOD)], dir.path()).await else {
        return;
    };
    ingest(&app).await;

    let summary = unit_of(&app, "summary").await;
    assert_eq!(summary["producer"], "llm");
    assert_eq!(summary["producer_model"], "scripted");
    assert!(summary["text"].as_str().unwrap().contains("marathon"));
    let keywords = unit_of(&app, "keywords").await;
    assert_eq!(keywords["text"], "Topics: Lisbon, marathon training");
    assert_eq!(keywords["producer"], "llm");

    let facts = statements(&app).await;
    assert_eq!(facts.len(), 2, "{facts:#?}");
    let plan = facts.iter().find(|s| s["kind"] == "plan").unwrap();
    assert_eq!(plan["producer"], "llm");
    assert_eq!(plan["speaker"], "Ana");
    // Line [3] of the prompt is the session's third turn.
    assert_eq!(plan["turns"][0]["speaker"], "Ana");
    let fact_unit = unit_of(&app, "fact").await;
    assert_eq!(fact_unit["producer"], "llm");

    let llm = health_llm(&app).await;
    assert_eq!(
        (llm["sessions"].as_u64(), llm["fallbacks"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(llm["calls"], 1);
    assert_eq!(llm["prompt_tokens"], 10);
    // The prompt names the speakers and asks for JSON.
    let seen = script.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["response_format"]["type"], "json_schema");
    let schema = &seen[0]["response_format"]["json_schema"]["schema"];
    assert_eq!(
        schema["properties"]["facts"]["items"]["properties"]["speaker"]["enum"],
        json!(["Ana"])
    );
    assert!(seen[0].to_string().contains("Ana"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_reply_is_asked_again_once_with_a_scripted_llm() {
    let dir = tempfile::tempdir().unwrap();
    let steps = vec![
        Step::reply("Sure! Here is the summary: Ana likes Lisbon."),
        Step::reply(GOOD),
    ];
    let Some((app, script)) = app_with(steps, dir.path()).await else {
        return;
    };
    ingest(&app).await;
    assert_eq!(unit_of(&app, "summary").await["producer"], "llm");
    let llm = health_llm(&app).await;
    assert_eq!(
        (llm["retries"].as_u64(), llm["fallbacks"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_errors_and_timeouts_fall_back_to_extractive_with_a_scripted_llm() {
    let off_schema = r#"{"summary": "x", "keywords": ["a"], "facts": [{"speaker": "Zed", "kind": "trait", "text": "Zed is tall.", "turns": [1]}]}"#;
    let cases = [
        (
            "malformed twice",
            vec![Step::reply("not json"), Step::reply("{\"summary\": ")],
        ),
        (
            "off-schema twice",
            vec![Step::reply(off_schema), Step::reply(off_schema)],
        ),
        (
            "server errors",
            vec![Step::Status(StatusCode::INTERNAL_SERVER_ERROR); 2],
        ),
        (
            "rate limited",
            vec![Step::Status(StatusCode::TOO_MANY_REQUESTS); 2],
        ),
        ("not a completion", vec![Step::Raw("<html>busy</html>")]),
        ("no answer", vec![Step::Hang, Step::Hang]),
    ];
    for (case, steps) in cases {
        let dir = tempfile::tempdir().unwrap();
        let Some((app, _)) = app_with(steps, dir.path()).await else {
            return;
        };
        ingest(&app).await;
        let summary = unit_of(&app, "summary").await;
        assert_eq!(summary["producer"], "extractive_fallback", "{case}");
        assert_eq!(summary["producer_model"], "scripted", "{case}");
        assert_eq!(
            unit_of(&app, "keywords").await["producer"],
            "extractive_fallback",
            "{case}"
        );
        // The extractive reader still finds the persona.
        let facts = statements(&app).await;
        assert!(
            facts
                .iter()
                .any(|s| s["text"].as_str().unwrap().contains("Lisbon")
                    && s["producer"] == "extractive_fallback"),
            "{case}: {facts:#?}"
        );
        let llm = health_llm(&app).await;
        assert_eq!(
            (llm["sessions"].as_u64(), llm["fallbacks"].as_u64()),
            (Some(0), Some(1)),
            "{case}"
        );
        // Every turn and verbatim unit is there.
        let turn = unit_of(&app, "turn").await;
        assert_eq!(turn["producer"], "verbatim", "{case}");
    }
}

#[tokio::test]
async fn a_real_llm_builds_valid_units_when_mnemo_llm_url_is_set() {
    let Ok(url) = std::env::var("MNEMO_LLM_URL") else {
        eprintln!(
            "skipped: set MNEMO_LLM_URL (an OpenAI-compatible /v1 root) to run the real-LLM test"
        );
        return;
    };
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.llm = LlmConfig {
        base_url: Some(url),
        model: std::env::var("MNEMO_LLM_MODEL").unwrap_or_else(|_| "default".into()),
        timeout_secs: 600,
        ..LlmConfig::default()
    };
    let app = server::app(open_engine(config, &model));
    ingest(&app).await;
    let summary = unit_of(&app, "summary").await;
    // Either the model answered within the schema or the fallback says it did not.
    let producer = summary["producer"].as_str().unwrap();
    assert!(
        ["llm", "extractive_fallback"].contains(&producer),
        "{summary}"
    );
    assert!(!summary["text"].as_str().unwrap().trim().is_empty());
    let llm = health_llm(&app).await;
    eprintln!("real LLM: producer {producer}, usage {llm}");
    assert_eq!(
        llm["sessions"].as_u64().unwrap() + llm["fallbacks"].as_u64().unwrap(),
        1
    );
}

/// A session of Ana's, as [`ingest`] sends it, for the store directly.
fn stored_session(id: &str, started_at: &str) -> NewSession {
    let turn = |speaker: &str, role: Role, text: &str| NewTurn {
        speaker: speaker.into(),
        role,
        text: text.into(),
        timestamp: None,
        external_id: None,
        caption: None,
        metadata: None,
    };
    NewSession {
        session_id: SessionId::new(id).unwrap(),
        started_at: Timestamp::parse_rfc3339(started_at).unwrap(),
        title: None,
        turns: vec![
            turn("Ana", Role::User, "I live in Lisbon, near the river."),
            turn(
                "Bot",
                Role::Assistant,
                "Lisbon is lovely. What are you up to?",
            ),
            turn(
                "Ana",
                Role::User,
                "I'm training for the Lisbon marathon in October.",
            ),
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_sessions_is_sent_to_a_scripted_llm_concurrently() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Two sessions acknowledged but not built, as a crash leaves them: the next start builds
    // them in one batch.
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let user = UserRef::of_default(UserId::new("ana").unwrap());
        for (id, at) in [
            ("s1", "2024-05-01T10:00:00Z"),
            ("s2", "2024-05-02T10:00:00Z"),
        ] {
            store
                .ingest_session(
                    &user,
                    &stored_session(id, at),
                    &Limits::default(),
                    TurnWrite {
                        now: Timestamp(0),
                        actor: Actor("test"),
                        channel: Channel::Chat,
                    },
                )
                .unwrap();
        }
    }
    // Each reply waits for the other request: one call at a time would time out.
    let both = Arc::new(tokio::sync::Barrier::new(2));
    let (url, script) = scripted_llm::start(vec![
        Step::Together(Arc::clone(&both), GOOD.to_owned()),
        Step::Together(both, GOOD.to_owned()),
    ])
    .await;
    let mut config = config(dir.path());
    config.llm = LlmConfig {
        base_url: Some(url),
        model: "scripted".into(),
        timeout_secs: 5,
        max_retries: 0,
        max_concurrency: 2,
        ..LlmConfig::default()
    };
    let engine = open_engine(config, &model);
    engine.flush().await.unwrap();
    let app = server::app(engine);

    let llm = health_llm(&app).await;
    assert_eq!(
        (llm["sessions"].as_u64(), llm["fallbacks"].as_u64()),
        (Some(2), Some(0)),
        "{llm}"
    );
    assert_eq!(script.seen.lock().unwrap().len(), 2);
    let (status, body) = call(
        &app,
        Method::GET,
        "/v1/users/ana/units?granularity=summary",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let producers: Vec<&str> = body["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["producer"].as_str().unwrap())
        .collect();
    assert_eq!(producers, ["llm", "llm"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_rebuilt_for_its_facts_is_not_sent_to_a_scripted_llm_again() {
    let fact = |text: &str, city: &str| {
        format!(
            r#"{{"summary": "Ana talks about home.", "keywords": ["home"], "facts": [
              {{"speaker": "Ana", "kind": "life_fact", "text": "{text}", "turns": [1],
                "slot": "lives_in", "value": "{city}"}}]}}"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    // Two replies only: a third call would get an error and fall back.
    let steps = vec![
        Step::reply(fact("Ana lives in Lisbon.", "Lisbon")),
        Step::reply(fact("Ana moved to Porto.", "porto")),
    ];
    let Some((app, script)) = app_with(steps, dir.path()).await else {
        return;
    };
    ingest(&app).await;
    let moved = json!({
        "session_id": "s2",
        "started_at": "2024-06-01T10:00:00Z",
        "turns": [
            { "speaker": "Ana", "role": "user", "text": "I moved to Porto last month." },
            { "speaker": "Bot", "role": "assistant", "text": "Exciting! How is it?" },
        ],
    });
    let (status, body) = call(&app, Method::POST, "/v1/users/ana/sessions", Some(&moved)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The move superseded Lisbon, so the first session's fact units were rebuilt ...
    let (_, persona) = call(
        &app,
        Method::GET,
        "/v1/users/ana/persona?history=true",
        None,
    )
    .await;
    let lisbon = persona["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == "Ana lives in Lisbon.")
        .unwrap()
        .clone();
    assert_eq!(lisbon["status"], "superseded", "{persona}");
    // ... from the model's first reading: no third call, nothing fell back.
    assert_eq!(script.seen.lock().unwrap().len(), 2);
    let llm = health_llm(&app).await;
    assert_eq!(llm["fallbacks"], 0, "{llm}");
    let (_, summaries) = call(
        &app,
        Method::GET,
        "/v1/users/ana/units?granularity=summary",
        None,
    )
    .await;
    for unit in summaries["units"].as_array().unwrap() {
        assert_eq!(unit["producer"], "llm", "{unit}");
    }
}
