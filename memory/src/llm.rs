//! Language models as the rest of mnemo sees them: a chat call with token accounting. No
//! transport here; the server crate provides an OpenAI-compatible client.

use serde::{Deserialize, Serialize};

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }
}

/// A chat completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    pub temperature: f32,
    /// Ask the model for a JSON object (`response_format`), where the server supports it.
    pub json: bool,
    /// With `json`: the JSON Schema the object must follow, sent as a `json_schema` response
    /// format so that servers with constrained decoding (llama.cpp, vLLM, OpenAI) keep to it.
    /// The reply is still validated: not every server honours it.
    pub schema: Option<serde_json::Value>,
}

/// A model's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl std::ops::AddAssign for LlmUsage {
    /// Adds another count, such as a second run's.
    fn add_assign(&mut self, other: Self) {
        self.calls += other.calls;
        self.failures += other.failures;
        self.retries += other.retries;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
    }
}

/// Why a chat call failed, after any retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("the language model did not answer in time")]
    Timeout,
    #[error("the language model is rate limiting")]
    RateLimited,
    #[error("the language model answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("cannot reach the language model: {reason}")]
    Transport { reason: String },
    #[error("the language model's answer is malformed: {reason}")]
    Malformed { reason: String },
}

/// Counters of a model's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LlmUsage {
    /// Calls that got an answer.
    pub calls: u64,
    /// Calls that failed after their retries.
    pub failures: u64,
    /// Attempts repeated after a timeout, a rate limit or a server error.
    pub retries: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A chat model. Calls block; run them off the async runtime.
pub trait LanguageModel: Send + Sync {
    /// The model's name, recorded with what it produced.
    fn model(&self) -> &str;

    /// One chat completion.
    fn chat(&self, request: &ChatRequest) -> Result<ChatReply, LlmError>;

    /// Use so far.
    fn usage(&self) -> LlmUsage;
}
