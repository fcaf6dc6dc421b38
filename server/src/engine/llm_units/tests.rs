use std::collections::VecDeque;
use std::sync::Mutex;

use memory::llm::{ChatReply, LlmUsage};
use memory::store::SessionKey;
use memory::{SessionId, SessionStatus, TurnId, UserId};

use super::*;

/// 2023-05-08T00:00:00Z, a Monday.
const START: Timestamp = Timestamp(1_683_504_000_000);

/// A fake language model, the one remote edge: canned replies in order, and every request
/// it got.
struct ScriptedModel {
    replies: Mutex<VecDeque<Result<String, LlmError>>>,
    requests: Mutex<Vec<ChatRequest>>,
}

impl ScriptedModel {
    fn new(replies: Vec<Result<String, LlmError>>) -> Self {
        Self {
            replies: Mutex::new(replies.into()),
            requests: Mutex::new(Vec::new()),
        }
    }

    fn replying(replies: &[&str]) -> Self {
        Self::new(replies.iter().map(|r| Ok((*r).to_owned())).collect())
    }

    fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl LanguageModel for ScriptedModel {
    fn model(&self) -> &str {
        "scripted"
    }

    fn chat(&self, request: &ChatRequest) -> Result<ChatReply, LlmError> {
        self.requests.lock().unwrap().push(request.clone());
        let next = self.replies.lock().unwrap().pop_front();
        next.unwrap_or_else(|| {
            Err(LlmError::Transport {
                reason: "the script is exhausted".to_owned(),
            })
        })
        .map(|text| ChatReply {
            text,
            prompt_tokens: 0,
            completion_tokens: 0,
        })
    }

    fn usage(&self) -> LlmUsage {
        LlmUsage::default()
    }
}

/// A session whose turn `i` has id `100 + i` and, except the first, a time `i` minutes in.
fn session(turns: &[(&str, Role, &str, Option<&str>)]) -> BuildInput {
    BuildInput {
        session_key: SessionKey(7),
        status: SessionStatus::Pending,
        user_id: UserId::new("u").unwrap(),
        session_id: SessionId::new("s").unwrap(),
        started_at: START,
        turns: turns
            .iter()
            .enumerate()
            .map(|(i, &(speaker, role, text, caption))| TurnRecord {
                turn_id: TurnId(100 + i as i64),
                position: i as u32,
                speaker: speaker.to_owned(),
                role,
                text: text.to_owned(),
                timestamp: (i > 0).then(|| Timestamp(START.0 + i as i64 * 60_000)),
                external_id: None,
                caption: caption.map(str::to_owned),
                metadata: None,
            })
            .collect(),
    }
}

fn peers() -> BuildInput {
    session(&[
        ("Ann", Role::User, "I moved to Lisbon last month.", None),
        ("Bo", Role::User, "My dog Pepper\nloves the beach.", None),
        ("Ann", Role::User, "I work as a nurse now.", None),
        ("Bo", Role::User, "Look at him!", Some("a dog on a beach")),
    ])
}

fn with_assistant() -> BuildInput {
    session(&[
        ("Mel", Role::User, "I just adopted a cat called Miso.", None),
        (
            "Assistant",
            Role::Assistant,
            "Congratulations! I love cats.",
            None,
        ),
        ("Mel", Role::User, "Any tips for a first week?", None),
    ])
}

/// A reply with a fixed summary and keywords around `facts`.
fn reply(facts: &str) -> String {
    format!(r#"{{"summary": "Ann and Bo catch up.", "keywords": ["Lisbon"], "facts": {facts}}}"#)
}

const VALID: &str = r#"{
    "summary": "Ann tells Bo she moved to Lisbon; Bo shows his dog Pepper.",
    "keywords": ["Lisbon", "dog Pepper", "lisbon", " ", "nursing"],
    "facts": [
        {"speaker": "ann", "kind": "life_fact", "text": "Ann moved to Lisbon in April 2023.",
         "turns": [1], "slot": "lives_in"},
        {"speaker": " Bo ", "kind": "life_fact", "text": "Bo has a dog named Pepper.",
         "turns": [4, 2], "slot": "pet:dog"},
        {"speaker": "Ann", "kind": "life_fact", "text": "Ann works as a nurse.",
         "turns": [3], "slot": "Job Title"}
    ]
}"#;

fn build(model: &ScriptedModel, input: &BuildInput) -> Result<LlmSession, LlmBuildError> {
    build_session(model, input, &LlmBuildLimits::default())
}

fn total_chars(request: &ChatRequest) -> usize {
    request.messages.iter().map(|m| chars(&m.content)).sum()
}

#[test]
fn valid_reply_becomes_candidates() {
    let model = ScriptedModel::replying(&[VALID]);
    let built = build(&model, &peers()).unwrap();

    assert_eq!(built.attempts, 1);
    assert_eq!(built.shown_turns, 4);
    assert_eq!(
        built.summary,
        "Ann tells Bo she moved to Lisbon; Bo shows his dog Pepper."
    );
    assert_eq!(built.keywords, ["Lisbon", "dog Pepper", "nursing"]);
    let facts: Vec<(&str, &str, &str, Vec<TurnId>, Timestamp)> = built
        .facts
        .iter()
        .map(|c| {
            (
                c.speaker.as_str(),
                c.slot.as_str(),
                c.value.as_str(),
                c.turns.clone(),
                c.time,
            )
        })
        .collect();
    assert_eq!(
        facts,
        [
            (
                "Ann",
                "lives_in",
                "ann moved to lisbon in april 2023",
                vec![TurnId(100)],
                START
            ),
            (
                "Bo",
                "pet:dog",
                "bo has a dog named pepper",
                vec![TurnId(101), TurnId(103)],
                Timestamp(START.0 + 60_000)
            ),
            (
                "Ann",
                "fact:ann_works_as_a_nurse",
                "ann works as a nurse",
                vec![TurnId(102)],
                Timestamp(START.0 + 120_000)
            ),
        ]
    );
    let first = &built.facts[0];
    assert_eq!(first.kind, StatementKind::LifeFact);
    assert_eq!(first.text, "Ann moved to Lisbon in April 2023.");
    assert!((first.confidence - FACT_CONFIDENCE).abs() < f32::EPSILON);

    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(request.json);
    // The schema pins speakers and kinds to the allowed values.
    let schema = request.schema.as_ref().unwrap();
    let fact = &schema["properties"]["facts"]["items"]["properties"];
    assert_eq!(fact["speaker"]["enum"], serde_json::json!(["Ann", "Bo"]));
    assert_eq!(
        fact["kind"]["enum"].as_array().unwrap().len(),
        StatementKind::ALL.len()
    );
    // Bounded lists: a looping model cannot fill the reply budget with one of them.
    let bounds = |list: &serde_json::Value| list["maxItems"].as_u64().unwrap();
    assert_eq!(bounds(&schema["properties"]["facts"]), 20);
    assert_eq!(bounds(&schema["properties"]["keywords"]), 16);
    assert_eq!(bounds(&fact["turns"]), MAX_FACT_TURNS as u64);
    assert_eq!(request.temperature, 0.0);
    assert_eq!(
        request.max_tokens,
        LlmBuildLimits::default().max_reply_tokens
    );
    let roles: Vec<ChatRole> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [ChatRole::System, ChatRole::User]);
    let user = &request.messages[1].content;
    assert!(user.contains("Session date: Monday, 8 May 2023."), "{user}");
    assert!(
        user.contains("[1] Ann: I moved to Lisbon last month.\n"),
        "{user}"
    );
    assert!(
        user.contains("[2] Bo: My dog Pepper loves the beach.\n"),
        "{user}"
    );
    assert!(
        user.contains("[4] Bo: Look at him! [shares an image: a dog on a beach]\n"),
        "{user}"
    );
}

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

