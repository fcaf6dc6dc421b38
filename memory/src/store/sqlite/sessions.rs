//! Session and turn records: idempotent ingest, append, read, list and delete.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::json;

use super::{SqliteStore, audit, index_log, persona, require_user};
use crate::store::{
    Actor, BuildInput, DeleteCounts, IndexOp, IngestOutcome, IngestReceipt, SessionCursor,
    SessionKey, TurnWrite,
};
use crate::validate::{Limits, check_title, check_turns};
use crate::{
    Channel, MemoryError, NewSession, NewTurn, Result, Role, SessionId, SessionRecord,
    SessionStatus, SessionSummary, Source, Timestamp, TurnId, TurnRecord, UserRef,
};

pub(super) struct SessionRow {
    pub(super) key: SessionKey,
    started_at: Timestamp,
    title: Option<String>,
    status: SessionStatus,
    created_at: Timestamp,
}

fn find_session(conn: &Connection, user_pk: i64, id: &SessionId) -> Result<Option<SessionRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, started_at, title, status, created_at FROM sessions
             WHERE user_pk = ?1 AND session_id = ?2",
        )?
        .query_row(params![user_pk, id.as_str()], |r| {
            Ok(SessionRow {
                key: SessionKey(r.get(0)?),
                started_at: Timestamp(r.get(1)?),
                title: r.get(2)?,
                status: SessionStatus::from_stored(&r.get::<_, String>(3)?),
                created_at: Timestamp(r.get(4)?),
            })
        })
        .optional()?)
}

pub(super) fn require_session(
    conn: &Connection,
    user: &UserRef,
    id: &SessionId,
) -> Result<(i64, SessionRow)> {
    let not_found = || MemoryError::SessionNotFound {
        user_id: user.to_string(),
        session_id: id.to_string(),
    };
    // A user nobody has is answered as such, whichever of its things was asked for.
    let user_pk = require_user(conn, user)?;
    let row = find_session(conn, user_pk, id)?.ok_or_else(not_found)?;
    Ok((user_pk, row))
}

