//! A scripted OpenAI-compatible chat-completions server, started inside a test: the only fake
//! in these tests, standing in for a remote (and non-deterministic) language model.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the scripted server does with the next request.
#[derive(Clone)]
pub enum Step {
    /// Answer with this message content.
    Reply(String),
    /// Answer with this status and a plain-text body.
    Status(StatusCode),
    /// Answer 200 with this raw body.
    Raw(&'static str),
    /// Never answer.
    Hang,
    /// Answer with this content once the barrier's other requests have arrived too: only
    /// concurrent requests get through.
    Together(Arc<tokio::sync::Barrier>, String),
}

impl Step {
    /// A reply with this content.
    pub fn reply(text: impl Into<String>) -> Self {
        Self::Reply(text.into())
    }
}

/// The steps still to play and the request bodies seen.
#[derive(Clone, Default)]
pub struct Script {
    pub steps: Arc<Mutex<VecDeque<Step>>>,
    pub seen: Arc<Mutex<Vec<Value>>>,
}

fn reply(text: String) -> Response {
    Json(json!({
        "choices": [{ "message": { "role": "assistant", "content": text } }],
        "usage": { "prompt_tokens": 10, "completion_tokens": 3 }
    }))
    .into_response()
}

async fn completions(State(script): State<Script>, Json(body): Json<Value>) -> Response {
    script.seen.lock().unwrap().push(body);
    let step = script
        .steps
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Step::Status(StatusCode::GONE));
    match step {
        Step::Reply(text) => reply(text),
        Step::Status(status) => (status, "scripted failure").into_response(),
        Step::Raw(body) => (StatusCode::OK, body.to_owned()).into_response(),
        Step::Hang => std::future::pending().await,
        Step::Together(barrier, text) => {
            barrier.wait().await;
            reply(text)
        }
    }
}

/// Starts the scripted server and returns its API root (`http://.../v1`).
pub async fn start(steps: Vec<Step>) -> (String, Script) {
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
