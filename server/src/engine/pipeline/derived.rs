//! A session's derived units: summary and keywords (from the language model's reply, or
//! extractive) and its persona statements merged into the user's persona, whose active ones
//! become the session's `fact` units.

use super::*;

/// Reads persona statements from a session and merges them into its user's persona; the
/// session's active anchored statements become its `fact` units. Returns the other sessions
/// whose fact units changed (marked pending in the store).
fn add_persona_facts(
    parts: &Parts<'_>,
    p: &mut Prepared,
    candidates: Vec<persona::Candidate>,
    producer: &Producer,
    now: Timestamp,
) -> Result<Vec<SessionKey>> {
    let key = p.input.session_key;
    let merged = parts
        .store
        .merge_persona(key, producer, now, ACTOR, |existing| {
            persona::merge(existing, candidates, now)
        })?;
    let Some(merged) = merged else {
        return Ok(Vec::new());
    };
    let positions: HashMap<TurnId, u32> = p
        .input
        .turns
        .iter()
        .map(|t| (t.turn_id, t.position))
        .collect();
    p.drafts
        .extend(merged.anchored.iter().enumerate().map(|(i, s)| {
            UnitDraft {
                granularity: Granularity::Fact,
                ordinal: i as u32,
                text: s.text.clone(),
                event_time: s.first_seen,
                turn_positions: s
                    .turns
                    .iter()
                    .filter_map(|t| positions.get(t).copied())
                    .collect(),
                producer: s.producer.clone(),
            }
        }));
    Ok(merged.refresh)
}

/// The extractive reading of a session's persona statements: first-person sentences of its
/// human speakers (an assistant's turns say nothing about the user).
fn extract_candidates(input: &BuildInput) -> Vec<persona::Candidate> {
    let turns: Vec<TurnInput> = input
        .turns
        .iter()
        .filter(|t| t.role != Role::Assistant)
        .map(|t| TurnInput {
            turn_id: t.turn_id,
            speaker: t.speaker.clone(),
            text: t.text.clone(),
            time: t.timestamp.unwrap_or(input.started_at),
        })
        .collect();
    persona::extract(&turns)
}

/// Document frequencies of the sessions built earlier in this batch, so that a batch gives the
/// same keywords as building its sessions one at a time.
#[derive(Default)]
pub(super) struct BatchFrequencies {
    sessions: u64,
    df: HashMap<String, u64>,
}

/// Adds a session's derived units: summary, keywords and facts, from the language model when
/// one is configured and answers well, else extractive. Returns the other sessions whose fact
/// units changed.
pub(super) fn add_derived_units(
    parts: &Parts<'_>,
    p: &mut Prepared,
    drafted: Option<Result<LlmSession, LlmBuildError>>,
    vectors: &HashMap<String, Vec<f32>>,
    batch: &mut HashMap<UserRef, BatchFrequencies>,
    now: Timestamp,
) -> Result<Vec<SessionKey>> {
    let producer = match (parts.llm, drafted) {
        (Some(llm), Some(drafted)) => match drafted {
            Ok(built) => {
                parts
                    .metrics
                    .llm_built(u64::from(built.attempts.saturating_sub(1)));
                let producer = Producer::Llm {
                    model: llm.model().to_owned(),
                };
                p.drafts.extend(llm_drafts(&p.input, &built, &producer));
                // The keyword statistics still count this session's terms.
                count_terms(parts, p, batch)?;
                return add_persona_facts(parts, p, built.facts, &producer, now);
            }
            Err(e) => {
                let retries = u64::from(matches!(e, LlmBuildError::Invalid { .. }));
                parts.metrics.llm_fell_back(retries);
                warn!(session = p.input.session_key.0, error = %e, "the language model failed; building extractively");
                Producer::Fallback {
                    model: llm.model().to_owned(),
                }
            }
        },
        _ => Producer::Extractive,
    };
    let turn_vectors: Vec<&[f32]> = p
        .drafts
        .iter()
        .filter(|d| d.granularity == Granularity::Turn)
        .filter_map(|d| vectors.get(&d.text).map(Vec::as_slice))
        .collect();
    let summary = extractive_summary(&p.input, &p.rendered, &turn_vectors, parts.build);
    let (df, sessions) = count_terms(parts, p, batch)?;
    let keywords = extractive_keywords(&p.input, &p.phrases, &df, sessions, parts.build);
    let credited = |mut d: UnitDraft| {
        d.producer = producer.clone();
        d
    };
    p.drafts.extend(summary.map(credited));
    p.drafts.extend(keywords.map(credited));
    let candidates = extract_candidates(&p.input);
    add_persona_facts(parts, p, candidates, &producer, now)
}

/// The user's document frequencies of the session's terms (stored sessions and those earlier
/// in the batch) and how many sessions they count; then counts this session in the batch.
fn count_terms(
    parts: &Parts<'_>,
    p: &Prepared,
    batch: &mut HashMap<UserRef, BatchFrequencies>,
) -> Result<(HashMap<String, u64>, u64)> {
    let stored = parts
        .store
        .term_frequencies(&p.input.user_id, &p.terms, p.input.session_key)?;
    let earlier = batch.entry(p.input.user_id.clone()).or_default();
    let df: HashMap<String, u64> = p
        .terms
        .iter()
        .zip(&stored.df)
        .map(|(t, n)| (t.clone(), n + earlier.df.get(t).copied().unwrap_or(0)))
        .collect();
    let sessions = stored.sessions + earlier.sessions;
    earlier.sessions += 1;
    for t in &p.terms {
        *earlier.df.entry(t.clone()).or_default() += 1;
    }
    Ok((df, sessions))
}

/// The summary and keywords units of a session a language model read.
fn llm_drafts(input: &BuildInput, built: &LlmSession, producer: &Producer) -> Vec<UnitDraft> {
    let shown: Vec<u32> = input
        .turns
        .iter()
        .take(built.shown_turns)
        .map(|t| t.position)
        .collect();
    let draft = |granularity, text: String| UnitDraft {
        granularity,
        ordinal: 0,
        text,
        event_time: input.started_at,
        turn_positions: shown.clone(),
        producer: producer.clone(),
    };
    vec![
        draft(Granularity::Summary, built.summary.clone()),
        draft(
            Granularity::Keywords,
            format!("Topics: {}", built.keywords.join(", ")),
        ),
    ]
}
