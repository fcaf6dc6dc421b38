//! The full-text index log: changes written with the records they describe, applied to the
//! index later. The index's commit payload names the last applied entry, so a crash between
//! the SQLite commit and the index commit is repaired at the next start.

use rusqlite::{Transaction, params};

use super::SqliteStore;
use crate::store::{IndexOp, SessionKey};
use crate::{MemoryError, Result, UnitId};

const ADD_UNIT: &str = "add_unit";
const DELETE_SESSION: &str = "delete_session";
const DELETE_UNIT: &str = "delete_unit";

/// Appends one change inside the caller's transaction.
pub(super) fn append(tx: &Transaction<'_>, op: IndexOp) -> Result<()> {
    let (name, target) = match op {
        IndexOp::AddUnit(unit) => (ADD_UNIT, unit.0),
        IndexOp::DeleteSession(session) => (DELETE_SESSION, session.0),
        IndexOp::DeleteUnit(unit) => (DELETE_UNIT, unit.0),
    };
    tx.prepare_cached("INSERT INTO index_log (op, target) VALUES (?1, ?2)")?
        .execute(params![name, target])?;
    Ok(())
}

impl SqliteStore {
    /// The sequence number of the newest log entry (0 when the log was never written).
    pub fn index_log_head(&self) -> Result<i64> {
        self.read(|conn| {
            // The AUTOINCREMENT counter survives truncation, unlike MAX(seq).
            let seq = conn
                .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'index_log'")?
                .query_row([], |r| r.get::<_, i64>(0));
            match seq {
                Ok(seq) => Ok(seq),
                Err(rusqlite::Error::QueryReturnedNoRows) => Ok(0),
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Log entries after `seq`, oldest first.
    pub fn index_log_since(&self, seq: i64) -> Result<Vec<(i64, IndexOp)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, op, target FROM index_log WHERE seq > ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([seq], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, op, target) = row?;
                let op = match op.as_str() {
                    ADD_UNIT => IndexOp::AddUnit(UnitId(target)),
                    DELETE_SESSION => IndexOp::DeleteSession(SessionKey(target)),
                    DELETE_UNIT => IndexOp::DeleteUnit(UnitId(target)),
                    other => {
                        return Err(MemoryError::Corrupt {
                            reason: format!("unknown index log op {other:?} at seq {seq}"),
                        });
                    }
                };
                out.push((seq, op));
            }
            Ok(out)
        })
    }

    /// Forgets log entries up to and including `seq`, once the index has committed them.
    pub fn truncate_index_log(&self, seq: i64) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM index_log WHERE seq <= ?1")?
                .execute([seq])?;
            Ok(())
        })
    }
}
