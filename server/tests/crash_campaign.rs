//! The crash campaign: cycles of starting the real `mnemo serve`, several clients storing,
//! appending to, deleting and searching sessions and correcting and deleting persona statements
//! at once, and SIGKILL at a random moment; after each restart every acknowledged session,
//! append, delete and statement edit holds, everything pending gets built, and `mnemo check` is
//! clean. Prints restart times. The test suite runs 10 cycles;
//! `MNEMO_CRASH_CYCLES=100` (and `MNEMO_CRASH_SEED`) run the full campaign:
//!
//! ```sh
//! MNEMO_CRASH_CYCLES=100 cargo test --release -p server --test crash_campaign -- --nocapture
//! ```

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use common::{get, mnemo, model_installed, start_with};

/// A small deterministic generator (xorshift), so that a seed replays a campaign.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the server acknowledged, across cycles.
#[derive(Debug, Default, Clone)]
struct Acknowledged {
    /// Writes acknowledged in all, to time the kill by.
    writes: usize,
    /// Stored sessions and how many turns each was acknowledged to have.
    sessions: BTreeMap<String, usize>,
    /// Deleted sessions.
    deleted: BTreeSet<String>,
    /// Sessions whose last write was not answered (killed in flight): either outcome is right.
    unknown: BTreeSet<String>,
    /// Persona statements of `pia` a person corrected (the new text) or deleted (`None`).
    edits: BTreeMap<i64, Option<String>>,
    /// Statements whose last edit was not answered.
    editing: BTreeSet<i64>,
}

/// What Pia says about herself: each session gives the persona extractor statements to learn.
const LIKES: [&str; 8] = [
    "pottery", "hiking", "chess", "jazz", "sailing", "baking", "painting", "cycling",
];
const PETS: [&str; 6] = ["Miso", "Biscuit", "Pepper", "Luna", "Otto", "Juniper"];

/// The status of a request's answer; `None` once the server is gone.
async fn answered(request: reqwest::RequestBuilder) -> Option<reqwest::StatusCode> {
    Some(answered_with_code(request).await?.0)
}

/// A request's status and, for a failure, its error code; `None` once the server is gone.
async fn answered_with_code(
    request: reqwest::RequestBuilder,
) -> Option<(reqwest::StatusCode, String)> {
    let response = request.send().await.ok()?;
    let status = response.status();
    if status.is_success() {
        return Some((status, String::new()));
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Some((status, code))
}

/// Whether an answer says the write may still happen: a `timeout` answers the client, but the
/// write queued on the worker goes on, so its outcome is unknown.
fn outcome_unknown(status: reqwest::StatusCode, code: &str) -> bool {
    status == reqwest::StatusCode::SERVICE_UNAVAILABLE && code == "timeout"
}

/// Sends a request that must succeed or answer `also_fine`; `false` once the server is gone.
async fn succeeds(
    request: reqwest::RequestBuilder,
    also_fine: reqwest::StatusCode,
    what: &str,
) -> bool {
    let Some(status) = answered(request).await else {
        return false;
    };
    assert!(
        status.is_success() || status == also_fine,
        "{what}: {status}"
    );
    true
}

fn turn(session: &str, i: usize) -> Value {
    json!({ "speaker": if i.is_multiple_of(2) { "Ann" } else { "Bo" }, "text": format!("{session} turn {i}: the weather, the garden and the weekend."), "external_id": format!("{session}:{i}") })
}

/// One client's writes until the server dies: stores new sessions and appends to or deletes
/// acknowledged ones.
async fn writer(
    client: reqwest::Client,
    base: String,
    cycle: usize,
    id: usize,
    seed: u64,
    acked: Arc<Mutex<Acknowledged>>,
    progress: Arc<tokio::sync::Notify>,
) {
    let mut rng = Rng(seed | 1);
    for n in 0.. {
        let pick = rng.below(10);
        let existing: Vec<String> = {
            let a = acked.lock().unwrap();
            a.sessions
                .keys()
                .filter(|s| !a.unknown.contains(*s))
                .cloned()
                .collect()
        };
        let (session, request, turns) = if pick < 6 || existing.is_empty() {
            let session = format!("c{cycle}w{id}n{n}");
            let turns: Vec<Value> = (0..4).map(|i| turn(&session, i)).collect();
            let body = json!({ "session_id": session, "started_at": "2024-03-01T10:00:00Z", "turns": turns });
            (
                session,
                client
                    .post(format!("{base}/v1/users/ann/sessions?wait=false"))
                    .json(&body),
                Some(4),
            )
        } else {
            let session = existing[rng.below(existing.len() as u64) as usize].clone();
            if pick < 9 {
                let have = acked.lock().unwrap().sessions[&session];
                let body = json!({ "turns": [turn(&session, have)] });
                let request = client
                    .post(format!(
                        "{base}/v1/users/ann/sessions/{session}/turns?wait=false"
                    ))
                    .json(&body);
                (session, request, Some(have + 1))
            } else {
                (
                    session.clone(),
                    client.delete(format!("{base}/v1/users/ann/sessions/{session}")),
                    None,
                )
            }
        };
        // Marked in flight; a session another writer has in flight is left alone, so that the
        // order of two answers never decides what was acknowledged.
        if !acked.lock().unwrap().unknown.insert(session.clone()) {
            continue;
        }
        let Some((status, code)) = answered_with_code(request).await else {
            return;
        };
        let mut a = acked.lock().unwrap();
        if outcome_unknown(status, &code) {
            // Left in flight: never verified either way.
            continue;
        }
        if status.is_success() {
            a.writes += 1;
            progress.notify_one();
            a.unknown.remove(&session);
            match turns {
                Some(turns) => {
                    a.sessions.insert(session, turns);
                }
                None => {
                    a.sessions.remove(&session);
                    a.deleted.insert(session);
                }
            }
        } else if status.is_client_error() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            // Refused: nothing changed.
            a.unknown.remove(&session);
        } else {
            panic!("{session}: unexpected {status}");
        }
    }
}

