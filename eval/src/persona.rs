//! The persona metric: mnemo's extracted persona statements scored against LoCoMo's generated
//! per-speaker observations, by embedding similarity within each speaker.
//!
//! # Definitions
//!
//! Texts are embedded with the caller's [`Embedder`] (unit vectors, so a dot product is a
//! cosine). Only pairs of the same speaker are ever compared: a statement about one speaker
//! never matches an observation about the other.
//!
//! - An observation is *matched* when some statement of its speaker has cosine >= threshold.
//!   Fact recall = matched observations / observations.
//! - A statement is *matched* when its best observation (the same speaker's most similar one)
//!   has cosine >= threshold. Statement precision = matched statements / statements.
//! - Provenance precision = the share of matched statements whose turns intersect the source
//!   turns of their best observation (turn ids are LoCoMo's `D<session>:<turn>`, normalised).
//!
//! Every level (speaker, conversation, all conversations) sums the counts first and takes the
//! ratios last, so large conversations weigh more than small ones. A ratio over nothing is
//! `None`, not 0. One broad statement may match several observations: recall is about which
//! facts are covered, not about a one-to-one alignment.
//!
//! # Threshold
//!
//! [`DEFAULT_THRESHOLD`] is 0.75, measured with all-MiniLM-L6-v2 on locomo10.json.
//!
//! Hand-written pairs for 40 random observations: a full paraphrase of each scores 0.799 to
//! 0.977; a paraphrase of one clause only (what an extractor usually writes) 0.52 to 0.93 (4
//! of 40 under 0.75, 15 under 0.80); an unrelated fact about the same speaker 0.26 to 0.55.
//! The hard cases are different facts on the same topic ("Jon closed his dance studio" against
//! "Jon is opening a dance studio"): 18 of 40 reach 0.65, 12 reach 0.70, 8 reach 0.75 and 3
//! reach 0.80. The shared name alone puts two statements about one speaker near 0.4, so vague
//! statements ("Jon is gonna keep going") reach 0.6 to 0.7 against many of that speaker's
//! observations.
//!
//! The 400 statements of `persona`'s offline extractor, judged by hand (10 pairs per 0.025
//! band from 0.60 to 0.85): a statement and its best observation were the same fact in 2 to 3
//! of 10 pairs from 0.60 to 0.70, 6 to 8 of 10 from 0.70 to 0.80 and 10 of 10 from 0.80; an
//! observation and its best statement in 2 of 10 from 0.65 to 0.70, 4 of 10 from 0.70 to 0.75,
//! 5 of 10 from 0.75 to 0.80 and 9 to 10 of 10 from 0.80. Weighting these rates by the number
//! of pairs in each band, 0.75 misjudges the fewest pairs (about 380, against 415 at 0.70 and
//! 400 at 0.80), and on the hand-written pairs too (12 of 120, against 14 and 19): 0.70 adds
//! more topical matches than true ones, 0.80 drops over a third of one-clause paraphrases.
//! With 0.75 that extractor scores 16.5% fact recall, 61.5% statement precision and 72.4%
//! provenance precision (0.70: 28.1%, 76.8% and 63.5%). Another model needs a new measurement.

use std::collections::BTreeMap;
use std::fmt::Write;

use anyhow::{Context, ensure};
use memory::embed::{Embedder, dot};
use serde::{Deserialize, Serialize};

use crate::dataset::{Observation, normalise_evidence};

/// The cosine at which a statement and an observation of the same speaker count as the same
/// fact, for all-MiniLM-L6-v2 (see the module documentation for the measurement).
pub const DEFAULT_THRESHOLD: f32 = 0.75;

/// One persona statement extracted by mnemo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedStatement {
    /// The speaker it is about, spelled as in the conversation.
    pub speaker: String,
    pub text: String,
    /// The turns it came from, as LoCoMo external ids (`D3:5`).
    pub turns: Vec<String>,
}

