//! Summaries, keywords and persona facts built by a language model, parsed strictly.
//!
//! One chat call per session asks for a JSON object. The reply is parsed with unknown fields
//! denied and checked against the session: known speakers, shown turns, known kinds. A
//! malformed or off-schema reply gets one retry that quotes the problem; a second bad reply, or
//! a failed call, is an error the caller answers with the extractive path. Transport retries
//! belong to the client, so a failed call is never repeated here.

use chrono::{DateTime, Utc};
use memory::llm::{ChatMessage, ChatRequest, ChatRole, LanguageModel, LlmError};
use memory::store::BuildInput;
use memory::{Role, Timestamp, TurnRecord};
use persona::{Candidate, StatementKind};
use serde::Deserialize;
use tracing::{debug, instrument};

/// The longest fact text accepted, in characters.
const MAX_FACT_CHARS: usize = 300;
/// How sure a model-built fact is: above most extractive patterns, below repeated evidence.
const FACT_CONFIDENCE: f32 = 0.8;
/// The longest key after `fact:` in a slot made from a fact's text.
const MAX_FACT_KEY_CHARS: usize = 60;
/// The longest slot the model may name.
const MAX_SLOT_CHARS: usize = 80;
/// Longer keywords are cut at a word boundary.
const MAX_KEYWORD_CHARS: usize = 80;
/// A turn is cut to this even when the prompt has room for more.
const MAX_TURN_CHARS: usize = 1_500;
/// Turns are not cut shorter than this to fit more of them; later turns are dropped instead.
const MIN_TURN_CHARS: usize = 200;
/// Room kept in the prompt for the note saying later turns are not shown.
const OMITTED_NOTE_CHARS: usize = 64;
/// The most of a bad reply quoted back to the model in the retry.
const MAX_ECHO_CHARS: usize = 4_000;

/// What the model built from one session.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LlmSession {
    /// Non-empty, at most `max_summary_chars` characters.
    pub(crate) summary: String,
    /// One to `max_keywords` phrases, distinct ignoring case, most important first.
    pub(crate) keywords: Vec<String>,
    /// Statements about the session's human speakers, at most `max_facts`.
    pub(crate) facts: Vec<Candidate>,
    /// Chat calls made: 1, or 2 when the first reply was unusable.
    pub(crate) attempts: u32,
    /// Turns shown to the model, from the first; fewer than the session's when it was too long.
    pub(crate) shown_turns: usize,
}

/// Why no units were built; either way the caller falls back to the extractive path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LlmBuildError {
    /// The call itself failed, after the client's own retries.
    #[error("the language model call failed: {0}")]
    Call(#[source] LlmError),
    /// No usable reply: two bad replies, or a session that cannot be put to the model.
    #[error("the language model's reply is unusable: {reason}")]
    Invalid { reason: String },
}

/// Bounds on the prompt and on what is kept of the reply.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LlmBuildLimits {
    /// Longer summaries are cut at a word boundary.
    pub(crate) max_summary_chars: usize,
    /// Keywords kept; extra ones are dropped.
    pub(crate) max_keywords: usize,
    /// Facts kept; extra ones are dropped.
    pub(crate) max_facts: usize,
    /// The first request's messages stay within this many characters.
    pub(crate) max_prompt_chars: usize,
    /// The reply's bound, in tokens.
    pub(crate) max_reply_tokens: u32,
}

impl Default for LlmBuildLimits {
    fn default() -> Self {
        Self {
            max_summary_chars: 1_200,
            max_keywords: 16,
            max_facts: 30,
            max_prompt_chars: 16_000,
            max_reply_tokens: 2_048,
        }
    }
}

