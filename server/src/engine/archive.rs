//! Exporting a user's memory as an archive and importing one into an empty user. The import
//! checks the whole archive, embeds its unit texts with the query embedder (so that the worker
//! keeps building other users' sessions meanwhile), then stores and indexes it on the worker in
//! one step; sessions that were still pending are built afterwards like any ingest.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use memory::build::{key_phrases, phrase_terms};
use memory::store::archive::{ImportCounts, UserArchive};
use memory::store::{Actor, BuildInput, ImportInput, SessionKey, TurnWrite};
use memory::tenancy::Scope;
use memory::vector_index::VectorEntry;
use memory::{Channel, MemoryError, SessionId, Timestamp, TurnId, TurnRecord, UserId};
use tokio::sync::oneshot;

use super::access::Access;
use super::pipeline::commit_text_index;
use super::worker::Job;
use super::{Engine, blocking, now};
use crate::Result;
use crate::archive::ArchiveHeader;

/// Unit texts embedded in one call.
const EMBED_BATCH: usize = 64;

/// What an import stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub counts: ImportCounts,
    pub imported_at: Timestamp,
    /// Sessions not built yet when the answer was given (they are being built).
    pub pending: u64,
}

/// A session's distinct terms, as a build records them, from its turns alone.
fn session_terms(archive: &UserArchive) -> HashMap<SessionId, Vec<String>> {
    archive
        .sessions
        .iter()
        .map(|s| {
            let input = BuildInput {
                session_key: SessionKey(0),
                status: s.status,
                user_id: memory::UserRef::new(
                    memory::TenantId::default_tenant(),
                    UserId::new("archive").unwrap_or_else(|_| unreachable!()),
                ),
                session_id: s.session_id.clone(),
                started_at: s.started_at,
                turns: s
                    .turns
                    .iter()
                    .enumerate()
                    .map(|(i, t)| TurnRecord {
                        turn_id: TurnId(i as i64),
                        position: i as u32,
                        speaker: t.turn.speaker.clone(),
                        role: t.turn.role,
                        text: t.turn.text.clone(),
                        timestamp: t.turn.timestamp,
                        external_id: t.turn.external_id.clone(),
                        caption: t.turn.caption.clone(),
                        metadata: t.turn.metadata.clone(),
                        source: memory::Source::default(),
                    })
                    .collect(),
            };
            (s.session_id.clone(), phrase_terms(&key_phrases(&input)))
        })
        .collect()
}

impl Engine {
    /// The archive header this engine writes for a user.
    pub fn archive_header(&self, user: &UserId) -> ArchiveHeader {
        let model = self
            .config()
            .embedding
            .model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ArchiveHeader {
            version: crate::archive::FORMAT_VERSION,
            mnemo_version: env!("CARGO_PKG_VERSION").to_owned(),
            embedding_model: model,
            user_id: user.to_string(),
            exported_at: now(),
        }
    }

    /// Everything stored about a user, as one consistent moment, with the archive header.
    pub async fn export_user(
        &self,
        access: &Access,
        user: UserId,
    ) -> Result<(ArchiveHeader, UserArchive)> {
        let pass = access.user(user.clone(), Scope::Read)?;
        let shared = self.shared();
        let archive = blocking(move || Ok(shared.store.export_user(pass.user())?)).await?;
        Ok((self.archive_header(&user), archive))
    }

    /// Restores an archive into a user without sessions and statements: turns are written by
    /// the caller through `channel`, units get vectors from the current model, ids are new.
    /// With `wait`, answers once the sessions that were pending are built (or most of the
    /// request timeout has passed).
    pub async fn import_user(
        &self,
        access: &Access,
        user: UserId,
        archive: UserArchive,
        channel: Channel,
        wait: bool,
    ) -> Result<ImportReport> {
        let pass = access.user(user, Scope::Write)?;
        access.declare(channel)?;
        let limits = self.config().limits.clone();
        let shared = self.shared();
        let embedder = std::sync::Arc::clone(&self.inner.query_embedder);
        let target = pass.user().clone();
        // Checked and embedded before the worker sees it; an archive that fails stores nothing.
        let (archive, vectors, terms) = blocking(move || {
            archive.check(&limits)?;
            if shared.store.holds_memory(&target)? {
                return Err(MemoryError::UserNotEmpty {
                    user_id: target.user.to_string(),
                }
                .into());
            }
            let mut texts: Vec<&str> = archive
                .sessions
                .iter()
                .flat_map(|s| s.units.iter().map(|u| u.text.as_str()))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            texts.sort_unstable();
            let mut vectors = HashMap::with_capacity(texts.len());
            for batch in texts.chunks(EMBED_BATCH) {
                let embedded = embedder.embed(batch)?;
                vectors.extend(batch.iter().map(|t| (*t).to_owned()).zip(embedded));
            }
            let terms = session_terms(&archive);
            Ok((archive, vectors, terms))
        })
        .await?;
        let imported_at = now();
        let imported = self
            .on_worker(move |parts| {
                let user = pass.user();
                let imported = parts.store.import_user(
                    user,
                    ImportInput {
                        archive: &archive,
                        vectors: &vectors,
                        terms: &terms,
                        write: TurnWrite {
                            now: imported_at,
                            actor: Actor(pass.actor()),
                            channel,
                        },
                    },
                )?;
                let units = parts.store.indexed_units(&imported.units)?;
                let entries: Vec<VectorEntry> = units
                    .iter()
                    .map(|u| VectorEntry {
                        unit_id: u.unit_id,
                        session_key: u.session_key,
                        granularity: u.granularity,
                        event_time: u.event_time,
                        vector: u.embedding.clone(),
                    })
                    .collect();
                parts.vectors.upsert(user, entries)?;
                parts.catalog.upsert(user, &units)?;
                parts.graph.add(user, &imported.edges)?;
                parts.text.add(&units)?;
                // The import is durable in the store; if this fails, the log replays at the
                // next start.
                commit_text_index(parts)?;
                Ok(imported)
            })
            .await?;
        let mut heard = Vec::with_capacity(imported.pending.len());
        for &session in &imported.pending {
            let (done, outcome) = oneshot::channel();
            self.inner.worker.submit(Job::Build {
                session,
                done: Some(done),
            })?;
            heard.push(outcome);
        }
        let mut pending = imported.pending.len() as u64;
        if wait {
            pending = self
                .built_within(&imported.pending, heard, self.wait_limit())
                .await?;
        }
        Ok(ImportReport {
            counts: imported.counts,
            imported_at,
            pending,
        })
    }

    /// Waits for these builds, `limit` at most; returns how many of the sessions are still
    /// pending (stored, and being built).
    async fn built_within(
        &self,
        sessions: &[SessionKey],
        heard: Vec<oneshot::Receiver<Result<super::BuildOutcome>>>,
        limit: Duration,
    ) -> Result<u64> {
        let all = async {
            for outcome in heard {
                // A failed build is retried by the worker; the count below says it is pending.
                let _ = outcome.await;
            }
        };
        let _ = tokio::time::timeout(limit, all).await;
        let shared = self.shared();
        let pending: HashSet<SessionKey> =
            blocking(move || Ok(shared.store.pending_sessions()?.into_iter().collect())).await?;
        Ok(sessions.iter().filter(|s| pending.contains(s)).count() as u64)
    }
}
