//! Summaries, keywords and persona facts built by a language model, parsed strictly.
//!
//! One chat call per session asks for a JSON object. The reply is parsed with unknown fields
//! denied and checked against the session: known speakers, shown turns, known kinds. A
//! malformed or off-schema reply gets one retry that quotes the problem; a second bad reply, or
//! a failed call, is an error the caller answers with the extractive path. Transport retries
//! belong to the client, so a failed call is never repeated here.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use memory::llm::{ChatMessage, ChatRequest, ChatRole, LanguageModel, LlmError};
use memory::store::BuildInput;
use memory::{Role, Timestamp, TurnRecord};
use persona::{Candidate, StatementKind};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::{debug, instrument};

/// The longest fact text accepted, in characters.
const MAX_FACT_CHARS: usize = 300;
/// The most dialogue lines a fact may cite in the reply schema.
const MAX_FACT_TURNS: usize = 8;
/// How sure a model-built fact is: above most extractive patterns, below repeated evidence.
const FACT_CONFIDENCE: f32 = 0.8;
/// The longest key after `fact:` in a slot made from a fact's text.
const MAX_FACT_KEY_CHARS: usize = 60;
/// The longest slot the model may name.
const MAX_SLOT_CHARS: usize = 80;
/// Longer keywords are cut at a word boundary.
const MAX_KEYWORD_CHARS: usize = 80;
/// A turn is cut to this even when the prompt has room for more.
const MAX_TURN_CHARS: usize = 1_500;
/// Turns are not cut shorter than this to fit more of them; later turns are dropped instead.
const MIN_TURN_CHARS: usize = 200;
/// Room kept in the prompt for the note saying later turns are not shown.
const OMITTED_NOTE_CHARS: usize = 64;
/// The most of a bad reply quoted back to the model in the retry.
const MAX_ECHO_CHARS: usize = 4_000;

/// What the model built from one session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LlmSession {
    /// Non-empty, at most `max_summary_chars` characters.
    pub(crate) summary: String,
    /// One to `max_keywords` phrases, distinct ignoring case, most important first.
    pub(crate) keywords: Vec<String>,
    /// Statements about the session's human speakers, at most `max_facts`.
    pub(crate) facts: Vec<Candidate>,
    /// Chat calls made: 1, or 2 when the first reply was unusable.
    pub(crate) attempts: u32,
    /// Turns shown to the model, from the first; fewer than the session's when it was too long.
    pub(crate) shown_turns: usize,
}

/// Why no units were built; either way the caller falls back to the extractive path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LlmBuildError {
    /// The call itself failed, after the client's own retries.
    #[error("the language model call failed: {0}")]
    Call(#[source] LlmError),
    /// No usable reply: two bad replies, or a session that cannot be put to the model.
    #[error("the language model's reply is unusable: {reason}")]
    Invalid { reason: String },
}

/// Bounds on the prompt and on what is kept of the reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LlmBuildLimits {
    /// Longer summaries are cut at a word boundary.
    pub(crate) max_summary_chars: usize,
    /// Keywords kept; extra ones are dropped.
    pub(crate) max_keywords: usize,
    /// Facts kept; extra ones are dropped.
    pub(crate) max_facts: usize,
    /// The first request's messages stay within this many characters.
    pub(crate) max_prompt_chars: usize,
    /// The reply's bound, in tokens.
    pub(crate) max_reply_tokens: u32,
}

impl Default for LlmBuildLimits {
    fn default() -> Self {
        Self {
            max_summary_chars: 1_200,
            max_keywords: 16,
            max_facts: 20,
            max_prompt_chars: 16_000,
            max_reply_tokens: 2_048,
        }
    }
}

/// Asks `llm` for the summary, keywords and persona facts of one session.
///
/// Blocks on the model; run it off the async runtime.
#[instrument(skip_all, fields(session_key = input.session_key.0, turns = input.turns.len()))]
pub(crate) fn build_session(
    llm: &dyn LanguageModel,
    input: &BuildInput,
    limits: &LlmBuildLimits,
) -> Result<LlmSession, LlmBuildError> {
    let prompt = prompt(input, limits).map_err(|reason| LlmBuildError::Invalid { reason })?;
    let mut request = ChatRequest {
        messages: prompt.messages.clone(),
        max_tokens: limits.max_reply_tokens,
        temperature: 0.0,
        json: true,
        schema: Some(reply_schema(&prompt.speakers, limits)),
    };
    let first = llm.chat(&request).map_err(LlmBuildError::Call)?;
    let problem = match read_reply(&first.text, input, &prompt, limits) {
        Ok(session) => return Ok(session),
        Err(problem) => problem,
    };
    debug!(%problem, "unusable language model reply; retrying once");
    request.messages.push(ChatMessage {
        role: ChatRole::Assistant,
        content: cut_at_word(&first.text, MAX_ECHO_CHARS).to_owned(),
    });
    request.messages.push(ChatMessage::user(format!(
        "Your reply cannot be used: {problem}. Reply again with only the JSON object described \
         in the instructions, with this fixed."
    )));
    let second = llm.chat(&request).map_err(LlmBuildError::Call)?;
    match read_reply(&second.text, input, &prompt, limits) {
        Ok(session) => Ok(LlmSession {
            attempts: 2,
            ..session
        }),
        Err(again) => Err(LlmBuildError::Invalid {
            reason: format!("first reply: {problem}; second reply: {again}"),
        }),
    }
}

/// [`build_session`] for each of `inputs`, with up to `concurrency` calls in flight (the
/// client's own limit still applies); results in the order of `inputs`. A session the model
/// already read with the same turns is answered from `cache` without a call.
pub(crate) fn build_sessions(
    llm: &dyn LanguageModel,
    inputs: &[&BuildInput],
    limits: &LlmBuildLimits,
    concurrency: usize,
    cache: &ReplyCache,
) -> Vec<Result<LlmSession, LlmBuildError>> {
    let ask = |input: &BuildInput| {
        if let Some(known) = cache.get(input) {
            return Ok(LlmSession {
                attempts: 1,
                ..known
            });
        }
        let reading = build_session(llm, input, limits);
        if let Ok(reading) = &reading {
            cache.put(input, reading);
        }
        reading
    };
    let threads = concurrency.clamp(1, inputs.len().max(1));
    if threads == 1 {
        return inputs.iter().map(|input| ask(input)).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<OnceLock<Result<LlmSession, LlmBuildError>>> =
        inputs.iter().map(|_| OnceLock::new()).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(input), Some(slot)) = (inputs.get(i), slots.get(i)) else {
                        break;
                    };
                    let _ = slot.set(ask(input));
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner().unwrap_or_else(|| {
                Err(LlmBuildError::Invalid {
                    reason: "the session was not sent".to_owned(),
                })
            })
        })
        .collect()
}

mod cache;
mod prompt;
mod reply;

pub(crate) use cache::ReplyCache;

use prompt::*;
use reply::*;

/// Lower-case alphanumeric words joined by `separator`.
fn normalise(text: &str, separator: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(separator)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The longest prefix of `text` of at most `max` characters that ends at a word boundary (a
/// space or `_`), or mid-word when the first word alone is longer.
fn cut_at_word(text: &str, max: usize) -> &str {
    let Some((end, next)) = text.char_indices().nth(max) else {
        return text;
    };
    let head = text.get(..end).unwrap_or(text);
    let is_break = |c: char| c.is_whitespace() || c == '_';
    if is_break(next) {
        return head.trim_end();
    }
    match head.rfind(is_break) {
        Some(i) if i > 0 => head.get(..i).unwrap_or(head).trim_end(),
        _ => head,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
