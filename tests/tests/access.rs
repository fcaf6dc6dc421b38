//! Access control through the real router and a real socket, with real SQLite and tantivy: API
//! keys, scopes, allow-lists and tenants that never see each other. Embeddings come from the
//! deterministic `HashedWords` stand-in: nothing here is about ranking.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tests::keyed::{ADMIN, create_key, create_tenant, delete, get, keyed_config, post, session};
use tests::{Served, call_as, open_hashed};

/// Every string inside a JSON value, concatenated: what a client could read.
fn text_of(value: &Value) -> String {
    value.to_string()
}

#[tokio::test]
async fn tenants_with_the_same_user_id_never_see_each_others_memory() {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(keyed_config(), dir.path()));
    create_tenant(&app, "acme").await;
    create_tenant(&app, "beta").await;
    let all = json!(["read", "write"]);
    let a = create_key(&app, ADMIN, json!({"tenant_id": "acme", "scopes": all})).await;
    let b = create_key(&app, ADMIN, json!({"tenant_id": "beta", "scopes": all})).await;

    let marker = "zebracorn";
    let planted = session("s-a", &format!("My secret word is {marker}."));
    let (status, body) = post(&app, &a, "/v1/users/ann/sessions", &planted).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(
        &app,
        &b,
        "/v1/users/ann/sessions",
        &session("s-b", "I like quiet mornings."),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Tenant B reaching for everything of tenant A's that it could name.
    let search = json!({"query": format!("secret word {marker}"), "top_k": 10});
    let reads: Vec<(Method, &str, Option<&Value>)> = vec![
        (Method::GET, "/v1/users", None),
        (Method::GET, "/v1/users/ann/sessions", None),
        (Method::GET, "/v1/users/ann/units", None),
        (Method::GET, "/v1/users/ann/persona", None),
        (Method::POST, "/v1/users/ann/search", Some(&search)),
    ];
    for (method, uri, body) in reads {
        let (status, answer) = call_as(&app, Some(&b), method, uri, body).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {answer}");
        assert!(!text_of(&answer).contains(marker), "{uri}: {answer}");
        assert!(!text_of(&answer).contains("s-a"), "{uri}: {answer}");
    }
    let (status, answer) = get(&app, &b, "/v1/users/ann/sessions/s-a").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "session_not_found");
    let (status, answer) = delete(&app, &b, "/v1/users/ann/sessions/s-a").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");

    // A user only tenant A has is missing for B, exactly like a user nobody has.
    let (status, body) = post(
        &app,
        &a,
        "/v1/users/carl/sessions",
        &session("s-c", "Carl here."),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, theirs) = get(&app, &b, "/v1/users/carl/sessions").await;
    let (_, nobodys) = get(&app, &b, "/v1/users/dora/sessions").await;
    assert_eq!(theirs["error"]["code"], "user_not_found");
    assert_eq!(
        text_of(&theirs).replace("carl", "?"),
        text_of(&nobodys).replace("dora", "?")
    );

    // Tenant A still has all of its own, and its list names only its users.
    let (_, users) = get(&app, &a, "/v1/users").await;
    assert_eq!(users["users"], json!(["ann", "carl"]));
    let (_, found) = post(&app, &a, "/v1/users/ann/search", &search).await;
    assert!(text_of(&found).contains(marker), "{found}");
}

#[tokio::test]
async fn scopes_and_allow_lists_limit_what_a_key_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(keyed_config(), dir.path()));
    create_tenant(&app, "acme").await;
    let writer = create_key(
        &app,
        ADMIN,
        json!({"tenant_id": "acme", "scopes": ["read", "write"]}),
    )
    .await;
    let reader = create_key(
        &app,
        ADMIN,
        json!({"tenant_id": "acme", "scopes": ["read"]}),
    )
    .await;
    let ann_only = create_key(
        &app,
        ADMIN,
        json!({"tenant_id": "acme", "scopes": ["read", "write"], "user_ids": ["ann"]}),
    )
    .await;
    for user in ["ann", "bob"] {
        let uri = format!("/v1/users/{user}/sessions");
        let body = session("s1", "Hello there.");
        let (status, answer) = post(&app, &writer, &uri, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    // Read scope reads, and is forbidden to write or delete; nothing changes.
    let (status, _) = get(&app, &reader, "/v1/users/ann/sessions/s1").await;
    assert_eq!(status, StatusCode::OK);
    let append = json!({"turns": [{"speaker": "Ann", "text": "More."}]});
    for (method, uri, body) in [
        (
            Method::POST,
            "/v1/users/ann/sessions",
            Some(session("s2", "x")),
        ),
        (
            Method::POST,
            "/v1/users/ann/sessions/s1/turns",
            Some(append),
        ),
        (Method::DELETE, "/v1/users/ann/sessions/s1", None),
        (
            Method::POST,
            "/v1/admin/keys",
            Some(json!({"scopes": ["read"]})),
        ),
    ] {
        let (status, answer) = call_as(&app, Some(&reader), method, uri, body.as_ref()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {answer}");
        assert_eq!(answer["error"]["code"], "forbidden");
    }
    let (_, listed) = get(&app, &reader, "/v1/users/ann/sessions").await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["sessions"][0]["turn_count"], 1, "{listed}");

    // An allow-list: bob is missing, and missing from the user list.
    let (status, answer) = get(&app, &ann_only, "/v1/users/bob/sessions/s1").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "user_not_found");
    let (_, users) = get(&app, &ann_only, "/v1/users").await;
    assert_eq!(users["users"], json!(["ann"]));

    // The admin key manages, but reads no memory.
    let (status, answer) = get(&app, ADMIN, "/v1/users/ann/sessions").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
}

