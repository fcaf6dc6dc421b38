//! Wire types of the context endpoint.

use memory::Granularity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::units::TurnRefOut;
use crate::engine::{Context, ContextMix, ContextRequest, MAX_CONTEXT_TOKENS, MIN_CONTEXT_TOKENS};

/// The body of `POST /v1/users/{user_id}/context`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContextIn {
    #[schemars(schema_with = "super::text_schema")]
    query: String,
    #[serde(default = "default_max_tokens")]
    #[schemars(range(min = MIN_CONTEXT_TOKENS, max = MAX_CONTEXT_TOKENS))]
    max_tokens: usize,
    #[serde(default = "yes")]
    persona: bool,
    #[serde(default)]
    mix: ContextMix,
}

fn default_max_tokens() -> usize {
    1_000
}

fn yes() -> bool {
    true
}

impl ContextIn {
    pub(crate) fn into_request(self) -> ContextRequest {
        ContextRequest {
            query: self.query,
            max_tokens: self.max_tokens,
            persona: self.persona,
            mix: self.mix,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
struct CitationOut {
    unit_id: i64,
    granularity: Granularity,
    session_id: String,
    event_time: String,
    turns: Vec<TurnRefOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ShareOut {
    granularity: Granularity,
    weight: f32,
}

/// A prompt-ready block and what it cites.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ContextOut {
    context: String,
    tokens: usize,
    citations: Vec<CitationOut>,
    /// The router's weight of each granularity for the query (`router` mix).
    router: Vec<ShareOut>,
}

impl From<Context> for ContextOut {
    fn from(c: Context) -> Self {
        Self {
            context: c.text,
            tokens: c.tokens,
            citations: c
                .citations
                .into_iter()
                .map(|u| CitationOut {
                    unit_id: u.unit_id.0,
                    granularity: u.granularity,
                    session_id: u.session_id.to_string(),
                    event_time: u.event_time.to_rfc3339(),
                    turns: u
                        .turns
                        .into_iter()
                        .map(|t| TurnRefOut::new(t, None))
                        .collect(),
                })
                .collect(),
            router: c
                .router
                .into_iter()
                .map(|w| ShareOut {
                    granularity: w.granularity,
                    weight: w.weight,
                })
                .collect(),
        }
    }
}
