//! `/metrics` through the real router: the Prometheus text an operator scrapes, for the admin
//! key only, with latencies by route template and no user or tenant in any label. Embeddings
//! come from the deterministic `HashedWords` stand-in.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use server::{AuthMode, Config};
use tests::{call_as, open_hashed};
use tower::ServiceExt;

const ADMIN: &str = "an-admin-key-of-at-least-32-characters!";

#[tokio::test]
async fn operators_scrape_latencies_and_sizes_without_user_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.auth.mode = AuthMode::Keys;
    config.auth.admin_key = Some(ADMIN.to_owned());
    let app = server::app(open_hashed(config, dir.path()));
    let tenant = json!({"tenant_id": "acme-corp"});
    call_as(
        &app,
        Some(ADMIN),
        Method::POST,
        "/v1/admin/tenants",
        Some(&tenant),
    )
    .await;
    let key = json!({"tenant_id": "acme-corp", "scopes": ["read", "write"]});
    let (_, key) = call_as(
        &app,
        Some(ADMIN),
        Method::POST,
        "/v1/admin/keys",
        Some(&key),
    )
    .await;
    let token = key["token"].as_str().unwrap();
    let session =
        json!({"session_id": "s1", "turns": [{"speaker": "Zelda", "text": "I keep bees."}]});
    let uri = "/v1/users/zelda-user/sessions";
    let (status, _) = call_as(&app, Some(token), Method::POST, uri, Some(&session)).await;
    assert_eq!(status, StatusCode::CREATED);
    let search = json!({"query": "bees", "strategy": "hybrid"});
    let uri = "/v1/users/zelda-user/search";
    let (status, _) = call_as(&app, Some(token), Method::POST, uri, Some(&search)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = call_as(&app, Some(token), Method::GET, "/metrics", None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a tenant key does not scrape"
    );
    let response = app
        .clone()
        .oneshot(
            Request::get("/metrics")
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    for expected in [
        r#"mnemo_http_request_duration_seconds_bucket{method="POST",route="/v1/users/{user_id}/search",status="200""#,
        r#"mnemo_search_seconds_count{strategy="hybrid"} 1"#,
        "mnemo_embed_batch_texts_bucket",
        "mnemo_build_batch_seconds_count",
        "mnemo_sessions_built_total 1",
        "mnemo_searches_total 1",
        "mnemo_pending_sessions 0",
        "mnemo_users 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    for private in ["zelda", "acme-corp", "bees"] {
        assert!(
            !text.to_lowercase().contains(private),
            "{private} leaked:\n{text}"
        );
    }
}
