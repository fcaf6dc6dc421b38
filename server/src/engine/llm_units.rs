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
use serde_json::{Value, json};
use tracing::{debug, instrument};

/// The longest fact text accepted, in characters.
const MAX_FACT_CHARS: usize = 300;
/// The most dialogue lines a fact may cite in the reply schema.
const MAX_FACT_TURNS: usize = 8;
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
            max_facts: 20,
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
        schema: Some(reply_schema(&prompt.speakers, limits)),
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
         \"kind\": string, \"text\": string, \"turns\": [integer], \"slot\": string, \
         \"value\": string}}]}}\n\
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
         - facts[].turns: the numbers of the dialogue lines the fact comes from, 1 to \
         {MAX_FACT_TURNS}.\n\
         - facts[].slot: optional; only when the fact is one of lives_in, job, employer, from, \
         marital, work_field, pet:<animal>, likes:<thing>, favorite:<thing>, \
         relation:<relation>, written in lower case. Leave it out otherwise.\n\
         - facts[].value: only with a slot: the slot's value in 1 to 5 words (\"lisbon\", \
         \"nurse\", \"a dog named pepper\"), so that the same fact said twice matches and a \
         changed one replaces it.\n\
         No other fields.",
        max_summary = limits.max_summary_chars,
        max_keywords = limits.max_keywords,
        max_facts = limits.max_facts,
        kinds = kinds.join(", "),
        speaker_names = name_list(subjects(), "or"),
    )
}

/// The JSON Schema of the reply the system message describes, for servers that constrain
/// decoding to it: small models otherwise put a slot where the kind goes.
fn reply_schema(speakers: &[Speaker], limits: &LlmBuildLimits) -> Value {
    let subjects: Vec<&str> = speakers
        .iter()
        .filter(|s| s.subject)
        .map(|s| s.name.as_str())
        .collect();
    let kinds: Vec<&str> = StatementKind::ALL.iter().map(|k| k.as_str()).collect();
    // Array bounds keep a looping model from spending the whole reply budget on one list
    // (seen with a 1.5B model repeating keywords); string lengths are checked when reading,
    // which keeps the grammar a server derives from the schema small.
    let facts = if subjects.is_empty() {
        json!({ "type": "array", "maxItems": 0 })
    } else {
        json!({
            "type": "array",
            "maxItems": limits.max_facts,
            "items": {
                "type": "object",
                "properties": {
                    "speaker": { "type": "string", "enum": subjects },
                    "kind": { "type": "string", "enum": kinds },
                    "text": { "type": "string" },
                    "turns": {
                        "type": "array",
                        "items": { "type": "integer" },
                        "minItems": 1,
                        "maxItems": MAX_FACT_TURNS,
                    },
                    "slot": { "type": "string" },
                    "value": { "type": "string" },
                },
                "required": ["speaker", "kind", "text", "turns"],
                "additionalProperties": false,
            },
        })
    };
    json!({
        "type": "object",
        "properties": {
            "summary": { "type": "string" },
            "keywords": {
                "type": "array",
                "items": { "type": "string" },
                "minItems": 1,
                "maxItems": limits.max_keywords,
            },
            "facts": facts,
        },
        "required": ["summary", "keywords", "facts"],
        "additionalProperties": false,
    })
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
    #[serde(default)]
    value: Option<String>,
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
    let slot = fact
        .slot
        .as_deref()
        .map(str::trim)
        .filter(|slot| is_known_slot(slot));
    // A slot's value compares facts across sessions: the model's short value when it gave one
    // that fits, else the whole text.
    let value = match (slot, fact.value.as_deref().map(|v| normalise(v, " "))) {
        (Some(_), Some(short)) if !short.is_empty() && chars(&short) <= MAX_SLOT_CHARS => short,
        _ => value,
    };
    let slot = match slot {
        Some(slot) => slot.to_owned(),
        None => format!(
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
mod tests;
