//! The context endpoint through the real router, SQLite and tantivy: a prompt-ready block that
//! fits its budget, groups memories by session in time order, cites what it shows and starts
//! with the persona when asked. Embeddings come from the deterministic `HashedWords` stand-in:
//! these tests are about the block, not about ranking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, config, fixture, ingest_conversation, open_hashed};

/// The fixture's first conversation, stored and built, served by a router.
async fn remembered() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(config(dir.path()), dir.path()));
    ingest_conversation(&app, &fixture()[0]).await;
    (dir, app)
}

async fn context(app: &Router, body: Value) -> (StatusCode, Value) {
    call(app, Method::POST, "/v1/users/conv-a/context", Some(&body)).await
}

/// The text of each fixture turn, by its external id.
fn turn_texts() -> HashMap<String, String> {
    fixture()[0]
        .sessions
        .iter()
        .flat_map(|s| &s.turns)
        .filter_map(|t| Some((t.external_id.clone()?, t.text.clone())))
        .collect()
}

/// The external ids of every turn the block cites.
fn cited(block: &Value) -> Vec<String> {
    block["citations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["turns"].as_array().unwrap())
        .map(|t| t["external_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The dates of the block's session headings (`Session ID (YYYY-MM-DD):`), in block order.
fn heading_dates(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("Session ") && l.ends_with("):"))
        .map(|l| l[l.rfind('(').unwrap() + 1..l.len() - 2].to_owned())
        .collect()
}

fn tokens_of(text: &str) -> u64 {
    text.chars().count().div_ceil(4) as u64
}

#[tokio::test]
async fn a_block_fits_its_budget_cites_what_it_shows_and_orders_sessions_by_time() {
    let (_dir, app) = remembered().await;
    let (status, block) = context(
        &app,
        json!({"query": "moving into the Porto flat", "max_tokens": 300,
               "persona": false, "mix": "turns"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{block}");
    let text = block["context"].as_str().unwrap();
    assert!(block["tokens"].as_u64().unwrap() <= 300, "{block:#}");
    assert_eq!(block["tokens"].as_u64().unwrap(), tokens_of(text));

    // Both turns about the Porto flat are there, in their sessions, dated.
    let ids = cited(&block);
    assert!(
        ids.contains(&"D1:6".to_owned()) && ids.contains(&"D3:6".to_owned()),
        "{ids:?}"
    );
    let dates = heading_dates(text);
    assert!(dates.contains(&"2023-03-03".to_owned()), "{text}");
    assert!(dates.contains(&"2023-06-09".to_owned()), "{text}");
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted, "sessions appear oldest first: {text}");
    assert!(text.contains("[2023-06-09] "), "{text}");

    // Every cited turn's words are in the block, and every citation is a turn (mix `turns`).
    let texts = turn_texts();
    for id in &ids {
        assert!(
            text.contains(texts[id].as_str()),
            "{id} missing from {text}"
        );
    }
    let citations = block["citations"].as_array().unwrap();
    assert!(citations.iter().all(|c| c["granularity"] == "turn"));
    assert!(citations.iter().all(|c| c["session_id"].is_string()));
    assert_eq!(block["router"], json!([]));
}

#[tokio::test]
async fn every_budget_is_kept_and_the_router_mix_reports_its_weights() {
    let (_dir, app) = remembered().await;
    let mut sizes = Vec::new();
    for max_tokens in [50, 120, 400, 2000] {
        let (status, block) = context(
            &app,
            json!({"query": "Pepper the greyhound", "max_tokens": max_tokens, "mix": "router"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{block}");
        let used = block["tokens"].as_u64().unwrap();
        assert!(used <= max_tokens, "{used} > {max_tokens}: {block:#}");
        assert_eq!(used, tokens_of(block["context"].as_str().unwrap()));
        let weights: f64 = block["router"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["weight"].as_f64().unwrap())
            .sum();
        assert!((weights - 1.0).abs() < 1e-3, "{block:#}");
        sizes.push((used, cited(&block).len()));
    }
    assert!(
        sizes[3].1 > sizes[0].1,
        "a larger budget shows more: {sizes:?}"
    );
    assert!(sizes[3].0 > sizes[0].0, "{sizes:?}");
}

#[tokio::test]
async fn the_persona_comes_first_when_asked_and_only_then() {
    let (_dir, app) = remembered().await;
    let ask = |persona: bool| json!({"query": "bakery", "max_tokens": 400, "persona": persona});
    let (status, with) = context(&app, ask(true)).await;
    assert_eq!(status, StatusCode::OK, "{with}");
    let text = with["context"].as_str().unwrap();
    assert!(text.starts_with("About the people here:\n"), "{text}");
    assert!(text.contains("Maya:"), "{text}");
    assert!(with["tokens"].as_u64().unwrap() <= 400);
    assert!(
        !with["citations"].as_array().unwrap().is_empty(),
        "{with:#}"
    );

    let (_, without) = context(&app, ask(false)).await;
    assert!(
        !without["context"]
            .as_str()
            .unwrap()
            .contains("About the people here")
    );
}

#[tokio::test]
async fn bad_budgets_and_fields_are_rejected_with_stable_codes() {
    let (_dir, app) = remembered().await;
    for (body, code) in [
        (
            json!({"query": "bakery", "max_tokens": 10}),
            "invalid_field",
        ),
        (
            json!({"query": "bakery", "max_tokens": 16001}),
            "invalid_field",
        ),
        (
            json!({"query": "bakery", "mix": "everything"}),
            "invalid_field",
        ),
        (json!({"query": "bakery", "budget": 100}), "unknown_field"),
        (json!({"max_tokens": 100}), "missing_field"),
        (json!({"query": ""}), "invalid_query"),
    ] {
        let (status, answer) = context(&app, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], code, "{body} -> {answer}");
    }
    let (status, answer) = call(
        &app,
        Method::POST,
        "/v1/users/nobody/context",
        Some(&json!({"query": "bakery"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "user_not_found");
}
