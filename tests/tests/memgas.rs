//! The MemGAS read and write paths through the HTTP router with the real model, SQLite and
//! tantivy: association edges, the entropy router's explanation, `as_of`, grouping by session
//! and per-request settings.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{
    call, config, embedder, external_ids, fixture, ingest_conversation, open_engine, sqlite_count,
};

const CELLO: &str = "Who taught Theo to play the cello?";

async fn search(app: &Router, body: Value) -> Value {
    let (status, found) = call(app, Method::POST, "/v1/users/conv-a/search", Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found
}

/// The id of the turn unit covering one external turn id.
async fn turn_unit(app: &Router, session: &str, external_id: &str) -> i64 {
    let uri = format!("/v1/users/conv-a/units?session_id={session}&granularity=turn&limit=1000");
    let (_, body) = call(app, Method::GET, &uri, None).await;
    body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| external_ids(u) == vec![external_id.to_owned()])
        .unwrap_or_else(|| panic!("no turn unit for {external_id}: {body:#}"))["unit_id"]
        .as_i64()
        .unwrap()
}

/// A unit with its links.
async fn unit(app: &Router, id: i64) -> Value {
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/v1/users/conv-a/units/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_new_turn_is_linked_to_the_earlier_turn_it_follows_up_and_links_go_with_their_session() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;

    // "I moved into the Porto flat last week" (session 3) follows up on the lease and the move
    // to Porto announced in session 1.
    let moved = turn_unit(&app, "session_3", "D3:6").await;
    let shown = unit(&app, moved).await;
    let links = shown["links"].as_array().unwrap().clone();
    assert!(!links.is_empty(), "{shown:#}");
    let mut covered: Vec<String> = Vec::new();
    for link in &links {
        let weight = link["weight"].as_f64().unwrap();
        assert!(weight > 0.0 && weight <= 1.0 + 1e-6, "{link}");
        let linked = unit(&app, link["unit_id"].as_i64().unwrap()).await;
        assert_ne!(
            linked["session_id"], "session_3",
            "links join different sessions"
        );
        covered.extend(external_ids(&linked));
    }
    assert!(
        covered.iter().any(|id| id == "D1:5" || id == "D1:6"),
        "{covered:?}"
    );
    let weights: Vec<f64> = links
        .iter()
        .map(|l| l["weight"].as_f64().unwrap())
        .collect();
    assert!(weights.windows(2).all(|w| w[0] >= w[1]), "strongest first");

    // Deleting session 1 removes every edge touching its units, and only those.
    let total = sqlite_count(dir.path(), "SELECT COUNT(*) FROM unit_edges");
    let touching = sqlite_count(
        dir.path(),
        "SELECT COUNT(*) FROM unit_edges e WHERE EXISTS (
             SELECT 1 FROM units n JOIN sessions s ON s.id = n.session_pk
             WHERE s.session_id = 'session_1' AND n.id IN (e.src, e.dst))",
    );
    assert!(touching > 0 && touching < total, "{touching} of {total}");
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/v1/users/conv-a/sessions/session_1",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sqlite_count(dir.path(), "SELECT COUNT(*) FROM unit_edges"),
        total - touching
    );
    let shown = unit(&app, moved).await;
    for link in shown["links"].as_array().unwrap() {
        let linked = unit(&app, link["unit_id"].as_i64().unwrap()).await;
        assert_eq!(linked["session_id"], "session_2", "{linked:#}");
    }
}

#[tokio::test]
async fn the_default_search_explains_its_router_weights_and_finds_the_fact() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;
    let found = search(&app, json!({ "query": CELLO, "top_k": 5, "explain": true })).await;
    assert_eq!(
        external_ids(&found["results"][0]),
        vec!["D2:5"],
        "{found:#}"
    );

    let router = found["router"].as_array().unwrap();
    let granularities: Vec<&str> = router
        .iter()
        .map(|r| r["granularity"].as_str().unwrap())
        .collect();
    for g in ["session", "round", "turn", "summary", "keywords"] {
        assert!(granularities.contains(&g), "{g} missing from {router:?}");
    }
    let sum: f64 = router.iter().map(|r| r["weight"].as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "weights sum to {sum}");
    for r in router {
        let (h, n) = (
            r["entropy"].as_f64().unwrap(),
            r["normalized_entropy"].as_f64().unwrap(),
        );
        assert!(h >= 0.0 && (0.0..=1.0 + 1e-4).contains(&n), "{r}");
        assert!(r["units"].as_u64().unwrap() > 0);
    }
    let weight = found["results"][0]["scores"]["router_weight"].as_f64();
    assert!(weight.is_some_and(|w| w > 0.0), "{found:#}");
    let fused: Vec<f64> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scores"]["fused"].as_f64().unwrap())
        .collect();
    assert!(fused.windows(2).all(|w| w[0] >= w[1]), "{fused:?}");

    // Hybrid search does not route, so it explains no router.
    let hybrid = search(
        &app,
        json!({ "query": CELLO, "strategy": "hybrid", "explain": true }),
    )
    .await;
    assert!(hybrid.get("router").is_none(), "{hybrid:#}");
}

