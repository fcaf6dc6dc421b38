//! MCP over Streamable HTTP at `/mcp`, through the official `rmcp` client on a real socket, with
//! real SQLite and tantivy and API keys on: the tools, their annotations, and the same access
//! checks as REST. Embeddings come from the deterministic `HashedWords` stand-in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use tests::keyed::{ADMIN, keyed_config};
use tests::{Served, open_hashed};

type Client = RunningService<RoleClient, ()>;

async fn admin_post(served: &Served, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(served.url(path))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
    answer.json().await.unwrap()
}

/// A tenant with a key of these scopes; returns the key's token.
async fn tenant_key(served: &Served, tenant: &str, scopes: Value) -> String {
    let _ = reqwest::Client::new()
        .post(served.url("/v1/admin/tenants"))
        .bearer_auth(ADMIN)
        .json(&json!({ "tenant_id": tenant }))
        .send()
        .await
        .unwrap();
    let key = admin_post(
        served,
        "/v1/admin/keys",
        json!({"tenant_id": tenant, "scopes": scopes}),
    )
    .await;
    key["token"].as_str().unwrap().to_owned()
}

async fn connect(served: &Served, token: &str) -> Client {
    let config =
        StreamableHttpClientTransportConfig::with_uri(served.url("/mcp")).auth_header(token);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("the MCP client connects")
}

async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    let arguments = arguments.as_object().unwrap().clone();
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// A tool's JSON answer (its one text block), and whether it is an error.
fn body(result: &CallToolResult) -> (bool, Value) {
    let text = result.content[0]
        .as_text()
        .expect("a text answer")
        .text
        .clone();
    (
        result.is_error == Some(true),
        serde_json::from_str(&text).unwrap(),
    )
}

fn session(marker: &str) -> Value {
    json!({
        "user_id": "ann",
        "session_id": "s-1",
        "started_at": "2024-03-01T10:00:00Z",
        "turns": [
            {"speaker": "Ann", "text": format!("My locker code word is {marker}.")},
            {"speaker": "Bot", "role": "assistant", "text": "Noted, I will remember it."}
        ]
    })
}

#[tokio::test]
async fn an_agent_remembers_recalls_and_forgets_through_mcp_tools() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(open_hashed(keyed_config(), dir.path())).await;
    let key = tenant_key(&served, "acme", json!(["read", "write"])).await;
    let client = connect(&served, &key).await;

    // Every tool is listed with a schema naming the user, and honest annotations.
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for name in [
        "remember",
        "recall",
        "search",
        "get_persona",
        "list_sessions",
        "delete_session",
        "edit_statement",
        "delete_statement",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for tool in &tools {
        let props = tool.input_schema.get("properties").unwrap();
        assert!(props.get("user_id").is_some(), "{}: {props}", tool.name);
        let hints = tool.annotations.as_ref().unwrap();
        let reads = ["recall", "search", "get_persona", "list_sessions"];
        assert_eq!(
            hints.read_only_hint,
            Some(reads.contains(&tool.name.as_ref())),
            "{}",
            tool.name
        );
        if tool.name.starts_with("delete") {
            assert_eq!(hints.destructive_hint, Some(true), "{}", tool.name);
        }
    }

    let marker = "quokkaberry";
    let (failed, stored) = body(&call(&client, "remember", session(marker)).await);
    assert!(!failed, "{stored}");
    assert_eq!(stored["status"], "ready", "{stored}");
    let more = json!({"user_id": "ann", "session_id": "s-1", "append": true,
                      "turns": [{"speaker": "Ann", "text": "Also, my bike is green."}]});
    let (failed, appended) = body(&call(&client, "remember", more).await);
    assert!(!failed, "{appended}");
    assert_eq!(appended["turns"].as_array().unwrap().len(), 3, "{appended}");

    let ask = json!({"user_id": "ann", "query": "locker code word", "max_tokens": 200});
    let (failed, block) = body(&call(&client, "recall", ask.clone()).await);
    assert!(!failed, "{block}");
    assert!(
        block["context"].as_str().unwrap().contains(marker),
        "{block}"
    );
    assert!(!block["citations"].as_array().unwrap().is_empty());

    let (_, found) = body(
        &call(
            &client,
            "search",
            json!({"user_id": "ann", "query": "bike"}),
        )
        .await,
    );
    assert!(found["results"].to_string().contains("green"), "{found}");
    let (_, listed) = body(&call(&client, "list_sessions", json!({"user_id": "ann"})).await);
    assert_eq!(listed["sessions"][0]["session_id"], "s-1", "{listed}");
    let (failed, _) = body(&call(&client, "get_persona", json!({"user_id": "ann"})).await);
    assert!(!failed);

    let (failed, deleted) = body(
        &call(
            &client,
            "delete_session",
            json!({"user_id": "ann", "session_id": "s-1"}),
        )
        .await,
    );
    assert!(!failed, "{deleted}");
    let (_, after) = body(&call(&client, "recall", ask).await);
    assert!(!after.to_string().contains(marker), "{after}");

    // A bad argument is the REST error body, flagged as an error.
    let (failed, bad) = body(
        &call(
            &client,
            "recall",
            json!({"user_id": "ann", "query": "x", "max_tokens": 1}),
        )
        .await,
    );
    assert!(failed);
    assert_eq!(bad["error"]["code"], "invalid_field", "{bad}");
    client.cancel().await.unwrap();
    served.stop().await;
}