/// The ids of `pia`'s active persona statements; `None` once the server is gone.
async fn active_statements(client: &reqwest::Client, base: &str) -> Option<Vec<i64>> {
    let response = client
        .get(format!("{base}/v1/users/pia/persona"))
        .send()
        .await
        .ok()?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        // No session of hers is stored yet.
        return Some(Vec::new());
    }
    assert!(
        response.status().is_success(),
        "persona: {}",
        response.status()
    );
    let body: Value = response.json().await.ok()?;
    Some(
        body["statements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["status"] == "active")
            .map(|s| s["statement_id"].as_i64().unwrap())
            .collect(),
    )
}

/// A person correcting what mnemo learnt about `pia` until the server dies: stores sessions in
/// which she talks about herself, then corrects or deletes the statements learnt from them.
async fn persona_editor(
    client: reqwest::Client,
    base: String,
    cycle: usize,
    seed: u64,
    acked: Arc<Mutex<Acknowledged>>,
    progress: Arc<tokio::sync::Notify>,
) {
    let mut rng = Rng(seed | 1);
    for n in 0.. {
        let Some(active) = active_statements(&client, &base).await else {
            return;
        };
        // A new session while she has few statements, and now and then; otherwise an edit.
        if active.len() < 4 || rng.below(8) == 0 {
            let like = LIKES[rng.below(LIKES.len() as u64) as usize];
            let pet = PETS[rng.below(PETS.len() as u64) as usize];
            let body = json!({ "session_id": format!("p{cycle}n{n}"), "turns": [
                { "speaker": "Pia", "text": format!("I love {like} on Sundays.") },
                { "speaker": "Pia", "text": format!("I adopted a puppy named {pet}.") },
            ] });
            let request = client
                .post(format!("{base}/v1/users/pia/sessions?wait=true"))
                .json(&body);
            if !succeeds(
                request,
                reqwest::StatusCode::SERVICE_UNAVAILABLE,
                "pia's session",
            )
            .await
            {
                return;
            }
            continue;
        }
        let id = active[rng.below(active.len() as u64) as usize];
        if !acked.lock().unwrap().editing.insert(id) {
            continue;
        }
        let url = format!("{base}/v1/users/pia/persona/statements/{id}");
        let delete = rng.below(4) == 0;
        let text = format!("Pia corrected this in cycle {cycle}, edit {n}.");
        let request = if delete {
            client.delete(&url)
        } else {
            client.patch(&url).json(&json!({ "text": text }))
        };
        let Some((status, code)) = answered_with_code(request).await else {
            return;
        };
        let mut a = acked.lock().unwrap();
        if outcome_unknown(status, &code) {
            // Left as being edited: never verified either way.
            continue;
        }
        if status.is_success() {
            a.writes += 1;
            progress.notify_one();
            a.editing.remove(&id);
            a.edits.insert(id, (!delete).then_some(text));
        } else if status.is_client_error() || status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            a.editing.remove(&id);
        } else {
            panic!("statement {id}: unexpected {status}");
        }
    }
}

/// One client's searches until the server dies; any answer but 200 fails the campaign.
async fn searcher(client: reqwest::Client, base: String) {
    loop {
        let body = json!({ "query": "the garden at the weekend", "top_k": 5 });
        let request = client
            .post(format!("{base}/v1/users/ann/search"))
            .json(&body);
        if !succeeds(request, reqwest::StatusCode::NOT_FOUND, "search").await {
            return;
        }
    }
}

