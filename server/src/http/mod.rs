//! The REST API: routes, middleware and wire types. The only module that knows HTTP.

mod admin;
mod archive;
mod auth;
pub(crate) mod codes;
mod connections;
mod context;
pub(crate) mod dto;
pub(crate) mod error;
mod extract;
mod limits;
mod mcp;
mod openapi;
mod persona;
mod reply;
mod routes;
mod search;
pub(crate) mod serve;
mod sessions;
mod system;
mod ui;
mod units;
mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aide::openapi::OpenApi;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::{BoxError, Extension, Router};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use self::codes::Code;
use self::error::ApiError;
use crate::Engine;

use self::reply::{Reply, reply};

/// Request ids: a process-wide counter, sent back in `x-request-id`.
#[derive(Clone, Default)]
struct Counter(std::sync::Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&n.to_string())
            .ok()
            .map(RequestId::new)
    }
}

async fn timed_out(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(Code::Timeout, "the request took too long")
    } else {
        ApiError::new(Code::Internal, "internal error")
    }
}

fn request_span(req: &Request) -> tracing::Span {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), path, request_id = id)
}

/// Records every answered request's latency by method, route template and status.
async fn measure(State(engine): State<Engine>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(req).await;
    engine.record_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The OpenAPI document of the routes, as served at `GET /v1/openapi.json`.
pub(crate) fn openapi_json() -> String {
    let mut api = OpenApi::default();
    let _ = routes::table().finish_api_with(&mut api, openapi::describe);
    openapi::render(&openapi::finish(&api))
}

/// The whole API over an engine.
pub(crate) fn router(engine: Engine) -> Router {
    let limits = engine.config().server.clone();
    let mut api = OpenApi::default();
    let documented = routes::table().finish_api_with(&mut api, openapi::describe);
    let document = openapi::Document(Arc::new(openapi::render(&openapi::finish(&api))));
    documented
        .merge(ui::routes())
        .nest_service(
            "/mcp",
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(
                    engine.clone(),
                    mcp::authenticate,
                ))
                .service(mcp::service(&engine)),
        )
        .layer(Extension(document))
        .fallback(system::not_found)
        .method_not_allowed_fallback(system::method_not_allowed)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            limits.clone(),
            limits::check_head,
        ))
        .layer(axum::middleware::from_fn_with_state(
            engine.clone(),
            measure,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(Counter::default()))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(HandleErrorLayer::new(timed_out))
                .timeout(Duration::from_secs(limits.request_timeout_secs)),
        )
        .with_state(engine)
}
