//! Persona statements: applying a merge plan, reading, editing and deleting statements, their
//! history, and tidying up after a session is deleted. Every change writes a history row with
//! the statement's new version, in the change's own transaction.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use super::{SqliteStore, audit, require_user, session_head};
use crate::persona::{
    MergePlan, Statement, StatementEdit, StatementRef, StatementStatus, StatementVersion,
};
use crate::store::{Actor, SessionKey};
use crate::{MemoryError, Producer, Result, Role, SessionId, Source, Timestamp, TurnId, UserRef};

/// The longest statement text a person may write.
pub const MAX_STATEMENT_CHARS: usize = 1_000;

/// What merging a session's evidence came to.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonaMerge {
    /// The active statements anchored to the session, by id: the session's `fact` units.
    pub anchored: Vec<Statement>,
    /// Other sessions whose fact units changed; marked pending, to be built again.
    pub refresh: Vec<SessionKey>,
    pub inserted: usize,
    pub reinforced: usize,
    pub superseded: usize,
}

/// A statement's provenance turn, as readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTurn {
    pub turn_id: TurnId,
    pub session_id: SessionId,
    pub external_id: Option<String>,
    pub speaker: String,
    pub role: Role,
    pub source: Source,
}

mod edits;
pub(super) mod rows;
use rows::{load_one, select};

fn anchor_of(tx: &Transaction<'_>, id: i64) -> Result<Option<SessionKey>> {
    Ok(tx
        .prepare_cached("SELECT anchor_pk FROM persona_statements WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .map(SessionKey))
}

/// Writes a statement's mutable columns and its provenance turns (added, never removed).
fn update(tx: &Transaction<'_>, s: &Statement, now: Timestamp) -> Result<()> {
    tx.prepare_cached(
        "UPDATE persona_statements SET kind = ?2, text = ?3, confidence = ?4, first_seen = ?5,
             last_seen = ?6, status = ?7, version = ?8, superseded_by = ?9, evidence = ?10,
             producer = ?11, updated_at = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        s.id,
        s.kind.as_str(),
        s.text,
        f64::from(s.confidence),
        s.first_seen.0,
        s.last_seen.0,
        s.status.as_str(),
        s.version,
        s.superseded_by,
        s.evidence,
        s.producer.to_stored(),
        now.0,
    ])?;
    add_turns(tx, s.id, &s.turns)
}

fn add_turns(tx: &Transaction<'_>, id: i64, turns: &[TurnId]) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO statement_turns (statement_id, turn_id)
         SELECT ?1, id FROM turns WHERE id = ?2",
    )?;
    for t in turns {
        insert.execute(params![id, t.0])?;
    }
    Ok(())
}

/// Stores a new statement (without a replacement yet) with its provenance turns; returns its
/// id. `times` are its creation and last change.
pub(super) fn insert(
    tx: &Transaction<'_>,
    user_pk: i64,
    anchor: Option<SessionKey>,
    s: &Statement,
    times: (Timestamp, Timestamp),
) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO persona_statements (user_pk, anchor_pk, speaker, kind, slot, value, text,
             confidence, first_seen, last_seen, status, version, superseded_by, evidence,
             producer, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        user_pk,
        anchor.map(|a| a.0),
        s.speaker,
        s.kind.as_str(),
        s.slot,
        s.value,
        s.text,
        f64::from(s.confidence),
        s.first_seen.0,
        s.last_seen.0,
        s.status.as_str(),
        s.version,
        s.evidence,
        s.producer.to_stored(),
        times.0.0,
        times.1.0,
    ])?;
    let id = tx.last_insert_rowid();
    add_turns(tx, id, &s.turns)?;
    Ok(id)
}

/// Records the statement's current row as its version `s.version`.
fn snapshot(
    tx: &Transaction<'_>,
    s: &Statement,
    now: Timestamp,
    actor: Actor<'_>,
    action: &str,
) -> Result<()> {
    let json = serde_json::to_string(s).map_err(|e| MemoryError::Corrupt {
        reason: format!("cannot encode a statement: {e}"),
    })?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO statement_history (statement_id, version, at, actor, action, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![s.id, s.version, now.0, actor.0, action, json])?;
    Ok(())
}

/// Marks ready sessions pending so that their fact units are built again.
fn mark_pending(
    tx: &Transaction<'_>,
    sessions: &BTreeSet<SessionKey>,
    now: Timestamp,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE sessions SET status = 'pending', updated_at = ?2 WHERE id = ?1 AND status = 'ready'",
    )?;
    for s in sessions {
        stmt.execute(params![s.0, now.0])?;
    }
    Ok(())
}

