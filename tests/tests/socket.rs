//! The API on a real TCP socket, as a client sees it.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tests::{Served, config, embedder, fixture, open_engine, session_body};

#[tokio::test]
async fn the_api_answers_on_a_real_socket() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(config(dir.path()), &model);
    let served = Served::start(engine).await;
    let base = &served.base;
    let client = reqwest::Client::new();
    let conversation = &fixture()[1];
    let response = client
        .post(format!("{base}/v1/users/conv-b/sessions"))
        .json(&session_body(conversation, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("x-request-id"));
    let search: Value = client
        .post(format!("{base}/v1/users/conv-b/search"))
        .json(&json!({ "query": "What is Ken's daughter learning?", "top_k": 1, "granularities": ["turn"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        search["results"][0]["turns"][0]["external_id"], "D2:1",
        "{search:#}"
    );
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    served.stop().await;
}