#[test]
fn a_slot_fact_compares_by_its_short_value_and_others_by_their_text() {
    let model = ScriptedModel::replying(&[&reply(
        r#"[
        {"speaker": "Ann", "kind": "life_fact", "text": "Ann moved to Lisbon in April 2023.",
         "turns": [1], "slot": "lives_in", "value": " Lisbon "},
        {"speaker": "Bo", "kind": "life_fact", "text": "Bo has a dog named Pepper.",
         "turns": [2], "value": "pepper"},
        {"speaker": "Ann", "kind": "life_fact", "text": "Ann works as a nurse.",
         "turns": [3], "slot": "job", "value": ""}
    ]"#,
    )]);
    let built = build(&model, &peers()).unwrap();
    let facts: Vec<(&str, &str)> = built
        .facts
        .iter()
        .map(|c| (c.slot.as_str(), c.value.as_str()))
        .collect();
    assert_eq!(
        facts,
        [
            ("lives_in", "lisbon"),
            (
                "fact:bo_has_a_dog_named_pepper",
                "bo has a dog named pepper"
            ),
            ("job", "ann works as a nurse"),
        ]
    );
    let system = &model.requests()[0].messages[0].content;
    assert!(system.contains("facts[].value"), "{system}");
}

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

#[test]
fn extras_are_dropped_and_repeats_merged() {
    let limits = LlmBuildLimits {
        max_summary_chars: 40,
        max_keywords: 2,
        max_facts: 2,
        ..LlmBuildLimits::default()
    };
    let text = format!(
        r#"{{"summary": "{}", "keywords": ["one", "One", "two", "three"], "facts": [
            {{"speaker": "Ann", "kind": "trait", "text": "Ann is calm.", "turns": [3]}},
            {{"speaker": "Ann", "kind": "trait", "text": "Ann is calm!", "turns": [1]}},
            {{"speaker": "Bo", "kind": "plan", "text": "Bo will travel.", "turns": [2]}},
            {{"speaker": "Bo", "kind": "plan", "text": "Bo will swim.", "turns": [4]}}
        ]}}"#,
        "Ann and Bo talk about moving, dogs and nursing at length."
    );
    let model = ScriptedModel::new(vec![Ok(text)]);
    let built = build_session(&model, &peers(), &limits).unwrap();
    assert_eq!(built.summary, "Ann and Bo talk about moving, dogs and");
    assert_eq!(built.keywords, ["one", "two"]);
    let facts: Vec<(&str, Vec<TurnId>, Timestamp)> = built
        .facts
        .iter()
        .map(|c| (c.text.as_str(), c.turns.clone(), c.time))
        .collect();
    assert_eq!(
        facts,
        [
            ("Ann is calm.", vec![TurnId(100), TurnId(102)], START),
            (
                "Bo will travel.",
                vec![TurnId(101)],
                Timestamp(START.0 + 60_000)
            ),
        ]
    );
}