#[tokio::test]
async fn a_tenants_admin_key_manages_only_its_own_keys() {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(keyed_config(), dir.path()));
    create_tenant(&app, "acme").await;
    create_tenant(&app, "beta").await;
    let acme_admin = create_key(
        &app,
        ADMIN,
        json!({"tenant_id": "acme", "scopes": ["admin", "read"]}),
    )
    .await;
    let beta_key = create_key(
        &app,
        ADMIN,
        json!({"tenant_id": "beta", "scopes": ["read"]}),
    )
    .await;
    let beta_id = beta_key.split('_').nth(1).unwrap().to_owned();

    // Its own tenant by default; another tenant is answered as missing.
    let own = create_key(
        &app,
        &acme_admin,
        json!({"scopes": ["read"], "name": "bot"}),
    )
    .await;
    let (status, answer) = post(
        &app,
        &acme_admin,
        "/v1/admin/keys",
        &json!({"tenant_id": "beta", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "tenant_not_found");

    // It lists its tenant's keys only, never a secret.
    let (status, listed) = get(&app, &acme_admin, "/v1/admin/keys").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{listed}");
    assert!(keys.iter().all(|k| k["tenant_id"] == "acme"));
    assert!(!text_of(&listed).contains(own.split('_').nth(2).unwrap()));
    assert!(keys.iter().all(|k| k.get("token").is_none()));

    // Another tenant's key cannot be revoked by it, and stays valid.
    let uri = format!("/v1/admin/keys/{beta_id}");
    let (status, answer) = delete(&app, &acme_admin, &uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"]["code"], "key_not_found");
    let (status, _) = get(&app, &beta_key, "/v1/users").await;
    assert_eq!(status, StatusCode::OK);

    // Tenants and statistics are the admin key's.
    for (method, uri) in [
        (Method::GET, "/v1/admin/tenants"),
        (Method::GET, "/v1/admin/stats"),
        (Method::DELETE, "/v1/admin/tenants/beta"),
    ] {
        let (status, answer) = call_as(&app, Some(&acme_admin), method, uri, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {answer}");
    }
}

#[tokio::test]
async fn a_tenant_with_memory_is_not_deleted_and_its_keys_go_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(keyed_config(), dir.path()));
    create_tenant(&app, "acme").await;
    let key = create_key(
        &app,
        ADMIN,
        json!({"tenant_id": "acme", "scopes": ["read", "write"]}),
    )
    .await;
    let body = session("s1", "Hello.");
    let (status, _) = post(&app, &key, "/v1/users/ann/sessions", &body).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, answer) = delete(&app, ADMIN, "/v1/admin/tenants/acme").await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "tenant_not_empty");
    let (status, _) = get(&app, &key, "/v1/users/ann/sessions/s1").await;
    assert_eq!(status, StatusCode::OK, "a refused delete changes nothing");

    let (status, _) = delete(&app, &key, "/v1/users/ann/sessions/s1").await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = delete(&app, ADMIN, "/v1/admin/tenants/acme").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["keys"], 1);
    let (status, _) = get(&app, &key, "/v1/users").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, tenants) = get(&app, ADMIN, "/v1/admin/tenants").await;
    assert_eq!(tenants["tenants"][0]["tenant_id"], "default", "{tenants}");
    assert_eq!(tenants["tenants"].as_array().unwrap().len(), 1, "{tenants}");
}

