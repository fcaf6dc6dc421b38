//! The real binary: `mnemo export` writes a user's archive from one data directory, `mnemo
//! import archive` restores it into another, `mnemo check` finds the new directory whole, and
//! `mnemo search` answers the same in both. With the installed model.

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

mod common;
use common::{mnemo, model_installed};

fn run(data: &Path, args: &[&str]) -> Output {
    let output = mnemo(data, args).output().unwrap();
    assert!(
        output.status.success(),
        "mnemo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_exported_archive_imports_into_another_data_directory() {
    if !model_installed() {
        return;
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mini_locomo.json");
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("conv-a.jsonl");
    let fixture = fixture.to_str().unwrap();
    run(
        from.path(),
        &["import", "locomo", fixture, "--conversation", "conv-a"],
    );

    run(
        from.path(),
        &[
            "export",
            "--user",
            "conv-a",
            "--out",
            archive.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&archive).unwrap();
    assert!(text.starts_with("{\"type\":\"header\""), "{text:.200}");

    let imported = run(
        to.path(),
        &[
            "import",
            "archive",
            archive.to_str().unwrap(),
            "--user",
            "conv-a",
        ],
    );
    assert!(
        stdout(&imported).contains("3 sessions"),
        "{}",
        stdout(&imported)
    );
    run(to.path(), &["check"]);
    for query in ["Where is Theo moving?", "Who taught Theo the cello?"] {
        let args = ["search", "--user", "conv-a", "--top-k", "5", query];
        assert_eq!(
            stdout(&run(from.path(), &args)),
            stdout(&run(to.path(), &args)),
            "{query}"
        );
    }
    // A second import into the same user is refused: it has memory now.
    let again = mnemo(
        to.path(),
        &[
            "import",
            "archive",
            archive.to_str().unwrap(),
            "--user",
            "conv-a",
        ],
    )
    .output()
    .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already has memory"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
