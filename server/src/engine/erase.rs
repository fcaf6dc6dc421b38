//! Erasing a user everywhere, and scrubbing the files after a delete or an erase, so that
//! deleted memory is physically gone from the data directory, not only unreachable.

use memory::store::{Actor, EraseCounts};
use memory::tenancy::Scope;
use memory::{Timestamp, UserId, UserRef};
use tracing::warn;

use super::access::{Access, UserPass};
use super::pipeline::{Parts, commit_text_index, forget_session};
use super::{Engine, now};
use crate::Result;

/// What erasing a user removed, store by store: the erasure receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct EraseReceipt {
    pub user: UserRef,
    pub erased_at: Timestamp,
    /// Rows removed from the record store.
    pub store: EraseCounts,
    /// Vectors removed from the vector index.
    pub vectors: u64,
    /// Documents removed from the full-text index.
    pub text_documents: u64,
    /// Language-model readings of the user's sessions dropped from the rebuild cache.
    pub model_readings: u64,
    pub scrub: Scrub,
}

/// How the files were scrubbed after a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scrub {
    /// Full-text segments rewritten without their deleted documents.
    pub text_segments: u64,
    /// Whether every file is scrubbed: the full-text index holds no deleted document and the
    /// record store's file and write-ahead log hold no deleted row. When `false` (the warning
    /// logged says why), the next delete or erase scrubs again.
    pub complete: bool,
}

impl Engine {
    /// Erases a user: every trace of their memory in the record store, both indexes, the
    /// association graph and the model-reading cache, then scrubs the files. What remains is
    /// one audit entry holding the counts.
    pub async fn erase_user(&self, access: &Access, user: UserId) -> Result<EraseReceipt> {
        let pass = access.user(user, Scope::Write)?;
        self.on_worker(move |parts| erase(parts, &pass)).await
    }
}

/// The erase, on the worker thread: the only writer of the derived indexes, so their sizes
/// before and after count exactly what went.
fn erase(parts: &Parts<'_>, pass: &UserPass) -> Result<EraseReceipt> {
    let erased_at = now();
    let (sessions, store) = parts
        .store
        .erase_user(pass.user(), erased_at, Actor(pass.actor()))?;
    let documents = parts.text.doc_count()?;
    let mut vectors = 0;
    for &key in &sessions {
        vectors += forget_session(parts, pass.user(), key)? as u64;
    }
    let model_readings = parts.llm_cache.forget(&sessions) as u64;
    // The erase is durable in the store; if this fails, its log entries replay at the next
    // start.
    commit_text_index(parts)?;
    let text_documents = documents.saturating_sub(parts.text.doc_count()?);
    Ok(EraseReceipt {
        user: pass.user().clone(),
        erased_at,
        store,
        vectors,
        text_documents,
        model_readings,
        scrub: scrub_files(parts),
    })
}

/// Rewrites the full-text segments that hold deleted documents and the record store's file,
/// after the deletes are committed to both.
pub(crate) fn scrub_files(parts: &Parts<'_>) -> Scrub {
    let text = parts.text.purge_deleted().inspect_err(|error| {
        warn!(%error, "rewriting full-text segments after a delete failed; deleted text stays on disk until the next delete");
    });
    let store = parts.store.scrub().inspect_err(|error| {
        warn!(%error, "rewriting the store after a delete failed; deleted rows stay on disk until the next delete");
    });
    Scrub {
        text_segments: *text.as_ref().unwrap_or(&0),
        complete: text.is_ok() && store.is_ok(),
    }
}
