//! Provenance through the real router, SQLite and tantivy, with API keys on: every turn records
//! the key that wrote it and its channel, and persona reads and searches filter by them.
//! Embeddings come from the deterministic `HashedWords` stand-in: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::StatusCode;
use serde_json::{Value, json};
use tests::keyed::{ADMIN, create_key, create_tenant, get, keyed_config, post, session};
use tests::open_hashed;

#[tokio::test]
async fn every_turn_records_the_key_that_wrote_it_and_its_channel() {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(keyed_config(), dir.path()));
    create_tenant(&app, "acme").await;
    let chat = json!({"tenant_id": "acme", "scopes": ["read", "write"], "channels": ["chat"]});
    let chat_key = create_key(&app, ADMIN, chat).await;
    let tool = json!({"tenant_id": "acme", "scopes": ["read", "write"], "channels": ["tool"]});
    let tool_key = create_key(&app, ADMIN, tool).await;
    let id_of = |token: &str| token.split('_').nth(1).unwrap().to_owned();

    let first = session("s1", "I live in Lisbon with my family.");
    let (status, body) = post(&app, &chat_key, "/v1/users/ann/sessions", &first).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A key may not declare a channel it was not given; nothing is stored.
    let append = |channel: &str| json!({"channel": channel, "turns": [{"speaker": "Ann", "text": "I have a dog named Rex."}]});
    let uri = "/v1/users/ann/sessions/s1/turns";
    let (status, body) = post(&app, &chat_key, uri, &append("tool")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post(&app, &tool_key, uri, &append("tool")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, stored) = get(&app, &chat_key, "/v1/users/ann/sessions/s1").await;
    let sources: Vec<(String, String)> = stored["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["writer"].as_str().unwrap().to_owned(),
                t["channel"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        vec![
            (id_of(&chat_key), "chat".to_owned()),
            (id_of(&tool_key), "tool".to_owned())
        ],
        "{stored:#}"
    );

    // Units and search results carry each covered turn's role, writer and channel.
    let query = json!({"query": "dog Rex", "top_k": 3, "granularities": ["turn"]});
    let (_, found) = post(&app, &chat_key, "/v1/users/ann/search", &query).await;
    let turn = &found["results"][0]["turns"][0];
    assert_eq!(turn["writer"], id_of(&tool_key).as_str(), "{found:#}");
    assert_eq!(turn["channel"], "tool");
    assert_eq!(turn["role"], "user");

    // Persona reads filter by the writer and the channel of the statements' evidence.
    let texts = |persona: &Value| -> Vec<String> {
        persona["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = get(&app, &chat_key, "/v1/users/ann/persona").await;
    assert!(texts(&all).len() >= 2, "{all:#}");
    let (_, from_tools) = get(&app, &chat_key, "/v1/users/ann/persona?channel=tool").await;
    let tool_texts = texts(&from_tools);
    assert!(
        !tool_texts.is_empty() && tool_texts.iter().all(|t| t.contains("Rex")),
        "{from_tools:#}"
    );
    let uri = format!("/v1/users/ann/persona?writer={}", id_of(&chat_key));
    let (_, from_chat) = get(&app, &chat_key, &uri).await;
    let chat_texts = texts(&from_chat);
    assert!(
        !chat_texts.is_empty() && chat_texts.iter().all(|t| t.contains("Lisbon")),
        "{from_chat:#}"
    );
    assert_eq!(from_chat["statements"][0]["turns"][0]["channel"], "chat");

    // Searches filter the same way: only units with a provenance turn from that writer and
    // channel, whatever else matches the query better.
    let every_turn = |results: &Value| -> Vec<(String, String)> {
        results["results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["turns"].as_array().unwrap().clone())
            .map(|t| {
                (
                    t["writer"].as_str().unwrap().to_owned(),
                    t["channel"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let ask = |filter: Value| {
        let mut q =
            json!({"query": "dog Rex Lisbon family", "top_k": 20, "granularities": ["turn"]});
        q.as_object_mut()
            .unwrap()
            .extend(filter.as_object().unwrap().clone());
        q
    };
    let (_, unfiltered) = post(&app, &chat_key, "/v1/users/ann/search", &ask(json!({}))).await;
    assert_eq!(every_turn(&unfiltered).len(), 2, "{unfiltered:#}");
    let (status, tools) = post(
        &app,
        &chat_key,
        "/v1/users/ann/search",
        &ask(json!({"channel": "tool"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tools}");
    assert_eq!(
        every_turn(&tools),
        vec![(id_of(&tool_key), "tool".to_owned())],
        "{tools:#}"
    );
    let by_chat_key = ask(json!({"writer": id_of(&chat_key), "strategy": "hybrid"}));
    let (_, chats) = post(&app, &chat_key, "/v1/users/ann/search", &by_chat_key).await;
    assert_eq!(
        every_turn(&chats),
        vec![(id_of(&chat_key), "chat".to_owned())],
        "{chats:#}"
    );
    let neither = ask(json!({"writer": id_of(&chat_key), "channel": "tool"}));
    let (_, none) = post(&app, &chat_key, "/v1/users/ann/search", &neither).await;
    assert_eq!(none["results"], json!([]), "{none:#}");
    let (status, bad) = post(
        &app,
        &chat_key,
        "/v1/users/ann/search",
        &ask(json!({"writer": ""})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["code"], "invalid_field", "{bad}");
}