#[tokio::test]
async fn as_of_searches_memory_as_it_was_and_sessions_can_be_grouped() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;
    let query = "Maya adopted a rescue greyhound named Pepper";
    let now = search(&app, json!({ "query": query, "top_k": 5 })).await;
    assert_eq!(now["results"][0]["session_id"], "session_3", "{now:#}");

    // Session 3 happened on 9 June 2023; in May it did not exist yet.
    for strategy in ["memgas", "hybrid"] {
        let then = search(
            &app,
            json!({ "query": query, "top_k": 20, "as_of": "2023-05-01T00:00:00Z", "strategy": strategy }),
        )
        .await;
        let results = then["results"].as_array().unwrap();
        assert!(!results.is_empty());
        assert!(
            results.iter().all(|r| r["session_id"] != "session_3"),
            "{strategy}: {then:#}"
        );
    }

    let grouped = search(
        &app,
        json!({ "query": CELLO, "top_k": 8, "group_by": "session" }),
    )
    .await;
    let results = grouped["results"].as_array().unwrap();
    let sessions = grouped["sessions"].as_array().unwrap();
    assert_eq!(sessions[0]["session_id"], results[0]["session_id"]);
    let mut ranks: Vec<u64> = sessions
        .iter()
        .flat_map(|s| s["result_ranks"].as_array().unwrap().clone())
        .map(|r| r.as_u64().unwrap())
        .collect();
    for s in sessions {
        for r in s["result_ranks"].as_array().unwrap() {
            let result = &results[r.as_u64().unwrap() as usize - 1];
            assert_eq!(result["session_id"], s["session_id"]);
        }
    }
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=results.len() as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn per_request_memgas_settings_change_the_ranking_and_bad_ones_are_rejected() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    ingest_conversation(&app, &fixture()[0]).await;

    // As published (PageRank over the graph, every granularity), results carry graph scores.
    let paper = search(
        &app,
        json!({ "query": CELLO, "top_k": 5, "memgas": {"graph_weight": 1.0, "returns": []} }),
    )
    .await;
    let first = &paper["results"][0]["scores"];
    assert!(
        first["graph"].as_f64().is_some_and(|g| g > 0.0),
        "{paper:#}"
    );

    for (body, word) in [
        (json!({ "query": CELLO, "memgas": {"lamda": 0.1} }), "lamda"),
        (
            json!({ "query": CELLO, "memgas": {"graph_weight": 3} }),
            "graph_weight",
        ),
        (
            json!({ "query": CELLO, "strategy": "hybrid", "memgas": {} }),
            "memgas",
        ),
        (
            json!({ "query": CELLO, "strategy": "memgas", "fusion": "rrf" }),
            "fusion",
        ),
        (json!({ "query": CELLO, "strategy": "best" }), "strategy"),
        (json!({ "query": CELLO, "as_of": "yesterday" }), "time"),
    ] {
        let (status, err) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(word), "{body} -> {err}");
        assert!(err["error"]["code"].as_str().is_some());
    } // Finite but huge or tiny: scores would overflow to infinity and NaN.
    for (body, word) in [
        (
            json!({ "query": CELLO, "memgas": {"lexical_weight": 1e38} }),
            "lexical_weight",
        ),
        (
            json!({ "query": CELLO, "memgas": {"lambda": 1e-30} }),
            "lambda",
        ),
    ] {
        let (status, err) = call(&app, Method::POST, "/v1/users/conv-a/search", Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} -> {err}");
        assert_eq!(err["error"]["code"], "invalid_field", "{err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(word),
            "{err}"
        );
    }
}

