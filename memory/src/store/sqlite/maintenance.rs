//! Keeping the store's file whole: WAL checkpoints, online backups through SQLite's backup API,
//! and integrity checks of a store file (the data directory's or a backup's).

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use tracing::warn;

use super::{SqliteStore, schema};
use crate::{MemoryError, Result, UnitId};

/// Pause between backup attempts while the source is locked, and how many attempts are made.
const BACKUP_RETRY: Duration = Duration::from_millis(50);
const BACKUP_ATTEMPTS: u32 = 200;

/// What a store file holds, read without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSummary {
    /// `PRAGMA user_version`: the schema migrations applied.
    pub schema_version: i64,
    /// Whether this mnemo can open the file (its schema is not newer).
    pub schema_known: bool,
    pub users: i64,
    pub sessions: i64,
    pub pending_sessions: i64,
    pub units: i64,
    /// How far the index log has got: derived indexes are at most here.
    pub index_log_head: i64,
}

/// Opens a store file read-only, never creating it.
fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(MemoryError::Io {
            path: path.display().to_string(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// Copies the store at `source` into a new file `dest` with SQLite's online backup API: one
/// consistent snapshot (a single read transaction over every page), taken while another process
/// may be writing. `dest` must not exist.
pub fn backup_file(source: &Path, dest: &Path) -> Result<()> {
    let from = open_read_only(source)?;
    copy_into(&from, dest)
}

fn copy_into(from: &Connection, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(MemoryError::Io {
            path: dest.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists"),
        });
    }
    let copied = (|| -> Result<()> {
        let mut to = Connection::open(dest)?;
        {
            let backup = Backup::new(from, &mut to)?;
            // Every page in one step: the copy is one read transaction, so a concurrent writer
            // (which WAL mode lets go on) can never make it restart or mix two states.
            let mut attempts = 0;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    StepResult::Busy | StepResult::Locked if attempts < BACKUP_ATTEMPTS => {
                        attempts += 1;
                        std::thread::sleep(BACKUP_RETRY);
                    }
                    other => {
                        return Err(MemoryError::Corrupt {
                            reason: format!("the backup could not read the store: {other:?}"),
                        });
                    }
                }
            }
        }
        // A copy is a single file: no write-ahead log beside it.
        to.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    copied
}

/// SQLite's own checks of a store file (`integrity_check` and `foreign_key_check`): one line per
/// problem, empty when the file is sound.
pub fn integrity_problems(path: &Path) -> Result<Vec<String>> {
    let conn = open_read_only(path)?;
    problems_of(&conn)
}

fn problems_of(conn: &Connection) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    for line in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let line = line?;
        if line != "ok" {
            problems.push(format!("sqlite integrity: {line}"));
        }
    }
    let mut stmt = conn.prepare("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (table, rowid, parent) = row?;
        problems.push(format!(
            "sqlite foreign key: {} of {table} refers to a missing {parent} row",
            rowid.map_or_else(|| "a row".to_owned(), |r| format!("row {r}"))
        ));
    }
    Ok(problems)
}

/// Reads what a store file holds without changing it.
pub fn summarize(path: &Path) -> Result<StoreSummary> {
    let conn = open_read_only(path)?;
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    // A new file has no tables yet; a store that never logged anything has no sequence.
    let empty = schema_version == 0;
    let count = |sql: &str| -> Result<i64> {
        if empty {
            return Ok(0);
        }
        Ok(conn.query_row(sql, [], |r| r.get(0))?)
    };
    let sequences = count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")?;
    let index_log_head = if sequences == 0 {
        0
    } else {
        count("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'index_log'")?
    };
    Ok(StoreSummary {
        schema_version,
        schema_known: schema_version <= schema::VERSION as i64,
        users: count("SELECT COUNT(*) FROM users")?,
        sessions: count("SELECT COUNT(*) FROM sessions")?,
        pending_sessions: count("SELECT COUNT(*) FROM sessions WHERE status = 'pending'")?,
        units: count("SELECT COUNT(*) FROM units")?,
        index_log_head,
    })
}

/// What the store says about the derived indexes, for a consistency check: read from the store
/// file without changing it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreFacts {
    pub summary: StoreSummary,
    /// Every unit, sorted.
    pub unit_ids: Vec<UnitId>,
    /// The length of most stored vectors (the embedding model's dimension), if any unit exists.
    pub dim: Option<usize>,
    /// Units whose stored vector cannot be indexed: its length differs from `dim`, a value is
    /// not finite, or it is neither of unit length nor zero.
    pub bad_vectors: Vec<(UnitId, String)>,
    /// Association edges that do not join two units of one user, join a unit to itself or
    /// have a weight that is not a finite positive number.
    pub bad_edges: Vec<String>,
    /// The oldest entry still in the index log, if any.
    pub index_log_first: Option<i64>,
    /// Sessions stored but not yet built: (tenant, user, session).
    pub pending: Vec<(String, String, String)>,
}

/// Tolerated distance of a stored vector's length from 1.
const NORM_TOLERANCE: f32 = 1e-3;

