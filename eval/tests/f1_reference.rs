//! The F1 implementation against reference values computed once with Python's NLTK
//! (`tests/fixtures/make_f1_reference.py`).

// Helpers outside #[test] functions may unwrap too: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use eval::dataset::Category;
use eval::f1::score;
use eval::porter::stem;
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/f1_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[test]
fn porter_stems_match_nltk() {
    let reference = reference();
    let stems = reference["stems"].as_object().expect("stems");
    let wrong: Vec<String> = stems
        .iter()
        .filter(|(word, expected)| stem(word) != expected.as_str().unwrap_or_default())
        .map(|(word, expected)| format!("{word}: got {}, NLTK {expected}", stem(word)))
        .collect();
    assert!(stems.len() > 300);
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        stems.len(),
        wrong.join("\n")
    );
}

#[test]
fn locomo_f1_matches_the_reference_for_every_category_rule() {
    let reference = reference();
    for case in reference["f1"].as_array().expect("cases") {
        let category = case["category"]
            .as_u64()
            .and_then(Category::from_id)
            .expect("category");
        let got = score(
            case["prediction"].as_str().unwrap_or(""),
            case["gold"].as_str().unwrap_or(""),
            category,
        );
        let expected = case["f1"].as_f64().expect("f1");
        assert!((got - expected).abs() < 1e-9, "{case}: got {got}");
    }
}
