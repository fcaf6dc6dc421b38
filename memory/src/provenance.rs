//! Provenance of turns: who wrote them into mnemo and through which channel, and filters on
//! that, the ground that trust by source rests on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Role, SessionId};

/// How a turn reached mnemo, as its writer declares it (a key may be limited to some).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The conversation itself, sent by the chat agent that had it.
    #[default]
    Chat,
    /// A bulk import of histories (LoCoMo, exported chats).
    Import,
    /// A tool's output or a tool call writing to memory.
    Tool,
    /// A web page or form.
    Web,
    /// Another agent writing on the user's behalf.
    Agent,
}

impl Channel {
    /// Every channel, in order.
    pub const ALL: [Channel; 5] = [
        Channel::Chat,
        Channel::Import,
        Channel::Tool,
        Channel::Web,
        Channel::Agent,
    ];

    /// The stable lower-case name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Import => "import",
            Self::Tool => "tool",
            Self::Web => "web",
            Self::Agent => "agent",
        }
    }

    /// Parses a stored channel name.
    pub fn from_stored(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Who wrote a turn into mnemo (the key id, or `import`, `eval`, `anonymous`...) and through
/// which channel: what trust by source rests on. Never taken from the client's body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    pub writer: String,
    pub channel: Channel,
}

impl Default for Source {
    /// Turns stored before writers were recorded.
    fn default() -> Self {
        Self {
            writer: "unknown".to_owned(),
            channel: Channel::Chat,
        }
    }
}

/// Which memories a read keeps: units of the sessions named (if any) with a provenance turn
/// that matches every other filter given (one turn matching all). Exact matches only. Empty
/// keeps everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFilter {
    pub writer: Option<String>,
    pub channel: Option<Channel>,
    pub speaker: Option<String>,
    pub role: Option<Role>,
    pub sessions: Vec<SessionId>,
    /// Metadata keys with the scalar JSON value (string, number, boolean or null) the turn's
    /// metadata must hold under each.
    pub metadata: Vec<(String, serde_json::Value)>,
}

impl SourceFilter {
    /// Whether the filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.writer.is_none()
            && self.channel.is_none()
            && self.speaker.is_none()
            && self.role.is_none()
            && self.sessions.is_empty()
            && self.metadata.is_empty()
    }

    /// Whether a turn from `source` passes.
    pub fn admits(&self, source: &Source) -> bool {
        self.writer.as_ref().is_none_or(|w| *w == source.writer)
            && self.channel.is_none_or(|c| c == source.channel)
    }
}
