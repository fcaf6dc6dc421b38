//! The registry of error codes: every code the API answers with, its HTTP status and what it
//! means, in one list. `ApiError` and the README's Errors table come from it, and a test below
//! fails when the README and the list differ.

use axum::http::StatusCode;
use memory::MemoryError;
use retrieval::RetrievalError;

use crate::Error;

/// Declares [`Code`] (public as `server::ErrorCode`) from one line per code: variant, HTTP status, stable name, description.
macro_rules! error_codes {
    ($($variant:ident = $status:ident, $name:literal, $description:literal;)*) => {
        /// A stable error code; see the README's Errors table (generated from the same list).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of the README's table.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The HTTP status answered with this code.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Self::$variant => StatusCode::$status,)*
                }
            }

            /// The stable snake_case name clients match on.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }

            /// What the code means, as the README says it.
            pub fn description(self) -> &'static str {
                match self {
                    $(Self::$variant => $description,)*
                }
            }
        }
    };
}

error_codes! {
    MalformedJson = BAD_REQUEST, "malformed_json",
        "The body is not valid JSON, or something follows the JSON value.";
    MalformedBody = BAD_REQUEST, "malformed_body",
        "The body could not be read, for example because the connection ended early.";
    MissingField = BAD_REQUEST, "missing_field",
        "A required field of the body is missing.";
    UnknownField = BAD_REQUEST, "unknown_field",
        "The body has a field the endpoint does not know, often a misspelling.";
    InvalidField = BAD_REQUEST, "invalid_field",
        "A field of the body has the wrong type or a value that cannot work.";
    EmptySession = BAD_REQUEST, "empty_session",
        "A session has no turns.";
    EmptyText = BAD_REQUEST, "empty_text",
        "A turn's text is empty, or only white space and invisible characters (zero-width spaces and joiners, other format characters, variation selectors).";
    TextTooLong = BAD_REQUEST, "text_too_long",
        "A text or another field is longer than the configured limit.";
    TooManyTurns = BAD_REQUEST, "too_many_turns",
        "The session would have more turns than `limits.max_turns_per_session`.";
    DuplicateExternalId = BAD_REQUEST, "duplicate_external_id",
        "Two turns of one session have the same `external_id`.";
    InvalidId = BAD_REQUEST, "invalid_id",
        "An id is empty, longer than 128 bytes, or has characters other than ASCII letters, digits and `- _ . : @`.";
    InvalidTimestamp = BAD_REQUEST, "invalid_timestamp",
        "A time is not RFC 3339, such as `2023-05-08T13:56:00Z`.";
    InvalidQuery = BAD_REQUEST, "invalid_query",
        "A query-string parameter is unknown or out of range, or a search asks for something it cannot do.";
    InvalidPath = BAD_REQUEST, "invalid_path",
        "A segment of the path cannot be read, such as a unit id that is not a number.";
    InvalidArchive = BAD_REQUEST, "invalid_archive",
        "An archive to import cannot be read: not a mnemo user archive, a format version this mnemo does not read, cut short (no end line), or a record that fails the checks an ingest applies or names something the archive lacks. The message names the line; nothing was stored.";
    BadRequest = BAD_REQUEST, "bad_request",
        "The request line or a header is not HTTP/1.1 that the server can parse; the connection is closed.";
    Unauthenticated = UNAUTHORIZED, "unauthenticated",
        "No API key, or a malformed, unknown or revoked one; sent with `WWW-Authenticate: Bearer`.";
    Forbidden = FORBIDDEN, "forbidden",
        "The key lacks the scope the operation needs, or may not declare that channel.";
    UserNotFound = NOT_FOUND, "user_not_found",
        "No such user for this key: none is stored, or it is another tenant's, or outside the key's `user_ids`.";
    SessionNotFound = NOT_FOUND, "session_not_found",
        "The user has no session with this id.";
    UnitNotFound = NOT_FOUND, "unit_not_found",
        "The user has no memory unit with this id.";
    TurnNotFound = NOT_FOUND, "turn_not_found",
        "The session has no turn with this id.";
    StatementNotFound = NOT_FOUND, "statement_not_found",
        "The user has no persona statement with this id.";
    TenantNotFound = NOT_FOUND, "tenant_not_found",
        "No tenant has this id.";
    KeyNotFound = NOT_FOUND, "key_not_found",
        "No API key that this caller may manage has this id.";
    NotFound = NOT_FOUND, "not_found",
        "No such route.";
    MethodNotAllowed = METHOD_NOT_ALLOWED, "method_not_allowed",
        "The route exists, but not with this method.";
    SessionConflict = CONFLICT, "session_conflict",
        "A session with this id is stored with other content; nothing was changed.";
    FactUnit = CONFLICT, "fact_unit",
        "The unit is a fact unit, which shows a persona statement: edit or delete the statement instead.";
    TenantExists = CONFLICT, "tenant_exists",
        "A tenant with this id already exists.";
    TenantNotEmpty = CONFLICT, "tenant_not_empty",
        "The tenant still has stored sessions; delete them first.";
    UserNotEmpty = CONFLICT, "user_not_empty",
        "An archive is imported only into a user without sessions and persona statements; erase the user first or import under another id.";
    PayloadTooLarge = PAYLOAD_TOO_LARGE, "payload_too_large",
        "The body is larger than `server.max_body_bytes` (`server.max_archive_bytes` for an archive import).";
    UriTooLong = URI_TOO_LONG, "uri_too_long",
        "The request's path and query are longer than `server.max_uri_bytes`.";
    UnsupportedMediaType = UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
        "The body's content type is not `application/json` (for an archive import: not `application/x-ndjson`).";
    RateLimited = TOO_MANY_REQUESTS, "rate_limited",
        "The key has used up its ingest or search rate; sent with `Retry-After` in whole seconds.";
    HeadersTooLarge = REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large",
        "The request has more than `server.max_headers` headers, or they hold more than `server.max_header_bytes`.";
    Internal = INTERNAL_SERVER_ERROR, "internal",
        "An unexpected failure; the message is generic and the cause is logged.";
    Timeout = SERVICE_UNAVAILABLE, "timeout",
        "The request took longer than `server.request_timeout_secs`. A write queued by then (a delete, an edit) may still be carried out: read before retrying.";
    Overloaded = SERVICE_UNAVAILABLE, "overloaded",
        "The server is at a limit: as many sessions wait to be built as `worker.max_queued_sessions` (nothing was stored), or as many connections are open as `server.max_connections` or, from the caller's address, `server.max_connections_per_ip` (the connection is closed); sent with `Retry-After`.";
    Unavailable = SERVICE_UNAVAILABLE, "unavailable",
        "The server is stopping or not ready; try again later.";
    EmbedderUnavailable = SERVICE_UNAVAILABLE, "embedder_unavailable",
        "The embedding model is not available.";
    InsufficientStorage = INSUFFICIENT_STORAGE, "insufficient_storage",
        "The disk holding the data directory is full; nothing of the request was stored (reads still work). Writing works again once space is freed, without a restart.";
}

