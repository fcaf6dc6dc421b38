//! The real `mnemo serve` process, killed with SIGKILL while it builds units, loses no session
//! it acknowledged, and finishes building them after a restart.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

mod common;
use common::{get, model_installed, post, start};

fn session(i: usize) -> Value {
    let turns: Vec<Value> = (0..12)
        .map(|t| {
            let text = if t == 5 {
                format!("My locker number at the climbing gym is {}.", 4000 + i)
            } else {
                format!("Turn {t} of session {i}: we talked about the weather, work and weekend plans.")
            };
            json!({ "speaker": if t % 2 == 0 { "Ann" } else { "Bo" }, "text": text, "external_id": format!("D{i}:{t}") })
        })
        .collect();
    json!({ "session_id": format!("s{i}"), "started_at": format!("2023-05-{:02}T10:00:00Z", i + 1), "turns": turns })
}

#[tokio::test]
async fn sigkill_during_ingest_loses_no_acknowledged_session() {
    if !model_installed() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let sessions = 20;

    let (mut first, base) = start(data.path());
    for i in 0..sessions {
        let response = client
            .post(format!("{base}/v1/users/ann/sessions?wait=false"))
            .json(&session(i))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }
    // Acknowledged and not necessarily built: kill the process without any warning.
    first.kill().unwrap();
    first.wait().unwrap();

    let (mut second, base) = start(data.path());
    for i in 0..sessions {
        let stored = get(&client, format!("{base}/v1/users/ann/sessions/s{i}")).await;
        assert_eq!(
            stored["turns"].as_array().map(Vec::len),
            Some(12),
            "s{i}: {stored}"
        );
        // Resending an acknowledged session with wait=true returns once it is built.
        let again = post(
            &client,
            format!("{base}/v1/users/ann/sessions"),
            &session(i),
        )
        .await;
        assert_eq!(
            (again["outcome"].as_str(), again["status"].as_str()),
            (Some("unchanged"), Some("ready")),
            "s{i}: {again}"
        );
    }
    let last = sessions - 1;
    let query = json!({ "query": format!("locker number {}", 4000 + last), "top_k": 1, "granularities": ["turn"] });
    let found = post(&client, format!("{base}/v1/users/ann/search"), &query).await;
    assert_eq!(
        found["results"][0]["turns"][0]["external_id"],
        format!("D{last}:5"),
        "{found:#}"
    );
    let health = get(&client, format!("{base}/v1/admin/stats")).await;
    assert_eq!(health["pending_sessions"], 0);
    assert_eq!(health["vectors"], health["text_documents"]);
    second.kill().unwrap();
    second.wait().unwrap();
}
