//! Bulk import of whole histories through the same path as the REST ingest.

pub mod locomo;

use memory::{Channel, UserId};

use crate::engine::Access;
use crate::{Engine, Result};

/// What an import stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub users: usize,
    pub sessions: usize,
    pub turns: usize,
    pub units: usize,
}

/// Ingests LoCoMo conversations (one user per conversation, its `sample_id`) in file order and
/// waits until every session's units are built. `progress` is called as each session is built.
pub async fn import_locomo(
    engine: &Engine,
    access: &Access,
    conversations: Vec<locomo::LocomoConversation>,
    progress: impl Fn(usize),
) -> Result<ImportSummary> {
    let mut summary = ImportSummary {
        users: conversations.len(),
        ..ImportSummary::default()
    };
    // Storing is quick and ordered; building runs behind it in the worker, in the same order.
    let mut pending = Vec::new();
    for conversation in conversations {
        let user = UserId::new(conversation.sample_id.clone())?;
        for session in conversation.sessions {
            summary.sessions += 1;
            summary.turns += session.turns.len();
            pending.push(
                engine
                    .submit(access, user.clone(), session, Channel::Import)
                    .await?,
            );
        }
    }
    for p in pending {
        let report = p.wait().await?;
        summary.units += report.units.values().sum::<usize>();
        progress(1);
    }
    Ok(summary)
}
