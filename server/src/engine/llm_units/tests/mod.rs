use std::collections::VecDeque;
use std::sync::Mutex;

use memory::llm::{ChatReply, LlmUsage};
use memory::store::SessionKey;
use memory::{SessionId, SessionStatus, TurnId, UserRef};

use super::*;

mod fuzz;
mod parsing;
mod prompt;
mod retries;

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
        user_id: UserRef::of_default(memory::UserId::new("u").unwrap()),
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
                source: memory::Source::default(),
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