/// Asks `llm` for the summary, keywords and persona facts of one session.
///
/// Blocks on the model; run it off the async runtime.
#[instrument(skip_all, fields(session_key = input.session_key.0, turns = input.turns.len()))]
pub(crate) fn build_session(
    llm: &dyn LanguageModel,
    input: &BuildInput,
    limits: &LlmBuildLimits,
) -> Result<LlmSession, LlmBuildError> {
    let prompt = prompt(input, limits).map_err(|reason| LlmBuildError::Invalid { reason })?;
    let mut request = ChatRequest {
        messages: prompt.messages.clone(),
        max_tokens: limits.max_reply_tokens,
        temperature: 0.0,
        json: true,
    };
    let first = llm.chat(&request).map_err(LlmBuildError::Call)?;
    let problem = match read_reply(&first.text, input, &prompt, limits) {
        Ok(session) => return Ok(session),
        Err(problem) => problem,
    };
    debug!(%problem, "unusable language model reply; retrying once");
    request.messages.push(ChatMessage {
        role: ChatRole::Assistant,
        content: cut_at_word(&first.text, MAX_ECHO_CHARS).to_owned(),
    });
    request.messages.push(ChatMessage::user(format!(
        "Your reply cannot be used: {problem}. Reply again with only the JSON object described \
         in the instructions, with this fixed."
    )));
    let second = llm.chat(&request).map_err(LlmBuildError::Call)?;
    match read_reply(&second.text, input, &prompt, limits) {
        Ok(session) => Ok(LlmSession {
            attempts: 2,
            ..session
        }),
        Err(again) => Err(LlmBuildError::Invalid {
            reason: format!("first reply: {problem}; second reply: {again}"),
        }),
    }
}

/// Whether the session is a person talking with an assistant, or people talking together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialogue {
    UserAssistant,
    Peers,
}

/// A distinct speaker of the session, spelled as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Speaker {
    name: String,
    /// Whether facts about this speaker are kept.
    subject: bool,
}

/// The first request and what the reply is checked against.
#[derive(Debug, Clone)]
struct Prompt {
    messages: Vec<ChatMessage>,
    speakers: Vec<Speaker>,
    /// Turns `0..shown` are numbered `[1]..[shown]` in the prompt.
    shown: usize,
}

fn speaker_name(turn: &TurnRecord) -> &str {
    match turn.speaker.trim() {
        "" => turn.role.as_str(),
        name => name,
    }
}

/// The dialogue's kind and its speakers in order of first appearance, merged ignoring case.
fn speakers(turns: &[TurnRecord]) -> (Dialogue, Vec<Speaker>) {
    let dialogue = if turns.iter().any(|t| t.role == Role::Assistant) {
        Dialogue::UserAssistant
    } else {
        Dialogue::Peers
    };
    // (name, has a user turn, has an assistant turn)
    let mut seen: Vec<(&str, bool, bool)> = Vec::new();
    for turn in turns {
        let name = speaker_name(turn);
        let index = match seen
            .iter()
            .position(|s| s.0.to_lowercase() == name.to_lowercase())
        {
            Some(index) => index,
            None => {
                seen.push((name, false, false));
                seen.len() - 1
            }
        };
        if let Some(entry) = seen.get_mut(index) {
            entry.1 |= turn.role == Role::User;
            entry.2 |= turn.role == Role::Assistant;
        }
    }
    let speakers = seen
        .into_iter()
        .map(|(name, user, assistant)| Speaker {
            name: name.to_owned(),
            subject: match dialogue {
                Dialogue::Peers => true,
                Dialogue::UserAssistant => user && !assistant,
            },
        })
        .collect();
    (dialogue, speakers)
}

