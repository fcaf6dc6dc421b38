//! `mnemo mcp`, the real binary with the real model, driven over stdio by the official `rmcp`
//! client as an agent would launch it: a session remembered through one tool is recalled through
//! another, and a bad argument comes back as the REST error body.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

mod common;
use common::{mnemo, model_installed};

fn text(result: &CallToolResult) -> Value {
    let text = &result.content[0].as_text().expect("a text answer").text;
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn an_agent_launching_mnemo_mcp_remembers_and_recalls_over_stdio() {
    if !model_installed() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::from(mnemo(data.path(), &["mcp"]));
    command.env_remove("MNEMO_API_KEY");
    let client =
        ().serve(TokioChildProcess::new(command).unwrap())
            .await
            .expect("mnemo mcp starts and answers initialize");

    let call = |tool: &'static str, args: Value| {
        CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone())
    };
    let stored = client
        .call_tool(call(
            "remember",
            json!({"user_id": "ann", "session_id": "trip", "started_at": "2024-05-02T09:00:00Z",
                   "turns": [{"speaker": "Ann", "text": "We are flying to Lisbon on the tenth."},
                             {"speaker": "Bot", "role": "assistant", "text": "Have a great trip!"}]}),
        ))
        .await
        .unwrap();
    assert_ne!(stored.is_error, Some(true), "{stored:?}");
    assert_eq!(text(&stored)["status"], "ready");

    let recalled = client
        .call_tool(call(
            "recall",
            json!({"user_id": "ann", "query": "Where is Ann travelling?", "max_tokens": 300}),
        ))
        .await
        .unwrap();
    let block = text(&recalled);
    assert!(
        block["context"].as_str().unwrap().contains("Lisbon"),
        "{block}"
    );
    assert!(
        block["context"].as_str().unwrap().contains("[2024-05-02]"),
        "{block}"
    );

    let refused = client
        .call_tool(call("list_sessions", json!({"user_id": "ann", "limit": 0})))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(text(&refused)["error"]["code"], "invalid_query");
    client.cancel().await.unwrap();
}
