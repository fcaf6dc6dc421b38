//! Export and import: a user's memory written to a JSON Lines archive, erased, and imported
//! again gives the same sessions, persona statements with their history, people's unit edits
//! and deletes, audit entries, and the same search results in the same order; a bad archive or
//! a user who already has memory stores nothing. Through the real router, SQLite and tantivy,
//! with the deterministic test embedder (nothing here is about the model's quality).

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tests::{call, call_raw, fixture, hashed_app, ingest_conversation};

const USER: &str = "conv-a";

async fn ok(app: &Router, method: Method, uri: &str, body: Option<&Value>) -> Value {
    let (status, reply) = call(app, method, uri, body).await;
    assert!(status.is_success(), "{uri}: {status} {reply}");
    reply
}

/// The archive as the export endpoint sends it.
async fn export(app: &Router, user: &str) -> String {
    let response = tower::ServiceExt::oneshot(
        app.clone(),
        Request::get(format!("/v1/users/{user}/export"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/x-ndjson"
    );
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn import(
    app: &Router,
    user: &str,
    archive: &str,
    content_type: &str,
) -> (StatusCode, Value) {
    let request = Request::post(format!("/v1/users/{user}/import"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(archive.to_owned()))
        .unwrap();
    call_raw(app, request).await
}

/// Removes what is store-local (row ids; the turns' writer and channel, which an import
/// records as the importer's) so that two stores compare.
fn without_ids(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for key in [
                "id",
                "unit_id",
                "statement_id",
                "turn_id",
                "turn_ids",
                "superseded_by",
                "writer",
                "channel",
                "next_after",
            ] {
                map.remove(key);
            }
            for v in map.values_mut() {
                *v = without_ids(v.take());
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                *v = without_ids(v.take());
            }
        }
        _ => {}
    }
    value
}

/// Everything a person can read about the user, store-local ids removed.
async fn snapshot(app: &Router, edited_unit: &str, queries: &[&str]) -> Value {
    let sessions = ok(
        app,
        Method::GET,
        &format!("/v1/users/{USER}/sessions"),
        None,
    )
    .await;
    let mut full = Vec::new();
    let mut units = Vec::new();
    for s in sessions["sessions"].as_array().unwrap() {
        let id = s["session_id"].as_str().unwrap();
        full.push(
            ok(
                app,
                Method::GET,
                &format!("/v1/users/{USER}/sessions/{id}"),
                None,
            )
            .await,
        );
        let page = ok(
            app,
            Method::GET,
            &format!("/v1/users/{USER}/units?session_id={id}&limit=1000"),
            None,
        )
        .await;
        let mut these: Vec<Value> = page["units"].as_array().unwrap().clone();
        these.sort_by_key(|u| format!("{}|{}|{}", u["granularity"], u["ordinal"], u["text"]));
        units.extend(these);
    }
    let persona = ok(
        app,
        Method::GET,
        &format!("/v1/users/{USER}/persona?history=true"),
        None,
    )
    .await;
    let mut histories = Vec::new();
    for s in persona["statements"].as_array().unwrap() {
        let id = s["id"].as_i64().or(s["statement_id"].as_i64()).unwrap();
        histories.push(
            ok(
                app,
                Method::GET,
                &format!("/v1/users/{USER}/persona/statements/{id}/history"),
                None,
            )
            .await,
        );
    }
    // The edited unit's history, found by its text.
    let edited = units
        .iter()
        .find(|u| u["text"] == edited_unit)
        .expect("the edited unit")["unit_id"]
        .as_i64()
        .unwrap();
    let unit_history = ok(
        app,
        Method::GET,
        &format!("/v1/users/{USER}/units/{edited}/history"),
        None,
    )
    .await;
    let mut searches = Vec::new();
    for q in queries {
        for strategy in ["memgas", "hybrid"] {
            let found = ok(
                app,
                Method::POST,
                &format!("/v1/users/{USER}/search"),
                Some(&json!({"query": q, "top_k": 15, "strategy": strategy})),
            )
            .await;
            searches.push(json!({"query": q, "strategy": strategy, "results": found["results"]}));
        }
    }
    without_ids(json!({
        "sessions": full,
        "units": units,
        "persona": persona,
        "histories": histories,
        "unit_history": unit_history,
        "searches": searches,
    }))
}

/// The user's audit entries, oldest first.
async fn audit(app: &Router) -> Vec<Value> {
    let page = ok(
        app,
        Method::GET,
        &format!("/v1/users/{USER}/audit?limit=1000"),
        None,
    )
    .await;
    page["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_exported_user_erased_and_imported_again_is_the_same_memory() {
    let (_dir, engine, app) = hashed_app();
    let conversation = fixture().into_iter().find(|c| c.sample_id == USER).unwrap();
    ingest_conversation(&app, &conversation).await;

    // A person corrects a round, deletes a turn unit, corrects and deletes statements.
    let page = ok(
        &app,
        Method::GET,
        &format!("/v1/users/{USER}/units?limit=1000"),
        None,
    )
    .await;
    let units = page["units"].as_array().unwrap();
    let round = units.iter().find(|u| u["granularity"] == "round").unwrap();
    let edited_text = "Corrected by a person: the pottery class is on Thursdays.";
    ok(
        &app,
        Method::PATCH,
        &format!("/v1/users/{USER}/units/{}", round["unit_id"]),
        Some(&json!({"text": edited_text})),
    )
    .await;
    let turn = units
        .iter()
        .find(|u| u["granularity"] == "turn" && u["session_id"] == round["session_id"])
        .unwrap();
    ok(
        &app,
        Method::DELETE,
        &format!("/v1/users/{USER}/units/{}", turn["unit_id"]),
        None,
    )
    .await;
    let persona = ok(
        &app,
        Method::GET,
        &format!("/v1/users/{USER}/persona"),
        None,
    )
    .await;
    let statements = persona["statements"].as_array().unwrap();
    assert!(statements.len() >= 2, "{persona:#}");
    let id = |s: &Value| s["id"].as_i64().or(s["statement_id"].as_i64()).unwrap();
    ok(
        &app,
        Method::PATCH,
        &format!("/v1/users/{USER}/persona/statements/{}", id(&statements[0])),
        Some(&json!({"text": "Corrected by a person: loves hiking in the Alps."})),
    )
    .await;
    ok(
        &app,
        Method::DELETE,
        &format!("/v1/users/{USER}/persona/statements/{}", id(&statements[1])),
        None,
    )
    .await;
    let queries = [
        "pottery class",
        "hiking in the mountains",
        "what did they talk about last week",
    ];
    let before = snapshot(&app, edited_text, &queries).await;
    let audit_before = audit(&app).await;

    let archive = export(&app, USER).await;
    let lines: Vec<Value> = archive
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "header");
    assert_eq!(lines[0]["format"], "mnemo-user-archive");
    assert_eq!(lines[0]["version"], 1);
    assert_eq!(lines.last().unwrap()["type"], "end");
    assert!(!archive.contains("embedding\""), "no vectors in an archive");

    ok(&app, Method::DELETE, &format!("/v1/users/{USER}"), None).await;
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/v1/users/{USER}/sessions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, receipt) = import(&app, USER, &archive, "application/x-ndjson").await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["sessions"], conversation.sessions.len());
    assert_eq!(receipt["pending"], 0);

    let after = snapshot(&app, edited_text, &queries).await;
    let session = ok(
        &app,
        Method::GET,
        &format!("/v1/users/{USER}/sessions/session_1"),
        None,
    )
    .await;
    assert_eq!(session["turns"][0]["channel"], "import", "{session}");
    for key in [
        "sessions",
        "units",
        "persona",
        "histories",
        "unit_history",
        "searches",
    ] {
        assert_eq!(
            before[key], after[key],
            "{key} differs after the round trip"
        );
    }
    // The audit log holds what it held (the erase record aside), then the import.
    let audit_after = audit(&app).await;
    let strip = |entries: &[Value]| -> Vec<Value> {
        entries
            .iter()
            .map(|e| without_ids(e.clone()))
            .filter(|e| e["action"] != "erase_user")
            .collect()
    };
    let kept = strip(&audit_after);
    assert_eq!(kept[..kept.len() - 1], strip(&audit_before)[..]);
    assert_eq!(kept.last().unwrap()["action"], "import_user");
    // Exporting the imported user gives the same records again.
    let again = export(&app, USER).await;
    assert_eq!(
        again.lines().count(),
        archive.lines().count() + 2,
        "the erase and import entries are the only new lines"
    );
    let problems = engine.check_indexes().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");

    // The person's edits hold through a rebuild after the import, as before it: the edited
    // round keeps its text, the deleted turn unit is not built again.
    let session = round["session_id"].as_str().unwrap();
    ok(
        &app,
        Method::POST,
        &format!("/v1/users/{USER}/sessions/{session}/turns"),
        Some(&json!({"turns": [tests::turn("late-1", "Maya", "user", "One more thing to add.")]})),
    )
    .await;
    let page = ok(
        &app,
        Method::GET,
        &format!("/v1/users/{USER}/units?session_id={session}&limit=1000"),
        None,
    )
    .await;
    let texts: Vec<&str> = page["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&edited_text), "{texts:?}");
    assert!(
        !texts.contains(&turn["text"].as_str().unwrap()),
        "the deleted unit came back: {texts:?}"
    );
}

#[tokio::test]
async fn a_bad_archive_or_a_user_with_memory_is_refused_and_nothing_is_stored() {
    let (dir, _engine, app) = hashed_app();
    let conversation = fixture().into_iter().find(|c| c.sample_id == USER).unwrap();
    ingest_conversation(&app, &conversation).await;
    let archive = export(&app, USER).await;
    let count = |sql: &str| tests::sqlite_count(dir.path(), sql);
    let sessions = count("SELECT COUNT(*) FROM sessions");
    let statements = count("SELECT COUNT(*) FROM persona_statements");

    // The user still has memory.
    let (status, body) = import(&app, USER, &archive, "application/x-ndjson").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "user_not_empty");

    let lines: Vec<&str> = archive.lines().collect();
    let cut = lines[..lines.len() - 1].join("\n");
    let newer = archive.replacen("\"version\":1", "\"version\":99", 1);
    let mut session: Value = serde_json::from_str(lines[1]).unwrap();
    session["turns"][0]["text"] = json!("   ");
    let mut blank = lines.clone();
    let blank_line = session.to_string();
    blank[1] = &blank_line;
    let blank = blank.join("\n");
    let mut session: Value = serde_json::from_str(lines[1]).unwrap();
    session["units"][0]["turns"] = json!([9999]);
    let mut dangling = lines.clone();
    let dangling_line = session.to_string();
    dangling[1] = &dangling_line;
    let dangling = dangling.join("\n");
    for (what, body) in [
        ("cut short", cut.as_str()),
        ("a newer format version", newer.as_str()),
        ("a blank turn", blank.as_str()),
        ("a unit covering a missing turn", dangling.as_str()),
        ("not an archive", "{\"hello\": 1}"),
    ] {
        let (status, reply) = import(&app, "newcomer", body, "application/x-ndjson").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {reply}");
        assert_eq!(reply["error"]["code"], "invalid_archive", "{what}: {reply}");
    }
    let (status, reply) = import(&app, "newcomer", &archive, "text/csv").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{reply}");
    let (status, _) = call(&app, Method::GET, "/v1/users/newcomer/sessions", None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing of the refused imports is stored"
    );
    assert_eq!(count("SELECT COUNT(*) FROM sessions"), sessions);
    assert_eq!(count("SELECT COUNT(*) FROM persona_statements"), statements);

    // The same archive goes into another, empty user.
    let (status, receipt) = import(&app, "newcomer", &archive, "application/x-ndjson").await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(count("SELECT COUNT(*) FROM sessions"), 2 * sessions);
}
