//! The web inspector at `/ui` in a real browser: headless Chromium driven through WebDriver
//! (Debian's `chromedriver`, the `fantoccini` crate) against a real server on loopback with
//! keys on, the real model, SQLite and tantivy. `./scripts/setup-browser` installs Chromium and
//! its driver. Each view is saved as a screenshot under `target/inspector/` for a reviewer.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tests::keyed::{ADMIN, keyed_config};
use tests::{Served, embedder, fixture, open_engine, session_body};

/// How long the browser may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(30);

/// A chromedriver process on a loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts chromedriver and waits for it to say that it listens (its own line on stdout).
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = ["chromedriver", "/usr/bin/chromedriver"]
            .into_iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok())
            .expect("chromedriver is installed: run ./scripts/setup-browser");
        // In a process group of its own, with the browsers it starts, so that dropping the
        // driver stops them all even when a failed step never closed the session.
        let mut child = Command::new(binary)
            .process_group(0)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let started = lines
            .by_ref()
            .take(20)
            .map_while(Result::ok)
            .any(|line| line.contains("started successfully"));
        assert!(started, "chromedriver did not start");
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session at 1280x800.
async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let mut options = json!({"args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=1280,800", "--no-first-run", "--disable-extensions"
    ]});
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    caps.insert("goog:chromeOptions".to_owned(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session");
    client.set_window_size(1280, 800).await.unwrap();
    client
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/inspector");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn find(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// Waits until the element `css` shows `needle` in its text, and returns that text.
async fn wait_text(client: &Client, css: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && text.contains(needle)
        {
            return text;
        }
        if std::time::Instant::now() >= deadline {
            screenshot(client, "failure").await;
            let page = client.find(Locator::Css("body")).await.unwrap();
            panic!(
                "{css} never showed {needle:?}; the page: {}",
                page.text().await.unwrap()
            );
        }
        // The page renders asynchronously; ask the browser again once it has had a frame.
        client
            .execute(
                "return new Promise(r => requestAnimationFrame(() => r(1)));",
                vec![],
            )
            .await
            .unwrap();
    }
}

async fn go(client: &Client, url: &str) {
    client.goto(url).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    find(client, css).await.click().await.unwrap();
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let input = find(client, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Replaces the text of the editor a click opened, and saves it.
async fn edit_and_save(client: &Client, text: &str) {
    type_into(client, "form.editor textarea", text).await;
    click(client, "form.editor button[type=submit]").await;
}

/// Stores the fixture's first conversation with `token`, as a client would.
async fn store_fixture(base: &str, token: &str) -> String {
    let conversation = &fixture()[0];
    let http = reqwest::Client::new();
    for i in 0..conversation.sessions.len() {
        let response = http
            .post(format!(
                "{base}/v1/users/{}/sessions?wait=true",
                conversation.sample_id
            ))
            .bearer_auth(token)
            .json(&session_body(conversation, i))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }
    conversation.sample_id.clone()
}

async fn api(base: &str, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_inspects_edits_and_erases_memory_in_a_browser() {
    let Some(model) = embedder() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = keyed_config();
    config.storage.data_dir = dir.path().to_path_buf();
    config.rate_limit.enabled = false;
    let served = Served::start(open_engine(config, &model)).await;
    let base = served.url("");
    let base = base.trim_end_matches('/').to_owned();
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/v1/admin/keys"))
        .bearer_auth(ADMIN)
        .json(&json!({"tenant_id": "default", "name": "inspector", "scopes": ["read", "write"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a key: {created}"))
        .to_owned();
    let user = store_fixture(&base, &token).await;

    let driver = Driver::start();
    let client = browser(&driver).await;
    let ui = format!("{base}/ui");

    // A wrong key is refused, and the refusal is shown with its code.
    go(&client, &ui).await;
    type_into(&client, "#key-input", "mnemo_0123456789abcdef_wrong").await;
    click(&client, "#key-use").await;
    wait_text(&client, "#errors", "unauthenticated").await;
    screenshot(&client, "01-wrong-key").await;

    // With the right key: the users, then the user's sessions on a timeline.
    type_into(&client, "#key-input", &token).await;
    click(&client, "#key-use").await;
    wait_text(&client, "#users", &user).await;
    click(&client, &format!("#users a[href='#/users/{user}']")).await;
    let timeline = wait_text(&client, "#timeline", "session_1").await;
    assert!(timeline.contains("2023"), "{timeline}");
    screenshot(&client, "02-user-timeline").await;

    // A session with its turns and its units per granularity, with build status.
    click(&client, "#timeline a").await;
    wait_text(&client, "#turns", "cardamom buns").await;
    wait_text(&client, "#build-status", "ready").await;
    let units = find(&client, "main").await.text().await.unwrap();
    screenshot(&client, "03-session").await;
    for granularity in ["summary", "keywords", "session", "round", "turn"] {
        assert!(
            units.contains(granularity),
            "{granularity} units shown: {units}"
        );
    }
    screenshot(&client, "03-session").await;

    // A unit with its provenance and links, and a link followed to the linked unit.
    let turns = api(
        &base,
        &token,
        &format!("/v1/users/{user}/units?session_id=session_3&granularity=turn"),
    )
    .await;
    let mut unit_id = None;
    for unit in turns["units"].as_array().unwrap() {
        let id = unit["unit_id"].as_i64().unwrap();
        let full = api(&base, &token, &format!("/v1/users/{user}/units/{id}")).await;
        if !full["links"].as_array().unwrap().is_empty() {
            unit_id = Some(id);
            break;
        }
    }
    let unit_id = unit_id.expect("a turn of session_3 is associated with other sessions");
    go(&client, &format!("{ui}#/users/{user}/units/{unit_id}")).await;
    wait_text(&client, "h1", &format!("Unit {unit_id}")).await;
    let links = find(&client, "#links a").await;
    let linked = links.text().await.unwrap();
    links.click().await.unwrap();
    wait_text(&client, "h1", &linked.replace("unit", "Unit")).await;
    screenshot(&client, "04-unit-and-links").await;

    // A search with its explanation: the router's weights and each result's signals as bars.
    go(&client, &format!("{ui}#/users/{user}/search")).await;
    type_into(&client, "#search-query", "Where did Theo sign a lease?").await;
    click(&client, "#search-form button[type=submit]").await;
    wait_text(&client, "#results", "results").await;
    let router = find(&client, "#router").await.text().await.unwrap();
    assert!(
        router.contains("turn") && router.contains("session"),
        "{router}"
    );
    let bars = client
        .find_all(Locator::Css(".result .bar[aria-label='fused score']"))
        .await
        .unwrap();
    assert!(!bars.is_empty());
    let top = bars[0].attr("aria-valuenow").await.unwrap().unwrap();
    assert_eq!(
        top.parse::<f32>().unwrap(),
        1.0,
        "the best fused score fills its bar"
    );
    wait_text(&client, "#results", "Porto").await;
    screenshot(&client, "05-search-explained").await;

    // A persona statement corrected in the page reaches search.
    go(&client, &format!("{ui}#/users/{user}/persona")).await;
    wait_text(&client, "main", "Theo").await;
    screenshot(&client, "06-persona").await;
    click(&client, ".statement[data-status='active'] button.secondary").await;
    edit_and_save(&client, "Has a pet axolotl named Biscuit.").await;
    wait_text(&client, "main", "axolotl").await;
    go(&client, &format!("{ui}#/users/{user}/search")).await;
    type_into(&client, "#search-query", "axolotl Biscuit").await;
    find(&client, "#search-granularity option[value='fact']")
        .await
        .click()
        .await
        .unwrap();
    click(&client, "#search-form button[type=submit]").await;
    wait_text(&client, "#results", "axolotl").await;

    // A unit edited, then deleted, each kept in its history.
    go(&client, &format!("{ui}#/users/{user}/units/{unit_id}")).await;
    click(&client, "#unit-edit").await;
    edit_and_save(&client, "Maya adopted a calm greyhound called Pepper.").await;
    wait_text(&client, "#unit-text", "calm greyhound").await;
    let history = wait_text(&client, "#history", "edited").await;
    assert!(history.contains("built"), "{history}");
    screenshot(&client, "07-unit-edited").await;
    click(&client, "#unit-delete").await;
    client.accept_alert().await.unwrap();
    wait_text(&client, "#turns", "Pepper").await;
    assert!(
        client
            .find(Locator::Css(&format!("[data-unit='{unit_id}']")))
            .await
            .is_err(),
        "the deleted unit is gone from its session's page"
    );

    // An API error is shown, not swallowed: a fact unit is edited through its statement.
    let facts = api(
        &base,
        &token,
        &format!("/v1/users/{user}/units?granularity=fact&limit=1"),
    )
    .await;
    let fact = facts["units"][0]["unit_id"].as_i64().unwrap();
    go(&client, &format!("{ui}#/users/{user}/units/{fact}")).await;
    click(&client, "#unit-edit").await;
    edit_and_save(&client, "Anything at all.").await;
    wait_text(&client, "#errors", "fact_unit").await;
    screenshot(&client, "08-api-error").await;

    // The audit log shows the changes.
    go(&client, &format!("{ui}#/users/{user}/audit")).await;
    let audit = wait_text(&client, "#audit", "delete_unit").await;
    assert!(
        audit.contains("edit_unit") && audit.contains("edit_statement"),
        "{audit}"
    );
    screenshot(&client, "09-audit").await;

    // Readable at phone width.
    client.set_window_size(390, 844).await.unwrap();
    go(&client, &format!("{ui}#/users/{user}")).await;
    wait_text(&client, "#timeline", "session_1").await;
    screenshot(&client, "10-phone").await;
    client.set_window_size(1280, 800).await.unwrap();

    // Export: the archive is downloaded with the key, and what it holds is told.
    go(&client, &format!("{ui}#/users/{user}/erase")).await;
    click(&client, "#export-button").await;
    let exported = wait_text(&client, "#export-status", "Downloaded").await;
    assert!(exported.contains("3 sessions"), "{exported}");

    // Erase, only after the user id is typed.
    let button = find(&client, "#erase-button").await;
    assert!(button.attr("disabled").await.unwrap().is_some());
    type_into(&client, "#erase-confirm", "not-the-user").await;
    assert!(button.attr("disabled").await.unwrap().is_some());
    type_into(&client, "#erase-confirm", &user).await;
    assert!(button.attr("disabled").await.unwrap().is_none());
    button.click().await.unwrap();
    let receipt = wait_text(&client, "#receipt", "files_scrubbed").await;
    assert!(receipt.contains("\"sessions\": 3"), "{receipt}");
    screenshot(&client, "11-erased").await;
    go(&client, &ui).await;
    wait_text(&client, "main", "No user has stored memory yet.").await;

    client.close().await.unwrap();
    served.stop().await;
}
