//! The write path once a session is durable: build its units, embed them, store them and
//! index them. Sessions are built in batches so that the model sees large batches and the
//! full-text index commits once per batch.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use memory::build::{
    BuildConfig, KeyPhrase, extractive_keywords, extractive_summary, key_phrases, phrase_terms,
    render_turn, verbatim_units,
};
use memory::catalog::Catalog;
use memory::embed::Embedder;
use memory::graph_index::GraphIndex;
use memory::llm::LanguageModel;
use memory::store::{
    Actor, BuildInput, Edge, IndexedUnit, NewUnit, SessionBuild, SessionKey, SqliteStore,
    UnitOverride,
};
use memory::text_index::TextIndex;
use memory::vector_index::{VectorEntry, VectorIndex};
use memory::{Granularity, Producer, Role, SessionStatus, Timestamp, TurnId, UnitDraft, UserRef};
use persona::TurnInput;
use retrieval::association::AssociationConfig;
use tracing::{instrument, warn};

use super::llm_units::{
    LlmBuildError, LlmBuildLimits, LlmSession, ReplyCache, build_sessions as ask_model,
};
use super::metrics::Metrics;
use crate::{Error, Result};

/// What the write path works with.
#[derive(Clone, Copy)]
pub(crate) struct Parts<'a> {
    pub(crate) store: &'a SqliteStore,
    pub(crate) vectors: &'a dyn VectorIndex,
    pub(crate) text: &'a dyn TextIndex,
    pub(crate) embedder: &'a dyn Embedder,
    pub(crate) build: &'a BuildConfig,
    pub(crate) catalog: &'a Catalog,
    pub(crate) graph: &'a GraphIndex,
    pub(crate) association: &'a AssociationConfig,
    pub(crate) metrics: &'a Metrics,
    /// Builds summaries, keywords and facts when configured; else they are extractive.
    pub(crate) llm: Option<&'a dyn LanguageModel>,
    /// Sessions of a batch sent to the model at once.
    pub(crate) llm_concurrency: usize,
    /// The model's readings, reused when a session is rebuilt with the same turns.
    pub(crate) llm_cache: &'a ReplyCache,
}

/// What building one session came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildOutcome {
    /// Units were built; how many of each granularity.
    Built(BTreeMap<Granularity, usize>),
    /// The session was built already.
    AlreadyReady,
    /// The session was deleted before it was built.
    Deleted,
    /// The session gained turns while it was being built; it must be built again.
    Stale,
}

const ACTOR: Actor<'static> = Actor("worker");

/// A session with its verbatim units and key phrases, waiting for vectors.
struct Prepared {
    input: BuildInput,
    rendered: Vec<String>,
    drafts: Vec<UnitDraft>,
    phrases: Vec<KeyPhrase>,
    terms: Vec<String>,
}

fn prepare(parts: &Parts<'_>, input: BuildInput) -> Result<Prepared> {
    let rendered: Vec<String> = input.turns.iter().map(render_turn).collect();
    let refs: Vec<&str> = rendered.iter().map(String::as_str).collect();
    let tokens = parts.embedder.token_counts(&refs)?;
    let drafts = verbatim_units(
        &input,
        &rendered,
        &tokens,
        parts.embedder.max_tokens(),
        parts.build,
    );
    let phrases = key_phrases(&input);
    let terms = phrase_terms(&phrases);
    Ok(Prepared {
        input,
        rendered,
        drafts,
        phrases,
        terms,
    })
}

/// Embeds every text not embedded yet, each distinct text once.
fn embed_missing<'t>(
    parts: &Parts<'_>,
    texts: impl Iterator<Item = &'t str>,
    vectors: &mut HashMap<String, Vec<f32>>,
) -> Result<()> {
    let mut missing: Vec<&str> = texts.filter(|t| !vectors.contains_key(*t)).collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let embedded = parts.embedder.embed(&missing)?;
    parts
        .metrics
        .embedded(missing.len() as u64, started.elapsed());
    vectors.extend(missing.into_iter().map(str::to_owned).zip(embedded));
    Ok(())
}

mod derived;
use derived::{BatchFrequencies, add_derived_units};