/// Checks everything acknowledged against the restarted server.
async fn verify(client: &reqwest::Client, base: &str, acked: &Acknowledged) {
    for (session, turns) in &acked.sessions {
        if acked.unknown.contains(session) {
            continue;
        }
        let stored = get(client, format!("{base}/v1/users/ann/sessions/{session}")).await;
        let have = stored["turns"].as_array().map_or(0, Vec::len);
        assert!(
            have >= *turns,
            "{session}: acknowledged {turns} turns, found {have}: {stored}"
        );
    }
    for session in &acked.deleted {
        if acked.unknown.contains(session) {
            continue;
        }
        let response = client
            .get(format!("{base}/v1/users/ann/sessions/{session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{session} was deleted");
    }
    // An acknowledged correction or deletion is in the statement's history, whatever was
    // learnt since.
    for (id, edit) in &acked.edits {
        if acked.editing.contains(id) {
            continue;
        }
        let history = get(
            client,
            format!("{base}/v1/users/pia/persona/statements/{id}/history"),
        )
        .await;
        let versions = history["versions"].as_array().unwrap();
        let held = versions.iter().any(|v| match edit {
            Some(text) => v["action"] == "edited" && v["statement"]["text"] == text.as_str(),
            None => v["action"] == "deleted",
        });
        assert!(
            held,
            "statement {id}: acknowledged {edit:?}, history {history}"
        );
    }
}

/// Returns once everything pending at the restart is built: the worker builds sessions in
/// the order they were queued, pending ones first, so a new session stored with `wait=true`
/// comes back ready after them.
async fn settle(client: &reqwest::Client, base: &str, cycle: usize) {
    let marker = json!({ "session_id": format!("settle{cycle}"), "turns": [turn("settle", 0)] });
    let stored = common::post(client, format!("{base}/v1/users/settle/sessions"), &marker).await;
    assert_eq!(stored["status"], "ready", "{stored}");
    let stats = get(client, format!("{base}/v1/admin/stats")).await;
    assert_eq!(stats["pending_sessions"], 0, "{stats}");
}

fn check_clean(data: &Path) {
    let out = mnemo(data, &["check"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "mnemo check after a crash:\n{report}");
}

fn kill(mut server: Child) {
    server.kill().unwrap();
    server.wait().unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_at_random_moments() {
    if !model_installed() {
        return;
    }
    let cycles: usize = std::env::var("MNEMO_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("MNEMO_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261202);
    let mut rng = Rng(seed);
    let data = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut restarts = Vec::new();
    let mut server: Option<Child> = None;
    for cycle in 0..=cycles {
        let started = Instant::now();
        // The clients go as fast as they can: rate limits are not what this is about.
        let (child, base) = start_with(data.path(), &[("MNEMO__RATE_LIMIT__ENABLED", "false")]);
        if cycle > 0 {
            restarts.push(started.elapsed());
        }
        let snapshot = acked.lock().unwrap().clone();
        verify(&client, &base, &snapshot).await;
        settle(&client, &base, cycle).await;
        check_clean(data.path());
        if cycle == cycles {
            server = Some(child);
            break;
        }
        // Three writers, a persona editor and two searchers, killed after a random number of acknowledged
        // writes (the worker is then building, committing the index, or both).
        let progress = Arc::new(tokio::sync::Notify::new());
        let mut clients = Vec::new();
        for id in 0..3 {
            clients.push(tokio::spawn(writer(
                client.clone(),
                base.clone(),
                cycle,
                id,
                rng.next(),
                Arc::clone(&acked),
                Arc::clone(&progress),
            )));
        }
        clients.push(tokio::spawn(persona_editor(
            client.clone(),
            base.clone(),
            cycle,
            rng.next(),
            Arc::clone(&acked),
            Arc::clone(&progress),
        )));
        for _ in 0..2 {
            clients.push(tokio::spawn(searcher(client.clone(), base.clone())));
        }
        let target = snapshot.writes + 1 + rng.below(60) as usize;
        while acked.lock().unwrap().writes < target {
            progress.notified().await;
        }
        kill(child);
        for c in clients {
            c.await.unwrap();
        }
    }
    kill(server.unwrap());
    restarts.sort();
    let a = acked.lock().unwrap();
    eprintln!(
        "crash campaign: {cycles} kill -9 cycles (seed {seed}), {} sessions, {} deletes and {} persona statement edits acknowledged and holding, 0 lost; restart p50 {:.2} s, p95 {:.2} s",
        a.sessions.len(),
        a.deleted.len(),
        a.edits.len(),
        percentile(&restarts, 0.5).as_secs_f64(),
        percentile(&restarts, 0.95).as_secs_f64()
    );
}
