//! The API's error responses: `{"error": {"code", "message"}}` with a stable code, and the one
//! place where error kinds become HTTP statuses.

use axum::Json;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use memory::ErrorKind;
use serde_json::json;
use tracing::error;

use crate::Error;

/// An error as the API returns it.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds to wait, sent as `Retry-After` (rate limits).
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
impl ApiError {
    pub(crate) fn code_for_test(&self) -> &'static str {
        self.code
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = status(e.kind());
        if status.is_server_error() {
            // The cause is logged once, here; clients get a generic message.
            error!(error = %e, code = e.code(), "request failed");
            let message = match e.kind() {
                ErrorKind::Unavailable => "the service is unavailable; try again later",
                _ => "internal error",
            };
            return Self::new(status, e.code(), message);
        }
        let retry_after = match &e {
            // Whole seconds, rounded up: retrying at once after a short wait would fail again.
            Error::RateLimited { retry_after } => {
                Some(retry_after.as_millis().div_ceil(1000) as u64)
            }
            _ => None,
        };
        Self {
            retry_after,
            ..Self::new(status, e.code(), e.to_string())
        }
    }
}

impl From<memory::MemoryError> for ApiError {
    fn from(e: memory::MemoryError) -> Self {
        Error::from(e).into()
    }
}

impl ApiError {
    /// The error as every interface shows it: `{"error": {"code", "message"}}`.
    pub(crate) fn body(&self) -> serde_json::Value {
        json!({ "error": { "code": self.code, "message": self.message } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body();
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
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