/// Stores a prepared session's units and adds them to the derived indexes (the full-text
/// changes are committed by the caller).
fn store_and_index(
    parts: &Parts<'_>,
    p: Prepared,
    vectors: &HashMap<String, Vec<f32>>,
    now: Timestamp,
) -> Result<BuildOutcome> {
    let key = p.input.session_key;
    let overrides = parts.store.unit_overrides(key)?;
    let units: Vec<NewUnit> = p
        .drafts
        .into_iter()
        .filter_map(|draft| apply_override(draft, &p.input, &overrides))
        .map(|draft| {
            let embedding = vectors
                .get(&draft.text)
                .cloned()
                .ok_or_else(|| Error::Build {
                    reason: "a unit text was not embedded".to_owned(),
                })?;
            Ok(NewUnit { draft, embedding })
        })
        .collect::<Result<_>>()?;
    let user = &p.input.user_id;
    let vectors_of: Vec<&[f32]> = units.iter().map(|u| u.embedding.as_slice()).collect();
    let links = super::association::links(parts, user, key, &vectors_of)?;
    let build = SessionBuild {
        session: key,
        built_turns: p.input.turns.len(),
        units: &units,
        links: &links,
        terms: &p.terms,
    };
    let Some(ids) = parts.store.replace_units(build, now, ACTOR)? else {
        return Ok(match parts.store.build_input(key)? {
            None => BuildOutcome::Deleted,
            Some(_) => BuildOutcome::Stale,
        });
    };
    let edges: Vec<Edge> = links
        .iter()
        .map(|&(i, to, weight)| Edge {
            from: ids[i],
            to,
            weight,
        })
        .collect();
    let mut counts: BTreeMap<Granularity, usize> = BTreeMap::new();
    let mut entries = Vec::with_capacity(units.len());
    let mut docs = Vec::with_capacity(units.len());
    for (unit, id) in units.into_iter().zip(ids) {
        let d = unit.draft;
        *counts.entry(d.granularity).or_default() += 1;
        let speaker = (d.granularity == Granularity::Turn)
            .then(|| {
                d.turn_positions
                    .first()
                    .and_then(|&pos| p.input.turns.get(pos as usize))
            })
            .flatten()
            .map(|t| t.speaker.clone());
        docs.push(IndexedUnit {
            unit_id: id,
            user_id: user.clone(),
            session_key: key,
            granularity: d.granularity,
            event_time: d.event_time,
            first_position: d.turn_positions.iter().copied().min().unwrap_or(0),
            last_position: d.turn_positions.iter().copied().max().unwrap_or(0),
            speaker,
            text: d.text,
            embedding: Vec::new(),
        });
        entries.push(VectorEntry {
            unit_id: id,
            session_key: key,
            granularity: d.granularity,
            event_time: d.event_time,
            vector: unit.embedding,
        });
    }
    forget_session(parts, user, key)?;
    parts.vectors.upsert(user, entries)?;
    parts.catalog.upsert(user, &docs)?;
    parts.graph.add(user, &edges)?;
    parts.text.add(&docs)?;
    Ok(BuildOutcome::Built(counts))
}

/// A built unit with what a person did in its place: their text instead (found among the
/// session's stored vectors), or nothing when they deleted it.
fn apply_override(
    mut draft: UnitDraft,
    input: &BuildInput,
    overrides: &[UnitOverride],
) -> Option<UnitDraft> {
    let first = draft
        .turn_positions
        .iter()
        .min()
        .and_then(|&position| input.turns.get(position as usize))
        .map(|t| t.turn_id);
    let found = overrides
        .iter()
        .find(|o| o.granularity == draft.granularity && Some(o.first_turn) == first);
    match found {
        None => Some(draft),
        Some(UnitOverride { text: None, .. }) => None,
        Some(UnitOverride {
            text: Some(text), ..
        }) => {
            draft.text = text.clone();
            draft.producer = Producer::Edited;
            Some(draft)
        }
    }
}

/// Removes a session's units from every in-memory index and buffers their removal from the
/// full-text index. Returns how many vectors went.
pub(crate) fn forget_session(parts: &Parts<'_>, user: &UserRef, key: SessionKey) -> Result<usize> {
    let vectors = parts.vectors.remove_session(user, key)?;
    let gone = parts.catalog.remove_session(user, key)?;
    parts.graph.remove_units(user, &gone)?;
    parts.text.delete_session(key)?;
    Ok(vectors)
}

/// What building a batch of sessions came to.
pub(crate) struct BatchOutcome {
    /// Each session's own outcome.
    pub(crate) outcomes: Vec<(SessionKey, Result<BuildOutcome>)>,
    /// Other sessions whose fact units changed on the way (their persona statements were
    /// superseded); marked pending, to be built next.
    pub(crate) refresh: Vec<SessionKey>,
}

/// The distinct verbatim texts of a pending session that have no vector yet: neither stored
/// with its units nor in `have`. Empty for a session that is gone or built.
pub(crate) fn texts_to_embed(
    parts: &Parts<'_>,
    key: SessionKey,
    have: &HashMap<String, Vec<f32>>,
) -> Result<Vec<String>> {
    let Some(input) = parts.store.build_input(key)? else {
        return Ok(Vec::new());
    };
    if input.status == SessionStatus::Ready {
        return Ok(Vec::new());
    }
    let prepared = prepare(parts, input)?;
    let stored = parts.store.session_embeddings(key)?;
    let mut missing: Vec<String> = prepared
        .drafts
        .into_iter()
        .map(|d| d.text)
        .filter(|t| !have.contains_key(t) && !stored.contains_key(t))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    Ok(missing)
}

/// Embeds these texts into `have`.
pub(crate) fn embed_texts(
    parts: &Parts<'_>,
    texts: &[String],
    have: &mut HashMap<String, Vec<f32>>,
) -> Result<()> {
    embed_missing(parts, texts.iter().map(String::as_str), have)
}

