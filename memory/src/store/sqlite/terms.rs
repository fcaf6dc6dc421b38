//! Per-user term statistics over built sessions, for scoring key phrases against the user's
//! own corpus.

use rusqlite::{Transaction, params};

use super::{SqliteStore, user_pk};
use crate::store::SessionKey;
use crate::{Result, UserRef};

/// Replaces the recorded distinct terms of a session inside the caller's transaction.
pub(super) fn replace(
    tx: &Transaction<'_>,
    user_pk: i64,
    session: SessionKey,
    terms: &[String],
) -> Result<()> {
    tx.prepare_cached("DELETE FROM session_terms WHERE session_pk = ?1")?
        .execute([session.0])?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO session_terms (user_pk, term, session_pk) VALUES (?1, ?2, ?3)",
    )?;
    for term in terms {
        stmt.execute(params![user_pk, term, session.0])?;
    }
    Ok(())
}

/// Document frequencies of terms among a user's built sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TermFrequencies {
    /// Built sessions of the user.
    pub sessions: u64,
    /// For each asked term, the number of those sessions that contain it.
    pub df: Vec<u64>,
}

impl SqliteStore {
    /// How many of the user's built sessions, other than `exclude`, contain each term.
    pub fn term_frequencies(
        &self,
        user: &UserRef,
        terms: &[String],
        exclude: SessionKey,
    ) -> Result<TermFrequencies> {
        self.read(|conn| {
            let Some(user_pk) = user_pk(conn, user)? else {
                return Ok(TermFrequencies {
                    sessions: 0,
                    df: vec![0; terms.len()],
                });
            };
            let sessions: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM sessions WHERE user_pk = ?1 AND status = 'ready' AND id != ?2",
                )?
                .query_row(params![user_pk, exclude.0], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(
                "SELECT COUNT(*) FROM session_terms
                 WHERE user_pk = ?1 AND term = ?2 AND session_pk != ?3",
            )?;
            let mut df = Vec::with_capacity(terms.len());
            for term in terms {
                df.push(stmt.query_row(params![user_pk, term, exclude.0], |r| r.get::<_, i64>(0))? as u64);
            }
            Ok(TermFrequencies {
                sessions: sessions as u64,
                df,
            })
        })
    }
}