/// Names as `"A"`, `"A" and "B"` or `"A", "B" and "C"`, with `and` or another conjunction.
fn name_list<'a>(names: impl Iterator<Item = &'a str>, conjunction: &str) -> String {
    let quoted: Vec<String> = names.map(|n| format!("\"{n}\"")).collect();
    match quoted.as_slice() {
        [] => "nobody".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

fn session_date(t: Timestamp) -> String {
    match DateTime::<Utc>::from_timestamp_millis(t.millis()) {
        Some(d) => d.format("%A, %-d %B %Y").to_string(),
        None => t.to_rfc3339(),
    }
}

fn system_message(dialogue: Dialogue, speakers: &[Speaker], limits: &LlmBuildLimits) -> String {
    let named = |subject: bool| {
        speakers
            .iter()
            .filter(move |s| s.subject == subject)
            .map(|s| s.name.as_str())
    };
    let subjects = || named(true);
    let who = match dialogue {
        Dialogue::UserAssistant => {
            let (humans, assistants) =
                (name_list(subjects(), "and"), name_list(named(false), "and"));
            format!(
                "The conversation is between a person and an AI assistant. Human speaker(s): \
                 {humans}. Assistant: {assistants}. Record facts only about the human \
                 speaker(s): what they say about themselves. Never record facts about the \
                 assistant, nor its suggestions unless the person takes them up."
            )
        }
        Dialogue::Peers => format!(
            "The conversation is between people: {}. Record facts about each of them, \
             attributed to the speaker the fact is about.",
            name_list(subjects(), "and")
        ),
    };
    let kinds: Vec<&str> = StatementKind::ALL.iter().map(|k| k.as_str()).collect();
    format!(
        "You build the memory of one conversation. {who}\n\
         Reply with exactly one JSON object and nothing else:\n\
         {{\"summary\": string, \"keywords\": [string], \"facts\": [{{\"speaker\": string, \
         \"kind\": string, \"text\": string, \"turns\": [integer], \"slot\": string}}]}}\n\
         - summary: what happened and what was said, in the third person, naming the speakers \
         and keeping names, places, dates and numbers; at most {max_summary} characters.\n\
         - keywords: 1 to {max_keywords} short key phrases (people, places, topics, \
         activities, events), most important first.\n\
         - facts: up to {max_facts} lasting statements about a speaker (who they are, what they \
         like, do, own or plan, who they are close to); [] when there are none.\n\
         - facts[].speaker: {speaker_names}, spelled exactly so.\n\
         - facts[].kind: one of {kinds}.\n\
         - facts[].text: one standalone sentence of at most {MAX_FACT_CHARS} characters that \
         names the speaker; turn relative dates (\"last week\") into dates using the session \
         date.\n\
         - facts[].turns: the numbers of the dialogue lines the fact comes from, at least one.\n\
         - facts[].slot: optional; only when the fact is one of lives_in, job, employer, from, \
         marital, work_field, pet:<animal>, likes:<thing>, favorite:<thing>, \
         relation:<relation>, written in lower case. Leave it out otherwise.\n\
         No other fields.",
        max_summary = limits.max_summary_chars,
        max_keywords = limits.max_keywords,
        max_facts = limits.max_facts,
        kinds = kinds.join(", "),
        speaker_names = name_list(subjects(), "or"),
    )
}

/// A turn's line after its `[i] Speaker: ` prefix: the text and any image caption, on one line.
fn line_body(turn: &TurnRecord) -> String {
    let mut body = collapse_whitespace(&turn.text);
    if let Some(caption) = turn.caption.as_deref().map(collapse_whitespace)
        && !caption.is_empty()
    {
        body.push_str(&format!(" [shares an image: {caption}]"));
    }
    body
}

/// Builds the first request, truncating long turns and then dropping the last ones so that the
/// messages stay within `max_prompt_chars`.
fn prompt(input: &BuildInput, limits: &LlmBuildLimits) -> Result<Prompt, String> {
    if input.turns.is_empty() {
        return Err("the session has no turns".to_owned());
    }
    let (dialogue, speakers) = speakers(&input.turns);
    let system = system_message(dialogue, &speakers, limits);
    let header = format!(
        "Session date: {}.\nSpeakers: {}.\nDialogue, one numbered line per turn:\n",
        session_date(input.started_at),
        name_list(speakers.iter().map(|s| s.name.as_str()), "and"),
    );
    let footer = "\nReply with the JSON object only.";
    let fixed = chars(&system) + chars(&header) + chars(footer) + OMITTED_NOTE_CHARS;
    let budget = limits.max_prompt_chars.saturating_sub(fixed);

    let lines: Vec<(String, String)> = input
        .turns
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("[{}] {}: ", i + 1, speaker_name(t)), line_body(t)))
        .collect();
    // An upper bound of the lines' length with bodies cut to `cap`, newlines included.
    let cost = |lines: &[(String, String)], cap: usize| -> usize {
        lines
            .iter()
            .map(|(prefix, body)| chars(prefix) + chars(body).min(cap) + 1)
            .sum()
    };
    // The largest cap that fits every turn, if it is at least MIN_TURN_CHARS.
    let (mut lo, mut hi) = (MIN_TURN_CHARS, MAX_TURN_CHARS);
    let cap = if cost(&lines, hi) <= budget {
        hi
    } else if cost(&lines, lo) > budget {
        lo
    } else {
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if cost(&lines, mid) <= budget {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    };
    // Keep the longest run of turns from the first that fits.
    let (mut shown, mut used) = (0, 0);
    for line in &lines {
        let line_cost = cost(std::slice::from_ref(line), cap);
        if used + line_cost > budget {
            break;
        }
        used += line_cost;
        shown += 1;
    }
    if shown == 0 {
        return Err(format!(
            "a prompt limit of {} characters leaves no room for the dialogue",
            limits.max_prompt_chars
        ));
    }

    let mut user = header;
    for (prefix, body) in lines.iter().take(shown) {
        user.push_str(prefix);
        if chars(body) > cap {
            user.push_str(cut_at_word(body, cap - 1));
            user.push('…');
        } else {
            user.push_str(body);
        }
        user.push('\n');
    }
    if shown < lines.len() {
        user.push_str(&format!("(The turns after [{shown}] are not shown.)\n"));
    }
    user.push_str(footer);
    Ok(Prompt {
        messages: vec![ChatMessage::system(system), ChatMessage::user(user)],
        speakers,
        shown,
    })
}

/// The reply's schema; anything else is off-schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    summary: String,
    keywords: Vec<String>,
    facts: Vec<ReplyFact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyFact {
    speaker: String,
    kind: String,
    text: String,
    turns: Vec<i64>,
    #[serde(default)]
    slot: Option<String>,
}

/// The first balanced `{...}` of `text`, skipping braces inside JSON strings: tolerates a code
/// fence or prose around the object.
fn json_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let rest = text.get(start..)?;
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in rest.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return rest.get(..i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse(text: &str) -> Result<Reply, String> {
    let object = json_object(text).ok_or_else(|| "the reply holds no JSON object".to_owned())?;
    let mut de = serde_json::Deserializer::from_str(object);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let (path, inner) = (e.path().to_string(), e.into_inner());
        if inner.is_syntax() || inner.is_eof() {
            format!("the reply is not valid JSON ({inner})")
        } else {
            format!("the reply does not follow the schema at `{path}`: {inner}")
        }
    })
}