#[tokio::test]
async fn a_key_lives_from_creation_to_revocation_over_a_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_hashed(keyed_config(), dir.path());
    let served = Served::start(engine).await;
    let client = reqwest::Client::new();
    let url = |path: &str| served.url(path);

    // No key, a malformed header, an unknown key: 401 with a challenge, nothing revealed.
    let health: Value = client
        .get(url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    for header in [None, Some("Basic abc"), Some("Bearer mnemo_0000_1111")] {
        let mut request = client.get(url("/v1/users"));
        if let Some(h) = header {
            request = request.header("authorization", h);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{header:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"mnemo\""
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }

    // Created, shown once, used.
    let created = client
        .post(url("/v1/admin/tenants"))
        .bearer_auth(ADMIN)
        .json(&json!({"tenant_id": "acme", "name": "Acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let again = client
        .post(url("/v1/admin/tenants"))
        .bearer_auth(ADMIN)
        .json(&json!({"tenant_id": "acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let key: Value = client
        .post(url("/v1/admin/keys"))
        .bearer_auth(ADMIN)
        .json(&json!({"tenant_id": "acme", "scopes": ["read", "write"], "name": "bot"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = key["token"].as_str().unwrap();
    let key_id = key["key_id"].as_str().unwrap();
    assert!(token.len() >= 64, "at least 256 random bits: {token}");
    let stored = client
        .post(url("/v1/users/ann/sessions"))
        .bearer_auth(token)
        .json(&session("s1", "I adopted a beagle."))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 201);
    let stats: Value = client
        .get(url("/v1/admin/stats"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["users"], 1, "{stats}");

    // Listed without its secret; the audit log names the key as the writer.
    let listed = client
        .get(url("/v1/admin/keys?tenant_id=acme"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains(key_id) && !listed.contains(token),
        "{listed}"
    );
    let actor: String = tests::sqlite_value(
        dir.path(),
        "SELECT actor FROM audit_log WHERE action = 'create_session' AND tenant = 'acme'",
    );
    assert_eq!(actor, key_id);

    // Revoked: the very next request fails.
    let revoked = client
        .delete(url(&format!("/v1/admin/keys/{key_id}")))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = client
        .get(url("/v1/users"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    served.stop().await;
}

#[tokio::test]
async fn words_stored_by_anyone_else_never_move_a_users_scores() {
    let dir = tempfile::tempdir().unwrap();
    let app = server::app(open_hashed(keyed_config(), dir.path()));
    create_tenant(&app, "acme").await;
    create_tenant(&app, "beta").await;
    let all = json!(["read", "write"]);
    let a = create_key(&app, ADMIN, json!({"tenant_id": "acme", "scopes": all})).await;
    let b = create_key(&app, ADMIN, json!({"tenant_id": "beta", "scopes": all})).await;
    for (id, text) in [
        ("s1", "We saw a quokka on the island trip."),
        ("s2", "The ferry was late and the sea was rough."),
        ("s3", "My sister prefers the mountains to the sea."),
    ] {
        let (status, body) = post(&app, &a, "/v1/users/ann/sessions", &session(id, text)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let query = json!({"query": "quokka island sea", "top_k": 10, "explain": true});
    let search = || async { post(&app, &a, "/v1/users/ann/search", &query).await.1 };
    let before = search().await;
    let lexical = before["results"][0]["scores"]["lexical"].as_f64();
    assert!(lexical.is_some_and(|s| s > 0.0), "{before:#}");

    // The same rare word, many times, in another tenant's user of the same id and in another
    // user of the same tenant: BM25 statistics are the user's own, so nothing moves.
    let planted = "quokka quokka quokka island island sea";
    let (status, _) = post(&app, &b, "/v1/users/ann/sessions", &session("p1", planted)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(&app, &a, "/v1/users/bob/sessions", &session("p2", planted)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(search().await, before, "scores moved");
}

#[tokio::test]
async fn a_key_past_its_search_rate_waits_while_other_keys_and_ingest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = keyed_config();
    config.rate_limit.search_per_minute = 1;
    config.rate_limit.search_burst = 2;
    let engine = open_hashed(config, dir.path());
    let app = server::app(engine.clone());
    create_tenant(&app, "acme").await;
    let all = json!({"tenant_id": "acme", "scopes": ["read", "write"]});
    let busy = create_key(&app, ADMIN, all.clone()).await;
    let other = create_key(&app, ADMIN, all).await;
    let (status, _) = post(&app, &busy, "/v1/users/ann/sessions", &session("s1", "Hi.")).await;
    assert_eq!(status, StatusCode::CREATED);

    let served = Served::start(engine).await;
    let client = reqwest::Client::new();
    let search = |token: &str| {
        client
            .post(served.url("/v1/users/ann/search"))
            .bearer_auth(token)
            .json(&json!({"query": "hi"}))
            .send()
    };
    assert_eq!(search(&busy).await.unwrap().status(), 200);
    assert_eq!(search(&busy).await.unwrap().status(), 200);
    let limited = search(&busy).await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    assert_eq!(search(&other).await.unwrap().status(), 200);
    let appended = client
        .post(served.url("/v1/users/ann/sessions"))
        .bearer_auth(&busy)
        .json(&session("s2", "Still storing."))
        .send()
        .await
        .unwrap();
    assert_eq!(appended.status(), 201);
    served.stop().await;
}