/// Brings a user's active statements back whose replacement is gone, unless something else now
/// holds their slot. Returns their anchors.
fn reactivate_orphans(
    tx: &Transaction<'_>,
    user_pk: i64,
    now: Timestamp,
    actor: Actor<'_>,
) -> Result<BTreeSet<SessionKey>> {
    let orphans = select(
        tx,
        "user_pk = ?1 AND status = 'superseded' AND superseded_by IS NULL",
        &[&user_pk],
    )?;
    let mut anchors = BTreeSet::new();
    for mut s in orphans {
        let taken: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM persona_statements WHERE user_pk = ?1
                     AND speaker = ?2 AND slot = ?3 AND status = 'active')",
            )?
            .query_row(params![user_pk, s.speaker, s.slot], |r| r.get(0))?;
        if taken {
            continue;
        }
        s.status = StatementStatus::Active;
        s.version += 1;
        update(tx, &s, now)?;
        snapshot(tx, &s, now, actor, "reactivated")?;
        anchors.extend(anchor_of(tx, s.id)?);
    }
    Ok(anchors)
}

/// After a session is deleted (its turns gone with it): drops statements left without evidence,
/// reactivates what they had superseded, and re-anchors statements whose anchor session went to
/// the session of their earliest remaining turn. Returns how many statements were dropped and the
/// sessions whose fact units must be built again (marked pending).
pub(super) fn tidy_after_delete(
    tx: &Transaction<'_>,
    user_pk: i64,
    now: Timestamp,
    actor: Actor<'_>,
) -> Result<(u64, Vec<SessionKey>)> {
    let dropped = tx
        .prepare_cached(
            "DELETE FROM persona_statements WHERE user_pk = ?1 AND NOT EXISTS
                 (SELECT 1 FROM statement_turns WHERE statement_id = persona_statements.id)",
        )?
        .execute([user_pk])? as u64;
    let mut anchors = reactivate_orphans(tx, user_pk, now, actor)?;
    let moved: Vec<(i64, Option<i64>)> = tx
        .prepare_cached(
            "SELECT ps.id, (SELECT t.session_pk FROM statement_turns st JOIN turns t
                 ON t.id = st.turn_id WHERE st.statement_id = ps.id ORDER BY t.id LIMIT 1)
             FROM persona_statements ps WHERE ps.user_pk = ?1 AND ps.anchor_pk IS NULL",
        )?
        .query_map([user_pk], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set_anchor =
        tx.prepare_cached("UPDATE persona_statements SET anchor_pk = ?2 WHERE id = ?1")?;
    for (id, anchor) in moved {
        set_anchor.execute(params![id, anchor])?;
        anchors.extend(anchor.map(SessionKey));
    }
    mark_pending(tx, &anchors, now)?;
    Ok((dropped, anchors.into_iter().collect()))
}

impl SqliteStore {
    /// Merges a session's evidence into its user's statements in one transaction: `plan` sees
    /// every stored statement of the user (deleted ones included) and says what changes. New
    /// statements are anchored to `session` and credited to `producer`. Returns `None` if the
    /// session no longer exists.
    pub fn merge_persona(
        &self,
        session: SessionKey,
        producer: &Producer,
        now: Timestamp,
        actor: Actor<'_>,
        plan: impl FnOnce(&[Statement]) -> MergePlan,
    ) -> Result<Option<PersonaMerge>> {
        self.write(|tx| {
            let Some((user_pk, user_id, session_id)) = session_head(tx, session)? else {
                return Ok(None);
            };
            let existing = select(tx, "user_pk = ?1", &[&user_pk])?;
            let plan = plan(&existing);
            let mut touched: Vec<(Statement, &str)> = Vec::new();
            for r in &plan.reinforcements {
                let Some(old) = existing.iter().find(|s| s.id == r.id) else {
                    continue;
                };
                let mut s = old.clone();
                s.turns.extend(r.added_turns.iter().copied());
                s.first_seen = r.first_seen;
                s.last_seen = r.last_seen;
                s.confidence = r.confidence;
                s.version = r.version;
                s.evidence = r.evidence;
                touched.push((s, "reinforced"));
            }
            let mut new_ids = Vec::with_capacity(plan.inserts.len());
            for s in &plan.inserts {
                let mut s = Statement {
                    producer: producer.clone(),
                    ..s.clone()
                };
                s.id = insert(tx, user_pk, Some(session), &s, (now, now))?;
                new_ids.push(s.id);
                touched.push((s, "extracted"));
            }
            let id_of = |r: StatementRef| match r {
                StatementRef::Existing(id) => Some(id),
                StatementRef::Inserted(i) => new_ids.get(i).copied(),
            };
            let mut refresh = BTreeSet::new();
            for sup in &plan.supersessions {
                let (Some(old), Some(by)) = (id_of(sup.old), id_of(sup.by)) else {
                    continue;
                };
                let position = touched.iter().position(|(s, _)| s.id == old);
                let (mut s, action) = match position {
                    Some(i) => touched.swap_remove(i),
                    None => match existing.iter().find(|s| s.id == old) {
                        Some(s) => (s.clone(), "superseded"),
                        None => continue,
                    },
                };
                if matches!(sup.old, StatementRef::Existing(_)) {
                    s.version += 1;
                    if let Some(anchor) = anchor_of(tx, old)?
                        && anchor != session
                        && s.is_active()
                    {
                        refresh.insert(anchor);
                    }
                }
                s.status = StatementStatus::Superseded;
                s.superseded_by = Some(by);
                let action = if action == "extracted" {
                    action
                } else {
                    "superseded"
                };
                touched.push((s, action));
            }
            for (s, action) in &touched {
                update(tx, s, now)?;
                snapshot(tx, s, now, actor, action)?;
            }
            mark_pending(tx, &refresh, now)?;
            let merge = PersonaMerge {
                anchored: select(tx, "anchor_pk = ?1 AND status = 'active'", &[&session.0])?,
                refresh: refresh.into_iter().collect(),
                inserted: plan.inserts.len(),
                reinforced: plan.reinforcements.len(),
                superseded: plan.supersessions.len(),
            };
            if !plan.is_empty() {
                audit::record(
                    tx,
                    now,
                    actor,
                    "merge_persona",
                    &user_id,
                    Some(&session_id),
                    None,
                    None,
                    Some(json!({
                        "inserted": merge.inserted,
                        "reinforced": merge.reinforced,
                        "superseded": merge.superseded,
                    })),
                )?;
            }
            Ok(Some(merge))
        })
    }