/// Reads [`StoreFacts`] from a store file.
pub fn facts(path: &Path) -> Result<StoreFacts> {
    let summary = summarize(path)?;
    let conn = open_read_only(path)?;
    if summary.schema_version == 0 || !summary.schema_known {
        return Ok(StoreFacts {
            summary,
            unit_ids: Vec::new(),
            dim: None,
            bad_vectors: Vec::new(),
            bad_edges: Vec::new(),
            index_log_first: None,
            pending: Vec::new(),
        });
    }
    // (unit, dimensions, a flaw of its bytes, a flaw of its values)
    let mut vectors: Vec<(UnitId, usize, Option<String>, Option<String>)> = Vec::new();
    let mut stmt = conn.prepare("SELECT id, embedding FROM units ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id = UnitId(row.get(0)?);
        let bytes: Vec<u8> = row.get(1)?;
        let vector = super::units::decode_vector(&bytes);
        let bytes_flaw = (!bytes.len().is_multiple_of(4) || vector.is_empty()).then(|| {
            format!(
                "its vector is {} bytes, not whole 32-bit floats",
                bytes.len()
            )
        });
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        let value_flaw = if vector.iter().any(|x| !x.is_finite()) {
            Some("its vector has a value that is not finite".to_owned())
        } else {
            // The embedder leaves a text with no tokens at zero.
            ((norm - 1.0).abs() > NORM_TOLERANCE && norm != 0.0)
                .then(|| format!("its vector has length {norm}, not 1"))
        };
        vectors.push((id, vector.len(), bytes_flaw, value_flaw));
    }
    // The dimension is what most vectors have; the others are flawed.
    let mut by_len: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (_, len, bytes_flaw, _) in &vectors {
        if bytes_flaw.is_none() {
            *by_len.entry(*len).or_default() += 1;
        }
    }
    let dim = by_len
        .into_iter()
        .max_by_key(|&(len, n)| (n, len))
        .map(|(len, _)| len);
    let mut bad_vectors = Vec::new();
    for (id, len, bytes_flaw, value_flaw) in &vectors {
        let flaw = match (bytes_flaw, value_flaw) {
            (Some(flaw), _) => Some(flaw.clone()),
            _ if Some(*len) != dim => Some(format!(
                "its vector has {len} dimensions, not {}",
                dim.unwrap_or(0)
            )),
            (None, flaw) => flaw.clone(),
        };
        if let Some(flaw) = flaw {
            bad_vectors.push((*id, flaw));
        }
    }
    let mut bad_edges = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT e.src, e.dst, e.weight, a.user_pk, b.user_pk FROM unit_edges e
         LEFT JOIN units a ON a.id = e.src LEFT JOIN units b ON b.id = e.dst
         ORDER BY e.src, e.dst",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (src, dst): (i64, i64) = (row.get(0)?, row.get(1)?);
        let weight: f64 = row.get(2)?;
        let (a, b): (Option<i64>, Option<i64>) = (row.get(3)?, row.get(4)?);
        let flaw = match (a, b) {
            (None, _) | (_, None) => Some("joins a unit that does not exist"),
            (Some(a), Some(b)) if a != b => Some("joins units of two users"),
            _ if src == dst => Some("joins a unit to itself"),
            _ if !(weight.is_finite() && weight > 0.0) => {
                Some("has a weight that is not a finite positive number")
            }
            _ => None,
        };
        if let Some(flaw) = flaw {
            bad_edges.push(format!("edge {src}-{dst} {flaw}"));
        }
    }
    let index_log_first: Option<i64> =
        conn.query_row("SELECT MIN(seq) FROM index_log", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT u.tenant, u.user_id, s.session_id FROM sessions s JOIN users u ON u.id = s.user_pk
         WHERE s.status = 'pending' ORDER BY u.tenant, u.user_id, s.session_id",
    )?;
    let pending = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(StoreFacts {
        summary,
        unit_ids: vectors.into_iter().map(|(id, ..)| id).collect(),
        dim,
        bad_vectors,
        bad_edges,
        index_log_first,
        pending,
    })
}

impl SqliteStore {
    /// Moves every commit in the write-ahead log into the main file and empties the log, so
    /// the main file alone holds everything (a graceful shutdown does this).
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.writer()?;
        let (busy, log, moved): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 || moved < log {
            return Err(MemoryError::Corrupt {
                reason: format!(
                    "checkpoint incomplete: {moved} of {log} log frames moved (a reader is busy)"
                ),
            });
        }
        Ok(())
    }

    /// Writes a consistent copy of the store to the new file `dest` while the store stays in
    /// use (see [`backup_file`]).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let from = open_read_only(&self.path)?;
        copy_into(&from, dest)
    }

    /// SQLite's `quick_check` of the open store: every page readable and well-formed (without
    /// matching indexes to their tables, which `integrity_problems` adds). One line per problem.
    pub fn quick_problems(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare("PRAGMA quick_check")?;
            let mut problems = Vec::new();
            for line in stmt.query_map([], |r| r.get::<_, String>(0))? {
                let line = line?;
                if line != "ok" {
                    problems.push(line);
                }
            }
            Ok(problems)
        })
    }

    /// SQLite's own checks of the open store (see [`integrity_problems`]).
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        self.read(problems_of)
    }
}

impl Drop for SqliteStore {
    /// Closes the read connections first, then checkpoints through the writer: the last
    /// connection to close is the one that can write, so the main file holds every commit and
    /// the write-ahead log is left empty.
    fn drop(&mut self) {
        if let Ok(mut readers) = self.readers.lock() {
            readers.clear();
        }
        if let Err(error) = self.checkpoint() {
            warn!(path = %self.path.display(), %error, "the store was not checkpointed at close");
        }
    }
}
