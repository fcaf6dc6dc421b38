//! The OpenAI-compatible client against a scripted chat-completions server started inside the
//! test (the only fake: the remote model). Covers replies, retries, failures and accounting.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::StatusCode;
use memory::llm::{ChatMessage, ChatRequest, LanguageModel, LlmError, LlmUsage};
use serde_json::json;
use server::llm::{LlmConfig, OpenAiClient};
use tests::scripted_llm::{Step, start as scripted};

fn request(json: bool) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::user("Where does Lisa live?")],
        max_tokens: 32,
        temperature: 0.0,
        json,
        schema: None,
    }
}

/// Runs chat calls on a blocking thread (the client blocks) and returns results and usage.
async fn run(url: String, calls: usize, json: bool) -> (Vec<Result<String, LlmError>>, LlmUsage) {
    run_with(url, calls, request(json), true).await
}

/// [`run`] with a given request, and the client's `json_schema` setting.
async fn run_with(
    url: String,
    calls: usize,
    request: ChatRequest,
    json_schema: bool,
) -> (Vec<Result<String, LlmError>>, LlmUsage) {
    tokio::task::spawn_blocking(move || {
        let config = LlmConfig {
            base_url: Some(url),
            model: "scripted".into(),
            api_key: Some("secret".into()),
            timeout_secs: 1,
            max_retries: 1,
            backoff_ms: 1,
            max_concurrency: 1,
            json_schema,
        };
        let client = OpenAiClient::from_config(&config).unwrap().unwrap();
        let results = (0..calls)
            .map(|_| client.chat(&request).map(|r| r.text))
            .collect();
        (results, client.usage())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_llm_server_replies_are_parsed_and_counted() {
    let (url, script) = scripted(vec![
        Step::reply("Lisbon"),
        Step::reply("{\"label\": \"CORRECT\"}"),
    ])
    .await;
    let (results, usage) = run(url, 2, true).await;
    assert_eq!(
        results,
        vec![
            Ok("Lisbon".to_owned()),
            Ok("{\"label\": \"CORRECT\"}".to_owned())
        ]
    );
    assert_eq!(
        usage,
        LlmUsage {
            calls: 2,
            failures: 0,
            retries: 0,
            prompt_tokens: 20,
            completion_tokens: 6
        }
    );
    let seen = script.seen.lock().unwrap();
    assert_eq!(seen[0]["model"], "scripted");
    assert_eq!(
        seen[0]["messages"][0],
        json!({ "role": "user", "content": "Where does Lisa live?" })
    );
    assert_eq!(seen[0]["response_format"]["type"], "json_object");
    assert_eq!(seen[0]["temperature"], 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_is_sent_as_json_schema_unless_turned_off_with_a_scripted_llm() {
    let schema = json!({ "type": "object", "properties": { "city": { "type": "string" } } });
    let with_schema = ChatRequest {
        schema: Some(schema.clone()),
        ..request(true)
    };
    for (json_schema, expected) in [
        (
            true,
            json!({ "type": "json_schema", "json_schema": { "name": "reply", "schema": schema } }),
        ),
        (false, json!({ "type": "json_object" })),
    ] {
        let (url, script) = scripted(vec![Step::reply("{\"city\": \"Lisbon\"}")]).await;
        let (results, _) = run_with(url, 1, with_schema.clone(), json_schema).await;
        assert_eq!(results, vec![Ok("{\"city\": \"Lisbon\"}".to_owned())]);
        let seen = script.seen.lock().unwrap();
        assert_eq!(
            seen[0]["response_format"], expected,
            "json_schema = {json_schema}"
        );
    }
    // A plain-text request asks for no format at all.
    let (url, script) = scripted(vec![Step::reply("Lisbon")]).await;
    run(url, 1, false).await;
    assert!(
        script.seen.lock().unwrap()[0]
            .get("response_format")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_llm_server_rate_limit_and_errors_are_retried_then_reported() {
    let steps = vec![
        Step::Status(StatusCode::TOO_MANY_REQUESTS),
        Step::reply("after a retry"),
        Step::Status(StatusCode::INTERNAL_SERVER_ERROR),
        Step::Status(StatusCode::BAD_GATEWAY),
        Step::Status(StatusCode::BAD_REQUEST),
        Step::Raw("<html>not json</html>"),
    ];
    let (url, script) = scripted(steps).await;
    let (results, usage) = run(url, 4, false).await;
    assert_eq!(results[0], Ok("after a retry".to_owned()));
    assert!(
        matches!(results[1], Err(LlmError::Status { status: 502, .. })),
        "{:?}",
        results[1]
    );
    // A client error is not retried; neither is a malformed answer.
    assert!(
        matches!(results[2], Err(LlmError::Status { status: 400, .. })),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(results[3], Err(LlmError::Malformed { .. })),
        "{:?}",
        results[3]
    );
    assert_eq!((usage.calls, usage.failures, usage.retries), (1, 3, 2));
    assert_eq!(script.seen.lock().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_llm_server_that_never_answers_times_out() {
    let (url, _script) = scripted(vec![Step::Hang, Step::Hang]).await;
    let (results, usage) = run(url, 1, false).await;
    assert_eq!(results, vec![Err(LlmError::Timeout)]);
    assert_eq!((usage.calls, usage.failures, usage.retries), (0, 1, 1));
}