#[tokio::test]
async fn mcp_callers_are_checked_like_rest_callers() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(open_hashed(keyed_config(), dir.path())).await;
    let writer = tenant_key(&served, "acme", json!(["read", "write"])).await;
    let reader = tenant_key(&served, "acme", json!(["read"])).await;
    let stranger = tenant_key(&served, "beta", json!(["read", "write"])).await;
    let marker = "zebracorn";
    let acme = connect(&served, &writer).await;
    let (failed, _) = body(&call(&acme, "remember", session(marker)).await);
    assert!(!failed);

    // Another tenant's key never reaches acme's "ann", whatever it calls.
    let beta = connect(&served, &stranger).await;
    for (tool, args) in [
        ("recall", json!({"user_id": "ann", "query": "code word"})),
        ("search", json!({"user_id": "ann", "query": "code word"})),
        ("list_sessions", json!({"user_id": "ann"})),
        ("get_persona", json!({"user_id": "ann"})),
        (
            "delete_session",
            json!({"user_id": "ann", "session_id": "s-1"}),
        ),
    ] {
        let (failed, answer) = body(&call(&beta, tool, args).await);
        assert!(failed, "{tool}: {answer}");
        let code = answer["error"]["code"].as_str().unwrap();
        assert!(
            ["user_not_found", "session_not_found"].contains(&code),
            "{tool}: {answer}"
        );
        assert!(!answer.to_string().contains(marker));
    }

    // A read-only key reads but cannot write or delete.
    let read_only = connect(&served, &reader).await;
    let (failed, _) = body(&call(&read_only, "list_sessions", json!({"user_id": "ann"})).await);
    assert!(!failed);
    let (failed, answer) = body(
        &call(
            &read_only,
            "delete_session",
            json!({"user_id": "ann", "session_id": "s-1"}),
        )
        .await,
    );
    assert!(failed);
    assert_eq!(answer["error"]["code"], "forbidden", "{answer}");

    // Without a key, or with a made-up one, nothing gets past HTTP.
    let bare = StreamableHttpClientTransportConfig::with_uri(served.url("/mcp"));
    assert!(
        ().serve(StreamableHttpClientTransport::from_config(bare))
            .await
            .is_err()
    );
    let answer = reqwest::Client::new()
        .post(served.url("/mcp"))
        .bearer_auth("mnemo_0000000000000000_00")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let refused: Value = answer.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "unauthenticated", "{refused}");

    for client in [acme, beta, read_only] {
        client.cancel().await.unwrap();
    }
    served.stop().await;
}
