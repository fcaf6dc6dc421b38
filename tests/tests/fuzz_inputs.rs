//! Property tests, bounded and seeded, of every parser of outside input: REST bodies and paths
//! through the real router (never a 5xx, every refusal a registry code, nothing stored changed
//! by a refusal), LoCoMo files, dates and the query analysis. The language model's replies have
//! theirs beside the parser (`server/src/engine/llm_units/tests/fuzz.rs`). With the
//! deterministic stand-in embedder: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::Value;
use server::ErrorCode;
use tests::{call, call_raw, config, fixture_path, open_hashed, sqlite_count, store_lockers};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(20_261_202),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Any JSON value, a few levels deep, with the field names the API uses among others.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("2024-03-01T10:00:00Z")),
        Just(Value::from("\u{200B}\u{202E}")),
    ];
    let key = prop_oneof![
        Just("session_id"),
        Just("turns"),
        Just("speaker"),
        Just("text"),
        Just("role"),
        Just("query"),
        Just("top_k"),
        Just("memgas"),
        Just("lexical_weight"),
        Just("lambda"),
        Just("started_at"),
        Just("metadata"),
        Just("granularities"),
        Just("as_of"),
        Just("strategy"),
        Just("fusion"),
        Just("max_tokens"),
        Just("external_id"),
        Just("x"),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// What the user's memory holds, read straight from SQLite.
fn stored(dir: &std::path::Path) -> (i64, i64, i64) {
    (
        sqlite_count(dir, "SELECT COUNT(*) FROM sessions"),
        sqlite_count(dir, "SELECT COUNT(*) FROM turns"),
        sqlite_count(dir, "SELECT COUNT(*) FROM units"),
    )
}

fn known_codes() -> BTreeSet<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.name()).collect()
}

/// Checks one answer: no server error, and a refusal carries a registry code.
fn well_answered(status: StatusCode, body: &Value, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(!status.is_server_error(), "{what} -> {status} {body}");
    if !status.is_success() {
        let code = body["error"]["code"].as_str().unwrap_or_default();
        prop_assert!(known_codes().contains(code), "{what} -> {status} {body}");
    }
    Ok(())
}

#[test]
fn arbitrary_bodies_are_coded_refusals_or_valid_and_refusals_store_nothing() {
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(&tokio, dir.path());
    let targets = [
        (Method::POST, "/v1/users/ann/sessions?wait=false"),
        (Method::POST, "/v1/users/ann/sessions/s0/turns?wait=false"),
        (Method::POST, "/v1/users/ann/search"),
        (Method::POST, "/v1/users/ann/context"),
    ];
    let strategy = (0..targets.len(), json_value());
    runner(160)
        .run(&strategy, |(target, body)| {
            let (method, uri) = &targets[target];
            let before = stored(dir.path());
            let (status, answer) = tokio.block_on(call(&app, method.clone(), uri, Some(&body)));
            well_answered(status, &answer, &format!("{method} {uri} {body}"))?;
            if !status.is_success() {
                prop_assert_eq!(
                    stored(dir.path()),
                    before,
                    "a refusal changed what is stored: {}",
                    body
                );
            }
            Ok(())
        })
        .unwrap();
}

fn open_app(tokio: &tokio::runtime::Runtime, dir: &std::path::Path) -> Router {
    let app = server::app(open_hashed(config(dir), dir));
    tokio.block_on(store_lockers(&app, 0..2));
    app
}

#[test]
fn arbitrary_path_segments_and_queries_never_fail_the_server() {
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(&tokio, dir.path());
    // Any bytes, percent-encoded, as a user id, session id or unit id, and any query string.
    let segment = proptest::collection::vec(any::<u8>(), 0..40).prop_map(|bytes| {
        bytes
            .iter()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    });
    let query = "[a-z_=&%0-9]{0,30}";
    let strategy = (segment.clone(), segment, query, 0..4usize);
    runner(160)
        .run(&strategy, |(a, b, q, shape)| {
            let uri = match shape {
                0 => format!("/v1/users/{a}/sessions?{q}"),
                1 => format!("/v1/users/{a}/sessions/{b}"),
                2 => format!("/v1/users/ann/units/{b}?{q}"),
                _ => format!("/v1/users/{a}/persona?{q}"),
            };
            let request = Request::builder()
                .method(Method::GET)
                .uri(&uri)
                .body(Body::empty());
            // A target the HTTP library itself refuses to build is no request at all.
            let Ok(request) = request else { return Ok(()) };
            let (status, answer) = tokio.block_on(call_raw(&app, request));
            well_answered(status, &answer, &uri)
        })
        .unwrap();
}

#[test]
fn arbitrary_locomo_files_are_read_or_refused_without_panicking() {
    let fixture: Value = serde_json::from_slice(&std::fs::read(fixture_path()).unwrap()).unwrap();
    // The fixture with one value somewhere replaced by another of any type.
    fn paths(value: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match value {
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
                let mut next = at.clone();
                next.push(i.to_string());
                paths(v, next, out);
            }),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                let mut next = at.clone();
                next.push(k.clone());
                paths(v, next, out);
            }),
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(&fixture, Vec::new(), &mut all);
    let strategy = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| (None, b)),
        (0..all.len(), json_value()).prop_map(|(i, v)| (Some((i, v)), Vec::new())),
    ];
    runner(256)
        .run(&strategy, |(mutation, bytes)| {
            let bytes = match mutation {
                None => bytes,
                Some((i, replacement)) => {
                    let mut file = fixture.clone();
                    let mut at = &mut file;
                    for step in &all[i] {
                        at = match at {
                            Value::Array(items) => &mut items[step.parse::<usize>().unwrap()],
                            other => &mut other[step.as_str()],
                        };
                    }
                    *at = replacement;
                    serde_json::to_vec(&file).unwrap()
                }
            };
            // Either result is fine; a panic is not.
            let _ = server::import::locomo::parse(&bytes);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_dates_and_queries_are_analysed_without_panicking() {
    let text = prop_oneof![
        any::<String>(),
        "(on|in|since|until|early|late) (July|Dec|Sept|[0-9]{1,4}),? [0-9]{0,5}",
        "[0-9]{1,2}:[0-9]{2} (am|pm) on [0-9]{1,2} [A-Za-z]{3,9},? [0-9]{1,5}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})",
    ];
    runner(512)
        .run(&text, |text| {
            let _ = memory::Timestamp::parse_rfc3339(&text);
            let _ = server::import::locomo::parse_date(&text);
            let analysis =
                retrieval::analysis::analyse(&text, &["Ann".to_owned(), "Bo".to_owned()]);
            for range in &analysis.dates {
                if let (Some(from), Some(to)) = (range.from, range.to) {
                    prop_assert!(from <= to, "{text}: {range:?}");
                }
            }
            Ok(())
        })
        .unwrap();
}
