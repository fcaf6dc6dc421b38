//! An OpenAI-compatible chat-completions client (llama.cpp's `llama-server`, Ollama, vLLM or a
//! hosted API): timeouts, bounded retries with backoff, a concurrency limit and token
//! accounting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use memory::llm::{ChatReply, ChatRequest, LanguageModel, LlmError, LlmUsage};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::warn;

/// Where the language model is and how to call it. Unset `base_url` means no model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// The API root, such as `http://127.0.0.1:8080/v1`; `/chat/completions` is appended.
    pub base_url: Option<String>,
    /// The model name sent with each request.
    pub model: String,
    /// A bearer token, if the server wants one. Redacted in logs.
    pub api_key: Option<String>,
    /// Seconds to wait for one answer.
    pub timeout_secs: u64,
    /// Attempts after the first, for timeouts, rate limits and server errors.
    pub max_retries: u32,
    /// The first backoff; it doubles with each retry.
    pub backoff_ms: u64,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Send a request's JSON Schema as a `json_schema` response format; off, only
    /// `json_object` is asked for (for servers that reject schemas).
    pub json_schema: bool,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            model: "default".to_owned(),
            api_key: None,
            timeout_secs: 120,
            max_retries: 2,
            backoff_ms: 500,
            max_concurrency: 2,
            json_schema: true,
        }
    }
}

/// A counting semaphore for blocking callers.
#[derive(Debug)]
struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Permits {
    fn acquire(&self) -> PermitGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        PermitGuard(self)
    }
}

struct PermitGuard<'a>(&'a Permits);

impl Drop for PermitGuard<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.0.freed.notify_one();
    }
}

#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
}

/// The client. Blocking: call it from a blocking thread. It may be made and dropped anywhere:
/// the HTTP client inside (which runs its own runtime) is built at the first call and dropped
/// on a thread of its own.
#[derive(Debug)]
pub struct OpenAiClient {
    http: OnceLock<Result<reqwest::blocking::Client, String>>,
    url: String,
    config: LlmConfig,
    permits: Permits,
    counters: Counters,
}

/// A failed attempt, and whether trying again may help.
struct Attempt {
    error: LlmError,
    retry: bool,
    wait: Option<Duration>,
}

fn parse_reply(body: &str) -> Result<ChatReply, LlmError> {
    let malformed = |reason: &str| LlmError::Malformed {
        reason: reason.to_owned(),
    };
    let value: Value = serde_json::from_str(body).map_err(|_| malformed("not JSON"))?;
    let text = value["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| malformed("no choices[0].message.content"))?;
    Ok(ChatReply {
        text: text.to_owned(),
        prompt_tokens: value["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        completion_tokens: value["usage"]["completion_tokens"].as_u64().unwrap_or(0),
    })
}

impl OpenAiClient {
    /// A client for a configured model; `None` when `base_url` is unset.
    pub fn from_config(config: &LlmConfig) -> Result<Option<Self>, LlmError> {
        let Some(base) = &config.base_url else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: OnceLock::new(),
            url: format!("{}/chat/completions", base.trim_end_matches('/')),
            config: config.clone(),
            permits: Permits {
                free: Mutex::new(config.max_concurrency.max(1)),
                freed: Condvar::new(),
            },
            counters: Counters::default(),
        }))
    }

    fn http(&self) -> Result<&reqwest::blocking::Client, LlmError> {
        self.http
            .get_or_init(|| {
                reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(self.config.timeout_secs.max(1)))
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| LlmError::Transport {
                reason: reason.clone(),
            })
    }

    fn attempt(&self, body: &Value) -> Result<ChatReply, Attempt> {
        let http = self.http().map_err(|error| Attempt {
            error,
            retry: false,
            wait: None,
        })?;
        let mut request = http.post(&self.url).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().map_err(transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(60)));
        let text = response.text().map_err(transport)?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Attempt {
                error: LlmError::RateLimited,
                retry: true,
                wait: retry_after,
            });
        }
        if !status.is_success() {
            return Err(Attempt {
                retry: status.is_server_error(),
                wait: None,
                error: LlmError::Status {
                    status: status.as_u16(),
                    body: text.chars().take(300).collect(),
                },
            });
        }
        parse_reply(&text).map_err(|error| Attempt {
            error,
            retry: false,
            wait: None,
        })
    }
}

impl Drop for OpenAiClient {
    fn drop(&mut self) {
        // Dropping the blocking client shuts its runtime down, which tokio forbids inside async
        // code; a thread of its own is always allowed to.
        if let Some(Ok(http)) = self.http.take() {
            let _ = std::thread::spawn(move || drop(http)).join();
        }
    }
}

/// A failure to send a request or read its answer: retried.
fn transport(e: reqwest::Error) -> Attempt {
    Attempt {
        retry: true,
        wait: None,
        error: if e.is_timeout() {
            LlmError::Timeout
        } else {
            LlmError::Transport {
                reason: e.to_string(),
            }
        },
    }
}

impl LanguageModel for OpenAiClient {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn chat(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        let mut body = json!({
            "model": self.config.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        });
        let format = match (&request.schema, request.json) {
            (Some(schema), true) if self.config.json_schema => Some(json!({
                "type": "json_schema",
                "json_schema": { "name": "reply", "schema": schema },
            })),
            (_, true) => Some(json!({ "type": "json_object" })),
            (_, false) => None,
        };
        if let Some(format) = format {
            body["response_format"] = format;
        }
        let _permit = self.permits.acquire();
        let mut backoff = Duration::from_millis(self.config.backoff_ms);
        let mut attempt = 0;
        loop {
            match self.attempt(&body) {
                Ok(reply) => {
                    let c = &self.counters;
                    c.calls.fetch_add(1, Ordering::Relaxed);
                    c.prompt_tokens
                        .fetch_add(reply.prompt_tokens, Ordering::Relaxed);
                    c.completion_tokens
                        .fetch_add(reply.completion_tokens, Ordering::Relaxed);
                    return Ok(reply);
                }
                Err(failed) if failed.retry && attempt < self.config.max_retries => {
                    attempt += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    warn!(error = %failed.error, attempt, "language model call failed; retrying");
                    std::thread::sleep(failed.wait.unwrap_or(backoff));
                    backoff *= 2;
                }
                Err(failed) => {
                    self.counters.failures.fetch_add(1, Ordering::Relaxed);
                    return Err(failed.error);
                }
            }
        }
    }

    fn usage(&self) -> LlmUsage {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = &self.counters;
        LlmUsage {
            calls: get(&c.calls),
            failures: get(&c.failures),
            retries: get(&c.retries),
            prompt_tokens: get(&c.prompt_tokens),
            completion_tokens: get(&c.completion_tokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_parsed_with_usage_and_malformed_ones_are_refused() {
        let ok = r#"{"choices":[{"message":{"role":"assistant","content":"Lisbon"}}],"usage":{"prompt_tokens":12,"completion_tokens":2}}"#;
        assert_eq!(
            parse_reply(ok).ok(),
            Some(ChatReply {
                text: "Lisbon".into(),
                prompt_tokens: 12,
                completion_tokens: 2
            })
        );
        assert!(parse_reply("{}").is_err());
        assert!(parse_reply("<html>").is_err());
        assert!(LlmConfig::default().base_url.is_none());
    }
}
