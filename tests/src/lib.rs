//! Shared helpers of the end-to-end tests: the real embedding model (loaded once per test
//! binary), engines on temporary data directories, HTTP calls through the real router, and
//! the LoCoMo-form fixture.

// Test support: a failed set-up should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod keyed;
pub mod openapi;
pub mod scripted_llm;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use memory::embed::{Embedder, EmbedderConfig, FastEmbedder};
use serde_json::Value;
use server::import::locomo::{self, LocomoConversation};
use server::{Config, Engine};
use tower::ServiceExt;

/// Where `scripts/setup` put the model and ONNX Runtime.
pub fn deps_dir() -> PathBuf {
    std::env::var_os("MNEMO_DEPS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.deps"))
}

/// The embedding configuration pointing at the installed model, if it is installed.
pub fn embedder_config() -> Option<EmbedderConfig> {
    let deps = deps_dir();
    let config = EmbedderConfig {
        model_dir: deps.join("models/all-minilm-l6-v2"),
        ort_library: deps.join("onnxruntime/libonnxruntime.so"),
        ..EmbedderConfig::default()
    };
    (config.model_dir.join("model.onnx").is_file() && config.ort_library.is_file())
        .then_some(config)
}

/// The real model, loaded once per test binary; `None` (with a skip line) when not installed.
pub fn embedder() -> Option<Arc<dyn Embedder>> {
    static MODEL: OnceLock<Option<Arc<dyn Embedder>>> = OnceLock::new();
    let model = MODEL.get_or_init(|| {
        let config = embedder_config()?;
        let model = FastEmbedder::open(&config).expect("the installed model loads");
        Some(Arc::new(model) as Arc<dyn Embedder>)
    });
    if model.is_none() {
        eprintln!(
            "SKIP: embedding model not installed in {} (run scripts/setup)",
            deps_dir().display()
        );
    }
    model.clone()
}

/// A configuration for a data directory, with the installed model and authentication off (the
/// server is only reached through the router, or on loopback); access tests turn keys on.
pub fn config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.storage.data_dir = dir.to_path_buf();
    config.auth.mode = server::AuthMode::Off;
    if let Some(embedding) = embedder_config() {
        config.embedding = embedding;
    }
    config
}

/// Opens an engine on `config` with the shared model. Blocking.
pub fn open_engine(config: Config, model: &Arc<dyn Embedder>) -> Engine {
    Engine::open_with(config, Arc::clone(model), Arc::clone(model)).expect("the engine opens")
}

/// Calls the router as a client would, returning the status and the JSON body.
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    call_as(app, None, method, uri, body).await
}

/// Sends a prepared request through the router.
pub async fn call_raw(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, value)
}

/// The LoCoMo-form fixture written for these tests.
pub fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mini_locomo.json")
}

/// The fixture's conversations.
pub fn fixture() -> Vec<LocomoConversation> {
    let bytes = std::fs::read(fixture_path()).expect("the fixture exists");
    locomo::parse(&bytes).expect("the fixture parses")
}

/// The JSON body of a fixture session, as a client would POST it.
pub fn session_body(conversation: &LocomoConversation, index: usize) -> Value {
    let s = &conversation.sessions[index];
    let turns: Vec<Value> = s
        .turns
        .iter()
        .map(|t| {
            serde_json::json!({
                "speaker": t.speaker,
                "role": "user",
                "text": t.text,
                "external_id": t.external_id,
                "caption": t.caption,
                "metadata": t.metadata,
            })
        })
        .collect();
    serde_json::json!({
        "session_id": s.session_id.as_str(),
        "started_at": s.started_at.to_rfc3339(),
        "title": s.title,
        "turns": turns,
    })
}

/// POSTs every session of a fixture conversation and waits for their units.
pub async fn ingest_conversation(app: &Router, conversation: &LocomoConversation) {
    for i in 0..conversation.sessions.len() {
        let uri = format!("/v1/users/{}/sessions", conversation.sample_id);
        let (status, body) = call(
            app,
            Method::POST,
            &uri,
            Some(&session_body(conversation, i)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "ready", "{body}");
    }
}

/// A count read straight from the data directory's SQLite database, bypassing mnemo.
pub fn sqlite_count(dir: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("mnemo.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The external ids a search result covers.
pub fn external_ids(result: &Value) -> Vec<String> {
    result["turns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["external_id"].as_str().map(str::to_owned))
        .collect()
}

/// A deterministic stand-in for the embedding model, for tests that are not about embeddings
/// (access, errors, paging): each word adds to one of 64 dimensions picked by its hash.
#[derive(Debug)]
pub struct HashedWords;

impl Embedder for HashedWords {
    fn dim(&self) -> usize {
        64
    }

    fn max_tokens(&self) -> usize {
        256
    }

    fn token_counts(&self, texts: &[&str]) -> memory::Result<Vec<usize>> {
        Ok(texts.iter().map(|t| t.split_whitespace().count()).collect())
    }

    fn embed(&self, texts: &[&str]) -> memory::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0.0f32; 64];
                for word in text.split_whitespace() {
                    let h = word
                        .to_lowercase()
                        .bytes()
                        .fold(0xcbf29ce484222325u64, |h, b| {
                            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
                        });
                    v[(h % 64) as usize] += 1.0;
                }
                memory::embed::normalise(&mut v);
                v
            })
            .collect())
    }
}

