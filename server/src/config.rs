//! The typed configuration tree: compiled-in defaults, then an optional TOML file, then
//! `MNEMO__SECTION__KEY` environment variables. Validated once at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use memory::build::BuildConfig;
use memory::embed::EmbedderConfig;
use memory::validate::Limits;
use retrieval::RetrievalConfig;
use retrieval::association::AssociationConfig;
use serde::{Deserialize, Serialize};

use crate::engine::RateLimitConfig;
use crate::llm::LlmConfig;

/// mnemo's whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub storage: StorageConfig,
    pub embedding: EmbedderConfig,
    pub build: BuildConfig,
    pub limits: Limits,
    pub retrieval: RetrievalConfig,
    pub association: AssociationConfig,
    pub worker: WorkerConfig,
    pub llm: LlmConfig,
    pub rate_limit: RateLimitConfig,
}

/// The HTTP listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; loopback by default.
    pub bind: SocketAddr,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest archive `POST /v1/users/{user_id}/import` accepts, in bytes.
    pub max_archive_bytes: usize,
    /// Requests taking longer than this many seconds are answered 503 `timeout`.
    pub request_timeout_secs: u64,
    /// Longest request target (path and query), in bytes; longer ones get 414 `uri_too_long`.
    pub max_uri_bytes: usize,
    /// Most request headers; more get 431 `headers_too_large`.
    pub max_headers: usize,
    /// Largest sum of header names and values, in bytes; more gets 431 `headers_too_large`.
    pub max_header_bytes: usize,
    /// Seconds a connection has to deliver each complete request head, counted from when the
    /// server starts waiting for it: a slow head and an idle keep-alive connection are both
    /// closed after this.
    pub header_timeout_secs: u64,
    /// Open connections in all; more are answered 503 `overloaded` and closed.
    pub max_connections: usize,
    /// Open connections from one IP address; more are answered 503 `overloaded` and closed.
    pub max_connections_per_ip: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 7700)),
            max_body_bytes: 8 * 1024 * 1024,
            max_archive_bytes: 256 * 1024 * 1024,
            request_timeout_secs: 60,
            max_uri_bytes: 8 * 1024,
            max_headers: 100,
            max_header_bytes: 16 * 1024,
            header_timeout_secs: 10,
            max_connections: 1024,
            max_connections_per_ip: 128,
        }
    }
}

/// Whether callers must present an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// Every request needs a key (`Authorization: Bearer ...`).
    #[default]
    Keys,
    /// No keys: every caller reaches the default tenant's memory and the admin endpoints.
    /// Allowed only on a loopback address.
    Off,
}

/// Authentication: the mode and the operator's admin key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// The admin key (at least 32 characters), which manages tenants and keys. Never logged.
    pub admin_key: Option<String>,
    /// A file whose first line is the admin key, instead of `admin_key`.
    pub admin_key_file: Option<PathBuf>,
}

/// The shortest admin key accepted.
const MIN_ADMIN_KEY_CHARS: usize = 32;

impl AuthConfig {
    /// The admin key, read from `admin_key` or `admin_key_file`, if one is configured.
    pub fn resolve_admin_key(&self) -> Result<Option<String>, ConfigError> {
        let key = match (&self.admin_key, &self.admin_key_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "set auth.admin_key or auth.admin_key_file, not both".to_owned(),
                ));
            }
            (Some(key), None) => key.trim().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| {
                    ConfigError::Invalid(format!("auth.admin_key_file {}: {e}", path.display()))
                })?
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned(),
            (None, None) => return Ok(None),
        };
        if key.chars().count() < MIN_ADMIN_KEY_CHARS {
            return Err(ConfigError::Invalid(format!(
                "the admin key must have at least {MIN_ADMIN_KEY_CHARS} characters"
            )));
        }
        Ok(Some(key))
    }
}

/// Where data lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// The data directory: SQLite database and full-text index.
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
        }
    }
}

