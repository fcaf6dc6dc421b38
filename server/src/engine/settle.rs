//! Building sessions until they settle (rebuilt while they change under the build, then the
//! sessions a persona merge touched), and deleting a session everywhere: the work the worker
//! thread runs for its jobs.

use std::collections::HashMap;

use memory::SessionId;
use memory::store::{Actor, DeleteCounts, SessionKey};
use tracing::{error, warn};

use super::access::UserPass;
use super::erase::scrub_files;
use super::now;
use super::pipeline::{BuildOutcome, Parts, build_sessions, commit_text_index, forget_session};
use crate::Result;

/// How often a session that keeps gaining turns mid-build is rebuilt within one batch.
const STALE_RETRIES: usize = 3;

/// The most build rounds one job runs (stale retries and persona refreshes together).
const MAX_ROUNDS: usize = 8;

/// [`build_settled_with`] with nothing embedded beforehand.
pub(crate) fn build_settled(
    parts: &Parts<'_>,
    keys: Vec<SessionKey>,
) -> HashMap<SessionKey, Result<BuildOutcome>> {
    build_settled_with(parts, keys, HashMap::new())
}

/// Builds these sessions, again while they change under the build (stale) and then the
/// sessions whose fact units a persona merge changed. Returns each session's last outcome.
/// `embedded` holds vectors computed beforehand for some of their texts.
pub(crate) fn build_settled_with(
    parts: &Parts<'_>,
    keys: Vec<SessionKey>,
    embedded: HashMap<String, Vec<f32>>,
) -> HashMap<SessionKey, Result<BuildOutcome>> {
    let mut embedded = Some(embedded);
    let mut results: HashMap<SessionKey, Result<BuildOutcome>> = HashMap::new();
    let mut todo = keys;
    let mut stale_rounds = 0;
    let mut rounds = 0;
    while !todo.is_empty() && stale_rounds < STALE_RETRIES && rounds < MAX_ROUNDS {
        rounds += 1;
        let batch = build_sessions(parts, &todo, now(), embedded.take().unwrap_or_default());
        let mut next: Vec<SessionKey> = Vec::new();
        let mut any_stale = false;
        for (key, outcome) in batch.outcomes {
            match outcome {
                Ok(BuildOutcome::Stale) => {
                    any_stale = true;
                    next.push(key);
                    results.insert(key, Ok(BuildOutcome::Stale));
                }
                other => {
                    if let Err(e) = &other {
                        error!(session = key.0, error = %e, "building a session failed; it stays pending");
                    }
                    results.insert(key, other);
                }
            }
        }
        // A rebuilt session's merge is a no-op, so refreshes do not cascade for long.
        for key in batch.refresh {
            if !next.contains(&key) {
                next.push(key);
            }
        }
        stale_rounds += usize::from(any_stale);
        todo = next;
    }
    for key in todo {
        warn!(
            session = key.0,
            "session kept changing while it was built; it stays pending"
        );
    }
    results
}

pub(crate) fn delete(
    parts: &Parts<'_>,
    pass: &UserPass,
    session_id: &SessionId,
) -> Result<DeleteCounts> {
    let (key, counts, refresh) =
        parts
            .store
            .delete_session(pass.user(), session_id, now(), Actor(pass.actor()))?;
    forget_session(parts, pass.user(), key)?;
    if !refresh.is_empty() {
        // Statements the session anchored now live in another session's fact units.
        build_settled(parts, refresh);
    }
    parts.llm_cache.forget(&[key]);
    match commit_text_index(parts) {
        Ok(()) => {
            scrub_files(parts);
        }
        // The delete is durable in the store and its log entry replays at the next start.
        Err(e) => {
            warn!(error = %e, "full-text index commit failed after a delete; it catches up at the next start")
        }
    }
    Ok(counts)
}
