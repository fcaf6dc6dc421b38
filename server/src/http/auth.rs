//! The caller of a request: the `Authorization: Bearer` token, handed to the engine, which
//! decides who it stands for. HTTP only carries the token; every check happens below.

use aide::OperationInput;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::Engine;
use crate::engine::Access;

/// The authenticated caller. Handlers take it before any other input, so a request without a
/// valid key is answered `401` whatever else is wrong with it.
#[derive(Debug)]
pub(crate) struct Caller(pub(crate) Access);

/// The token of a `Bearer` authorization header. Anything else presents no token, which the
/// engine answers as unauthenticated when keys are required.
pub(super) fn bearer_of(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<Engine> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, engine: &Engine) -> Result<Self, ApiError> {
        Ok(Caller(engine.authenticate(bearer_of(&parts.headers))?))
    }
}

/// The key's place in the document is its route's security requirement (`openapi::Need`).
impl OperationInput for Caller {}