/// The background worker that builds units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// The most sessions built together (one embedding pass and one index commit).
    pub max_batch_sessions: usize,
    /// The most sessions waiting to be built; an ingest beyond it is answered 503 `overloaded`
    /// and stores nothing.
    pub max_queued_sessions: usize,
    /// A session with more texts than this to embed is embedded this many at a time, with the
    /// sessions queued behind it built in between.
    pub slice_texts: usize,
    /// ONNX Runtime threads of the embedder that builds units (the query embedder has
    /// `embedding.threads`): fewer than the cores leaves searches a core while building runs.
    pub embedding_threads: usize,
    /// The worker thread's nice value (0 to 19): above 0, searches get the CPU first while
    /// building runs, and building takes what they leave.
    pub nice: i32,
    /// Milliseconds before a failed build is tried again; the wait doubles with each of up to
    /// five retries.
    pub retry_backoff_ms: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_batch_sessions: 32,
            max_queued_sessions: 1_000,
            slice_texts: 128,
            embedding_threads: 1,
            nice: 10,
            retry_backoff_ms: 1_000,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` if given, then `MNEMO__*` environment variables.
    ///
    /// `ORT_DYLIB_PATH`, the variable ONNX Runtime's loader reads, also sets
    /// `embedding.ort_library` unless the configuration names one.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} not found",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        if let Ok(path) = std::env::var("ORT_DYLIB_PATH")
            && !path.is_empty()
        {
            figment = figment.merge(Serialized::default("embedding.ort_library", path));
        }
        figment = figment.merge(Env::prefixed("MNEMO__").split("__"));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| Err(ConfigError::Invalid(what.to_owned()));
        if self.embedding.batch_size == 0 {
            return bad("embedding.batch_size must be at least 1");
        }
        if self.embedding.max_tokens < 16 {
            return bad("embedding.max_tokens must be at least 16");
        }
        if self.retrieval.candidates == 0 || self.retrieval.max_top_k == 0 {
            return bad("retrieval.candidates and retrieval.max_top_k must be at least 1");
        }
        if !(0.0..=10_000.0).contains(&self.retrieval.rrf_k) {
            return bad("retrieval.rrf_k must be between 0 and 10000");
        }
        if let Err(e) = self.retrieval.memgas.check() {
            return Err(ConfigError::Invalid(format!("retrieval.memgas: {e}")));
        }
        if let Err(e) = self.association.check() {
            return Err(ConfigError::Invalid(format!("association: {e}")));
        }
        if self.worker.max_batch_sessions == 0
            || self.worker.max_queued_sessions == 0
            || self.worker.slice_texts == 0
            || self.worker.embedding_threads == 0
        {
            return bad(
                "worker.max_batch_sessions, worker.max_queued_sessions, worker.slice_texts and \
                 worker.embedding_threads must be at least 1",
            );
        }
        if !(0..=19).contains(&self.worker.nice) {
            return bad("worker.nice must be between 0 and 19");
        }
        if !(1..=64).contains(&self.embedding.sessions)
            || !(1..=64).contains(&self.embedding.threads)
        {
            return bad("embedding.sessions and embedding.threads must be between 1 and 64");
        }
        if self.server.max_body_bytes < 1024 {
            return bad("server.max_body_bytes must be at least 1024");
        }
        if self.server.max_archive_bytes < self.server.max_body_bytes {
            return bad("server.max_archive_bytes must be at least server.max_body_bytes");
        }
        if self.server.max_uri_bytes < 256 || self.server.max_header_bytes < 1024 {
            return bad(
                "server.max_uri_bytes must be at least 256 and server.max_header_bytes at least 1024",
            );
        }
        if self.server.max_headers < 8 {
            return bad("server.max_headers must be at least 8");
        }
        if self.server.header_timeout_secs == 0 || self.server.request_timeout_secs == 0 {
            return bad(
                "server.header_timeout_secs and server.request_timeout_secs must be at least 1",
            );
        }
        if self.server.max_connections == 0
            || self.server.max_connections_per_ip == 0
            || self.server.max_connections_per_ip > self.server.max_connections
        {
            return bad(
                "server.max_connections and server.max_connections_per_ip must be at least 1, \
                 the second at most the first",
            );
        }
        if let Err(e) = self.rate_limit.check() {
            return Err(ConfigError::Invalid(format!("rate_limit: {e}")));
        }
        if self.auth.mode == AuthMode::Off && !self.server.bind.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "auth.mode = \"off\" is allowed only on a loopback address, not {}; \
                 use auth.mode = \"keys\" with an admin key",
                self.server.bind
            )));
        }
        self.auth.resolve_admin_key()?;
        Ok(())
    }

    /// The configuration as JSON for logs and run specs, with secrets replaced by `***`.
    pub fn redacted(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if self.llm.api_key.is_some() {
            value["llm"]["api_key"] = serde_json::Value::from("***");
        }
        if self.auth.admin_key.is_some() {
            value["auth"]["admin_key"] = serde_json::Value::from("***");
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type.
    fn files_and_environment_override_defaults_and_unknown_keys_fail() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "mnemo.toml",
                "[server]\nbind = \"127.0.0.1:9000\"\n[build]\nkeywords = 5\n",
            )?;
            jail.set_env("MNEMO__RETRIEVAL__CANDIDATES", "77");
            let config = Config::load(Some(Path::new("mnemo.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.server.bind.port(), 9000);
            assert_eq!(config.build.keywords, 5);
            assert_eq!(config.retrieval.candidates, 77);
            assert_eq!(config.limits, Limits::default());

            jail.create_file("bad.toml", "[server]\nbnd = \"x\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml")))
                .err()
                .map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.contains("bnd")));

            jail.set_env("MNEMO__WORKER__MAX_BATCH_SESSIONS", "0");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    fn check(bind: &str, mode: AuthMode, admin_key: Option<&str>) -> Result<(), String> {
        let mut config = Config::default();
        config.server.bind = bind.parse().unwrap();
        config.auth.mode = mode;
        config.auth.admin_key = admin_key.map(str::to_owned);
        config.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn authentication_is_off_only_on_loopback_and_admin_keys_are_long() {
        let key = "k".repeat(MIN_ADMIN_KEY_CHARS);
        assert!(check("127.0.0.1:7700", AuthMode::Off, None).is_ok());
        assert!(check("[::1]:7700", AuthMode::Off, None).is_ok());
        let refused = check("0.0.0.0:7700", AuthMode::Off, None).unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        assert!(check("0.0.0.0:7700", AuthMode::Keys, Some(&key)).is_ok());
        assert!(check("0.0.0.0:7700", AuthMode::Keys, Some("short")).is_err());
        let mut config = Config::default();
        config.auth.admin_key = Some(key.clone());
        assert!(!config.redacted().to_string().contains(&key));
    }
}
