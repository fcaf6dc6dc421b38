//! Backups: a consistent copy of the record store taken while the server runs, with a manifest
//! saying what it holds; restores that put one back into a data directory.
//!
//! A backup holds only the record store. The derived indexes (full-text index, vector index,
//! catalog, association graph) are rebuilt from it at the next start, so a backup is small,
//! never mixes two moments, and moves between machines.

use std::fs::File;
use std::path::Path;

use chrono::{SecondsFormat, Utc};
use memory::data_dir::{DataDir, STORE_FILE};
use memory::store::{StoreSummary, backup_file, integrity_problems, summarize};
use serde::{Deserialize, Serialize};
use tracing::info;

use super::{MaintenanceError, io};

/// The manifest's file name in a backup directory.
pub const MANIFEST_FILE: &str = "backup.json";
/// The layout of a backup directory this mnemo writes and reads.
pub const BACKUP_FORMAT: u32 = 1;

/// What a backup holds, written beside its store file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub mnemo_version: String,
    /// When the copy was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The store's schema version.
    pub schema_version: i64,
    pub users: i64,
    pub sessions: i64,
    /// Sessions stored but not yet built: built after a restore.
    pub pending_sessions: i64,
    pub units: i64,
    /// The store's index-log position when copied.
    pub index_log_head: i64,
}

impl Manifest {
    fn of(summary: &StoreSummary) -> Self {
        Self {
            format: BACKUP_FORMAT,
            mnemo_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            schema_version: summary.schema_version,
            users: summary.users,
            sessions: summary.sessions,
            pending_sessions: summary.pending_sessions,
            units: summary.units,
            index_log_head: summary.index_log_head,
        }
    }
}

/// Writes data to disk before going on (the file, or a directory's entries).
fn sync(path: &Path) -> Result<(), MaintenanceError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path))
}

/// Copies the store of `data_dir` into the new directory `out` (missing or empty) while a
/// server may be running on it: `out/mnemo.sqlite3` and the manifest `out/backup.json`. The
/// copy is checked with SQLite's integrity check before it is kept.
pub fn backup(data_dir: &Path, out: &Path) -> Result<Manifest, MaintenanceError> {
    let source = DataDir::new(data_dir).store();
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(io(out))?;
        if entries.next().is_some() {
            return Err(MaintenanceError::OutputExists {
                path: out.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let partial = out.join(format!("{STORE_FILE}.partial"));
    backup_file(&source, &partial)?;
    let problems = integrity_problems(&partial)?;
    if !problems.is_empty() {
        let _ = std::fs::remove_file(&partial);
        return Err(MaintenanceError::Damaged {
            path: source,
            problems,
        });
    }
    let manifest = Manifest::of(&summarize(&partial)?);
    sync(&partial)?;
    let store = out.join(STORE_FILE);
    std::fs::rename(&partial, &store).map_err(io(&store))?;
    let manifest_path = out.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| MaintenanceError::Io {
        path: manifest_path.clone(),
        source: e.into(),
    })?;
    std::fs::write(&manifest_path, json).map_err(io(&manifest_path))?;
    sync(&manifest_path)?;
    sync(out)?;
    info!(
        out = %out.display(),
        sessions = manifest.sessions,
        units = manifest.units,
        "backup written"
    );
    Ok(manifest)
}

/// Reads and checks a backup directory: its manifest, its format and its store file.
fn open_backup(dir: &Path) -> Result<Manifest, MaintenanceError> {
    let not_a_backup = |reason: String| MaintenanceError::NotABackup {
        path: dir.to_path_buf(),
        reason,
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let bytes =
        std::fs::read(&manifest_path).map_err(|e| not_a_backup(format!("{MANIFEST_FILE}: {e}")))?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| not_a_backup(format!("{MANIFEST_FILE}: {e}")))?;
    if manifest.format != BACKUP_FORMAT {
        return Err(not_a_backup(format!(
            "backup format {} (this mnemo reads format {BACKUP_FORMAT})",
            manifest.format
        )));
    }
    let store = dir.join(STORE_FILE);
    let summary = summarize(&store).map_err(|e| not_a_backup(format!("{STORE_FILE}: {e}")))?;
    if !summary.schema_known {
        return Err(not_a_backup(format!(
            "its store has schema version {}, newer than this mnemo knows",
            summary.schema_version
        )));
    }
    let problems = integrity_problems(&store)?;
    if !problems.is_empty() {
        return Err(MaintenanceError::Damaged {
            path: store,
            problems,
        });
    }
    if summary.sessions != manifest.sessions || summary.units != manifest.units {
        return Err(not_a_backup(format!(
            "its store holds {} sessions and {} units, its manifest says {} and {}",
            summary.sessions, summary.units, manifest.sessions, manifest.units
        )));
    }
    Ok(manifest)
}

/// Puts the backup in `backup_dir` into `data_dir`, which no process may have open (its lock
/// is taken). A data directory that already has a store is refused unless `force`. The derived
/// indexes are removed; the next start rebuilds them from the restored store and builds its
/// pending sessions.
pub fn restore(
    backup_dir: &Path,
    data_dir: &Path,
    force: bool,
) -> Result<Manifest, MaintenanceError> {
    let manifest = open_backup(backup_dir)?;
    let dir = DataDir::new(data_dir);
    let _lock = dir.lock()?;
    let target = dir.store();
    if target.exists() && !force {
        let existing = summarize(&target)?;
        return Err(MaintenanceError::DataDirInUse {
            path: data_dir.to_path_buf(),
            users: existing.users,
            sessions: existing.sessions,
        });
    }
    let incoming = data_dir.join(format!("{STORE_FILE}.restoring"));
    std::fs::copy(backup_dir.join(STORE_FILE), &incoming).map_err(io(&incoming))?;
    sync(&incoming)?;
    // The derived indexes and the old store's log describe another store: remove them before
    // the new store takes its place, so nothing can apply them to it.
    let text = dir.text();
    if text.exists() {
        std::fs::remove_dir_all(&text).map_err(io(&text))?;
    }
    for file in [dir.store_wal(), dir.store_shm()] {
        if file.exists() {
            std::fs::remove_file(&file).map_err(io(&file))?;
        }
    }
    std::fs::rename(&incoming, &target).map_err(io(&target))?;
    sync(data_dir)?;
    info!(
        data_dir = %data_dir.display(),
        sessions = manifest.sessions,
        "backup restored; the indexes are rebuilt at the next start"
    );
    Ok(manifest)
}
