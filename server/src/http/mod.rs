//! The REST API: routes, middleware and wire types. The only module that knows HTTP.

mod admin;
mod auth;
pub(crate) mod codes;
mod context;
pub(crate) mod dto;
pub(crate) mod error;
mod extract;
mod limits;
mod mcp;
mod persona;
mod search;
pub(crate) mod serve;
mod sessions;
mod system;
mod units;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use axum::{BoxError, Json, Router};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use self::codes::Code;
use self::error::ApiError;
use crate::Engine;

/// A JSON reply with its status.
type Reply<T> = (StatusCode, Json<T>);

fn reply<T>(status: StatusCode, body: T) -> Reply<T> {
    (status, Json(body))
}

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

/// The whole API over an engine.
pub(crate) fn router(engine: Engine) -> Router {
    let limits = engine.config().server.clone();
    let users = "/v1/users/{user_id}";
    Router::new()
        .route("/health", get(system::health))
        .route("/v1/users", get(system::users))
        .route(
            "/v1/admin/tenants",
            post(admin::create_tenant).get(admin::tenants),
        )
        .route(
            "/v1/admin/tenants/{tenant_id}",
            delete(admin::delete_tenant),
        )
        .route("/v1/admin/keys", post(admin::create_key).get(admin::keys))
        .route("/v1/admin/keys/{key_id}", delete(admin::revoke_key))
        .route("/v1/admin/stats", get(admin::stats))
        .route("/metrics", get(admin::metrics))
        .route(
            &format!("{users}/sessions"),
            post(sessions::create).get(sessions::list),
        )
        .route(
            &format!("{users}/sessions/{{session_id}}"),
            get(sessions::get).delete(sessions::delete),
        )
        .route(
            &format!("{users}/sessions/{{session_id}}/turns"),
            post(sessions::append),
        )
        .route(&format!("{users}/units"), get(units::list))
        .route(&format!("{users}/units/{{unit_id}}"), get(units::get))
        .route(&format!("{users}/search"), post(search::search))
        .route(&format!("{users}/context"), post(context::context))
        .route(&format!("{users}/persona"), get(persona::get))
        .route(
            &format!("{users}/persona/statements/{{statement_id}}"),
            patch(persona::edit).delete(persona::delete),
        )
        .route(
            &format!("{users}/persona/statements/{{statement_id}}/history"),
            get(persona::history),
        )
        .nest_service(
            "/mcp",
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(
                    engine.clone(),
                    mcp::authenticate,
                ))
                .service(mcp::service(&engine)),
        )
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
