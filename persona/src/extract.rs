//! A deterministic, offline persona extractor for chit-chat: first-person statements a speaker
//! makes about themself, attributed to that speaker and rewritten in the third person.
//!
//! A turn is split into sentences and each sentence into clauses that start with "I" or "my".
//! Questions, hypotheticals ("if I ...", "I'd love to"), clauses about the addressee ("you",
//! "your") and reactions ("I love that", "I'm so happy for you") are skipped. Only explicit
//! patterns produce candidates, so precision comes before recall.

use memory::{Timestamp, TurnId};
use serde::{Deserialize, Serialize};

use crate::model::Candidate;
use crate::rewrite::rewrite;

mod lexicon;
mod patterns;

pub(crate) use lexicon::ADVERBS;
use lexicon::*;
use patterns::match_clause;

/// One turn of dialogue, as the extractor needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnInput {
    pub turn_id: TurnId,
    /// The speaker's name, used in the rewritten statements.
    pub speaker: String,
    pub text: String,
    pub time: Timestamp,
}

/// Clauses shorter than this (in expanded tokens: "I'm good" is 3) say nothing lasting.
const MIN_TOKENS: usize = 3;
/// Clauses longer than this are rambles, not statements.
const MAX_WORDS: usize = 40;
/// Slot and value keys keep at most this many content words.
const MAX_KEY_WORDS: usize = 5;

/// Candidates from `turns`, in turn and sentence order; each turn's statements are about its
/// own speaker. A slot and value is reported once per turn.
pub fn extract(turns: &[TurnInput]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for turn in turns {
        let speaker = turn.speaker.trim();
        if speaker.is_empty() {
            continue;
        }
        let first = out.len();
        for sentence in split_sentences(&turn.text) {
            if sentence.question {
                continue;
            }
            for clause in clauses(&sentence.words) {
                let Some(found) = match_clause(&clause) else {
                    continue;
                };
                let duplicate = out[first..]
                    .iter()
                    .any(|c| c.slot == found.slot && c.value == found.value);
                if duplicate {
                    continue;
                }
                out.push(Candidate {
                    speaker: speaker.to_owned(),
                    kind: found.kind,
                    slot: found.slot,
                    value: found.value,
                    text: rewrite(&clause, speaker),
                    turns: vec![turn.turn_id],
                    time: turn.time,
                    confidence: found.confidence,
                });
            }
        }
    }
    out
}

/// A word as written, and its normalised form (lower case, straight apostrophes, no
/// surrounding punctuation).
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub(crate) raw: String,
    pub(crate) norm: String,
}

impl Word {
    fn new(raw: &str) -> Self {
        let straight = raw.replace(['\u{2019}', '\u{2018}', '`'], "'");
        let norm = straight
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        Self {
            raw: straight,
            norm,
        }
    }

    /// Whether punctuation after the word ends a phrase.
    fn ends_phrase(&self) -> bool {
        self.raw
            .trim_end_matches(['"', '\'', ')'])
            .ends_with([',', ';', ':', '-', '.', '!', '?'])
            || self.raw.ends_with('\u{2014}')
    }

    fn capitalised(&self) -> bool {
        self.raw
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .starts_with(|c: char| c.is_uppercase())
    }
}

struct Sentence {
    words: Vec<Word>,
    question: bool,
}

fn split_sentences(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = match c {
            '!' | '?' | '\n' => true,
            // "3.5" and "St.Louis" do not end a sentence.
            '.' => chars
                .get(i + 1)
                .is_none_or(|n| n.is_whitespace() || *n == '"'),
            _ => false,
        };
        current.push(c);
        if boundary {
            push_sentence(&mut out, &current);
            current.clear();
        }
    }
    push_sentence(&mut out, &current);
    out
}

fn push_sentence(out: &mut Vec<Sentence>, text: &str) {
    let trimmed = text.trim();
    if trimmed.chars().all(|c| !c.is_alphanumeric()) {
        // Stray punctuation ("?!", "...") belongs to the previous sentence.
        if trimmed.contains('?')
            && let Some(last) = out.last_mut()
        {
            last.question = true;
        }
        return;
    }
    let words: Vec<Word> = trimmed.split_whitespace().map(Word::new).collect();
    let question = trimmed.ends_with('?')
        || words
            .first()
            .is_some_and(|w| QUESTION_STARTS.contains(&w.norm.as_str()) && trimmed.contains('?'));
    out.push(Sentence { words, question });
}

pub(crate) const FIRST_PERSON: &[&str] = &["i", "i'm", "im", "i've", "ive", "i'd", "i'll", "my"];

/// The first-person clauses of a sentence: each starts at "I"/"my", ends before the next one.
fn clauses(words: &[Word]) -> Vec<Vec<Word>> {
    let starts: Vec<usize> = (0..words.len())
        .filter(|&i| {
            FIRST_PERSON.contains(&words[i].norm.as_str())
                && (i == 0
                    || words[i - 1].ends_phrase()
                    || CONNECTORS.contains(&words[i - 1].norm.as_str()))
        })
        .collect();
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let before = &words[..start];
        if before
            .iter()
            .any(|w| HYPOTHETICAL.contains(&w.norm.as_str()))
        {
            continue;
        }
        let next = starts.get(n + 1).copied();
        let mut end = next.unwrap_or(words.len());
        // The connector before the next clause belongs to neither.
        while next.is_some()
            && end > start + 1
            && CONNECTORS.contains(&words[end - 1].norm.as_str())
        {
            end -= 1;
        }
        let clause = &words[start..end];
        if clause.len() > MAX_WORDS
            || clause
                .iter()
                .any(|w| SECOND_PERSON.contains(&w.norm.as_str()))
        {
            continue;
        }
        out.push(clause.to_vec());
    }
    out
}

/// A token of the expanded clause: "I'm" is "i" "am", "don't" is "do" "not".
#[derive(Debug, Clone)]
struct Tok {
    w: String,
    cap: bool,
    /// The written word ended a phrase (comma, dash, ...).
    stop: bool,
}

fn expand(clause: &[Word]) -> Vec<Tok> {
    let mut out = Vec::new();
    for word in clause {
        let cap = word.capitalised();
        let stop = word.ends_phrase();
        let parts: &[&str] = match word.norm.as_str() {
            "i'm" | "im" => &["i", "am"],
            "i've" | "ive" => &["i", "have"],
            "i'd" => &["i", "would"],
            "i'll" => &["i", "will"],
            "can't" | "cant" | "cannot" => &["can", "not"],
            "don't" | "dont" => &["do", "not"],
            "didn't" | "didnt" => &["did", "not"],
            "won't" => &["will", "not"],
            "wanna" => &["want", "to"],
            "gonna" => &["going", "to"],
            _ => &[],
        };
        if parts.is_empty() {
            if !word.norm.is_empty() {
                out.push(Tok {
                    w: word.norm.clone(),
                    cap,
                    stop,
                });
            }
        } else {
            let last = parts.len() - 1;
            for (i, p) in parts.iter().enumerate() {
                out.push(Tok {
                    w: (*p).to_owned(),
                    cap: false,
                    stop: stop && i == last,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
