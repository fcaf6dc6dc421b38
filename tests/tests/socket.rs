//! The API on a real TCP socket, as a client sees it.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use tests::{Served, config, embedder, fixture, open_engine, open_hashed, session_body};

#[tokio::test]
async fn the_api_answers_on_a_real_socket() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = open_engine(config(dir.path()), &model);
    let served = Served::start(engine).await;
    let base = &served.base;
    let client = reqwest::Client::new();
    let conversation = &fixture()[1];
    let response = client
        .post(format!("{base}/v1/users/conv-b/sessions"))
        .json(&session_body(conversation, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("x-request-id"));
    let search: Value = client
        .post(format!("{base}/v1/users/conv-b/search"))
        .json(&json!({ "query": "What is Ken's daughter learning?", "top_k": 1, "granularities": ["turn"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        search["results"][0]["turns"][0]["external_id"], "D2:1",
        "{search:#}"
    );
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    served.stop().await;
}

/// Sends raw bytes to the server and reads until it closes the connection: the status, the
/// headers (lower-cased) and the body as JSON.
async fn raw(served: &Served, request: &[u8]) -> (u16, String, Value) {
    let address = served.base.trim_start_matches("http://").to_owned();
    let request = request.to_vec();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream.write_all(&request).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer:?}"));
    (status, head.to_lowercase(), body)
}

/// A GET of `target` with `extra` headers, asking the server to close afterwards.
fn get(target: &str, extra: usize) -> Vec<u8> {
    let mut request = format!("GET {target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for i in 0..extra {
        request.push_str(&format!("x-extra-{i}: {i}\r\n"));
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// Rejections made before any handler runs have the API's JSON error body, whether mnemo's
/// limits answer them or hyper, which cannot parse the request, does.
#[tokio::test]
async fn rejected_request_heads_get_coded_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let engine = tokio::task::spawn_blocking({
        let path = dir.path().to_path_buf();
        move || open_hashed(config(&path), &path)
    })
    .await
    .unwrap();
    let limits = engine.config().server.clone();
    let served = Served::start(engine).await;

    let (status, _, body) = raw(&served, &get("/health", 0)).await;
    assert_eq!((status, &body["status"]), (200, &json!("ok")));

    let long = format!("/health?q={}", "a".repeat(limits.max_uri_bytes));
    let cases = [
        // Just over the configured limits: mnemo's middleware answers.
        (get(&long, 0), 414, "uri_too_long", "the limit is"),
        // With host and connection, one header too many.
        (
            get("/health", limits.max_headers - 1),
            431,
            "headers_too_large",
            "the limit is",
        ),
        // Far over them, or unparsable: hyper answers, and the connection wrapper adds the
        // body. (A head larger than hyper's buffer is not sent here: the server closes with
        // the rest unread, and the reset that follows may race the answer.)
        (
            get("/health", limits.max_headers * 3),
            431,
            "headers_too_large",
            "larger than the server reads",
        ),
        (
            b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
            400,
            "bad_request",
            "could not be parsed",
        ),
        (
            b"GET /health HTTP/1.1\r\nbad header line\r\n\r\n".to_vec(),
            400,
            "bad_request",
            "could not be parsed",
        ),
    ];
    for (request, expected_status, expected_code, says) in cases {
        let (status, head, body) = raw(&served, &request).await;
        let start = String::from_utf8_lossy(&request[..40.min(request.len())]).into_owned();
        assert_eq!(status, expected_status, "{start:?}: {body}");
        assert_eq!(body["error"]["code"], expected_code, "{start:?}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{start:?}: {body}");
        assert!(head.contains("content-type: application/json"), "{head}");
    }
    served.stop().await;
}
