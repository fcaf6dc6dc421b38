//! What the prompt shows: user-assistant dialogue, long and empty sessions.

use super::*;

#[test]
fn user_assistant_prompt_differs_and_drops_assistant_facts() {
    let assistant_model = ScriptedModel::replying(&[r#"{
        "summary": "Mel adopted a cat called Miso and asks for tips.",
        "keywords": ["cat", "Miso"],
        "facts": [
            {"speaker": "Mel", "kind": "life_fact", "text": "Mel has a cat named Miso.",
             "turns": [1], "slot": "pet:cat"},
            {"speaker": "assistant", "kind": "preference", "text": "The assistant loves cats.",
             "turns": [2]}
        ]
    }"#]);
    let built = build(&assistant_model, &with_assistant()).unwrap();
    assert_eq!(built.attempts, 1);
    let kept: Vec<(&str, &str)> = built
        .facts
        .iter()
        .map(|c| (c.speaker.as_str(), c.slot.as_str()))
        .collect();
    assert_eq!(kept, [("Mel", "pet:cat")]);

    let peers_model = ScriptedModel::replying(&[VALID]);
    build(&peers_model, &peers()).unwrap();

    let assistant_prompt = &assistant_model.requests()[0].messages;
    let peers_prompt = &peers_model.requests()[0].messages;
    let (a_system, p_system) = (&assistant_prompt[0].content, &peers_prompt[0].content);
    assert_ne!(a_system, p_system);
    assert!(a_system.contains("AI assistant"), "{a_system}");
    assert!(a_system.contains("Human speaker(s): \"Mel\""), "{a_system}");
    assert!(
        a_system.contains("facts[].speaker: \"Mel\", spelled"),
        "{a_system}"
    );
    assert!(!p_system.contains("AI assistant"), "{p_system}");
    assert!(p_system.contains("\"Ann\" and \"Bo\""), "{p_system}");
    assert!(
        p_system.contains("facts[].speaker: \"Ann\" or \"Bo\", spelled"),
        "{p_system}"
    );
    let a_user = &assistant_prompt[1].content;
    assert!(
        a_user.contains("Speakers: \"Mel\" and \"Assistant\"."),
        "{a_user}"
    );
    assert!(
        a_user.contains("[2] Assistant: Congratulations!"),
        "{a_user}"
    );
}

#[test]
fn long_sessions_are_truncated_under_the_limit() {
    let limits = LlmBuildLimits::default();
    let sentence = "we talked about the garden and the weather again ";
    let long_turn = sentence.repeat(200);
    let short_turn = sentence.repeat(2);
    for (turns, text) in [
        (3, long_turn.as_str()),
        (40, long_turn.as_str()),
        (400, short_turn.as_str()),
    ] {
        let rows: Vec<(&str, Role, &str, Option<&str>)> = (0..turns)
            .map(|i| (["Ann", "Bo"][i % 2], Role::User, text, Some("a garden")))
            .collect();
        let input = session(&rows);
        let shown_prompt = prompt(&input, &limits).unwrap();
        let request = ChatRequest {
            messages: shown_prompt.messages.clone(),
            max_tokens: 1,
            temperature: 0.0,
            json: true,
            schema: None,
        };
        assert!(
            total_chars(&request) <= limits.max_prompt_chars,
            "{turns} turns"
        );
        let user = &shown_prompt.messages[1].content;
        let lines = user.lines().filter(|l| l.starts_with('[')).count();
        assert_eq!(lines, shown_prompt.shown, "{turns} turns");
        assert!(user.contains("[1] Ann: we talked about"), "{turns} turns");
        for line in user.lines().filter(|l| l.starts_with('[')) {
            assert!(chars(line) <= MAX_TURN_CHARS + 16, "{turns} turns: {line}");
        }
        if shown_prompt.shown < turns {
            let note = format!("(The turns after [{}] are not shown.)", shown_prompt.shown);
            assert!(user.contains(&note), "{turns} turns");
        }
    }

    // A few long turns are cut, and all of them shown.
    let rows: Vec<(&str, Role, &str, Option<&str>)> = (0..3)
        .map(|i| (["Ann", "Bo"][i % 2], Role::User, long_turn.as_str(), None))
        .collect();
    let shown_prompt = prompt(&session(&rows), &limits).unwrap();
    assert_eq!(shown_prompt.shown, 3);
    let user = &shown_prompt.messages[1].content;
    let cut = user
        .lines()
        .filter(|l| l.starts_with('[') && l.ends_with('…'));
    assert_eq!(cut.count(), 3, "{user}");

    // Many turns: the last ones are dropped, and a fact citing them is retried.
    let rows: Vec<(&str, Role, &str, Option<&str>)> = (0..400)
        .map(|i| (["Ann", "Bo"][i % 2], Role::User, short_turn.as_str(), None))
        .collect();
    let input = session(&rows);
    let shown = prompt(&input, &limits).unwrap().shown;
    assert!(shown > 1 && shown < 400, "{shown}");
    let beyond = reply(&format!(
        r#"[{{"speaker": "Ann", "kind": "trait", "text": "Ann gardens.", "turns": [{}]}}]"#,
        shown + 1
    ));
    let within = reply(&format!(
        r#"[{{"speaker": "Ann", "kind": "trait", "text": "Ann gardens.", "turns": [{shown}]}}]"#
    ));
    let model = ScriptedModel::replying(&[&beyond, &within]);
    let built = build(&model, &input).unwrap();
    assert_eq!((built.attempts, built.shown_turns), (2, shown));
    assert_eq!(built.facts[0].turns, [TurnId(100 + shown as i64 - 1)]);
}