/// Counts and ratios over a set of observations and statements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonaMetrics {
    pub observations: usize,
    pub observations_matched: usize,
    /// `observations_matched / observations`.
    pub fact_recall: Option<f64>,
    pub statements: usize,
    pub statements_matched: usize,
    /// `statements_matched / statements`.
    pub statement_precision: Option<f64>,
    /// Matched statements whose turns intersect the sources of their best observation.
    pub statements_with_provenance: usize,
    /// `statements_with_provenance / statements_matched`.
    pub provenance_precision: Option<f64>,
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl PersonaMetrics {
    /// Adds another set's counts and recomputes the ratios from the sums.
    fn add(&mut self, other: &Self) {
        self.observations += other.observations;
        self.observations_matched += other.observations_matched;
        self.statements += other.statements;
        self.statements_matched += other.statements_matched;
        self.statements_with_provenance += other.statements_with_provenance;
        self.refresh();
    }

    fn refresh(&mut self) {
        self.fact_recall = ratio(self.observations_matched, self.observations);
        self.statement_precision = ratio(self.statements_matched, self.statements);
        self.provenance_precision = ratio(self.statements_with_provenance, self.statements_matched);
    }
}

/// One speaker of one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerPersona {
    pub speaker: String,
    pub metrics: PersonaMetrics,
}

/// One conversation, with its speakers by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPersona {
    pub sample_id: String,
    pub metrics: PersonaMetrics,
    /// Every speaker with an observation or a statement, sorted by name.
    pub speakers: Vec<SpeakerPersona>,
}

/// The persona metric over one or more conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonaScore {
    pub threshold: f32,
    /// All conversations, from summed counts.
    pub overall: PersonaMetrics,
    /// In the order they were scored or merged.
    pub conversations: Vec<ConversationPersona>,
}

impl PersonaScore {
    /// A score over no conversation, to [`merge`](Self::merge) others into.
    pub fn empty(threshold: f32) -> Self {
        Self {
            threshold,
            overall: PersonaMetrics::default(),
            conversations: Vec::new(),
        }
    }

    /// Adds another score's conversations. A conversation already present (the same sample
    /// id) has its counts summed, speaker by speaker. Scores made with different thresholds
    /// cannot be merged.
    pub fn merge(&mut self, other: PersonaScore) -> anyhow::Result<()> {
        ensure!(
            self.threshold.to_bits() == other.threshold.to_bits(),
            "cannot merge persona scores made with thresholds {} and {}",
            self.threshold,
            other.threshold
        );
        for conversation in other.conversations {
            self.overall.add(&conversation.metrics);
            let Some(mine) = self
                .conversations
                .iter_mut()
                .find(|c| c.sample_id == conversation.sample_id)
            else {
                self.conversations.push(conversation);
                continue;
            };
            mine.metrics.add(&conversation.metrics);
            for speaker in conversation.speakers {
                match mine
                    .speakers
                    .iter_mut()
                    .find(|s| s.speaker == speaker.speaker)
                {
                    Some(s) => s.metrics.add(&speaker.metrics),
                    None => mine.speakers.push(speaker),
                }
            }
            mine.speakers.sort_by(|a, b| a.speaker.cmp(&b.speaker));
        }
        Ok(())
    }
}

/// Embeds texts, checking that the embedder returned one vector of its dimension per text.
fn embed(embedder: &dyn Embedder, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let vectors = embedder.embed(texts)?;
    ensure!(
        vectors.len() == texts.len(),
        "the embedder returned {} vectors for {} texts",
        vectors.len(),
        texts.len()
    );
    let dim = embedder.dim();
    ensure!(
        vectors.iter().all(|v| v.len() == dim),
        "the embedder returned vectors of other lengths than its dimension {dim}"
    );
    Ok(vectors)
}

/// The index and cosine of the most similar candidate (the first one on ties).
fn best<'a>(
    vector: &[f32],
    candidates: impl Iterator<Item = (usize, &'a [f32])>,
) -> Option<(usize, f32)> {
    candidates.fold(None, |acc, (i, v)| {
        let cosine = dot(vector, v);
        match acc {
            Some((_, top)) if top >= cosine => acc,
            _ => Some((i, cosine)),
        }
    })
}

/// Scores one speaker's observations and statements (vectors given, same speaker already).
fn score_speaker(
    observations: &[(&Observation, &[f32])],
    statements: &[(&ExtractedStatement, &[f32])],
    threshold: f32,
) -> PersonaMetrics {
    let observation_vectors = || observations.iter().map(|(_, v)| *v).enumerate();
    let statement_vectors = || statements.iter().map(|(_, v)| *v).enumerate();
    let mut metrics = PersonaMetrics {
        observations: observations.len(),
        statements: statements.len(),
        ..PersonaMetrics::default()
    };
    metrics.observations_matched = observations
        .iter()
        .filter(|(_, v)| best(v, statement_vectors()).is_some_and(|(_, c)| c >= threshold))
        .count();
    for (statement, vector) in statements {
        let Some((index, cosine)) = best(vector, observation_vectors()) else {
            continue;
        };
        if cosine < threshold {
            continue;
        }
        metrics.statements_matched += 1;
        let sources = &observations[index].0.sources;
        let traced = statement
            .turns
            .iter()
            .flat_map(|t| normalise_evidence(t))
            .any(|t| sources.contains(&t));
        if traced {
            metrics.statements_with_provenance += 1;
        }
    }
    metrics.refresh();
    metrics
}

