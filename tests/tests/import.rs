//! `mnemo import locomo` goes through the same ingest path and keeps speakers, ids, dates and
//! captions.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::Method;
use memory::TenantId;
use serde_json::json;
use server::engine::{Access, Internal};
use server::import::import_locomo;
use tests::{call, config, embedder, external_ids, fixture, open_engine};

fn importer() -> Access {
    Access::internal(TenantId::default_tenant(), Internal::Import)
}

#[tokio::test]
async fn a_locomo_file_imports_one_user_per_conversation() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(config(dir.path()), &model);
    let conversations = fixture();
    let expected_turns: usize = conversations.iter().map(|c| c.turn_count()).sum();
    let progressed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = progressed.clone();
    let summary = import_locomo(&engine, &importer(), conversations, move |n| {
        counter.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
    })
    .await
    .unwrap();
    assert_eq!(
        (summary.users, summary.sessions, summary.turns),
        (2, 5, expected_turns)
    );
    assert_eq!(progressed.load(std::sync::atomic::Ordering::SeqCst), 5);
    assert!(summary.units > summary.turns);

    let app = server::app(engine);
    let (_, users) = call(&app, Method::GET, "/v1/users", None).await;
    assert_eq!(users["users"], json!(["conv-a", "conv-b"]));
    let (_, session) = call(
        &app,
        Method::GET,
        "/v1/users/conv-a/sessions/session_1",
        None,
    )
    .await;
    assert_eq!(session["started_at"], "2023-03-03T19:15:00Z");
    assert_eq!(session["turns"][2]["external_id"], "D1:3");
    assert_eq!(session["turns"][2]["speaker"], "Maya");
    assert_eq!(
        session["turns"][2]["caption"],
        "a photo of a tray of pastries on a wooden counter"
    );
    let query = json!({ "query": "tray of pastries on a wooden counter", "top_k": 1, "granularities": ["turn"] });
    let (_, found) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
    assert_eq!(external_ids(&found["results"][0]), vec!["D1:3"]);
    assert!(
        found["results"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Maya: ")
    );

    // Importing again changes nothing.
    drop(app);
    let engine_again = open_engine(config(dir.path()), &tests::embedder().unwrap());
    let again = import_locomo(&engine_again, &importer(), fixture(), |_| {})
        .await
        .unwrap();
    assert_eq!(again.units, summary.units);
}
