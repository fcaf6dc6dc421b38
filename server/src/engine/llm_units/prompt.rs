//! The request: who speaks, the system message, the reply's JSON Schema, and the dialogue as
//! numbered lines cut to the prompt budget.

use super::*;

/// Whether the session is a person talking with an assistant, or people talking together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialogue {
    UserAssistant,
    Peers,
}

/// A distinct speaker of the session, spelled as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Speaker {
    pub(super) name: String,
    /// Whether facts about this speaker are kept.
    pub(super) subject: bool,
}

/// The first request and what the reply is checked against.
#[derive(Debug, Clone)]
pub(super) struct Prompt {
    pub(super) messages: Vec<ChatMessage>,
    pub(super) speakers: Vec<Speaker>,
    /// Turns `0..shown` are numbered `[1]..[shown]` in the prompt.
    pub(super) shown: usize,
}

pub(super) fn speaker_name(turn: &TurnRecord) -> &str {
    match turn.speaker.trim() {
        "" => turn.role.as_str(),
        name => name,
    }
}

/// The dialogue's kind and its speakers in order of first appearance, merged ignoring case.
pub(super) fn speakers(turns: &[TurnRecord]) -> (Dialogue, Vec<Speaker>) {
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
pub(super) fn name_list<'a>(names: impl Iterator<Item = &'a str>, conjunction: &str) -> String {
    let quoted: Vec<String> = names.map(|n| format!("\"{n}\"")).collect();
    match quoted.as_slice() {
        [] => "nobody".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

pub(super) fn session_date(t: Timestamp) -> String {
    match DateTime::<Utc>::from_timestamp_millis(t.millis()) {
        Some(d) => d.format("%A, %-d %B %Y").to_string(),
        None => t.to_rfc3339(),
    }
}

pub(super) fn system_message(
    dialogue: Dialogue,
    speakers: &[Speaker],
    limits: &LlmBuildLimits,
) -> String {
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
pub(super) fn reply_schema(speakers: &[Speaker], limits: &LlmBuildLimits) -> Value {
    let subjects: Vec<&str> = speakers
        .iter()
        .filter(|s| s.subject)
        .map(|s| s.name.as_str())
        .collect();
    let kinds: Vec<&str> = StatementKind::ALL.iter().map(|k| k.as_str()).collect();
    // Bounds on every list and string keep a looping model from spending the whole reply
    // budget on one of them (seen with a 1.5B model repeating keywords, then a sentence of its
    // summary, until the reply was cut).
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
                    "text": { "type": "string", "maxLength": MAX_FACT_CHARS },
                    "turns": {
                        "type": "array",
                        "items": { "type": "integer" },
                        "minItems": 1,
                        "maxItems": MAX_FACT_TURNS,
                    },
                    "slot": { "type": "string", "maxLength": MAX_SLOT_CHARS },
                    "value": { "type": "string", "maxLength": MAX_SLOT_CHARS },
                },
                "required": ["speaker", "kind", "text", "turns"],
                "additionalProperties": false,
            },
        })
    };
    json!({
        "type": "object",
        "properties": {
            "summary": { "type": "string", "maxLength": limits.max_summary_chars },
            "keywords": {
                "type": "array",
                "items": { "type": "string", "maxLength": MAX_KEYWORD_CHARS },
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
pub(super) fn line_body(turn: &TurnRecord) -> String {
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
pub(super) fn prompt(input: &BuildInput, limits: &LlmBuildLimits) -> Result<Prompt, String> {
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