/// What [`HookedWords`] runs before each embedding call: it may block, record the texts or
/// fail the call.
pub type EmbedHook = Box<dyn Fn(&[&str]) -> memory::Result<()> + Send + Sync>;

/// [`HashedWords`] with a hook before each embedding call, for tests of how building copes
/// with a slow or failing model.
pub struct HookedWords(pub EmbedHook);

impl std::fmt::Debug for HookedWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookedWords")
    }
}

impl Embedder for HookedWords {
    fn dim(&self) -> usize {
        HashedWords.dim()
    }

    fn max_tokens(&self) -> usize {
        HashedWords.max_tokens()
    }

    fn token_counts(&self, texts: &[&str]) -> memory::Result<Vec<usize>> {
        HashedWords.token_counts(texts)
    }

    fn embed(&self, texts: &[&str]) -> memory::Result<Vec<Vec<f32>>> {
        (self.0)(texts)?;
        HashedWords.embed(texts)
    }
}

/// An engine on `dir` with `ingest` building units, [`HashedWords`] embedding queries, and the
/// given config (its data directory set to `dir`). Blocking.
pub fn open_with_ingest(mut config: Config, dir: &Path, ingest: Arc<dyn Embedder>) -> Engine {
    config.storage.data_dir = dir.to_path_buf();
    config.embedding.dim = 64;
    Engine::open_with(config, ingest, Arc::new(HashedWords)).expect("the engine opens")
}

/// An engine on `dir` with the deterministic [`HashedWords`] embedder and the given config
/// (its data directory set to `dir`). Blocking.
pub fn open_hashed(config: Config, dir: &Path) -> Engine {
    try_open_hashed(config, dir).expect("the engine opens")
}

/// [`open_hashed`] for tests of what opening refuses.
pub fn try_open_hashed(mut config: Config, dir: &Path) -> server::Result<Engine> {
    config.storage.data_dir = dir.to_path_buf();
    config.embedding.dim = 64;
    let model: Arc<dyn Embedder> = Arc::new(HashedWords);
    Engine::open_with(config, Arc::clone(&model), model)
}

/// Calls the router with a bearer token (or none), returning the status and the JSON body.
pub async fn call_as(
    app: &Router,
    token: Option<&str>,
    method: Method,
    uri: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(v) => {
            request = request.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    call_raw(app, request.body(body).expect("a valid request")).await
}

/// A text value read straight from the data directory's SQLite database, bypassing mnemo.
pub fn sqlite_value(dir: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("mnemo.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The API served on a real socket on loopback until [`Served::stop`].
#[derive(Debug)]
pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Serves `engine` on a free loopback port.
    pub async fn start(engine: Engine) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(server::serve(engine, listener, async {
            let _ = stopped.await;
        }));
        Self { base, stop, served }
    }

    /// The URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops serving after in-flight requests, and checks the server ended cleanly.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.served.await.unwrap().unwrap();
    }
}

/// Stores one-turn sessions `s{i}` of user `ann` for each `i` of `numbers`, each saying "My
/// locker number is {4000 + i}." (a word that only that session has), and waits for each.
pub async fn store_lockers(app: &Router, numbers: std::ops::Range<usize>) {
    for i in numbers {
        let body = keyed::session(
            &format!("s{i}"),
            &format!("My locker number is {}.", 4000 + i),
        );
        let (status, answer) = call(app, Method::POST, "/v1/users/ann/sessions", Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
}

/// A turn of a request body, with its external id, speaker, role and text.
pub fn turn(id: &str, speaker: &str, role: &str, text: &str) -> Value {
    serde_json::json!({"external_id": id, "speaker": speaker, "role": role, "text": text})
}

/// A fresh data directory with an engine on the deterministic [`HashedWords`] embedder and the
/// router over it, for tests that are not about embeddings. Blocking.
pub fn hashed_app() -> (tempfile::TempDir, Engine, Router) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let engine = open_hashed(config(dir.path()), dir.path());
    let app = server::app(engine.clone());
    (dir, engine, app)
}
