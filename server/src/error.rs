//! The server crate's error type: engine failures with a kind and a stable code.

use memory::{ErrorKind, MemoryError};
use retrieval::RetrievalError;

/// Errors of the engine and its wiring.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error(transparent)]
    Retrieval(#[from] RetrievalError),
    #[error("the background worker has stopped")]
    WorkerStopped,
    #[error("building units failed: {reason}")]
    Build { reason: String },
    #[error("a blocking task failed: {reason}")]
    Task { reason: String },
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("{reason}")]
    Unauthenticated { reason: String },
    #[error("{reason}")]
    Forbidden { reason: String },
    #[error("too many requests for this key; retry in {} ms", retry_after.as_millis())]
    RateLimited { retry_after: std::time::Duration },
}

impl Error {
    /// The transport-agnostic kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Memory(e) => e.kind(),
            Self::Retrieval(e) => e.kind(),
            Self::WorkerStopped => ErrorKind::Unavailable,
            Self::Build { .. } | Self::Task { .. } => ErrorKind::Internal,
            Self::InvalidInput { .. } => ErrorKind::InvalidInput,
            Self::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Self::Forbidden { .. } => ErrorKind::Forbidden,
            Self::RateLimited { .. } => ErrorKind::RateLimited,
        }
    }

    /// A stable snake_case code naming the failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Memory(e) => e.code(),
            Self::Retrieval(e) => e.code(),
            Self::WorkerStopped => "unavailable",
            Self::Build { .. } | Self::Task { .. } => "internal",
            Self::InvalidInput { .. } => "invalid_field",
            Self::Unauthenticated { .. } => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
        }
    }
}

/// Result alias of the server crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
