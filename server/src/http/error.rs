//! The API's error responses: `{"error": {"code", "message"}}`, with the code, and through it
//! the HTTP status, taken from the registry in `codes`.

use axum::Json;
use axum::http::HeaderValue;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

use super::codes::Code;
use crate::Error;

/// An error as the API returns it.
#[derive(Debug)]
pub(crate) struct ApiError {
    code: Code,
    message: String,
    /// Seconds to wait, sent as `Retry-After` (rate limits).
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a registry code; the status is the code's.
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

#[cfg(test)]
impl ApiError {
    pub(crate) fn code_for_test(&self) -> &'static str {
        self.code.name()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = Code::from(&e);
        // Being overloaded is expected, and its message tells the client what to do.
        if code.status().is_server_error() && code != Code::Overloaded {
            // The cause is logged once, here; clients get a generic message.
            error!(error = %e, code = code.name(), "request failed");
            let message = match code {
                Code::Internal => "internal error",
                Code::InsufficientStorage => {
                    "the disk holding the data directory is full; nothing was stored"
                }
                _ => "the service is unavailable; try again later",
            };
            return Self::new(code, message);
        }
        let retry_after = match &e {
            // Whole seconds, rounded up: retrying at once after a short wait would fail again.
            Error::RateLimited { retry_after } | Error::Overloaded { retry_after, .. } => {
                Some(retry_after.as_millis().div_ceil(1000) as u64)
            }
            _ => None,
        };
        Self {
            retry_after,
            ..Self::new(code, e.to_string())
        }
    }
}

impl From<memory::MemoryError> for ApiError {
    fn from(e: memory::MemoryError) -> Self {
        Error::from(e).into()
    }
}

/// The JSON body of an error answer.
pub(crate) fn body(code: Code, message: &str) -> serde_json::Value {
    json!({ "error": { "code": code.name(), "message": message } })
}

impl ApiError {
    /// The error as every interface shows it: `{"error": {"code", "message"}}`.
    pub(crate) fn body(&self) -> serde_json::Value {
        body(self.code, &self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = body(self.code, &self.message);
        let mut response = (self.code.status(), Json(body)).into_response();
        if self.code == Code::Unauthenticated {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"mnemo\""),
            );
        }
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Error responses are documented per operation from the codes it lists (`openapi`), not
/// from this type.
impl aide::OperationOutput for ApiError {
    type Inner = ();
}
