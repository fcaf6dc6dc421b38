//! The server crate's error type: engine failures. Their API codes, and through them the HTTP
//! statuses, are assigned in one exhaustive match in `http::codes`.

use memory::MemoryError;
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
    #[error(
        "{queued} sessions are waiting to be built, the most the server queues; nothing was \
         stored: retry in {} s", retry_after.as_secs()
    )]
    Overloaded {
        queued: usize,
        retry_after: std::time::Duration,
    },
}

/// Result alias of the server crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
