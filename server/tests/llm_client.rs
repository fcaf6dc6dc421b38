//! The OpenAI-compatible client against a scripted chat-completions server started inside the
//! test (the only fake: the remote model). Covers replies, retries, failures and accounting.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use memory::llm::{ChatMessage, ChatRequest, LanguageModel, LlmError, LlmUsage};
use serde_json::{Value, json};
use server::llm::{LlmConfig, OpenAiClient};

/// What the scripted server does with the next request.
#[derive(Clone)]
enum Step {
    Reply(&'static str),
    Status(StatusCode),
    Raw(&'static str),
    Hang,
}

#[derive(Clone, Default)]
struct Script {
    steps: Arc<Mutex<VecDeque<Step>>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

async fn completions(State(script): State<Script>, Json(body): Json<Value>) -> Response {
    script.seen.lock().unwrap().push(body);
    let step = script
        .steps
        .lock()
        .unwrap()
        .pop_front()
        .expect("a scripted step");
    match step {
        Step::Reply(text) => Json(json!({
            "choices": [{ "message": { "role": "assistant", "content": text } }],
            "usage": { "prompt_tokens": 10, "completion_tokens": 3 }
        }))
        .into_response(),
        Step::Status(status) => (status, "scripted failure").into_response(),
        Step::Raw(body) => (StatusCode::OK, body.to_owned()).into_response(),
        Step::Hang => std::future::pending().await,
    }
}

/// Starts the scripted server and returns its API root.
async fn scripted(steps: Vec<Step>) -> (String, Script) {
    let script = Script {
        steps: Arc::new(Mutex::new(steps.into())),
        ..Script::default()
    };
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, script)
}

fn request(json: bool) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::user("Where does Lisa live?")],
        max_tokens: 32,
        temperature: 0.0,
        json,
    }
}

/// Runs chat calls on a blocking thread (the client blocks) and returns results and usage.
async fn run(url: String, calls: usize, json: bool) -> (Vec<Result<String, LlmError>>, LlmUsage) {
    tokio::task::spawn_blocking(move || {
        let config = LlmConfig {
            base_url: Some(url),
            model: "scripted".into(),
            api_key: Some("secret".into()),
            timeout_secs: 1,
            max_retries: 1,
            backoff_ms: 1,
            max_concurrency: 1,
        };
        let client = OpenAiClient::from_config(&config).unwrap().unwrap();
        let results = (0..calls)
            .map(|_| client.chat(&request(json)).map(|r| r.text))
            .collect();
        (results, client.usage())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_llm_server_replies_are_parsed_and_counted() {
    let (url, script) = scripted(vec![
        Step::Reply("Lisbon"),
        Step::Reply("{\"label\": \"CORRECT\"}"),
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
async fn scripted_llm_server_rate_limit_and_errors_are_retried_then_reported() {
    let steps = vec![
        Step::Status(StatusCode::TOO_MANY_REQUESTS),
        Step::Reply("after a retry"),
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
