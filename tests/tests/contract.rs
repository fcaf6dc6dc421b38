//! The API contract, through a real server on a loopback socket with real SQLite and tantivy:
//! the served OpenAPI document is the committed one, a cross-tenant and credentials matrix
//! over every operation the document lists, property-based fuzzing with schemathesis, and a
//! client generated from the document by openapi-python-client. Embeddings come from the
//! deterministic `HashedWords` stand-in: nothing here is about ranking.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use server::Config;
use tests::keyed::{ADMIN, keyed_config};
use tests::openapi::{self, Operation, api_tool, minimal_body};
use tests::{Served, open_hashed};

/// Planted in tenant A's data; tenant B must never read it.
const MARKER: &str = "zebracorn7q";

/// Keys on, rate limits off (the matrix and the fuzzer send many requests on purpose).
fn config() -> Config {
    let mut config = keyed_config();
    config.rate_limit.enabled = false;
    config
}

/// A request as a client sends it; `auth` is the whole `Authorization` value, if any.
async fn send(
    client: &Client,
    served: &Served,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, served.url(uri));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    match body {
        // An archive: JSON Lines, sent as the text it is.
        Some(Value::String(lines)) => {
            request = request
                .header("content-type", "application/x-ndjson")
                .body(lines.clone());
        }
        Some(body) => request = request.json(body),
        None => {}
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Sends as the admin key or a token and expects `status`, returning the JSON body.
async fn expect(
    client: &Client,
    served: &Served,
    (method, uri): (&str, &str),
    token: &str,
    body: Option<&Value>,
    status: StatusCode,
) -> Value {
    let (got, _, text) = send(client, served, method, uri, Some(&bearer(token)), body).await;
    assert_eq!(got, status, "{method} {uri}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn create_key(client: &Client, served: &Served, key: Value) -> Value {
    let uri = ("POST", "/v1/admin/keys");
    expect(client, served, uri, ADMIN, Some(&key), StatusCode::CREATED).await
}

/// Tenant A's data, with the marker in every place a reader could see it.
struct Victim {
    token: String,
    key_id: String,
    unit_id: i64,
    statement_id: i64,
    turn_id: i64,
    session: Value,
}

const VICTIM_USER: &str = "ann-of-acme";

async fn plant(client: &Client, served: &Served) -> Victim {
    let tenant = json!({"tenant_id": "acme", "name": format!("acme {MARKER}")});
    let uri = ("POST", "/v1/admin/tenants");
    expect(
        client,
        served,
        uri,
        ADMIN,
        Some(&tenant),
        StatusCode::CREATED,
    )
    .await;
    let key = json!({"tenant_id": "acme", "name": format!("bot {MARKER}"),
                     "scopes": ["read", "write", "admin"]});
    let created = create_key(client, served, key).await;
    let token = created["token"].as_str().unwrap().to_owned();
    let session = json!({
        "session_id": "s-a",
        "title": format!("Notes {MARKER}"),
        "started_at": "2024-03-01T10:00:00Z",
        "turns": [
            {"speaker": "Ann", "text": format!("I work as a nurse and my password is {MARKER}.")},
            {"speaker": "Bob", "text": format!("Noted, {MARKER} it is.")}
        ]
    });
    let uri = format!("/v1/users/{VICTIM_USER}/sessions");
    let post = ("POST", uri.as_str());
    expect(
        client,
        served,
        post,
        &token,
        Some(&session),
        StatusCode::CREATED,
    )
    .await;
    let uri = format!("/v1/users/{VICTIM_USER}/units?limit=1");
    let units = expect(client, served, ("GET", &uri), &token, None, StatusCode::OK).await;
    let uri = format!("/v1/users/{VICTIM_USER}/persona");
    let persona = expect(client, served, ("GET", &uri), &token, None, StatusCode::OK).await;
    let statement_id = persona["statements"][0]["statement_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("the victim has a persona statement: {persona}"));
    let uri = format!("/v1/users/{VICTIM_USER}/sessions/s-a");
    let stored = expect(client, served, ("GET", &uri), &token, None, StatusCode::OK).await;
    Victim {
        key_id: created["key_id"].as_str().unwrap().to_owned(),
        token,
        unit_id: units["units"][0]["unit_id"].as_i64().unwrap(),
        statement_id,
        turn_id: stored["turns"][0]["turn_id"].as_i64().unwrap(),
        session: stored,
    }
}

/// Checks an answer against the document: the status is listed, an error's code is one the
/// listed response allows, a `401` names the scheme, and the marker is absent.
fn check_answer(
    op: &Operation,
    case: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    text: &str,
) {
    let name = op.name();
    assert!(
        op.documents(status.as_u16()),
        "{name} ({case}): {status} is not in the document: {text}"
    );
    assert!(
        !text.contains(MARKER),
        "{name} ({case}) leaked the marker: {text}"
    );
    if !status.is_success() {
        let body: Value = serde_json::from_str(text).unwrap();
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            op.codes(status.as_u16()).contains(&code),
            "{name} ({case}): {code} is not documented for {status}"
        );
    }
    if status == StatusCode::UNAUTHORIZED {
        let scheme = headers["www-authenticate"].to_str().unwrap();
        assert!(scheme.starts_with("Bearer"), "{name} ({case}): {scheme}");
    }
}

/// The one answer an operation must give to a caller: its status and error code.
fn expected_code(status: StatusCode, text: &str) -> (u16, String) {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status.as_u16(), code)
}

#[tokio::test]
async fn every_documented_operation_keeps_tenants_and_credentials_apart() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(open_hashed(config(), dir.path())).await;
    let client = Client::new();

    // The document served is the committed one.
    let (status, _, served_doc) =
        send(&client, &served, "GET", "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let committed = std::fs::read_to_string(openapi::committed_path()).unwrap();
    assert_eq!(
        served_doc, committed,
        "the served document is docs/openapi.json"
    );
    let doc: Value = serde_json::from_str(&served_doc).unwrap();
    let operations = openapi::operations(&doc);

    let victim = plant(&client, &served).await;
    let uri = ("POST", "/v1/admin/tenants");
    let tenant_b = json!({"tenant_id": "beta"});
    expect(
        &client,
        &served,
        uri,
        ADMIN,
        Some(&tenant_b),
        StatusCode::CREATED,
    )
    .await;
    let all = json!(["read", "write", "admin"]);
    let b = create_key(
        &client,
        &served,
        json!({"tenant_id": "beta", "scopes": all}),
    )
    .await;
    let b = b["token"].as_str().unwrap().to_owned();
    // Tenant B's own user, so that its reads of its own tenant return something.
    let own = json!({"turns": [{"speaker": "Bo", "text": "I like quiet mornings."}]});
    expect(
        &client,
        &served,
        ("POST", "/v1/users/bo/sessions"),
        &b,
        Some(&own),
        StatusCode::CREATED,
    )
    .await;
    let revoked = create_key(
        &client,
        &served,
        json!({"tenant_id": "acme", "scopes": all}),
    )
    .await;
    let uri = format!("/v1/admin/keys/{}", revoked["key_id"].as_str().unwrap());
    expect(
        &client,
        &served,
        ("DELETE", &uri),
        ADMIN,
        None,
        StatusCode::OK,
    )
    .await;
    let revoked = revoked["token"].as_str().unwrap().to_owned();
    // For each role, a tenant-A key with every scope but that one.
    let mut lacking = std::collections::BTreeMap::new();
    for role in ["read", "write", "admin"] {
        let scopes: Vec<&str> = ["read", "write", "admin"]
            .into_iter()
            .filter(|s| *s != role)
            .collect();
        let key = create_key(
            &client,
            &served,
            json!({"tenant_id": "acme", "scopes": scopes}),
        )
        .await;
        lacking.insert(role, key["token"].as_str().unwrap().to_owned());
    }
    // The admin key's operations, tried with a tenant key holding every scope.
    lacking.insert("admin_key", victim.token.clone());

    let params = [
        ("user_id", VICTIM_USER.to_owned()),
        ("session_id", "s-a".to_owned()),
        ("unit_id", victim.unit_id.to_string()),
        ("statement_id", victim.statement_id.to_string()),
        ("turn_id", victim.turn_id.to_string()),
        ("tenant_id", "acme".to_owned()),
        ("key_id", victim.key_id.clone()),
    ];
    // An operation that creates a user (a `201` under `{user_id}`) makes tenant B a user of its
    // own with the victim's id, as two tenants may; it runs last, so every other operation
    // meets a user that B does not have.
    let creates_user =
        |op: &Operation| op.path.contains("{user_id}") && op.successes().contains(&201);
    let mut ordered: Vec<&Operation> = operations.iter().collect();
    ordered.sort_by_key(|op| creates_user(op));
    let mut covered = 0;
    let mut requests = 0;
    for op in ordered {
        let uri = op.uri(&params);
        let body = minimal_body(&doc, op);
        let Some(role) = op.role.as_deref() else {
            // Public: anyone gets the documented success, and nothing of tenant A's.
            let (status, headers, text) =
                send(&client, &served, &op.method, &uri, None, body.as_ref()).await;
            check_answer(op, "no key", status, &headers, &text);
            assert!(status.is_success(), "{}: {text}", op.name());
            covered += 1;
            requests += 1;
            continue;
        };
        // Tenant B's key with every scope, reaching for tenant A.
        let want = if role == "admin_key" {
            (403, "forbidden".to_owned())
        } else if creates_user(op) {
            (201, String::new())
        } else if op.path.contains("{user_id}") {
            // Exactly what B gets for a user that nobody has: a 404 that says nothing more.
            let nobody: Vec<(&str, String)> = params
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        if *k == "user_id" {
                            "nobody-at-all".to_owned()
                        } else {
                            v.clone()
                        },
                    )
                })
                .collect();
            let auth = bearer(&b);
            let (status, _, text) = send(
                &client,
                &served,
                &op.method,
                &op.uri(&nobody),
                Some(&auth),
                body.as_ref(),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{} for nobody: {text}",
                op.name()
            );
            requests += 1;
            let nobody = expected_code(status, &text);
            assert_eq!(nobody, (404, "user_not_found".to_owned()), "{}", op.name());
            nobody
        } else if op.path.contains("{key_id}") {
            (404, "key_not_found".to_owned())
        } else {
            // Tenant-wide reads and writes answer about B's own tenant.
            (op.successes()[0], String::new())
        };
        let attempt = |case: &'static str, auth: Option<String>, want: (u16, String)| {
            let (client, served, uri, body) = (&client, &served, &uri, body.as_ref());
            async move {
                let (status, headers, text) =
                    send(client, served, &op.method, uri, auth.as_deref(), body).await;
                check_answer(op, case, status, &headers, &text);
                let got = expected_code(status, &text);
                assert_eq!(got, want, "{} with {case}: {text}", op.name());
            }
        };
        attempt("tenant B", Some(bearer(&b)), want).await;
        // A key of tenant A without the scope the operation needs.
        let forbidden = (403, "forbidden".to_owned());
        attempt("missing scope", Some(bearer(&lacking[role])), forbidden).await;
        // Revoked, malformed and absent credentials.
        let made_up = "Bearer mnemo_0123456789abcdef_notasecret".to_owned();
        let cases = [
            ("revoked key", Some(bearer(&revoked))),
            ("malformed header", Some("Basic dXNlcjpwYXNz".to_owned())),
            ("empty bearer", Some("Bearer".to_owned())),
            ("made-up token", Some(made_up)),
            ("no header", None),
        ];
        for (case, auth) in cases {
            attempt(case, auth, (401, "unauthenticated".to_owned())).await;
        }
        covered += 1;
        requests += 7;
    }
    println!(
        "cross-tenant matrix: {covered} operations of {} in the document, {requests} requests",
        operations.len()
    );
    assert_eq!(covered, operations.len());

    // Tenant A's memory and key are as they were.
    let uri = format!("/v1/users/{VICTIM_USER}/sessions/s-a");
    let after = expect(
        &client,
        &served,
        ("GET", &uri),
        &victim.token,
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after, victim.session);
    served.stop().await;
}

