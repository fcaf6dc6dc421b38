//! Extractors that turn every malformed request into an [`ApiError`] with a stable code,
//! instead of axum's plain-text rejections.

use aide::OperationInput;
use aide::generate::GenContext;
use aide::openapi::Operation;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::codes::Code;
use super::error::ApiError;
use super::openapi::{BODY_CODES, input};

/// A JSON body. Codes: `unsupported_media_type`, `payload_too_large`, `malformed_json`,
/// `missing_field`, `unknown_field`, `invalid_field`.
#[derive(Debug)]
pub(crate) struct Json<T>(pub(crate) T);

/// The media type of a `Content-Type` value, without parameters, in lower case.
pub(super) fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(content_type: &str) -> bool {
    let mime = media_type(content_type);
    mime == "application/json" || mime.ends_with("+json")
}

/// Refuses a body whose declared content type `accepts` does not take (`expected` names what
/// it takes); a body without one is read as the expected type.
pub(super) fn check_content_type(
    req: &Request,
    accepts: fn(&str) -> bool,
    expected: &str,
) -> Result<(), ApiError> {
    if let Some(content_type) = req.headers().get(CONTENT_TYPE) {
        let content_type = content_type.to_str().unwrap_or("");
        if !accepts(content_type) {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                format!("expected {expected}, got {content_type:?}"),
            ));
        }
    }
    Ok(())
}

/// Parses a JSON body, naming the path of the offending field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let code = match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => Code::MalformedJson,
            Category::Data => {
                let text = inner.to_string();
                if text.starts_with("missing field") {
                    Code::MissingField
                } else if text.starts_with("unknown field") {
                    Code::UnknownField
                } else {
                    Code::InvalidField
                }
            }
        };
        let message = if path == "." || code == Code::MalformedJson {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        ApiError::new(code, message)
    })?;
    de.end()
        .map_err(|e| ApiError::new(Code::MalformedJson, e.to_string()))?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_content_type(&req, is_json, "application/json")?;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    Code::PayloadTooLarge,
                    "the request body is larger than the server accepts",
                )
            } else {
                ApiError::new(Code::MalformedBody, rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Query-string parameters. Code: `invalid_query`.
#[derive(Debug)]
pub(crate) struct Query<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::new(Code::InvalidQuery, e.body_text()))
    }
}

/// Path parameters. Code: `invalid_path`.
#[derive(Debug)]
pub(crate) struct Path<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::new(Code::InvalidPath, e.body_text()))
    }
}

impl<T: JsonSchema> OperationInput for Json<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        input::<axum::Json<T>>(ctx, operation, BODY_CODES);
    }
}

impl<T: JsonSchema> OperationInput for Query<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        input::<axum::extract::Query<T>>(ctx, operation, &[Code::InvalidQuery]);
    }
}

impl<T: JsonSchema> OperationInput for Path<T> {
    fn operation_input(ctx: &mut GenContext, operation: &mut Operation) {
        input::<axum::extract::Path<T>>(ctx, operation, &[Code::InvalidPath]);
    }
}

/// Asserts the error code of parsing `body` as `T`, or that it parses when `code` is `None`.
#[cfg(test)]
pub(crate) fn check_body<T: DeserializeOwned>(body: &str, code: Option<&str>) {
    let got = parse_json::<T>(body.as_bytes())
        .err()
        .map(|e| e.code_for_test());
    assert_eq!(got, code, "{body}");
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    fn check(body: &str, code: Option<&str>) {
        check_body::<Body>(body, code);
    }

    #[test]
    fn body_errors_get_stable_codes() {
        check(r#"{"name": "a", "items": [{"n": 1}]}"#, None);
        check(
            r#"{"name": "a", "items": [{"n": 1}"#,
            Some("malformed_json"),
        );
        check("", Some("malformed_json"));
        check(r#"{"name": "a", "items": []} x"#, Some("malformed_json"));
        check(r#"{"name": "a", "items": [{}]}"#, Some("missing_field"));
        check(
            r#"{"name": "a", "items": [], "extra": 1}"#,
            Some("unknown_field"),
        );
        check(r#"{"name": 5, "items": []}"#, Some("invalid_field"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(!is_json("text/plain"));
    }
}
