//! Replies that are malformed, off-schema or failed, and what is retried.

use super::*;

fn check_accepted(text: &str) {
    let model = ScriptedModel::new(vec![Ok(text.to_owned())]);
    let built = build(&model, &peers());
    assert!(
        matches!(&built, Ok(s) if s.attempts == 1 && s.facts.len() == 3),
        "{text}: {built:?}"
    );
}

#[test]
fn fenced_or_wrapped_replies_are_accepted() {
    check_accepted(&format!("```json\n{VALID}\n```"));
    check_accepted(&format!(
        "Here is the memory:\n{VALID}\nHope this helps {{:)}}"
    ));
    check_accepted(&reply(
        r#"[{"speaker": "Ann", "kind": "trait", "text": "Ann writes \"}\" a lot {sic}.",
            "turns": [1]}, {"speaker": "Ann", "kind": "plan", "text": "Ann will visit Porto.",
            "turns": [3], "slot": null}, {"speaker": "Bo", "kind": "other",
            "text": "Bo likes beaches.", "turns": [2]}]"#,
    ));
}

#[test]
fn malformed_then_valid_succeeds_on_the_second_attempt() {
    let model = ScriptedModel::replying(&["{\"summary\": \"Ann and", VALID]);
    let built = build(&model, &peers()).unwrap();
    assert_eq!(built.attempts, 2);
    assert_eq!(built.facts.len(), 3);

    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    let (first, second) = (&requests[0], &requests[1]);
    assert_eq!(second.messages[..2], first.messages[..]);
    assert_eq!(second.messages[2].role, ChatRole::Assistant);
    assert_eq!(second.messages[2].content, "{\"summary\": \"Ann and");
    assert_eq!(second.messages[3].role, ChatRole::User);
    assert!(
        second.messages[3]
            .content
            .contains("the reply holds no JSON object"),
        "{}",
        second.messages[3].content
    );
    assert!(second.json);
}

#[test]
fn malformed_twice_is_invalid() {
    let model = ScriptedModel::replying(&["not JSON", "{\"summary\" \"s\"}"]);
    let error = build(&model, &peers()).unwrap_err();
    let LlmBuildError::Invalid { reason } = &error else {
        panic!("expected Invalid, got {error:?}");
    };
    assert!(
        reason.contains("first reply: the reply holds no JSON object"),
        "{reason}"
    );
    assert!(
        reason.contains("second reply: the reply is not valid JSON"),
        "{reason}"
    );
    assert_eq!(model.requests().len(), 2);
    assert!(
        error
            .to_string()
            .starts_with("the language model's reply is unusable")
    );
}

/// `bad` is retried with a correction quoting `problem`, and the valid second reply is used.
fn check_retried(bad: &str, problem: &str) {
    let model = ScriptedModel::replying(&[bad, VALID]);
    let built = build(&model, &peers());
    assert!(
        matches!(&built, Ok(s) if s.attempts == 2),
        "{bad}: {built:?}"
    );
    let requests = model.requests();
    let correction = &requests[1].messages[3].content;
    assert!(correction.contains(problem), "{bad}: {correction}");
}

#[test]
fn off_schema_replies_are_retried() {
    let fact = |fields: &str| reply(&format!("[{{{fields}}}]"));
    let cases: &[(String, &str)] = &[
        (
            fact(r#""speaker": "Ann", "kind": "hobby", "text": "Ann paints.", "turns": [1]"#),
            "`facts[0].kind`: unknown statement kind \"hobby\"",
        ),
        (
            fact(r#""speaker": "Carl", "kind": "trait", "text": "Carl paints.", "turns": [1]"#),
            "`facts[0].speaker` \"Carl\" is not \"Ann\" or \"Bo\"",
        ),
        (
            fact(r#""speaker": "Ann", "kind": "trait", "text": "Ann paints.", "turns": [0]"#),
            "cites line 0, but the lines run from 1 to 4",
        ),
        (
            fact(r#""speaker": "Ann", "kind": "trait", "text": "Ann paints.", "turns": [5]"#),
            "cites line 5, but the lines run from 1 to 4",
        ),
        (
            fact(r#""speaker": "Ann", "kind": "trait", "text": "Ann paints.", "turns": []"#),
            "`facts[0].turns` is empty",
        ),
        (
            fact(r#""speaker": "Ann", "kind": "trait", "text": " ", "turns": [1]"#),
            "`facts[0].text` is empty",
        ),
        (
            fact(&format!(
                r#""speaker": "Ann", "kind": "trait", "text": "{}", "turns": [1]"#,
                "Ann paints. ".repeat(30)
            )),
            "more than 300",
        ),
        (
            fact(
                r#""speaker": "Ann", "kind": "trait", "text": "Ann paints.", "turns": [1],
                "confidence": 0.9"#,
            ),
            "at `facts[0].confidence`: unknown field `confidence`",
        ),
        (
            fact(r#""speaker": "Ann", "kind": "trait", "text": "Ann paints.", "turns": "1""#),
            "at `facts[0].turns`: invalid type",
        ),
        (
            r#"{"keywords": ["Lisbon"], "facts": []}"#.to_owned(),
            "missing field `summary`",
        ),
        (
            r#"{"summary": "  ", "keywords": ["Lisbon"], "facts": []}"#.to_owned(),
            "`summary` is empty",
        ),
        (
            r#"{"summary": "s", "keywords": ["Lisbon"], "facts": [], "mood": "happy"}"#.to_owned(),
            "unknown field `mood`",
        ),
        (
            r#"{"summary": "s", "keywords": ["", " "], "facts": []}"#.to_owned(),
            "`keywords` holds no non-empty phrase",
        ),
        (
            r#"{"summary": "s", "keywords": ["a"], "facts": [],}"#.to_owned(),
            "the reply is not valid JSON",
        ),
        (
            "Sorry, I cannot help with that.".to_owned(),
            "the reply holds no JSON object",
        ),
    ];
    for (bad, problem) in cases {
        check_retried(bad, problem);
    }
}

#[test]
fn a_failed_call_is_not_retried() {
    let model = ScriptedModel::new(vec![Err(LlmError::Timeout), Ok(VALID.to_owned())]);
    assert_eq!(
        build(&model, &peers()),
        Err(LlmBuildError::Call(LlmError::Timeout))
    );
    assert_eq!(model.requests().len(), 1);

    // A failure of the corrective call is a call failure too.
    let model = ScriptedModel::new(vec![Ok("nope".to_owned()), Err(LlmError::RateLimited)]);
    assert_eq!(
        build(&model, &peers()),
        Err(LlmBuildError::Call(LlmError::RateLimited))
    );
    assert_eq!(model.requests().len(), 2);
}
