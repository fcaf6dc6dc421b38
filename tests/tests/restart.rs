//! Restarts keep everything; sessions acknowledged but not built before a crash are built at
//! the next start; a missing full-text index is rebuilt from SQLite.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use memory::store::{Actor, SqliteStore, TurnWrite};
use memory::validate::Limits;
use memory::{Channel, NewSession, NewTurn, Role, SessionId, Timestamp, UserId, UserRef};
use serde_json::json;
use tests::{call, config, embedder, external_ids, fixture, ingest_conversation, open_engine};

const CELLO: &str = "Who taught Theo to play the cello?";

async fn first_turn_for(app: &axum::Router, query: &str, fusion: &str) -> Vec<String> {
    let body = json!({ "query": query, "top_k": 1, "granularities": ["turn"], "fusion": fusion });
    let (status, found) = call(app, Method::POST, "/v1/users/conv-a/search", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    external_ids(&found["results"][0])
}

#[tokio::test]
async fn a_restart_keeps_sessions_units_and_both_indexes() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let app = server::app(open_engine(config(dir.path()), &model));
        ingest_conversation(&app, &fixture()[0]).await;
        call(&app, Method::GET, "/v1/users/conv-a/units?limit=1000", None)
            .await
            .1
    };
    let app = server::app(open_engine(config(dir.path()), &model));
    let (_, after) = call(&app, Method::GET, "/v1/users/conv-a/units?limit=1000", None).await;
    assert_eq!(before, after);
    assert_eq!(first_turn_for(&app, CELLO, "dense").await, vec!["D2:5"]);
    assert_eq!(first_turn_for(&app, CELLO, "lexical").await, vec!["D2:5"]);
}

#[tokio::test]
async fn a_session_acknowledged_before_a_crash_is_built_at_the_next_start() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The state a crash right after acknowledging leaves: the session is in SQLite, pending,
    // with no units and nothing in the derived indexes.
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let turn = |speaker: &str, text: &str, id: &str| NewTurn {
            speaker: speaker.into(),
            role: Role::User,
            text: text.into(),
            timestamp: None,
            external_id: Some(id.into()),
            caption: None,
            metadata: None,
        };
        let session = NewSession {
            session_id: SessionId::new("s1").unwrap(),
            started_at: Timestamp::parse_rfc3339("2023-04-21T10:02:00Z").unwrap(),
            title: None,
            turns: vec![
                turn("Maya", "How did you get into classical music?", "D2:4"),
                turn(
                    "Theo",
                    "My grandmother taught me to play the cello when I was nine years old.",
                    "D2:5",
                ),
            ],
        };
        let user = UserRef::of_default(UserId::new("conv-a").unwrap());
        store
            .ingest_session(
                &user,
                &session,
                &Limits::default(),
                TurnWrite {
                    now: Timestamp(0),
                    actor: Actor("test"),
                    channel: Channel::Chat,
                },
            )
            .unwrap();
    }
    let engine = open_engine(config(dir.path()), &model);
    engine.flush().await.unwrap();
    let app = server::app(engine);
    let (_, session) = call(&app, Method::GET, "/v1/users/conv-a/sessions/s1", None).await;
    assert_eq!(session["status"], "ready");
    assert_eq!(first_turn_for(&app, CELLO, "rrf").await, vec!["D2:5"]);
    assert_eq!(first_turn_for(&app, CELLO, "lexical").await, vec!["D2:5"]);
}

#[tokio::test]
async fn a_lost_full_text_index_is_rebuilt_from_sqlite() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    {
        let app = server::app(open_engine(config(dir.path()), &model));
        ingest_conversation(&app, &fixture()[0]).await;
    }
    std::fs::remove_dir_all(dir.path().join("text")).unwrap();
    let engine = open_engine(config(dir.path()), &model);
    let health = engine.health().await.unwrap();
    assert_eq!(health.text_documents, health.vectors as u64);
    let app = server::app(engine);
    assert_eq!(first_turn_for(&app, CELLO, "lexical").await, vec!["D2:5"]);
}
