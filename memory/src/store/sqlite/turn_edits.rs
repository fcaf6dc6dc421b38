//! A person's edits and deletes of turns. In one transaction: the units that covered the turn
//! go (logged for the full-text index), persona statements that only the turn supported are
//! withdrawn, and the session is marked pending, so that its units are built again from the
//! turns as they are now.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use super::persona::tidy_after_delete;
use super::sessions::{require_session, set_pending};
use super::{SqliteStore, audit, index_log};
use crate::store::{Actor, IndexOp, SessionKey};
use crate::{MemoryError, Result, SessionId, Timestamp, TurnId, UnitId, UserRef};

/// What a turn edit or delete changed, for the engine to bring the derived indexes along.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnChange {
    /// The turn's session, now pending.
    pub session: SessionKey,
    /// Units that covered the turn, removed from the store.
    pub removed_units: Vec<UnitId>,
    /// Persona statements withdrawn because the turn was their only evidence.
    pub statements: u64,
    /// Other sessions whose fact units must be built again (marked pending).
    pub refresh: Vec<SessionKey>,
}

/// The turn within the user's session: its session key, user key, position and text.
fn locate(
    tx: &Transaction<'_>,
    user: &UserRef,
    session_id: &SessionId,
    turn: TurnId,
) -> Result<(SessionKey, i64, i64, String)> {
    let (user_pk, row) = require_session(tx, user, session_id)?;
    let (position, text) = tx
        .prepare_cached("SELECT position, text FROM turns WHERE id = ?1 AND session_pk = ?2")?
        .query_row(params![turn.0, row.key.0], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
        .ok_or(MemoryError::TurnNotFound { turn_id: turn.0 })?;
    Ok((row.key, user_pk, position, text))
}

/// Removes the units covering the turn and logs their removal.
fn drop_covering_units(tx: &Transaction<'_>, turn: TurnId) -> Result<Vec<UnitId>> {
    let ids: Vec<i64> = tx
        .prepare_cached("SELECT unit_id FROM unit_turns WHERE turn_id = ?1 ORDER BY unit_id")?
        .query_map([turn.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut delete = tx.prepare_cached("DELETE FROM units WHERE id = ?1")?;
    for &id in &ids {
        delete.execute([id])?;
        index_log::append(tx, IndexOp::DeleteUnit(UnitId(id)))?;
    }
    Ok(ids.into_iter().map(UnitId).collect())
}

/// What a turn change did so far.
struct Change {
    session: SessionKey,
    user_pk: i64,
    removed_units: Vec<UnitId>,
}

/// The end every turn change shares: statements left without evidence withdrawn, the session
/// pending, the change audited with the turn before (and after).
fn settle(
    tx: &Transaction<'_>,
    change: Change,
    (now, actor): (Timestamp, Actor<'_>),
    user: &UserRef,
    session_id: &SessionId,
    action: &str,
    (before, after): (serde_json::Value, Option<serde_json::Value>),
) -> Result<TurnChange> {
    let (statements, refresh) = tidy_after_delete(tx, change.user_pk, now, actor)?;
    set_pending(tx, change.session, now)?;
    audit::record(
        tx,
        now,
        actor,
        action,
        user,
        Some(session_id),
        None,
        Some(before),
        after,
    )?;
    Ok(TurnChange {
        session: change.session,
        removed_units: change.removed_units,
        statements,
        refresh,
    })
}

impl SqliteStore {
    /// A person corrects a turn's text (checked by the caller). A person's unit edits at the
    /// turn's place are dropped with the old text they were made against.
    pub fn edit_turn(
        &self,
        user: &UserRef,
        session_id: &SessionId,
        turn: TurnId,
        text: &str,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<TurnChange> {
        self.write(|tx| {
            let (session, user_pk, position, before) = locate(tx, user, session_id, turn)?;
            let removed_units = drop_covering_units(tx, turn)?;
            tx.prepare_cached("UPDATE turns SET text = ?2 WHERE id = ?1")?
                .execute(params![turn.0, text])?;
            tx.prepare_cached("DELETE FROM unit_overrides WHERE first_turn = ?1")?
                .execute([turn.0])?;
            // Statements read from the old text lose it as evidence; the rebuild reads the new.
            tx.prepare_cached("DELETE FROM statement_turns WHERE turn_id = ?1")?
                .execute([turn.0])?;
            let change = Change {
                session,
                user_pk,
                removed_units,
            };
            settle(
                tx,
                change,
                (now, actor),
                user,
                session_id,
                "edit_turn",
                (
                    json!({ "turn_id": turn.0, "position": position, "text": before }),
                    Some(json!({ "turn_id": turn.0, "position": position, "text": text })),
                ),
            )
        })
    }

    /// A person deletes a turn; the turns after it move up one position. The only turn of a
    /// session cannot be deleted (delete the session instead).
    pub fn delete_turn(
        &self,
        user: &UserRef,
        session_id: &SessionId,
        turn: TurnId,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<TurnChange> {
        self.write(|tx| {
            let (session, user_pk, position, before) = locate(tx, user, session_id, turn)?;
            let count: i64 = tx
                .prepare_cached("SELECT COUNT(*) FROM turns WHERE session_pk = ?1")?
                .query_row([session.0], |r| r.get(0))?;
            if count <= 1 {
                return Err(MemoryError::EmptySession);
            }
            let removed_units = drop_covering_units(tx, turn)?;
            tx.prepare_cached("DELETE FROM turns WHERE id = ?1")?
                .execute([turn.0])?;
            // Positions stay 0..n without a gap; through negatives, so that no step of the
            // update meets the (session, position) uniqueness of a turn not yet moved.
            tx.prepare_cached(
                "UPDATE turns SET position = -position WHERE session_pk = ?1 AND position > ?2",
            )?
            .execute(params![session.0, position])?;
            tx.prepare_cached(
                "UPDATE turns SET position = -position - 1 WHERE session_pk = ?1 AND position < 0",
            )?
            .execute([session.0])?;
            let change = Change {
                session,
                user_pk,
                removed_units,
            };
            settle(
                tx,
                change,
                (now, actor),
                user,
                session_id,
                "delete_turn",
                (
                    json!({ "turn_id": turn.0, "position": position, "text": before }),
                    None,
                ),
            )
        })
    }
}
