//! Admin endpoints: tenants (the admin key), keys (the admin key, or a tenant's key with the
//! `admin` scope for its own tenant), and server statistics.

use aide::OperationOutput;
use aide::generate::GenContext;
use aide::openapi::{Operation, Response as DocResponse, StatusCode};
use axum::extract::State;
use axum::http::StatusCode as HttpStatus;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::dto::{
    CreatedKeyOut, KeyIn, KeyListOut, KeyOut, KeyPath, KeyQuery, LlmOut, StatsOut,
    TenantDeletedOut, TenantIn, TenantListOut, TenantOut, TenantPath,
};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::{Reply, reply};
use crate::Engine;

/// `POST /v1/admin/tenants`
pub(super) async fn create_tenant(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Json(body): Json<TenantIn>,
) -> Result<Reply<TenantOut>, ApiError> {
    let (tenant, name) = body.into_parts()?;
    let created = engine.create_tenant(&access, tenant, name).await?;
    Ok(reply(HttpStatus::CREATED, created.into()))
}

/// `GET /v1/admin/tenants`
pub(super) async fn tenants(
    State(engine): State<Engine>,
    Caller(access): Caller,
) -> Result<Reply<TenantListOut>, ApiError> {
    Ok(reply(HttpStatus::OK, engine.tenants(&access).await?.into()))
}

/// `DELETE /v1/admin/tenants/{tenant_id}`
pub(super) async fn delete_tenant(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<TenantPath>,
) -> Result<Reply<TenantDeletedOut>, ApiError> {
    let tenant = path.tenant()?;
    let deleted = engine.delete_tenant(&access, tenant.clone()).await?;
    Ok(reply(
        HttpStatus::OK,
        TenantDeletedOut::new(&tenant, deleted),
    ))
}

/// `POST /v1/admin/keys`
pub(super) async fn create_key(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Json(body): Json<KeyIn>,
) -> Result<Reply<CreatedKeyOut>, ApiError> {
    let created = engine.create_key(&access, body.into_new_key()?).await?;
    Ok(reply(HttpStatus::CREATED, created.into()))
}

/// `GET /v1/admin/keys`
pub(super) async fn keys(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Query(query): Query<KeyQuery>,
) -> Result<Reply<KeyListOut>, ApiError> {
    let keys = engine.keys(&access, query.tenant()?).await?;
    Ok(reply(HttpStatus::OK, keys.into()))
}

/// `DELETE /v1/admin/keys/{key_id}`
pub(super) async fn revoke_key(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(path): Path<KeyPath>,
) -> Result<Reply<KeyOut>, ApiError> {
    let key = engine.revoke_key(&access, path.key_id).await?;
    Ok(reply(HttpStatus::OK, key.into()))
}

/// Measurements in the Prometheus text format.
#[derive(Debug)]
pub(super) struct PrometheusText(String);

impl IntoResponse for PrometheusText {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            self.0,
        )
            .into_response()
    }
}

impl OperationOutput for PrometheusText {
    type Inner = String;

    fn operation_response(ctx: &mut GenContext, operation: &mut Operation) -> Option<DocResponse> {
        String::operation_response(ctx, operation)
    }

    fn inferred_responses(
        ctx: &mut GenContext,
        operation: &mut Operation,
    ) -> Vec<(Option<StatusCode>, DocResponse)> {
        String::inferred_responses(ctx, operation)
    }
}

/// `GET /metrics`: the Prometheus text format.
pub(super) async fn metrics(
    State(engine): State<Engine>,
    Caller(access): Caller,
) -> Result<PrometheusText, ApiError> {
    Ok(PrometheusText(engine.prometheus_text(&access).await?))
}

/// `GET /v1/admin/stats`
pub(super) async fn stats(
    State(engine): State<Engine>,
    Caller(access): Caller,
) -> Result<Reply<StatsOut>, ApiError> {
    let health = engine.stats(&access).await?;
    let m = engine.metrics();
    let llm = engine.llm_usage().map(|(model, usage)| LlmOut {
        model,
        sessions: m.llm_sessions,
        retries: m.llm_retries,
        fallbacks: m.llm_fallbacks,
        calls: usage.calls,
        failed_calls: usage.failures,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
    });
    Ok(reply(HttpStatus::OK, StatsOut::new(health, llm)))
}
