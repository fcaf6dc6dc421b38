//! The retrieval crate's error type.

use memory::{ErrorKind, MemoryError};

/// Errors of the read path.
#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    #[error("invalid search: {reason}")]
    InvalidQuery { reason: String },
    #[error("invalid memgas settings: {reason}")]
    InvalidSettings { reason: String },
    #[error(transparent)]
    Memory(#[from] MemoryError),
}

impl RetrievalError {
    /// The transport-agnostic kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidQuery { .. } | Self::InvalidSettings { .. } => ErrorKind::InvalidInput,
            Self::Memory(e) => e.kind(),
        }
    }
}

/// Result alias of the retrieval crate.
pub type Result<T, E = RetrievalError> = std::result::Result<T, E>;
