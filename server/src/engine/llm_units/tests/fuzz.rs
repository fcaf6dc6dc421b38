//! Property tests of the reply parser on arbitrary model output (bounded and seeded): no panic,
//! a quoted problem or a valid reading, never both.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use super::*;

fn config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(20_261_202),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text that looks like a reply often enough to reach the checks behind the JSON parser: a
/// reply-shaped object whose fields are each right or wrong in some way, with prose around it,
/// or any text at all.
fn reply_text() -> impl Strategy<Value = String> {
    let text = "[^\"\\\\{}]{0,30}".prop_map(|s| format!("\"{s}\""));
    let summary =
        prop_oneof![3 => text.clone(), 1 => Just("1".to_owned()), 1 => Just("null".to_owned())];
    let keywords = prop_oneof![
        3 => proptest::collection::vec(text, 0..4).prop_map(|k| format!("[{}]", k.join(", "))),
        1 => Just("\"Oslo\"".to_owned()),
    ];
    let facts = prop_oneof![
        3 => Just("[]".to_owned()),
        2 => Just(r#"[{"speaker": "Ann", "kind": "life_fact", "text": "Ann lives in Oslo.", "turns": [1], "slot": "lives_in"}]"#.to_owned()),
        1 => Just(r#"[{"speaker": "Zed", "kind": "x", "text": "", "turns": [99]}]"#.to_owned()),
        1 => Just(r#"[{"speaker": "Ann"}]"#.to_owned()),
    ];
    prop_oneof![
        1 => any::<String>(),
        4 => (summary, keywords, facts, "[^{}]{0,20}").prop_map(|(s, k, f, prose)| {
            format!("{prose}{{\"summary\": {s}, \"keywords\": {k}, \"facts\": {f}}}{prose}")
        }),
    ]
}

#[test]
fn any_reply_is_read_or_refused_without_panicking() {
    let input = session(&[
        ("Ann", Role::User, "I moved to Oslo last year.", None),
        ("Bo", Role::User, "Nice, I still live in Bergen.", None),
    ]);
    let limits = LlmBuildLimits::default();
    let shown = prompt(&input, &limits).unwrap();
    let (read, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&reply_text(), |text| {
            match read_reply(&text, &input, &shown, &limits) {
                Ok(reading) => {
                    read.set(read.get() + 1);
                    prop_assert!(!reading.summary.is_empty());
                    prop_assert!(!reading.keywords.is_empty());
                }
                Err(problem) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(!problem.is_empty());
                }
            }
            Ok(())
        })
        .unwrap();
    // The generator reaches both outcomes, so the checks behind the JSON parser are exercised.
    assert!(
        read.get() > 0 && refused.get() > 0,
        "{} read, {} refused",
        read.get(),
        refused.get()
    );
}