/// Scores one conversation's extracted statements against its observations (see the module
/// documentation). `threshold` is a cosine; [`DEFAULT_THRESHOLD`] suits all-MiniLM-L6-v2.
/// The embedder runs on the calling thread: call this from a blocking thread.
pub fn score_conversation(
    sample_id: &str,
    observations: &[Observation],
    statements: &[ExtractedStatement],
    embedder: &dyn Embedder,
    threshold: f32,
) -> anyhow::Result<PersonaScore> {
    ensure!(
        (-1.0..=1.0).contains(&threshold),
        "the persona threshold {threshold} is not a cosine"
    );
    let texts: Vec<&str> = observations.iter().map(|o| o.text.as_str()).collect();
    let observation_vectors = embed(embedder, &texts)
        .with_context(|| format!("embedding the observations of {sample_id}"))?;
    let texts: Vec<&str> = statements.iter().map(|s| s.text.as_str()).collect();
    let statement_vectors = embed(embedder, &texts)
        .with_context(|| format!("embedding the persona statements of {sample_id}"))?;

    type Group<'a> = (
        Vec<(&'a Observation, &'a [f32])>,
        Vec<(&'a ExtractedStatement, &'a [f32])>,
    );
    let mut by_speaker: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    for (o, v) in observations.iter().zip(&observation_vectors) {
        by_speaker.entry(&o.speaker).or_default().0.push((o, v));
    }
    for (s, v) in statements.iter().zip(&statement_vectors) {
        by_speaker.entry(&s.speaker).or_default().1.push((s, v));
    }

    let mut metrics = PersonaMetrics::default();
    let speakers: Vec<SpeakerPersona> = by_speaker
        .into_iter()
        .map(|(speaker, (observations, statements))| {
            let speaker_metrics = score_speaker(&observations, &statements, threshold);
            metrics.add(&speaker_metrics);
            SpeakerPersona {
                speaker: speaker.to_owned(),
                metrics: speaker_metrics,
            }
        })
        .collect();
    let mut score = PersonaScore::empty(threshold);
    score.overall = metrics.clone();
    score.conversations.push(ConversationPersona {
        sample_id: sample_id.to_owned(),
        metrics,
        speakers,
    });
    Ok(score)
}

/// How much of a [`PersonaScore`] the report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// One row for all conversations and one per conversation.
    Conversations,
    /// Also one row per speaker of each conversation.
    Speakers,
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{:.1}", v * 100.0))
}

fn row(label: String, m: &PersonaMetrics) -> Vec<String> {
    vec![
        label,
        pct(m.fact_recall),
        pct(m.statement_precision),
        pct(m.provenance_precision),
        format!("{} / {}", m.observations_matched, m.observations),
        format!("{} / {}", m.statements_matched, m.statements),
        format!(
            "{} / {}",
            m.statements_with_provenance, m.statements_matched
        ),
    ]
}

/// Renders the report's persona section: a Markdown heading, a sentence on the method and a
/// table (ratios as percentages, counts as matched / total).
pub fn render(score: &PersonaScore, detail: Detail) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Persona statements\n");
    let _ = writeln!(
        out,
        "Extracted statements against LoCoMo's generated observations, compared within each \
         speaker by embedding cosine (match at >= {:.2}). Fact recall: observations with a \
         matching statement. Statement precision: statements whose best observation matches. \
         Provenance precision: matched statements whose turns include a source turn of that \
         observation. Ratios are percentages of summed counts.\n",
        score.threshold
    );
    let header = [
        "conversation",
        "fact recall",
        "statement precision",
        "provenance precision",
        "observations matched",
        "statements matched",
        "with provenance",
    ];
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    let mut rows = vec![row("all".to_owned(), &score.overall)];
    for c in &score.conversations {
        rows.push(row(c.sample_id.clone(), &c.metrics));
        if detail == Detail::Speakers {
            rows.extend(
                c.speakers
                    .iter()
                    .map(|s| row(format!("{} / {}", c.sample_id, s.speaker), &s.metrics)),
            );
        }
    }
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
