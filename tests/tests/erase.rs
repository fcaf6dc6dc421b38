//! Verified erase: erasing a user, or deleting a session, leaves no byte of what was removed in
//! any file of the data directory, while everyone else's memory and search results stay as
//! they were. The checks read the files themselves, not mnemo's answers. The deterministic
//! test embedder stands in for the model: nothing here is about embeddings.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, hashed_app, sqlite_count};

/// Markers no tokenizer splits or stems, each written by one user only.
const ANN: &str = "qzvkjannx";
const BO: &str = "qzvkjbox";
/// Written in one of Bo's sessions only, which is then deleted.
const BO_DELETED: &str = "qzvkjgonex";

/// Occurrences of `marker` in every file under `dir`, read as bytes.
fn occurrences(dir: &Path, marker: &str) -> usize {
    let mut found = 0;
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        found += bytes
            .windows(marker.len())
            .filter(|w| w.eq_ignore_ascii_case(marker.as_bytes()))
            .count();
    }
    found
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Segments of the full-text index on disk whose term dictionary holds `word` (analysed like
/// indexed text), deleted documents included: tantivy keeps a deleted document's terms until
/// its segment is rewritten, and its term dictionary is compressed, so bytes alone cannot show
/// it.
fn segments_holding(dir: &Path, word: &str) -> usize {
    let index = tantivy::Index::open_in_dir(dir.join("text")).unwrap();
    let field = index.schema().get_field("text").unwrap();
    let mut analyzer = index.tokenizer_for_field(field).unwrap();
    let mut stream = analyzer.token_stream(word);
    assert!(stream.advance());
    let term = tantivy::Term::from_field_text(field, &stream.token().text);
    index
        .searchable_segments()
        .unwrap()
        .iter()
        .filter(|segment| {
            let reader = tantivy::SegmentReader::open(segment).unwrap();
            reader
                .inverted_index(field)
                .unwrap()
                .get_term_info(&term)
                .unwrap()
                .is_some()
        })
        .count()
}

/// A session of `speaker` in which every turn carries `marker`: in its text, its metadata and
/// the session title; the first turn is a first-person preference, so persona learns it.
fn marked_session(id: &str, speaker: &str, marker: &str, day: u32) -> Value {
    json!({
        "session_id": id,
        "title": format!("Evening of {marker}"),
        "started_at": format!("2024-03-{day:02}T10:00:00Z"),
        "turns": [
            {"speaker": speaker, "role": "user",
             "text": format!("I love playing {marker} with my sister on weekends."),
             "metadata": {"topic": marker}},
            {"speaker": "Bot", "role": "assistant",
             "text": format!("Tell me more about {marker} and how you learnt it.")},
            {"speaker": speaker, "role": "user",
             "text": format!("My grandfather taught me {marker} when I was seven, in Lisbon.")},
        ]
    })
}

async fn store(app: &Router, user: &str, session: &Value) {
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/v1/users/{user}/sessions?wait=true"),
        Some(session),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// The ids and texts of a search's results, in order.
async fn results(app: &Router, user: &str, query: &str) -> Vec<(i64, String)> {
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/v1/users/{user}/search"),
        Some(&json!({"query": query, "top_k": 10})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unit_id"].as_i64().unwrap(),
                r["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn erasing_a_user_leaves_no_byte_of_their_memory_and_nothing_else_changes() {
    let (dir, engine, app) = hashed_app();
    store(&app, "ann", &marked_session("a1", "Ann", ANN, 1)).await;
    store(&app, "ann", &marked_session("a2", "Ann", ANN, 2)).await;
    store(&app, "bo", &marked_session("b1", "Bo", BO, 3)).await;
    store(&app, "bo", &marked_session("b2", "Bo", BO, 4)).await;

    // Before: Ann's marker is in her turns, units, persona statements, the store's files and
    // the full-text index, so the checks below can fail.
    let (_, persona) = call(&app, Method::GET, "/v1/users/ann/persona", None).await;
    assert!(persona.to_string().contains(ANN), "{persona}");
    assert!(occurrences(dir.path(), ANN) > 0);
    assert!(segments_holding(dir.path(), ANN) > 0);
    let units = sqlite_count(
        dir.path(),
        "SELECT COUNT(*) FROM units n JOIN users u ON u.id = n.user_pk WHERE u.user_id = 'ann'",
    );
    let statements = sqlite_count(
        dir.path(),
        "SELECT COUNT(*) FROM persona_statements p JOIN users u ON u.id = p.user_pk
         WHERE u.user_id = 'ann'",
    );
    assert!(statements > 0);
    let vectors_before = engine.health().await.unwrap().vectors;
    let bo_before = results(&app, "bo", &format!("who taught {BO} in Lisbon")).await;
    assert!(!bo_before.is_empty());

    let (status, receipt) = call(&app, Method::DELETE, "/v1/users/ann", None).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["user_id"], "ann");
    assert_eq!(receipt["store"]["sessions"], 2);
    assert_eq!(receipt["store"]["turns"], 6);
    assert_eq!(receipt["store"]["units"], units);
    assert_eq!(receipt["store"]["statements"], statements);
    assert_eq!(receipt["vectors"], units);
    assert_eq!(receipt["text_documents"], units);
    assert_eq!(receipt["files_scrubbed"], true, "{receipt}");
    assert!(receipt["store"]["audit_entries"].as_u64().unwrap() >= 2);
    assert_eq!(
        engine.health().await.unwrap().vectors,
        vectors_before - units as usize
    );

    // Not one byte of Ann's memory anywhere in the data directory; Bo's is all there.
    assert_eq!(occurrences(dir.path(), ANN), 0);
    assert_eq!(segments_holding(dir.path(), ANN), 0);
    assert!(occurrences(dir.path(), BO) > 0);
    assert!(segments_holding(dir.path(), BO) > 0);
    assert_eq!(
        results(&app, "bo", &format!("who taught {BO} in Lisbon")).await,
        bo_before
    );

    // Ann is gone from every view; her audit log holds the erase entry with counts only.
    let (_, users) = call(&app, Method::GET, "/v1/users", None).await;
    assert_eq!(users["users"], json!(["bo"]));
    let (status, body) = call(&app, Method::GET, "/v1/users/ann/sessions", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "user_not_found");
    let (status, audit) = call(&app, Method::GET, "/v1/users/ann/audit", None).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "erase_user");
    assert_eq!(entries[0]["after"]["sessions"], 2);
    assert!(!audit.to_string().contains(ANN));
    // A second erase finds nobody.
    let (status, body) = call(&app, Method::DELETE, "/v1/users/ann", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The data directory is whole: the consistency check finds nothing wrong.
    let problems = engine.check_indexes().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn deleting_a_session_leaves_no_byte_of_it() {
    let (dir, _engine, app) = hashed_app();
    store(&app, "bo", &marked_session("b1", "Bo", BO, 3)).await;
    store(&app, "bo", &marked_session("b2", "Bo", BO_DELETED, 4)).await;
    assert!(occurrences(dir.path(), BO_DELETED) > 0);
    assert!(segments_holding(dir.path(), BO_DELETED) > 0);

    let (status, body) = call(&app, Method::DELETE, "/v1/users/bo/sessions/b2", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(occurrences(dir.path(), BO_DELETED), 0);
    assert_eq!(segments_holding(dir.path(), BO_DELETED), 0);
    assert!(occurrences(dir.path(), BO) > 0);
    assert!(
        !results(&app, "bo", &format!("who taught {BO}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_audit_log_pages_and_filters_by_action_and_time() {
    let (_dir, _engine, app) = hashed_app();
    for day in 1..=3 {
        store(
            &app,
            "cy",
            &marked_session(&format!("c{day}"), "Cy", "tea", day),
        )
        .await;
    }
    let (status, _) = call(&app, Method::DELETE, "/v1/users/cy/sessions/c2", None).await;
    assert_eq!(status, StatusCode::OK);

    // Pages of two, oldest first, continued with `next_after`.
    let mut actions = Vec::new();
    let mut uri = "/v1/users/cy/audit?limit=2".to_owned();
    loop {
        let (status, page) = call(&app, Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for e in page["entries"].as_array().unwrap() {
            actions.push((
                e["action"].as_str().unwrap().to_owned(),
                e["session_id"].as_str().map(str::to_owned),
            ));
        }
        match page["next_after"].as_i64() {
            Some(after) => uri = format!("/v1/users/cy/audit?limit=2&after={after}"),
            None => break,
        }
    }
    // Each stored session: stored, its persona read, its units built; then the delete.
    let mut expected = Vec::new();
    for s in ["c1", "c2", "c3"] {
        for action in ["create_session", "merge_persona", "build_units"] {
            expected.push((action.to_owned(), Some(s.to_owned())));
        }
    }
    expected.push(("delete_session".to_owned(), Some("c2".to_owned())));
    assert_eq!(actions, expected);

    let (_, deletes) = call(
        &app,
        Method::GET,
        "/v1/users/cy/audit?action=delete_session",
        None,
    )
    .await;
    assert_eq!(deletes["entries"].as_array().unwrap().len(), 1, "{deletes}");
    let (_, future) = call(
        &app,
        Method::GET,
        "/v1/users/cy/audit?from=2999-01-01T00:00:00Z",
        None,
    )
    .await;
    assert_eq!(future["entries"], json!([]));
    let (_, past) = call(
        &app,
        Method::GET,
        "/v1/users/cy/audit?to=2000-01-01T00:00:00Z",
        None,
    )
    .await;
    assert_eq!(past["entries"], json!([]));

    for (uri, code) in [
        ("/v1/users/cy/audit?limit=0", "invalid_query"),
        ("/v1/users/cy/audit?action=DROP%20TABLE", "invalid_query"),
        ("/v1/users/cy/audit?from=yesterday", "invalid_timestamp"),
        ("/v1/users/nobody/audit", "user_not_found"),
    ] {
        let (status, body) = call(&app, Method::GET, uri, None).await;
        assert!(status.is_client_error(), "{uri}: {body}");
        assert_eq!(body["error"]["code"], code, "{uri}: {body}");
    }
}
