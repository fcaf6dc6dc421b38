//! A person's edits and deletes of turns. On the worker, in order with builds: the store
//! change (units that covered the turn removed, persona evidence withdrawn, session pending),
//! the derived indexes following, then the session built again before the answer.

use memory::store::{Actor, TurnChange};
use memory::tenancy::Scope;
use memory::{SessionId, SessionRecord, TurnId, UserId};

use super::access::{Access, UserPass};
use super::pipeline::{Parts, commit_text_index};
use super::settle::build_settled;
use super::{Engine, check_edit_text, now};
use crate::Result;

impl Engine {
    /// A person corrects a turn's text. Answers with the session as it is after its rebuild.
    pub async fn edit_turn(
        &self,
        access: &Access,
        user: UserId,
        session_id: SessionId,
        turn: TurnId,
        text: String,
    ) -> Result<SessionRecord> {
        let pass = access.user(user, Scope::Write)?;
        check_edit_text(&text, self.config().limits.max_text_chars)?;
        self.on_worker(move |parts| {
            let change = parts.store.edit_turn(
                pass.user(),
                &session_id,
                turn,
                &text,
                now(),
                Actor(pass.actor()),
            )?;
            settle_turn_change(parts, &pass, change, &session_id)
        })
        .await
    }

    /// A person deletes a turn (not the only one of its session). Answers with the session as
    /// it is after its rebuild.
    pub async fn delete_turn(
        &self,
        access: &Access,
        user: UserId,
        session_id: SessionId,
        turn: TurnId,
    ) -> Result<SessionRecord> {
        let pass = access.user(user, Scope::Write)?;
        self.on_worker(move |parts| {
            let change = parts.store.delete_turn(
                pass.user(),
                &session_id,
                turn,
                now(),
                Actor(pass.actor()),
            )?;
            settle_turn_change(parts, &pass, change, &session_id)
        })
        .await
    }
}

/// Removes the units the change took from the derived indexes, builds the session (and the
/// sessions whose fact units changed) again, and reads the session back.
fn settle_turn_change(
    parts: &Parts<'_>,
    pass: &UserPass,
    change: TurnChange,
    session_id: &SessionId,
) -> Result<SessionRecord> {
    let user = pass.user();
    parts.vectors.remove_units(user, &change.removed_units)?;
    parts.catalog.remove_units(user, &change.removed_units)?;
    parts.graph.remove_units(user, &change.removed_units)?;
    for &unit in &change.removed_units {
        parts.text.delete_unit(unit)?;
    }
    let mut sessions = vec![change.session];
    sessions.extend(change.refresh);
    build_settled(parts, sessions);
    // The build commits what it indexed; this commits the removals when nothing was built.
    commit_text_index(parts)?;
    Ok(parts.store.get_session(user, session_id)?)
}
