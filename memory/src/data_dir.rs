//! The data directory's layout and the lock that gives one process at a time the right to open
//! it for writing.
//!
//! ```text
//! DIR/mnemo.sqlite3        the record store (the source of truth), with -wal and -shm beside it
//! DIR/text/                the full-text index (derived: rebuilt from the store when missing)
//! DIR/mnemo.lock           held by the process that has the directory open for writing
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::{MemoryError, Result};

/// The record store's file name.
pub const STORE_FILE: &str = "mnemo.sqlite3";
/// The full-text index's directory name.
pub const TEXT_DIR: &str = "text";
/// The lock file's name.
pub const LOCK_FILE: &str = "mnemo.lock";

/// Where the parts of a data directory live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The record store's database file.
    pub fn store(&self) -> PathBuf {
        self.root.join(STORE_FILE)
    }

    /// SQLite's write-ahead log beside the store.
    pub fn store_wal(&self) -> PathBuf {
        self.root.join(format!("{STORE_FILE}-wal"))
    }

    /// SQLite's shared-memory index of the write-ahead log.
    pub fn store_shm(&self) -> PathBuf {
        self.root.join(format!("{STORE_FILE}-shm"))
    }

    /// The full-text index's directory.
    pub fn text(&self) -> PathBuf {
        self.root.join(TEXT_DIR)
    }

    /// Takes the directory's lock (creating the directory if needed), or fails with
    /// [`MemoryError::DataDirLocked`] when another process, or another open engine of this one,
    /// holds it. The lock lasts as long as the returned value.
    pub fn lock(&self) -> Result<DataDirLock> {
        let io = |source| MemoryError::Io {
            path: self.root.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&self.root).map_err(io)?;
        let path = self.root.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| MemoryError::Io {
                path: path.display().to_string(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(MemoryError::DataDirLocked {
                path: self.root.display().to_string(),
            }),
            Err(TryLockError::Error(source)) => Err(MemoryError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

/// The held lock of a data directory; released when dropped (or when the process ends, however
/// it ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let first = data.lock().unwrap();
        assert!(matches!(
            data.lock(),
            Err(MemoryError::DataDirLocked { .. })
        ));
        drop(first);
        data.lock().unwrap();
    }
}