/// Runs schemathesis against the live server with `auth`, limited to operations whose tag is
/// `tag` (or all but it, with `exclude`).
fn schemathesis(base: &str, auth: &str, filter: (&str, &str), report: &Path) {
    let output = Command::new(api_tool("schemathesis"))
        .args(["run", &format!("{base}/v1/openapi.json")])
        .args(["--header", &format!("Authorization: {auth}")])
        .args([filter.0, filter.1])
        .args([
            "--max-examples",
            "25",
            "--seed",
            "20261202",
            "--workers",
            "1",
        ])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance,negative_data_rejection",
        ])
        .args([
            "--request-timeout",
            "30",
            "--no-color",
            "--suppress-health-check",
            "all",
        ])
        .args(["--generation-database", "none"])
        .arg("--report-junit-path")
        .arg(report)
        .env(
            "SCHEMATHESIS_HOOKS",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("api/schemathesis_hooks.py"),
        )
        // Its own caches go beside the report, not into the repository.
        .current_dir(report.parent().unwrap())
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The report's end: failures, warnings and the summary (the start repeats the settings).
    let lines: Vec<&str> = stdout.lines().collect();
    let tail = lines[lines.len().saturating_sub(120)..].join("\n");
    eprintln!("{tail}");
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{tail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(open_hashed(config(), dir.path())).await;
    let client = Client::new();
    let victim = plant(&client, &served).await;
    let fuzzer = create_key(
        &client,
        &served,
        json!({"tenant_id": "acme", "scopes": ["read", "write"]}),
    )
    .await;
    let fuzzer = bearer(fuzzer["token"].as_str().unwrap());

    let reports = tempfile::tempdir().unwrap();
    let (memory, admin) = (
        reports.path().join("memory.xml"),
        reports.path().join("admin.xml"),
    );
    let run = {
        let base = served.base.clone();
        move || {
            // Memory operations as a tenant key; admin operations as the admin key.
            schemathesis(&base, &fuzzer, ("--exclude-tag", "admin"), &memory);
            schemathesis(&base, &bearer(ADMIN), ("--include-tag", "admin"), &admin);
        }
    };
    tokio::task::spawn_blocking(run).await.unwrap();

    // The known session is unchanged, read with a new key (the fuzzer may revoke keys).
    let reader = create_key(
        &client,
        &served,
        json!({"tenant_id": "acme", "scopes": ["read"]}),
    )
    .await;
    let uri = format!("/v1/users/{VICTIM_USER}/sessions/s-a");
    let reader = reader["token"].as_str().unwrap();
    let after = expect(
        &client,
        &served,
        ("GET", &uri),
        reader,
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after, victim.session);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_generated_from_the_document_stores_and_searches() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(open_hashed(config(), dir.path())).await;
    let client = Client::new();
    let tenant = json!({"tenant_id": "acme"});
    expect(
        &client,
        &served,
        ("POST", "/v1/admin/tenants"),
        ADMIN,
        Some(&tenant),
        StatusCode::CREATED,
    )
    .await;
    let key = create_key(
        &client,
        &served,
        json!({"tenant_id": "acme", "scopes": ["read", "write"]}),
    )
    .await;
    let token = key["token"].as_str().unwrap().to_owned();

    let generated = tempfile::tempdir().unwrap();
    let package = generated.path().join("mnemo_client");
    let generator = api_tool("openapi-python-client");
    let tools = generator.parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(&generator)
        .args(["generate", "--meta", "none", "--config"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("api/client-config.yaml"))
        .arg("--path")
        .arg(openapi::committed_path())
        .arg("--output-path")
        .arg(&package)
        .env("PATH", &path)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && package.join("api").exists(),
        "{log}"
    );
    assert!(!log.contains("Warning"), "the generator warned: {log}");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("api/generated_client.py");
    let (base, python) = (served.base.clone(), tools.join("python"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(generated.path())
            .env("MNEMO_URL", base)
            .env("MNEMO_TOKEN", token)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("stored trip: created"), "{stdout}");
    assert!(stdout.contains("found: Lisbon"), "{stdout}");
    assert!(stdout.contains("other user: user_not_found"), "{stdout}");

    // What the generated client stored is there for a plain HTTP reader too.
    let reader = create_key(
        &client,
        &served,
        json!({"tenant_id": "acme", "scopes": ["read"]}),
    )
    .await;
    let session = expect(
        &client,
        &served,
        ("GET", "/v1/users/ann/sessions/trip"),
        reader["token"].as_str().unwrap(),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(session["turns"].as_array().unwrap().len(), 2, "{session}");
    served.stop().await;
}
