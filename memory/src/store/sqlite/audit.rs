//! The audit log: one row per mutation, written in the mutation's own transaction.

use rusqlite::{Connection, Transaction, params};

use super::{SqliteStore, user_pk};
use crate::store::{Actor, AuditEntry, AuditQuery};
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

impl SqliteStore {
    /// A page of the audit entries about a user, oldest first, after the entry `query.after`;
    /// `None` if the user has neither memory nor audit entries (never stored, or another
    /// tenant's). An erased user's page holds the erase entry.
    pub fn audit_entries(
        &self,
        user: &UserRef,
        query: &AuditQuery,
    ) -> Result<Option<Vec<AuditEntry>>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, at, actor, action, user_id, session_id, unit_id, before, after
                 FROM audit_log
                 WHERE tenant = ?1 AND user_id = ?2 AND id > ?3
                   AND (?4 IS NULL OR action = ?4)
                   AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6)
                 ORDER BY id LIMIT ?7",
            )?;
            let parse = |v: Option<String>| v.and_then(|s| serde_json::from_str(&s).ok());
            let rows = stmt.query_map(
                params![
                    user.tenant.as_str(),
                    user.user.as_str(),
                    query.after.unwrap_or(0),
                    query.action,
                    query.time.from.map(|t| t.0),
                    query.time.to.map(|t| t.0),
                    query.limit,
                ],
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
            let entries = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            if entries.is_empty() && !known(conn, user)? {
                return Ok(None);
            }
            Ok(Some(entries))
        })
    }
}

/// Whether the user has memory or any audit entry.
fn known(conn: &Connection, user: &UserRef) -> Result<bool> {
    if user_pk(conn, user)?.is_some() {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached("SELECT 1 FROM audit_log WHERE tenant = ?1 AND user_id = ?2 LIMIT 1")?
        .exists(params![user.tenant.as_str(), user.user.as_str()])?)
}
