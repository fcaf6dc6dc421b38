//! Deleting a session removes its turns, units, vectors and full-text entries everywhere.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use serde_json::json;
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tests::{call, config, embedder, fixture, ingest_conversation, open_engine, sqlite_count};

/// Documents in the full-text index whose text has this (stemmed) term, read straight from disk.
fn tantivy_docs_with(dir: &std::path::Path, term: &str) -> usize {
    let index = tantivy::Index::open_in_dir(dir.join("text")).unwrap();
    let field = index.schema().get_field("text").unwrap();
    let searcher = index.reader().unwrap().searcher();
    let query = TermQuery::new(
        tantivy::Term::from_field_text(field, term),
        IndexRecordOption::Basic,
    );
    searcher.search(&query, &Count).unwrap()
}

#[tokio::test]
async fn deleting_a_session_removes_it_from_every_store() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(config(dir.path()), &model);
    let app = server::app(engine.clone());
    ingest_conversation(&app, &fixture()[0]).await;
    assert!(tantivy_docs_with(dir.path(), "cello") > 0);
    let session_2_units = sqlite_count(
        dir.path(),
        "SELECT COUNT(*) FROM units n JOIN sessions s ON s.id = n.session_pk WHERE s.session_id = 'session_2'",
    );
    let vectors_before = engine.health().await.unwrap().vectors as i64;
    // Persona statements with no evidence outside session_2 go with it.
    let only_there = sqlite_count(
        dir.path(),
        "SELECT COUNT(*) FROM persona_statements ps WHERE NOT EXISTS (
             SELECT 1 FROM statement_turns st JOIN turns t ON t.id = st.turn_id
             JOIN sessions s ON s.id = t.session_pk
             WHERE st.statement_id = ps.id AND s.session_id != 'session_2')",
    );
    assert!(only_there > 0);

    let (status, body) = call(
        &app,
        Method::DELETE,
        "/v1/users/conv-a/sessions/session_2",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["deleted"],
        json!({
            "sessions": 1,
            "turns": 8,
            "units": session_2_units,
            "statements": only_there,
        })
    );

    // The API no longer shows it.
    let (status, _) = call(
        &app,
        Method::GET,
        "/v1/users/conv-a/sessions/session_2",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, units) = call(
        &app,
        Method::GET,
        "/v1/users/conv-a/units?session_id=session_2",
        None,
    )
    .await;
    assert_eq!(units["units"], json!([]));

    // SQLite: no turn, unit or provenance row is left, and the delete is audited.
    let dir = dir.path();
    assert_eq!(
        sqlite_count(
            dir,
            "SELECT COUNT(*) FROM sessions WHERE session_id = 'session_2'"
        ),
        0
    );
    assert_eq!(
        sqlite_count(
            dir,
            "SELECT COUNT(*) FROM turns WHERE session_pk NOT IN (SELECT id FROM sessions)"
        ),
        0
    );
    assert_eq!(
        sqlite_count(
            dir,
            "SELECT COUNT(*) FROM units WHERE session_pk NOT IN (SELECT id FROM sessions)"
        ),
        0
    );
    assert_eq!(
        sqlite_count(
            dir,
            "SELECT COUNT(*) FROM unit_turns WHERE unit_id NOT IN (SELECT id FROM units)"
        ),
        0
    );
    assert_eq!(
        sqlite_count(dir, "SELECT COUNT(*) FROM turns WHERE text LIKE '%cello%'"),
        0
    );
    assert_eq!(
        sqlite_count(
            dir,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'delete_session' AND session_id = 'session_2'"
        ),
        1
    );

    // tantivy: the index on disk has no document of it.
    assert_eq!(tantivy_docs_with(dir, "cello"), 0);
    let units_left = sqlite_count(dir, "SELECT COUNT(*) FROM units");
    let health = engine.health().await.unwrap();
    assert_eq!(health.text_documents as i64, units_left);

    // Vector index: exactly its vectors are gone, and no search channel returns it.
    assert_eq!(health.vectors as i64, units_left);
    assert_eq!(vectors_before - health.vectors as i64, session_2_units);
    for fusion in ["dense", "lexical", "rrf"] {
        let query = json!({ "query": "grandmother taught me to play the cello", "top_k": 100, "fusion": fusion });
        let (_, found) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&query)).await;
        let results = found["results"].as_array().unwrap();
        assert!(
            results.iter().all(|r| r["session_id"] != "session_2"),
            "{fusion}: {found:#}"
        );
    }

    // The other sessions are untouched.
    let (_, list) = call(&app, Method::GET, "/v1/users/conv-a/sessions", None).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2);
}
