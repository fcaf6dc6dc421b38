//! The audit log: one row per mutation, written in the mutation's own transaction.

use rusqlite::{Connection, Transaction, params};

use super::SqliteStore;
use crate::store::{Actor, AuditEntry};
use crate::{Result, SessionId, Timestamp, UnitId, UserRef};

/// Appends an audit entry inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    tx: &Transaction<'_>,
    at: Timestamp,
    actor: Actor<'_>,
    action: &str,
    user: &UserRef,
    session: Option<&SessionId>,
    unit: Option<UnitId>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, tenant, user_id, session_id, unit_id, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        at.0,
        actor.0,
        action,
        user.tenant.as_str(),
        user.user.as_str(),
        session.map(SessionId::as_str),
        unit.map(|u| u.0),
        before.map(|v| v.to_string()),
        after.map(|v| v.to_string()),
    ])?;
    Ok(())
}

fn read_entries(conn: &Connection, user: &UserRef, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, action, user_id, session_id, unit_id, before, after
         FROM audit_log WHERE tenant = ?1 AND user_id = ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let parse = |v: Option<String>| v.and_then(|s| serde_json::from_str(&s).ok());
    let rows = stmt.query_map(
        params![user.tenant.as_str(), user.user.as_str(), limit],
        |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: Timestamp(r.get(1)?),
                actor: r.get(2)?,
                action: r.get(3)?,
                user_id: r.get(4)?,
                session_id: r.get(5)?,
                unit_id: r.get(6)?,
                before: parse(r.get(7)?),
                after: parse(r.get(8)?),
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl SqliteStore {
    /// The newest audit entries about a user, newest first.
    pub fn audit_entries(&self, user: &UserRef, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(|conn| read_entries(conn, user, limit))
    }
}