    /// The active statements anchored to a session: its fact units.
    pub fn anchored_statements(&self, session: SessionKey) -> Result<Vec<Statement>> {
        self.read(|conn| select(conn, "anchor_pk = ?1 AND status = 'active'", &[&session.0]))
    }

    /// A user's statements, optionally of one speaker; with `history`, superseded and deleted
    /// ones too.
    pub fn statements(
        &self,
        user: &UserRef,
        speaker: Option<&str>,
        history: bool,
    ) -> Result<Vec<Statement>> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let all = select(conn, "user_pk = ?1", &[&user_pk])?;
            Ok(all
                .into_iter()
                .filter(|s| speaker.is_none_or(|sp| s.speaker == sp))
                .filter(|s| history || s.is_active())
                .collect())
        })
    }

    /// One statement of a user, whatever its status.
    pub fn statement(&self, user: &UserRef, id: i64) -> Result<Statement> {
        self.read(|conn| load_one(conn, require_user(conn, user)?, id))
    }

    /// Every version of a statement, oldest first.
    pub fn statement_history(&self, user: &UserRef, id: i64) -> Result<Vec<StatementVersion>> {
        self.read(|conn| {
            load_one(conn, require_user(conn, user)?, id)?;
            let rows: Vec<(u32, i64, String, String, String)> = conn
                .prepare_cached(
                    "SELECT version, at, actor, action, snapshot FROM statement_history
                     WHERE statement_id = ?1 ORDER BY version",
                )?
                .query_map([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            rows.into_iter()
                .map(|(version, at, actor, action, snapshot)| {
                    let statement =
                        serde_json::from_str(&snapshot).map_err(|e| MemoryError::Corrupt {
                            reason: format!("statement {id} version {version}: {e}"),
                        })?;
                    Ok(StatementVersion {
                        version,
                        at: Timestamp(at),
                        actor,
                        action,
                        statement,
                    })
                })
                .collect()
        })
    }

    /// The provenance of statements: each turn with its session and external id.
    pub fn statement_turns(&self, turns: &[TurnId]) -> Result<Vec<StatementTurn>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT t.id, s.session_id, t.external_id, t.speaker, t.role, t.writer, t.channel
                 FROM turns t JOIN sessions s ON s.id = t.session_pk WHERE t.id = ?1",
            )?;
            let mut out = Vec::with_capacity(turns.len());
            for t in turns {
                let row = stmt
                    .query_row([t.0], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, String>(3)?,
                            Role::from_stored(&r.get::<_, String>(4)?),
                            super::sessions::source_at(r, 5)?,
                        ))
                    })
                    .optional()?;
                if let Some((id, session, external_id, speaker, role, source)) = row {
                    out.push(StatementTurn {
                        turn_id: TurnId(id),
                        session_id: SessionId::new(session)?,
                        external_id,
                        speaker,
                        role,
                        source,
                    });
                }
            }
            Ok(out)
        })
    }
}