/// A turn's writer and channel, read from columns `i` and `i + 1` of a row.
pub(super) fn source_at(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Source> {
    Ok(Source {
        writer: r.get(i)?,
        channel: Channel::from_stored(&r.get::<_, String>(i + 1)?).unwrap_or_default(),
    })
}

pub(super) fn load_turns(conn: &Connection, session: SessionKey) -> Result<Vec<TurnRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, position, speaker, role, text, timestamp, external_id, caption, metadata,
                writer, channel
         FROM turns WHERE session_pk = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([session.0], |r| {
        let metadata: Option<String> = r.get(8)?;
        Ok(TurnRecord {
            turn_id: TurnId(r.get(0)?),
            position: r.get(1)?,
            speaker: r.get(2)?,
            role: Role::from_stored(&r.get::<_, String>(3)?),
            text: r.get(4)?,
            timestamp: r.get::<_, Option<i64>>(5)?.map(Timestamp),
            external_id: r.get(6)?,
            caption: r.get(7)?,
            metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
            source: source_at(r, 9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn same_turn(stored: &TurnRecord, sent: &NewTurn) -> bool {
    stored.speaker == sent.speaker
        && stored.role == sent.role
        && stored.text == sent.text
        && stored.timestamp == sent.timestamp
        && stored.external_id == sent.external_id
        && stored.caption == sent.caption
        && stored.metadata == sent.metadata
}

pub(super) fn insert_turns(
    tx: &Transaction<'_>,
    session: SessionKey,
    first: usize,
    turns: &[NewTurn],
    source: &Source,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO turns (session_pk, position, speaker, role, text, timestamp, external_id,
                            caption, metadata, writer, channel)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (i, t) in turns.iter().enumerate() {
        stmt.execute(params![
            session.0,
            (first + i) as i64,
            t.speaker,
            t.role.as_str(),
            t.text,
            t.timestamp.map(|t| t.0),
            t.external_id,
            t.caption,
            t.metadata.as_ref().map(|m| m.to_string()),
            source.writer,
            source.channel.as_str(),
        ])?;
    }
    Ok(())
}

pub(super) fn set_pending(tx: &Transaction<'_>, session: SessionKey, now: Timestamp) -> Result<()> {
    tx.prepare_cached("UPDATE sessions SET status = 'pending', updated_at = ?2 WHERE id = ?1")?
        .execute(params![session.0, now.0])?;
    Ok(())
}

/// A stored session that turns are appended to: its id, row and turns as read in the
/// appending transaction.
struct StoredSession<'a> {
    session_id: &'a SessionId,
    row: &'a SessionRow,
    turns: &'a [TurnRecord],
}

/// Validates `new_turns` after the stored ones and appends them.
fn append_after(
    tx: &Transaction<'_>,
    user: &UserRef,
    session: StoredSession<'_>,
    new_turns: &[NewTurn],
    limits: &Limits,
    write: TurnWrite<'_>,
) -> Result<()> {
    let StoredSession {
        session_id,
        row,
        turns: stored,
    } = session;
    let TurnWrite {
        now,
        actor,
        channel,
    } = write;
    let taken: HashSet<String> = stored
        .iter()
        .filter_map(|t| t.external_id.clone())
        .collect();
    check_turns(new_turns, stored.len(), &taken, limits)?;
    let source = Source {
        writer: actor.0.to_owned(),
        channel,
    };
    insert_turns(tx, row.key, stored.len(), new_turns, &source)?;
    set_pending(tx, row.key, now)?;
    audit::record(
        tx,
        now,
        actor,
        "append_turns",
        user,
        Some(session_id),
        None,
        None,
        Some(json!({
            "appended": new_turns.len(),
            "turn_count": stored.len() + new_turns.len(),
            "channel": channel,
        })),
    )?;
    Ok(())
}

fn receipt(
    conn: &Connection,
    key: SessionKey,
    session_id: &SessionId,
    outcome: IngestOutcome,
    status: SessionStatus,
) -> Result<IngestReceipt> {
    let turns = load_turns(conn, key)?
        .into_iter()
        .map(|t| (t.turn_id, t.external_id))
        .collect();
    Ok(IngestReceipt {
        session_key: key,
        session_id: session_id.clone(),
        outcome,
        status,
        turns,
    })
}

impl SqliteStore {
    /// Stores a session durably, creating the user if needed.
    ///
    /// Idempotent on the session id: sending the same session again changes nothing; sending it
    /// with more turns after the stored ones appends them; anything else is a conflict.
    pub fn ingest_session(
        &self,
        user: &UserRef,
        session: &NewSession,
        limits: &Limits,
        write: TurnWrite<'_>,
    ) -> Result<IngestReceipt> {
        let TurnWrite {
            now,
            actor,
            channel,
        } = write;
        check_title(session.title.as_deref(), limits)?;
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO users (tenant, user_id, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![user.tenant.as_str(), user.user.as_str(), now.0])?;
            let user_pk = require_user(tx, user)?;
            if let Some(row) = find_session(tx, user_pk, &session.session_id)? {
                let stored = load_turns(tx, row.key)?;
                let conflict = row.started_at != session.started_at
                    || row.title != session.title
                    || stored.len() > session.turns.len()
                    || !stored
                        .iter()
                        .zip(&session.turns)
                        .all(|(a, b)| same_turn(a, b));
                if conflict {
                    return Err(MemoryError::SessionConflict {
                        session_id: session.session_id.to_string(),
                    });
                }
                if stored.len() == session.turns.len() {
                    return receipt(
                        tx,
                        row.key,
                        &session.session_id,
                        IngestOutcome::Unchanged,
                        row.status,
                    );
                }
                let rest = &session.turns[stored.len()..];
                let appending = StoredSession {
                    session_id: &session.session_id,
                    row: &row,
                    turns: &stored,
                };
                append_after(tx, user, appending, rest, limits, write)?;
                return receipt(
                    tx,
                    row.key,
                    &session.session_id,
                    IngestOutcome::Appended,
                    SessionStatus::Pending,
                );
            }
            check_turns(&session.turns, 0, &HashSet::new(), limits)?;
            tx.prepare_cached(
                "INSERT INTO sessions (user_pk, session_id, started_at, title, status, created_at,
                                       updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
            )?
            .execute(params![
                user_pk,
                session.session_id.as_str(),
                session.started_at.0,
                session.title,
                now.0
            ])?;
            let key = SessionKey(tx.last_insert_rowid());
            let source = Source {
                writer: actor.0.to_owned(),
                channel,
            };
            insert_turns(tx, key, 0, &session.turns, &source)?;
            audit::record(
                tx,
                now,
                actor,
                "create_session",
                user,
                Some(&session.session_id),
                None,
                None,
                Some(json!({
                    "turn_count": session.turns.len(),
                    "started_at": session.started_at,
                    "channel": channel,
                })),
            )?;
            receipt(
                tx,
                key,
                &session.session_id,
                IngestOutcome::Created,
                SessionStatus::Pending,
            )
        })
    }

    /// Appends turns to a stored session; its units are rebuilt afterwards.
    pub fn append_turns(
        &self,
        user: &UserRef,
        session_id: &SessionId,
        turns: &[NewTurn],
        limits: &Limits,
        write: TurnWrite<'_>,
    ) -> Result<IngestReceipt> {
        if turns.is_empty() {
            return Err(MemoryError::InvalidField {
                field: "turns",
                reason: "at least one turn is needed".to_owned(),
            });
        }
        self.write(|tx| {
            let (_, row) = require_session(tx, user, session_id)?;
            let stored = load_turns(tx, row.key)?;
            let appending = StoredSession {
                session_id,
                row: &row,
                turns: &stored,
            };
            append_after(tx, user, appending, turns, limits, write)?;
            receipt(
                tx,
                row.key,
                session_id,
                IngestOutcome::Appended,
                SessionStatus::Pending,
            )
        })
    }

    /// Everything unit building needs about a session, or `None` if it was deleted meanwhile.
    pub fn build_input(&self, key: SessionKey) -> Result<Option<BuildInput>> {
        self.read(|conn| {
            let head = conn
                .prepare_cached(
                    "SELECT u.tenant, u.user_id, s.session_id, s.started_at, s.status FROM sessions s
                     JOIN users u ON u.id = s.user_pk WHERE s.id = ?1",
                )?
                .query_row([key.0], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .optional()?;
            let Some((tenant, user_id, session_id, started_at, status)) = head else {
                return Ok(None);
            };
            Ok(Some(BuildInput {
                session_key: key,
                status: SessionStatus::from_stored(&status),
                user_id: super::user_ref(tenant, user_id)?,
                session_id: SessionId::new(session_id)?,
                started_at: Timestamp(started_at),
                turns: load_turns(conn, key)?,
            }))
        })
    }

    /// Sessions whose units are not built yet, oldest first (for recovery after a crash).
    pub fn pending_sessions(&self) -> Result<Vec<SessionKey>> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id FROM sessions WHERE status = 'pending' ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get(0).map(SessionKey))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The store key of a session, which must exist.
    pub fn session_key(&self, user: &UserRef, session_id: &SessionId) -> Result<SessionKey> {
        self.read(|conn| Ok(require_session(conn, user, session_id)?.1.key))
    }

    /// One session with its turns.
    pub fn get_session(&self, user: &UserRef, session_id: &SessionId) -> Result<SessionRecord> {
        self.read(|conn| {
            let (_, row) = require_session(conn, user, session_id)?;
            Ok(SessionRecord {
                user_id: user.clone(),
                session_id: session_id.clone(),
                started_at: row.started_at,
                title: row.title,
                status: row.status,
                created_at: row.created_at,
                turns: load_turns(conn, row.key)?,
            })
        })
    }

    /// A page of a user's sessions in time order: `limit` of them after `after`, and where the
    /// next page starts when this one is full.
    pub fn list_sessions(
        &self,
        user: &UserRef,
        limit: u32,
        after: Option<SessionCursor>,
    ) -> Result<(Vec<SessionSummary>, Option<SessionCursor>)> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let after = after.unwrap_or(SessionCursor {
                started_at: i64::MIN,
                key: i64::MIN,
            });
            let mut stmt = conn.prepare_cached(
                "SELECT s.session_id, s.started_at, s.title, s.status, s.created_at,
                        (SELECT COUNT(*) FROM turns t WHERE t.session_pk = s.id),
                        (SELECT COUNT(*) FROM units n WHERE n.session_pk = s.id),
                        s.id
                 FROM sessions s WHERE s.user_pk = ?1 AND (s.started_at, s.id) > (?2, ?3)
                 ORDER BY s.started_at, s.id LIMIT ?4",
            )?;
            let rows =
                stmt.query_map(params![user_pk, after.started_at, after.key, limit], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, u32>(5)?,
                        r.get::<_, u32>(6)?,
                        r.get::<_, i64>(7)?,
                    ))
                })?;
            let mut out = Vec::new();
            let mut last = None;
            for row in rows {
                let (id, started_at, title, status, created_at, turn_count, unit_count, key) = row?;
                last = Some(SessionCursor { started_at, key });
                out.push(SessionSummary {
                    session_id: SessionId::new(id)?,
                    started_at: Timestamp(started_at),
                    title,
                    status: SessionStatus::from_stored(&status),
                    created_at: Timestamp(created_at),
                    turn_count,
                    unit_count,
                });
            }
            let next = (out.len() as u32 == limit).then_some(last).flatten();
            Ok((out, next))
        })
    }

    /// Deletes a session with its turns, units, provenance and term statistics, drops the
    /// persona statements it alone supported, and logs the removal for the full-text index.
    /// Returns the session's key, what was removed, and the sessions whose fact units must be
    /// built again (marked pending).
    pub fn delete_session(
        &self,
        user: &UserRef,
        session_id: &SessionId,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<(SessionKey, DeleteCounts, Vec<SessionKey>)> {
        self.write(|tx| {
            let (user_pk, row) = require_session(tx, user, session_id)?;
            let count = |sql: &str| -> Result<u64> {
                Ok(tx
                    .prepare_cached(sql)?
                    .query_row([row.key.0], |r| r.get::<_, i64>(0))? as u64)
            };
            let counts = DeleteCounts {
                sessions: 1,
                turns: count("SELECT COUNT(*) FROM turns WHERE session_pk = ?1")?,
                units: count("SELECT COUNT(*) FROM units WHERE session_pk = ?1")?,
                statements: 0,
            };
            tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
                .execute([row.key.0])?;
            let (statements, refresh) = persona::tidy_after_delete(tx, user_pk, now, actor)?;
            let counts = DeleteCounts {
                statements,
                ..counts
            };
            index_log::append(tx, IndexOp::DeleteSession(row.key))?;
            // The session's audit entries keep what happened and when, not what was said.
            tx.prepare_cached(
                "UPDATE audit_log SET before = NULL, after = NULL
                 WHERE tenant = ?1 AND user_id = ?2 AND session_id = ?3",
            )?
            .execute(params![
                user.tenant.as_str(),
                user.user.as_str(),
                session_id.as_str()
            ])?;
            audit::record(
                tx,
                now,
                actor,
                "delete_session",
                user,
                Some(session_id),
                None,
                Some(json!({
                    "turn_count": counts.turns,
                    "unit_count": counts.units,
                    "statement_count": counts.statements,
                })),
                None,
            )?;
            Ok((row.key, counts, refresh))
        })
    }
}
