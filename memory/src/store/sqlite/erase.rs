//! Erasing a user, and scrubbing the database file so that deleted content is physically gone.
//!
//! Deleting rows only unlinks them: SQLite leaves their bytes in free pages, in the gaps of
//! pages it rebalanced, and in the write-ahead log until a checkpoint. `secure_delete` (set on
//! the writer) zeroes what a delete frees, but not the stale copies a page rebuild leaves
//! behind, so [`SqliteStore::scrub`] rewrites the whole file (`VACUUM`) and empties the log.

use rusqlite::{Connection, params};
use serde_json::json;

use super::{SqliteStore, audit, index_log, require_user};
use crate::store::{Actor, EraseCounts, IndexOp, SessionKey};
use crate::{Result, Timestamp, UserRef};

/// Counts the rows of one user that `sql` (with the user's key as `?1`) selects.
fn count(conn: &Connection, sql: &str, user_pk: i64) -> Result<u64> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row([user_pk], |r| r.get::<_, i64>(0))? as u64)
}

impl SqliteStore {
    /// Removes everything stored about a user in one transaction: sessions, turns, units with
    /// their vectors and provenance, association edges, term statistics, persona statements
    /// with their history, and the content of the user's audit entries, which are replaced by
    /// one `erase_user` entry holding only the counts. Logs the removal of each session for the
    /// full-text index. Returns the erased sessions' keys and what was removed.
    pub fn erase_user(
        &self,
        user: &UserRef,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<(Vec<SessionKey>, EraseCounts)> {
        self.write(|tx| {
            let user_pk = require_user(tx, user)?;
            let audit_entries = tx
                .prepare_cached(
                    "SELECT COUNT(*) FROM audit_log WHERE tenant = ?1 AND user_id = ?2",
                )?
                .query_row(params![user.tenant.as_str(), user.user.as_str()], |r| {
                    r.get::<_, i64>(0)
                })? as u64;
            let counts = EraseCounts {
                sessions: count(
                    tx,
                    "SELECT COUNT(*) FROM sessions WHERE user_pk = ?1",
                    user_pk,
                )?,
                turns: count(
                    tx,
                    "SELECT COUNT(*) FROM turns t JOIN sessions s ON s.id = t.session_pk
                     WHERE s.user_pk = ?1",
                    user_pk,
                )?,
                units: count(tx, "SELECT COUNT(*) FROM units WHERE user_pk = ?1", user_pk)?,
                unit_versions: count(
                    tx,
                    "SELECT COUNT(*) FROM unit_history h JOIN sessions s ON s.id = h.session_pk
                     WHERE s.user_pk = ?1",
                    user_pk,
                )?,
                // Edges join units of one user, so counting from either end counts each once.
                edges: count(
                    tx,
                    "SELECT COUNT(*) FROM unit_edges e JOIN units u ON u.id = e.src
                     WHERE u.user_pk = ?1",
                    user_pk,
                )?,
                terms: count(
                    tx,
                    "SELECT COUNT(*) FROM session_terms WHERE user_pk = ?1",
                    user_pk,
                )?,
                statements: count(
                    tx,
                    "SELECT COUNT(*) FROM persona_statements WHERE user_pk = ?1",
                    user_pk,
                )?,
                statement_versions: count(
                    tx,
                    "SELECT COUNT(*) FROM statement_history h
                     JOIN persona_statements p ON p.id = h.statement_id WHERE p.user_pk = ?1",
                    user_pk,
                )?,
                audit_entries,
            };
            let keys = {
                let mut stmt =
                    tx.prepare_cached("SELECT id FROM sessions WHERE user_pk = ?1 ORDER BY id")?;
                let rows = stmt.query_map([user_pk], |r| r.get::<_, i64>(0))?;
                rows.map(|k| k.map(SessionKey))
                    .collect::<rusqlite::Result<Vec<_>>>()?
            };
            for &key in &keys {
                index_log::append(tx, IndexOp::DeleteSession(key))?;
            }
            // Everything else goes with the user's row (foreign keys cascade).
            tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
                .execute([user_pk])?;
            tx.prepare_cached("DELETE FROM audit_log WHERE tenant = ?1 AND user_id = ?2")?
                .execute(params![user.tenant.as_str(), user.user.as_str()])?;
            audit::record(
                tx,
                now,
                actor,
                "erase_user",
                user,
                None,
                None,
                None,
                Some(json!(counts)),
            )?;
            Ok((keys, counts))
        })
    }

    /// Rewrites the database file from its live rows only (`VACUUM`) and moves the result out
    /// of the write-ahead log, which is left empty: afterwards no byte of a deleted row is in
    /// any file of the store. Takes time in proportion to the store's size, and blocks other
    /// writes meanwhile.
    pub fn scrub(&self) -> Result<()> {
        self.writer()?.execute_batch("VACUUM")?;
        self.checkpoint()
    }
}
