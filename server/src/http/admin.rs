//! Admin endpoints: tenants (the admin key), keys (the admin key, or a tenant's key with the
//! `admin` scope for its own tenant), and server statistics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use memory::TenantId;

use super::auth::Caller;
use super::dto::{
    CreatedKeyOut, KeyIn, KeyListOut, KeyOut, KeyQuery, LlmOut, StatsOut, TenantDeletedOut,
    TenantIn, TenantListOut, TenantOut,
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
    Ok(reply(StatusCode::CREATED, created.into()))
}

/// `GET /v1/admin/tenants`
pub(super) async fn tenants(
    State(engine): State<Engine>,
    Caller(access): Caller,
) -> Result<Reply<TenantListOut>, ApiError> {
    Ok(reply(StatusCode::OK, engine.tenants(&access).await?.into()))
}

/// `DELETE /v1/admin/tenants/{tenant_id}`
pub(super) async fn delete_tenant(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(tenant_id): Path<String>,
) -> Result<Reply<TenantDeletedOut>, ApiError> {
    let tenant = TenantId::new(tenant_id)?;
    let deleted = engine.delete_tenant(&access, tenant.clone()).await?;
    Ok(reply(
        StatusCode::OK,
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
    Ok(reply(StatusCode::CREATED, created.into()))
}

/// `GET /v1/admin/keys`
pub(super) async fn keys(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Query(query): Query<KeyQuery>,
) -> Result<Reply<KeyListOut>, ApiError> {
    let keys = engine.keys(&access, query.tenant()?).await?;
    Ok(reply(StatusCode::OK, keys.into()))
}

/// `DELETE /v1/admin/keys/{key_id}`
pub(super) async fn revoke_key(
    State(engine): State<Engine>,
    Caller(access): Caller,
    Path(key_id): Path<String>,
) -> Result<Reply<KeyOut>, ApiError> {
    let key = engine.revoke_key(&access, key_id).await?;
    Ok(reply(StatusCode::OK, key.into()))
}

/// `GET /metrics`: the Prometheus text format.
pub(super) async fn metrics(
    State(engine): State<Engine>,
    Caller(access): Caller,
) -> Result<impl IntoResponse, ApiError> {
    let text = engine.prometheus_text(&access).await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    ))
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
    Ok(reply(StatusCode::OK, StatsOut::new(health, llm)))
}