/// Builds the units of these sessions. Each session gets its own outcome; a failure of one
/// leaves it pending (it is retried at the next start) without failing the others. `embedded`
/// holds vectors already computed for some of their texts (a large session embedded in
/// slices).
#[instrument(skip_all, fields(sessions = keys.len()))]
pub(crate) fn build_sessions(
    parts: &Parts<'_>,
    keys: &[SessionKey],
    now: Timestamp,
    embedded: HashMap<String, Vec<f32>>,
) -> BatchOutcome {
    let started = Instant::now();
    let mut outcomes: Vec<(SessionKey, Result<BuildOutcome>)> = Vec::new();
    let mut prepared: Vec<Prepared> = Vec::new();
    for &key in keys {
        match parts.store.build_input(key) {
            Ok(None) => outcomes.push((key, Ok(BuildOutcome::Deleted))),
            Ok(Some(input)) if input.status == SessionStatus::Ready => {
                outcomes.push((key, Ok(BuildOutcome::AlreadyReady)));
            }
            Ok(Some(input)) => match prepare(parts, input) {
                Ok(p) => prepared.push(p),
                Err(e) => outcomes.push((key, Err(e))),
            },
            Err(e) => outcomes.push((key, Err(e.into()))),
        }
    }
    // Rebuilt sessions keep the vectors of unchanged texts.
    let mut vectors: HashMap<String, Vec<f32>> = embedded;
    for p in &prepared {
        match parts.store.session_embeddings(p.input.session_key) {
            Ok(stored) => vectors.extend(stored),
            Err(e) => warn!(error = %e, "cannot read stored embeddings; embedding again"),
        }
    }
    let verbatim = prepared
        .iter()
        .flat_map(|p| p.drafts.iter().map(|d| d.text.as_str()));
    if let Err(e) = embed_missing(parts, verbatim, &mut vectors) {
        return BatchOutcome {
            outcomes: fail_all(parts, outcomes, prepared, &e),
            refresh: Vec::new(),
        };
    }
    let mut batch: HashMap<UserRef, BatchFrequencies> = HashMap::new();
    let mut ready: Vec<Prepared> = Vec::with_capacity(prepared.len());
    let mut refresh: Vec<SessionKey> = Vec::new();
    let drafted: Vec<Option<Result<LlmSession, LlmBuildError>>> = match parts.llm {
        Some(llm) => {
            let inputs: Vec<&BuildInput> = prepared.iter().map(|p| &p.input).collect();
            let limits = LlmBuildLimits::default();
            ask_model(
                llm,
                &inputs,
                &limits,
                parts.llm_concurrency,
                parts.llm_cache,
            )
            .into_iter()
            .map(Some)
            .collect()
        }
        None => prepared.iter().map(|_| None).collect(),
    };
    for (mut p, drafted) in prepared.into_iter().zip(drafted) {
        match add_derived_units(parts, &mut p, drafted, &vectors, &mut batch, now) {
            Ok(more) => {
                refresh.extend(more);
                ready.push(p);
            }
            Err(e) => outcomes.push((p.input.session_key, Err(e))),
        }
    }
    let derived = ready.iter().flat_map(|p| {
        p.drafts
            .iter()
            .filter(|d| d.granularity != Granularity::Turn)
            .map(|d| d.text.as_str())
    });
    if let Err(e) = embed_missing(parts, derived, &mut vectors) {
        return BatchOutcome {
            outcomes: fail_all(parts, outcomes, ready, &e),
            refresh,
        };
    }
    let mut built = 0;
    for p in ready {
        let key = p.input.session_key;
        let outcome = store_and_index(parts, p, &vectors, now);
        if let Ok(BuildOutcome::Built(counts)) = &outcome {
            built += 1;
            parts
                .metrics
                .built(1, counts.values().sum::<usize>() as u64);
        }
        outcomes.push((key, outcome));
    }
    if built > 0
        && let Err(e) = commit_text_index(parts)
    {
        // The units are durable; the log replays into the index at the next start.
        warn!(error = %e, "full-text index commit failed; it catches up at the next start");
    }
    let failures = outcomes.iter().filter(|(_, o)| o.is_err()).count();
    parts.metrics.failed(failures as u64);
    parts.metrics.batch(started.elapsed());
    refresh.sort_unstable();
    refresh.dedup();
    BatchOutcome { outcomes, refresh }
}

fn fail_all(
    parts: &Parts<'_>,
    mut outcomes: Vec<(SessionKey, Result<BuildOutcome>)>,
    sessions: Vec<Prepared>,
    error: &Error,
) -> Vec<(SessionKey, Result<BuildOutcome>)> {
    parts.metrics.failed(sessions.len() as u64);
    for p in sessions {
        outcomes.push((
            p.input.session_key,
            Err(Error::Build {
                reason: error.to_string(),
            }),
        ));
    }
    outcomes
}

/// Commits the full-text index up to the newest log entry and forgets the applied entries.
pub(crate) fn commit_text_index(parts: &Parts<'_>) -> Result<()> {
    let head = parts.store.index_log_head()?;
    parts.text.commit(head)?;
    parts.store.truncate_index_log(head)?;
    Ok(())
}
