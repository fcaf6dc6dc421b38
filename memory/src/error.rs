//! The memory crate's error type and its transport-agnostic kind.

/// What sort of failure an error is, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller sent something that can never succeed as sent.
    InvalidInput,
    /// The caller did not prove who it is (no, unknown or revoked key).
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// The caller asked too often; trying later works.
    RateLimited,
    /// The thing asked for does not exist (or the caller may not know that it does).
    NotFound,
    /// The request clashes with what is stored.
    Conflict,
    /// A dependency is missing or not ready; trying later may work.
    Unavailable,
    /// The disk holding the data directory is full; writing works again once space is freed.
    StorageFull,
    /// A bug or an unexpected failure of a dependency.
    Internal,
}

/// Errors of the memory layer.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("invalid {what}: {reason}")]
    InvalidId { what: &'static str, reason: String },
    #[error("invalid timestamp {value:?}: {reason}")]
    InvalidTimestamp { value: String, reason: String },
    #[error("session has no turns")]
    EmptySession,
    #[error("turn {position} has empty text")]
    EmptyText { position: usize },
    #[error("turn {position}: {field} is {len} characters, the limit is {max}")]
    TextTooLong {
        position: usize,
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} is {len} characters, the limit is {max}")]
    FieldTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the session would have {count} turns, the limit is {max}")]
    TooManyTurns { count: usize, max: usize },
    #[error("external_id {external_id:?} is used by more than one turn of the session")]
    DuplicateExternalId { external_id: String },
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("user {user_id} not found")]
    UserNotFound { user_id: String },
    #[error("session {session_id} of user {user_id} not found")]
    SessionNotFound { user_id: String, session_id: String },
    #[error("unit {unit_id} not found")]
    UnitNotFound { unit_id: i64 },
    #[error("turn {turn_id} not found in this session")]
    TurnNotFound { turn_id: i64 },
    #[error(
        "unit {unit_id} is a fact unit: it shows a persona statement, so edit or delete the statement (PATCH or DELETE /v1/users/{{user_id}}/persona/statements/{{statement_id}})"
    )]
    FactUnit { unit_id: i64 },
    #[error("invalid archive: {reason}")]
    InvalidArchive { reason: String },
    #[error(
        "user {user_id} already has memory; an archive is imported into an empty user (erase it \
         first with DELETE /v1/users/{user_id}, or import under another user id)"
    )]
    UserNotEmpty { user_id: String },
    #[error("persona statement {statement_id} not found")]
    StatementNotFound { statement_id: i64 },
    #[error("tenant {tenant_id} not found")]
    TenantNotFound { tenant_id: String },
    #[error("tenant {tenant_id} already exists")]
    TenantExists { tenant_id: String },
    #[error("tenant {tenant_id} still has {sessions} stored sessions; delete them first")]
    TenantNotEmpty { tenant_id: String, sessions: u64 },
    #[error("API key {key_id} not found")]
    KeyNotFound { key_id: String },
    #[error("session {session_id} already exists with different content")]
    SessionConflict { session_id: String },
    #[error("embedding has {got} dimensions, the index expects {expected}")]
    DimensionMismatch { expected: usize, got: usize },
    #[error("embedding model unavailable: {reason}")]
    EmbedderUnavailable { reason: String },
    #[error("embedding failed: {reason}")]
    Embedding { reason: String },
    #[error("storage error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("full-text index error: {0}")]
    TextIndex(#[from] tantivy::TantivyError),
    #[error("full-text query error: {0}")]
    TextQuery(#[from] tantivy::query::QueryParserError),
    #[error("data directory error at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("data directory {path} is in use by another mnemo process")]
    DataDirLocked { path: String },
    #[error("stored data is corrupt: {reason}")]
    Corrupt { reason: String },
    #[error(
        "the store {store} is older than its full-text index (the index has applied index-log \
         position {applied}, the store reaches only {head}): commits of the store are missing, \
         most likely because its write-ahead log ({store}-wal) was lost, cut or left behind. \
         Nothing was changed. Put the -wal file back or restore a backup (mnemo restore); \
         `mnemo check --data-dir DIR` lists what the store holds, and `mnemo check --repair` \
         accepts the store as it is and rebuilds the index from it"
    )]
    StoreBehindIndex {
        store: String,
        applied: i64,
        head: i64,
    },
    #[error(
        "the store {store} is damaged ({reason}). Nothing was changed. `mnemo check --data-dir \
         DIR` lists the damage; restore a backup with `mnemo restore`"
    )]
    StoreDamaged { store: String, reason: String },
}

/// Linux's `ENOSPC`: no space left on the device.
const NO_SPACE: i32 = 28;

fn io_is_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(NO_SPACE)
}

impl MemoryError {
    /// Whether this failed because the disk is full (SQLite's `SQLITE_FULL`, or an I/O error
    /// with no space left), so that writing works again once space is freed.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            Self::Io { source, .. } => io_is_full(source),
            Self::TextIndex(tantivy::TantivyError::IoError(e)) => io_is_full(e),
            Self::TextIndex(tantivy::TantivyError::OpenWriteError(
                tantivy::directory::error::OpenWriteError::IoError { io_error, .. },
            )) => io_is_full(io_error),
            _ => false,
        }
    }

    /// Whether SQLite found the store's file damaged (a corrupt page, not a database at all) or
    /// a stored row could not be read back.
    pub fn is_damage(&self) -> bool {
        match self {
            Self::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            Self::Corrupt { .. } => true,
            _ => false,
        }
    }

    /// The transport-agnostic kind of this error.
    pub fn kind(&self) -> ErrorKind {
        if self.is_storage_full() {
            return ErrorKind::StorageFull;
        }
        match self {
            Self::InvalidId { .. }
            | Self::InvalidTimestamp { .. }
            | Self::EmptySession
            | Self::EmptyText { .. }
            | Self::TextTooLong { .. }
            | Self::FieldTooLong { .. }
            | Self::TooManyTurns { .. }
            | Self::DuplicateExternalId { .. }
            | Self::InvalidField { .. }
            | Self::InvalidArchive { .. } => ErrorKind::InvalidInput,
            Self::UserNotFound { .. }
            | Self::SessionNotFound { .. }
            | Self::UnitNotFound { .. }
            | Self::TurnNotFound { .. }
            | Self::StatementNotFound { .. }
            | Self::TenantNotFound { .. }
            | Self::KeyNotFound { .. } => ErrorKind::NotFound,
            Self::SessionConflict { .. }
            | Self::DataDirLocked { .. }
            | Self::TenantExists { .. }
            | Self::TenantNotEmpty { .. }
            | Self::FactUnit { .. }
            | Self::UserNotEmpty { .. } => ErrorKind::Conflict,
            Self::EmbedderUnavailable { .. } => ErrorKind::Unavailable,
            Self::DimensionMismatch { .. }
            | Self::Embedding { .. }
            | Self::Sqlite(_)
            | Self::TextIndex(_)
            | Self::TextQuery(_)
            | Self::Io { .. }
            | Self::Corrupt { .. }
            | Self::StoreBehindIndex { .. }
            | Self::StoreDamaged { .. } => ErrorKind::Internal,
        }
    }
}

/// Result alias of the memory crate.
pub type Result<T, E = MemoryError> = std::result::Result<T, E>;
