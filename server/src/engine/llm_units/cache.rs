//! The model's readings of sessions, kept for rebuilds that change only a session's `fact`
//! units (a later session superseded one of its statements, a person edited one): the same
//! turns are not sent again, and a model that fails now cannot undo what it built before.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use memory::store::{BuildInput, SessionKey};

use super::LlmSession;

/// Readings by session and a digest of what the model was shown; cleared when full.
#[derive(Debug)]
pub(crate) struct ReplyCache {
    entries: Mutex<HashMap<(SessionKey, u64), LlmSession>>,
    capacity: usize,
}

/// A digest of the session as the prompt shows it: its date and each turn.
fn digest(input: &BuildInput) -> u64 {
    let mut h = DefaultHasher::new();
    input.started_at.0.hash(&mut h);
    for t in &input.turns {
        (t.turn_id.0, &t.speaker, t.role, &t.text, &t.caption).hash(&mut h);
    }
    h.finish()
}

impl ReplyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The reading of this very session, if the model gave one.
    pub(crate) fn get(&self, input: &BuildInput) -> Option<LlmSession> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(&(input.session_key, digest(input))).cloned()
    }

    /// Keeps a usable reading; older readings of the session go.
    pub(crate) fn put(&self, input: &BuildInput, reading: &LlmSession) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|(key, _), _| *key != input.session_key);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert((input.session_key, digest(input)), reading.clone());
    }

    /// Drops every reading of these sessions (deleted or erased); returns how many went.
    pub(crate) fn forget(&self, sessions: &[SessionKey]) -> usize {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let before = entries.len();
        entries.retain(|(key, _), _| !sessions.contains(key));
        before - entries.len()
    }
}