impl From<&MemoryError> for Code {
    fn from(e: &MemoryError) -> Self {
        if e.is_storage_full() {
            return Self::InsufficientStorage;
        }
        match e {
            MemoryError::InvalidId { .. } => Self::InvalidId,
            MemoryError::InvalidTimestamp { .. } => Self::InvalidTimestamp,
            MemoryError::EmptySession => Self::EmptySession,
            MemoryError::EmptyText { .. } => Self::EmptyText,
            MemoryError::TextTooLong { .. } | MemoryError::FieldTooLong { .. } => Self::TextTooLong,
            MemoryError::TooManyTurns { .. } => Self::TooManyTurns,
            MemoryError::DuplicateExternalId { .. } => Self::DuplicateExternalId,
            MemoryError::InvalidField { .. } => Self::InvalidField,
            MemoryError::UserNotFound { .. } => Self::UserNotFound,
            MemoryError::SessionNotFound { .. } => Self::SessionNotFound,
            MemoryError::UnitNotFound { .. } => Self::UnitNotFound,
            MemoryError::TurnNotFound { .. } => Self::TurnNotFound,
            MemoryError::StatementNotFound { .. } => Self::StatementNotFound,
            MemoryError::TenantNotFound { .. } => Self::TenantNotFound,
            MemoryError::TenantExists { .. } => Self::TenantExists,
            MemoryError::TenantNotEmpty { .. } => Self::TenantNotEmpty,
            MemoryError::KeyNotFound { .. } => Self::KeyNotFound,
            MemoryError::SessionConflict { .. } => Self::SessionConflict,
            MemoryError::FactUnit { .. } => Self::FactUnit,
            MemoryError::InvalidArchive { .. } => Self::InvalidArchive,
            MemoryError::UserNotEmpty { .. } => Self::UserNotEmpty,
            MemoryError::EmbedderUnavailable { .. } => Self::EmbedderUnavailable,
            // Only opening a data directory fails this way, before any request is served.
            MemoryError::DataDirLocked { .. } => Self::Unavailable,
            MemoryError::DimensionMismatch { .. }
            | MemoryError::Embedding { .. }
            | MemoryError::Sqlite(_)
            | MemoryError::TextIndex(_)
            | MemoryError::TextQuery(_)
            | MemoryError::Io { .. }
            | MemoryError::Corrupt { .. }
            | MemoryError::StoreBehindIndex { .. }
            | MemoryError::StoreDamaged { .. } => Self::Internal,
        }
    }
}