#[tokio::test]
async fn the_association_graph_is_reloaded_after_a_restart() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let query =
        json!({ "query": CELLO, "top_k": 10, "memgas": {"graph_weight": 1.0, "returns": []} });
    let before = {
        let app = server::app(open_engine(config(dir.path()), &model));
        ingest_conversation(&app, &fixture()[0]).await;
        search(&app, query.clone()).await
    };
    let app = server::app(open_engine(config(dir.path()), &model));
    let after = search(&app, query).await;
    let graph = |v: &Value| -> Vec<(i64, f64)> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["unit_id"].as_i64().unwrap(),
                    r["scores"]["graph"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert!(graph(&before).iter().any(|(_, g)| *g > 0.0));
    assert_eq!(graph(&before), graph(&after));
}

/// Stores a session of Maya and Theo's turns for user `conv-a`.
async fn store_session(app: &Router, session: &str, started_at: &str, turns: &[(&str, &str)]) {
    let turns: Vec<Value> = turns
        .iter()
        .map(|(speaker, text)| json!({"speaker": speaker, "role": "user", "text": text}))
        .collect();
    let body = json!({ "session_id": session, "started_at": started_at, "turns": turns });
    let (status, created) = call(app, Method::POST, "/v1/users/conv-a/sessions", Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

/// The text of the best result, and the whole response for messages.
async fn first_result(app: &Router, query: &str, memgas: Value) -> (String, Value) {
    let found = search(app, json!({ "query": query, "top_k": 3, "memgas": memgas })).await;
    let text = found["results"][0]["text"].as_str().unwrap().to_owned();
    (text, found)
}

#[tokio::test]
async fn a_month_named_without_a_year_favours_the_sessions_of_that_month() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    // The same trip told twice: only the month a question names can tell them apart.
    for (session, day) in [("june", "2023-06-12"), ("august", "2023-08-14")] {
        let turns = [
            (
                "Maya",
                "We went camping by the lake last weekend and saw a heron.",
            ),
            ("Theo", "That sounds peaceful, did the kids enjoy it?"),
            (
                "Maya",
                "They loved it, we roasted marshmallows every night.",
            ),
        ];
        store_session(&app, session, &format!("{day}T10:00:00Z"), &turns).await;
    }
    for (month, session) in [("June", "june"), ("August", "august"), ("June", "june")] {
        let question = format!("When did Maya go camping in {month}?");
        let found = search(&app, json!({ "query": question, "top_k": 3 })).await;
        assert_eq!(found["results"][0]["session_id"], session, "{found:#}");
    }
}

#[tokio::test]
async fn a_turn_that_only_asks_ranks_below_the_answer_that_states_the_fact() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    let turns = [
        ("Maya", "Wow, nice! Which board games do you like to play?"),
        (
            "Theo",
            "Mostly chess, and lately a board game called Catan with my cousins.",
        ),
        ("Maya", "I should learn chess too."),
    ];
    store_session(&app, "games", "2023-05-02T18:00:00Z", &turns).await;
    let query = "Which board games do they like to play?";

    let (first, found) = first_result(&app, query, json!({})).await;
    assert!(first.starts_with("Theo: Mostly chess"), "{found:#}");
    // Without the penalty the question, which repeats the query's words, comes first.
    let (first, found) = first_result(&app, query, json!({"question_penalty": 0.0})).await;
    assert!(first.starts_with("Maya: Wow, nice!"), "{found:#}");
}

#[tokio::test]
async fn a_question_asking_when_favours_the_turn_that_says_when() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_engine(config(dir.path()), &model));
    let turns = [
        (
            "Maya",
            "I love the farmers market, it is my favourite place in town.",
        ),
        ("Theo", "Same here, the bread stall is great."),
        ("Maya", "We were at the market two weeks ago."),
    ];
    store_session(&app, "market", "2023-05-20T09:00:00Z", &turns).await;
    let query = "When did Maya go to the farmers market?";

    let (first, found) = first_result(&app, query, json!({})).await;
    assert!(first.contains("two weeks ago"), "{found:#}");
    // Without the boost a turn that repeats the question's words comes first.
    let (first, found) = first_result(&app, query, json!({"when_boost": 0.0})).await;
    assert!(!first.contains("two weeks ago"), "{found:#}");
}
