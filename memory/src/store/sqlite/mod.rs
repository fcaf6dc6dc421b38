//! The SQLite record store: tenants and their keys, users, sessions, turns, units with their
//! vectors, provenance, the full-text index log, term statistics and the audit log.
//!
//! One writer connection (behind a mutex, held only inside blocking calls) and a small pool of
//! read-only connections; WAL mode lets readers run while the writer commits.

mod archive_export;
mod archive_import;
mod audit;
mod edges;
mod erase;
mod index_log;
mod maintenance;
mod persona;
mod schema;
mod sessions;
mod tenants;
mod terms;
mod turn_edits;
mod unit_build;
mod unit_edits;

pub use archive_import::{ImportInput, ImportedUser};
pub use maintenance::{
    StoreFacts, StoreSummary, backup_file, facts, integrity_problems, summarize,
};
pub use persona::{MAX_STATEMENT_CHARS, PersonaMerge, StatementTurn};
pub use terms::TermFrequencies;
pub use turn_edits::TurnChange;
mod units;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction};

use crate::{MemoryError, Result, TenantId, UserId, UserRef};

/// Idle read connections kept for reuse.
const MAX_IDLE_READERS: usize = 8;

/// The SQLite record store. Cheap to share behind an `Arc`; every method blocks.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // NORMAL in WAL mode keeps every commit across a process crash (kill -9); only a power
    // loss can drop the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `mnemo.sqlite3` in `dir` and migrates it.
    /// The caller holds the directory's lock ([`crate::data_dir::DataDir::lock`]) where other
    /// processes may open it.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|source| MemoryError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = crate::data_dir::DataDir::new(dir).store();
        let mut writer = Connection::open(&path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        configure(&writer)?;
        // Deleted content is overwritten with zeros where it was freed, and the temporary
        // database a `VACUUM` builds stays in memory, never in a file outside the data
        // directory ([`SqliteStore::scrub`]).
        writer.pragma_update(None, "secure_delete", "ON")?;
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        schema::migrate(&mut writer)?;
        Ok(Self {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>> {
        self.writer.lock().map_err(|_| MemoryError::Corrupt {
            reason: "store writer lock poisoned by an earlier panic".to_owned(),
        })
    }

    /// Runs `f` in one write transaction, committed only if `f` succeeds.
    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a read-only connection from the pool.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().ok().and_then(|mut pool| pool.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                conn
            }
        };
        let out = f(&conn);
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < MAX_IDLE_READERS
        {
            pool.push(conn);
        }
        out
    }

    /// Whether the user has anything stored.
    pub fn user_exists(&self, user: &UserRef) -> Result<bool> {
        self.read(|conn| Ok(user_pk(conn, user)?.is_some()))
    }

    /// Every user of a tenant, in id order.
    pub fn list_users(&self, tenant: &TenantId) -> Result<Vec<UserRef>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT tenant, user_id FROM users WHERE tenant = ?1 ORDER BY user_id",
            )?;
            let rows = stmt.query_map([tenant.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (tenant, user) = row?;
                out.push(user_ref(tenant, user)?);
            }
            Ok(out)
        })
    }

    /// Users in all, across tenants.
    pub fn user_count(&self) -> Result<u64> {
        self.read(|conn| {
            let n: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?;
            Ok(n as u64)
        })
    }
}

/// A user read back from the store.
fn user_ref(tenant: String, user: String) -> Result<UserRef> {
    Ok(UserRef::new(TenantId::new(tenant)?, UserId::new(user)?))
}

/// The store key of a user, if the user exists.
fn user_pk(conn: &Connection, user: &UserRef) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM users WHERE tenant = ?1 AND user_id = ?2")?
        .query_row([user.tenant.as_str(), user.user.as_str()], |r| r.get(0))
        .optional()?)
}

/// The store key of a user, which must exist.
fn require_user(conn: &Connection, user: &UserRef) -> Result<i64> {
    user_pk(conn, user)?.ok_or_else(|| MemoryError::UserNotFound {
        user_id: user.to_string(),
    })
}

/// A session's user key, user id and session id, if the session exists.
pub(super) fn session_head(
    tx: &Transaction<'_>,
    session: crate::store::SessionKey,
) -> Result<Option<(i64, UserRef, crate::SessionId)>> {
    let head = tx
        .prepare_cached(
            "SELECT s.user_pk, u.tenant, u.user_id, s.session_id FROM sessions s
             JOIN users u ON u.id = s.user_pk WHERE s.id = ?1",
        )?
        .query_row([session.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    head.map(|(pk, tenant, user, id)| Ok((pk, user_ref(tenant, user)?, crate::SessionId::new(id)?)))
        .transpose()
}