impl From<&RetrievalError> for Code {
    fn from(e: &RetrievalError) -> Self {
        match e {
            RetrievalError::InvalidQuery { .. } => Self::InvalidQuery,
            RetrievalError::InvalidSettings { .. } => Self::InvalidField,
            RetrievalError::Memory(e) => e.into(),
        }
    }
}

impl From<&Error> for Code {
    fn from(e: &Error) -> Self {
        match e {
            Error::Memory(e) => e.into(),
            Error::Retrieval(e) => e.into(),
            Error::WorkerStopped => Self::Unavailable,
            Error::Build { .. } | Error::Task { .. } => Self::Internal,
            Error::InvalidInput { .. } => Self::InvalidField,
            Error::Unauthenticated { .. } => Self::Unauthenticated,
            Error::Forbidden { .. } => Self::Forbidden,
            Error::RateLimited { .. } => Self::RateLimited,
            Error::Overloaded { .. } => Self::Overloaded,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    /// The README's Errors table: code name to (status, description).
    fn readme_table() -> BTreeMap<String, (u16, String)> {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("\n### Errors\n")
            .nth(1)
            .unwrap_or_default()
            .split("\n#")
            .next()
            .unwrap_or_default();
        let mut rows = BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with("| ")) {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let (Ok(status), [_, name, description]) = (cells[0].parse::<u16>(), &cells[..]) else {
                continue; // the header row
            };
            let name = name.trim_matches('`').to_owned();
            let previous = rows.insert(name.clone(), (status, (*description).to_owned()));
            assert!(previous.is_none(), "{name} is in the README twice");
        }
        rows
    }

    #[test]
    fn the_readme_errors_table_is_the_registry() {
        let readme = readme_table();
        let registry: BTreeMap<String, (u16, String)> = Code::ALL
            .iter()
            .map(|c| {
                let row = (c.status().as_u16(), c.description().to_owned());
                (c.name().to_owned(), row)
            })
            .collect();
        for (name, row) in &registry {
            assert_eq!(
                readme.get(name),
                Some(row),
                "{name}: README row differs or is missing"
            );
        }
        for name in readme.keys() {
            assert!(
                registry.contains_key(name),
                "{name} is in the README but not the registry"
            );
        }
    }

    #[test]
    fn names_are_unique_snake_case_and_statuses_are_errors() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let name = code.name();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
            assert!(
                !code.description().contains('|'),
                "{name}: a pipe breaks the table"
            );
        }
    }
}
