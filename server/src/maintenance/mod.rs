//! Looking after a data directory from outside a running engine: backups and restores
//! (`backup`), and the consistency check with its repair (`check`). The command line calls
//! these; they need no embedding model.

mod backup;
mod check;

pub use backup::{BACKUP_FORMAT, MANIFEST_FILE, Manifest, backup, restore};
pub use check::{Check, Finding, check, repair};

use std::path::PathBuf;

use memory::MemoryError;

/// Why a backup, restore, check or repair could not be done. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a mnemo backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path} already exists and is not empty; choose a new directory for the backup")]
    OutputExists { path: PathBuf },
    #[error(
        "{path} already holds a store ({sessions} sessions of {users} users); \
         `--force` replaces it with the backup"
    )]
    DataDirInUse {
        path: PathBuf,
        users: i64,
        sessions: i64,
    },
    #[error("{path} is damaged:\n{}", problems.join("\n"))]
    Damaged {
        path: PathBuf,
        problems: Vec<String>,
    },
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> MaintenanceError {
    let path = path.into();
    move |source| MaintenanceError::Io { path, source }
}
