//! Reading the model's reply strictly: the first JSON object, its schema, and each fact checked
//! against the session (speaker, kind, length, cited lines).

use super::*;

/// The reply's schema; anything else is off-schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Reply {
    summary: String,
    keywords: Vec<String>,
    facts: Vec<ReplyFact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyFact {
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
pub(super) fn json_object(text: &str) -> Option<&str> {
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

pub(super) fn parse(text: &str) -> Result<Reply, String> {
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
pub(super) fn read_reply(
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
pub(super) fn read_fact(
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
pub(super) fn is_known_slot(slot: &str) -> bool {
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