#[test]
fn an_empty_session_is_not_sent() {
    let model = ScriptedModel::replying(&[VALID]);
    let empty = session(&[]);
    assert!(matches!(
        build(&model, &empty),
        Err(LlmBuildError::Invalid { .. })
    ));
    assert!(model.requests().is_empty());
}

fn check_object(text: &str, expected: Option<&str>) {
    assert_eq!(json_object(text), expected, "{text}");
}

#[test]
fn the_first_balanced_object_is_extracted() {
    check_object("{}", Some("{}"));
    check_object(
        "```json\n{\"a\": {\"b\": 1}}\n```",
        Some("{\"a\": {\"b\": 1}}"),
    );
    check_object(
        "x {\"a\": \"}\\\"{\"} y {\"b\": 2}",
        Some("{\"a\": \"}\\\"{\"}"),
    );
    check_object("{\"a\": [1, 2", None);
    check_object("no object", None);
    check_object("} {\"a\": 1}", Some("{\"a\": 1}"));
}

fn check_slot(slot: &str, known: bool) {
    assert_eq!(is_known_slot(slot), known, "{slot:?}");
}

#[test]
fn only_well_formed_exclusive_slots_are_kept() {
    check_slot("lives_in", true);
    check_slot("job", true);
    check_slot("pet:dog", true);
    check_slot("likes:road trips", true);
    check_slot("relation:sister", true);
    check_slot("relation:sister:lives_in", true);
    check_slot("relation:sister:about", false);
    check_slot("likes:", false);
    check_slot("Lives_in", false);
    check_slot("pet: dog", false);
    check_slot("hobby", false);
    check_slot("", false);
}
