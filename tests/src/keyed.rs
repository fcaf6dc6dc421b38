//! A server with API keys on, driven through the router as an administrator and as tenants'
//! keys: what the access, provenance and MCP tests share.

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use server::{AuthMode, Config};

use crate::call_as;

/// The admin key of [`keyed_config`].
pub const ADMIN: &str = "an-admin-key-of-at-least-32-characters!";

/// A configuration with keys required and [`ADMIN`] as the admin key.
pub fn keyed_config() -> Config {
    let mut config = Config::default();
    config.auth.mode = AuthMode::Keys;
    config.auth.admin_key = Some(ADMIN.to_owned());
    config
}

/// A one-turn session of Ann's.
pub fn session(id: &str, text: &str) -> Value {
    json!({
        "session_id": id,
        "started_at": "2024-03-01T10:00:00Z",
        "turns": [{"speaker": "Ann", "text": text}]
    })
}

/// Creates a tenant with the admin key.
pub async fn create_tenant(app: &Router, tenant: &str) {
    let (status, body) = post(
        app,
        ADMIN,
        "/v1/admin/tenants",
        &json!({ "tenant_id": tenant }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Creates a key with `creator`'s authority and returns its token.
pub async fn create_key(app: &Router, creator: &str, key: Value) -> String {
    let (status, body) = post(app, creator, "/v1/admin/keys", &key).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

pub async fn get(app: &Router, token: &str, uri: &str) -> (StatusCode, Value) {
    call_as(app, Some(token), Method::GET, uri, None).await
}

pub async fn delete(app: &Router, token: &str, uri: &str) -> (StatusCode, Value) {
    call_as(app, Some(token), Method::DELETE, uri, None).await
}

pub async fn post(app: &Router, token: &str, uri: &str, body: &Value) -> (StatusCode, Value) {
    call_as(app, Some(token), Method::POST, uri, Some(body)).await
}