/// Parses and validates a reply; the error is the problem quoted back to the model.
fn read_reply(
    text: &str,
    input: &BuildInput,
    prompt: &Prompt,
    limits: &LlmBuildLimits,
) -> Result<LlmSession, String> {
    let reply = parse(text)?;

    let summary = collapse_whitespace(&reply.summary);
    if summary.is_empty() {
        return Err("`summary` is empty".to_owned());
    }
    let summary = cut_at_word(&summary, limits.max_summary_chars).to_owned();

    let mut keywords: Vec<String> = Vec::new();
    for keyword in &reply.keywords {
        let keyword = collapse_whitespace(keyword);
        let keyword = cut_at_word(&keyword, MAX_KEYWORD_CHARS);
        let folded = keyword.to_lowercase();
        if !keyword.is_empty() && !keywords.iter().any(|k| k.to_lowercase() == folded) {
            keywords.push(keyword.to_owned());
        }
    }
    if keywords.is_empty() {
        return Err("`keywords` holds no non-empty phrase".to_owned());
    }
    keywords.truncate(limits.max_keywords);

    let mut facts: Vec<Candidate> = Vec::new();
    for (j, fact) in reply.facts.iter().enumerate() {
        let Some(candidate) = read_fact(j, fact, input, prompt)? else {
            continue;
        };
        let room = facts.len() < limits.max_facts;
        let same = facts.iter_mut().find(|c| {
            c.speaker == candidate.speaker && c.slot == candidate.slot && c.value == candidate.value
        });
        match same {
            Some(earlier) => {
                earlier.time = earlier.time.min(candidate.time);
                earlier.turns.extend(candidate.turns);
                earlier.turns.sort();
                earlier.turns.dedup();
            }
            None if room => facts.push(candidate),
            // Extra facts are dropped, but the rest are still validated.
            None => {}
        }
    }
    Ok(LlmSession {
        summary,
        keywords,
        facts,
        attempts: 1,
        shown_turns: prompt.shown,
    })
}

