//! A successful JSON answer and its place in the OpenAPI document: the body's schema comes
//! from the type, the statuses from the operation's documentation (`openapi::Documented`).

use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response, StatusCode as DocStatus};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use schemars::JsonSchema;
use serde::Serialize;

/// A JSON body with its status.
#[derive(Debug)]
pub(crate) struct Reply<T>(StatusCode, Json<T>);

/// A reply of `body` with `status`.
pub(crate) fn reply<T>(status: StatusCode, body: T) -> Reply<T> {
    Reply(status, Json(body))
}

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> HttpResponse {
        (self.0, self.1).into_response()
    }
}

impl<T: JsonSchema> OperationOutput for Reply<T> {
    type Inner = T;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<Response> {
        Json::<T>::operation_response(ctx, operation)
    }

    /// Documented as `200`; an operation answering with other statuses says so.
    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<DocStatus>, Response)> {
        super::openapi::as_200(Self::operation_response(ctx, operation))
    }
}
