//! Exact-match search filters on sessions and provenance turns (speaker, role, metadata),
//! applied before ranking in both strategies. Through the real router, SQLite and tantivy, with
//! the deterministic test embedder (the filters are not about ranking quality).

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{call, hashed_app};

async fn setup() -> (tempfile::TempDir, Router) {
    let (dir, _engine, app) = hashed_app();
    for body in [
        json!({"session_id": "s1", "started_at": "2024-03-01T10:00:00Z", "turns": [
            {"external_id": "a1", "speaker": "Ann", "text": "We played music after dinner.",
             "metadata": {"topic": "music", "n": 1, "flag": true}},
            {"external_id": "a2", "speaker": "Bot", "role": "assistant",
             "text": "Music after dinner is a fine habit.", "metadata": {"topic": "music"}},
        ]}),
        json!({"session_id": "s2", "started_at": "2024-04-01T10:00:00Z", "turns": [
            {"external_id": "b1", "speaker": "Ann", "text": "Dinner was pasta with music on.",
             "metadata": {"topic": "food", "n": 2}},
            {"external_id": "b2", "speaker": "Cy", "text": "Pasta and music, a good dinner.",
             "metadata": {"topic": "food", "n": "1"}},
        ]}),
    ] {
        let (status, reply) = call(
            &app,
            Method::POST,
            "/v1/users/ann/sessions?wait=true",
            Some(&body),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
    }
    (dir, app)
}

/// For each result, the external ids of its provenance turns; and its session.
async fn search(app: &Router, strategy: &str, filter: Value) -> Vec<(String, BTreeSet<String>)> {
    let body = json!({"query": "music dinner pasta", "top_k": 50, "strategy": strategy,
                      "granularities": ["turn", "round", "session", "summary", "keywords"],
                      "filter": filter});
    let (status, reply) = call(app, Method::POST, "/v1/users/ann/search", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["session_id"].as_str().unwrap().to_owned(),
                r["turns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["external_id"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_filter_keeps_exactly_the_matching_units_in_both_strategies() {
    let (_dir, app) = setup().await;
    for strategy in ["memgas", "hybrid"] {
        let everything = search(&app, strategy, json!({})).await;
        assert!(everything.len() > 6, "{strategy}: {everything:?}");
        // Which turns each filter admits: a result passes if one of its turns does.
        let cases: [(Value, &[&str]); 8] = [
            (json!({"speaker": "Cy"}), &["b2"]),
            (json!({"role": "assistant"}), &["a2"]),
            (json!({"metadata": {"topic": "music"}}), &["a1", "a2"]),
            (json!({"metadata": {"n": 1}}), &["a1"]),
            (json!({"metadata": {"n": "1"}}), &["b2"]),
            (json!({"metadata": {"flag": true}}), &["a1"]),
            (
                json!({"metadata": {"topic": "food"}, "speaker": "Ann"}),
                &["b1"],
            ),
            (json!({"metadata": {"topic": "nothing"}}), &[]),
        ];
        for (filter, admitted) in cases {
            let found = search(&app, strategy, filter.clone()).await;
            let expected: Vec<_> = everything
                .iter()
                .filter(|(_, turns)| turns.iter().any(|t| admitted.contains(&t.as_str())))
                .collect();
            assert_eq!(
                found.iter().collect::<BTreeSet<_>>(),
                expected.into_iter().collect::<BTreeSet<_>>(),
                "{strategy} {filter}"
            );
        }
        let s2 = search(&app, strategy, json!({"session_ids": ["s2"]})).await;
        assert!(!s2.is_empty());
        assert!(s2.iter().all(|(s, _)| s == "s2"), "{strategy}: {s2:?}");
        assert_eq!(
            s2.len(),
            everything.iter().filter(|(s, _)| s == "s2").count(),
            "{strategy}"
        );
    }
}

#[tokio::test]
async fn malformed_filters_are_refused_with_codes() {
    let (_dir, app) = setup().await;
    for (filter, code) in [
        (json!({"metadata": {"topic": ["music"]}}), "invalid_field"),
        (json!({"metadata": {"": "x"}}), "invalid_field"),
        (json!({"speaker": ""}), "invalid_field"),
        (json!({"session_ids": ["no spaces"]}), "invalid_id"),
        (json!({"sessions": ["s1"]}), "unknown_field"),
        (json!({"role": "king"}), "invalid_field"),
    ] {
        let body = json!({"query": "music", "filter": filter});
        let (status, reply) = call(&app, Method::POST, "/v1/users/ann/search", Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{filter}: {reply}");
        assert_eq!(reply["error"]["code"], code, "{filter}: {reply}");
    }
}