/// Validates fact `j`; `None` when it is valid but about a speaker whose facts are not kept.
fn read_fact(
    j: usize,
    fact: &ReplyFact,
    input: &BuildInput,
    prompt: &Prompt,
) -> Result<Option<Candidate>, String> {
    let wanted = fact.speaker.trim().to_lowercase();
    let speaker = prompt
        .speakers
        .iter()
        .find(|s| s.name.to_lowercase() == wanted)
        .ok_or_else(|| {
            let subjects = prompt.speakers.iter().filter(|s| s.subject);
            format!(
                "`facts[{j}].speaker` {:?} is not {}",
                cut_at_word(fact.speaker.trim(), 60),
                name_list(subjects.map(|s| s.name.as_str()), "or")
            )
        })?;
    let kind: StatementKind = fact
        .kind
        .trim()
        .parse()
        .map_err(|e| format!("`facts[{j}].kind`: {e}"))?;
    let text = collapse_whitespace(&fact.text);
    let length = chars(&text);
    if length > MAX_FACT_CHARS {
        return Err(format!(
            "`facts[{j}].text` has {length} characters, more than {MAX_FACT_CHARS}"
        ));
    }
    let value = normalise(&text, " ");
    if value.is_empty() {
        return Err(format!("`facts[{j}].text` is empty"));
    }
    if fact.turns.is_empty() {
        return Err(format!(
            "`facts[{j}].turns` is empty; cite at least one line"
        ));
    }
    let mut cited: Vec<&TurnRecord> = Vec::new();
    for &line in &fact.turns {
        let turn = usize::try_from(line)
            .ok()
            .filter(|&l| (1..=prompt.shown).contains(&l))
            .and_then(|l| input.turns.get(l - 1))
            .ok_or_else(|| {
                format!(
                    "`facts[{j}].turns` cites line {line}, but the lines run from 1 to {}",
                    prompt.shown
                )
            })?;
        cited.push(turn);
    }
    if !speaker.subject {
        return Ok(None);
    }
    cited.sort_by_key(|t| t.position);
    let mut turns: Vec<_> = cited.iter().map(|t| t.turn_id).collect();
    turns.dedup();
    let slot = match fact.slot.as_deref().map(str::trim) {
        Some(slot) if is_known_slot(slot) => slot.to_owned(),
        _ => format!(
            "fact:{}",
            cut_at_word(&normalise(&text, "_"), MAX_FACT_KEY_CHARS).trim_end_matches('_')
        ),
    };
    Ok(Some(Candidate {
        speaker: speaker.name.clone(),
        kind,
        slot,
        value,
        text,
        turns,
        time: cited
            .iter()
            .find_map(|t| t.timestamp)
            .unwrap_or(input.started_at),
        confidence: FACT_CONFIDENCE,
    }))
}

/// A slot the merge understands: lower case, non-empty `:`-separated parts, exclusive.
fn is_known_slot(slot: &str) -> bool {
    let well_formed = chars(slot) <= MAX_SLOT_CHARS
        && slot.split(':').all(|part| {
            !part.is_empty()
                && part.trim() == part
                && !part.contains("  ")
                && part.chars().all(|c| {
                    (c.is_alphanumeric() && !c.is_uppercase()) || matches!(c, '_' | '-' | ' ')
                })
        });
    well_formed && persona::is_exclusive_slot(slot)
}

/// Lower-case alphanumeric words joined by `separator`.
fn normalise(text: &str, separator: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(separator)
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The longest prefix of `text` of at most `max` characters that ends at a word boundary (a
/// space or `_`), or mid-word when the first word alone is longer.
fn cut_at_word(text: &str, max: usize) -> &str {
    let Some((end, next)) = text.char_indices().nth(max) else {
        return text;
    };
    let head = text.get(..end).unwrap_or(text);
    let is_break = |c: char| c.is_whitespace() || c == '_';
    if is_break(next) {
        return head.trim_end();
    }
    match head.rfind(is_break) {
        Some(i) if i > 0 => head.get(..i).unwrap_or(head).trim_end(),
        _ => head,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
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
        format!(
            r#"{{"summary": "Ann and Bo catch up.", "keywords": ["Lisbon"], "facts": {facts}}}"#
        )
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
                r#"{"summary": "s", "keywords": ["Lisbon"], "facts": [], "mood": "happy"}"#
                    .to_owned(),
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
}
