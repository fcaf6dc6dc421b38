//! Extractive key phrases: runs of content words, scored by how often the session uses them
//! against how many of the user's other sessions do (TF-IDF over the user's own corpus).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::BuildConfig;
use super::text::{is_stop_word, words};
use crate::store::BuildInput;
use crate::{Granularity, Producer, UnitDraft};

/// The longest phrase, in words.
const MAX_PHRASE_WORDS: usize = 3;

/// A candidate phrase of a session with where it occurs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPhrase {
    /// Lower-cased words.
    pub words: Vec<String>,
    /// Positions of the turns that use it.
    pub turn_positions: Vec<u32>,
    /// Occurrences in the session.
    pub count: usize,
}

impl KeyPhrase {
    /// The phrase as text.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// The candidate phrases of a session's turns (text and image captions, without speaker names),
/// in order of first occurrence.
pub fn key_phrases(input: &BuildInput) -> Vec<KeyPhrase> {
    let mut found: BTreeMap<String, (usize, KeyPhrase)> = BTreeMap::new();
    let mut order = 0;
    for turn in &input.turns {
        let texts = std::iter::once(turn.text.as_str()).chain(turn.caption.as_deref());
        for text in texts {
            let mut run: Vec<String> = Vec::new();
            let all = words(text);
            for (i, word) in all.iter().enumerate() {
                let content = !is_stop_word(&word.lower);
                if content {
                    run.push(word.lower.clone());
                }
                if !content || word.breaks_after || i + 1 == all.len() {
                    for piece in run.chunks(MAX_PHRASE_WORDS) {
                        let key = piece.join(" ");
                        let entry = found.entry(key).or_insert_with(|| {
                            order += 1;
                            (
                                order,
                                KeyPhrase {
                                    words: piece.to_vec(),
                                    turn_positions: Vec::new(),
                                    count: 0,
                                },
                            )
                        });
                        entry.1.count += 1;
                        if entry.1.turn_positions.last() != Some(&turn.position) {
                            entry.1.turn_positions.push(turn.position);
                        }
                    }
                    run.clear();
                }
            }
        }
    }
    let mut phrases: Vec<(usize, KeyPhrase)> = found.into_values().collect();
    phrases.sort_by_key(|(order, _)| *order);
    phrases.into_iter().map(|(_, p)| p).collect()
}

/// The distinct content words of the phrases, sorted: the session's terms for document
/// frequencies.
pub fn phrase_terms(phrases: &[KeyPhrase]) -> Vec<String> {
    let set: HashSet<&String> = phrases.iter().flat_map(|p| &p.words).collect();
    let mut terms: Vec<String> = set.into_iter().cloned().collect();
    terms.sort();
    terms
}

/// Scores the phrases and renders the best `config.keywords` of them as a keywords unit.
///
/// `df` maps a term to the number of the user's other sessions that contain it, out of
/// `sessions`. Returns `None` when the session has no content words.
pub fn extractive_keywords(
    input: &BuildInput,
    phrases: &[KeyPhrase],
    df: &HashMap<String, u64>,
    sessions: u64,
    config: &BuildConfig,
) -> Option<UnitDraft> {
    let mut tf: HashMap<&str, usize> = HashMap::new();
    for p in phrases {
        for w in &p.words {
            *tf.entry(w.as_str()).or_default() += p.count;
        }
    }
    let weight = |w: &str| {
        let tf = tf.get(w).copied().unwrap_or(1) as f64;
        let df = df.get(w).copied().unwrap_or(0) as f64;
        let idf = ((sessions as f64 + 1.0) / (df + 1.0)).ln() + 1.0;
        (1.0 + tf.ln()) * idf
    };
    let mut scored: Vec<(f64, usize)> = phrases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let sum: f64 = p.words.iter().map(|w| weight(w)).sum();
            (sum * (1.0 + (p.count as f64).ln()), i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut covered: HashSet<&str> = HashSet::new();
    let mut chosen: Vec<&KeyPhrase> = Vec::new();
    for (_, i) in scored {
        if chosen.len() >= config.keywords {
            break;
        }
        let p = &phrases[i];
        if p.words.iter().all(|w| covered.contains(w.as_str())) {
            continue;
        }
        covered.extend(p.words.iter().map(String::as_str));
        chosen.push(p);
    }
    if chosen.is_empty() {
        return None;
    }
    let mut positions: Vec<u32> = chosen
        .iter()
        .flat_map(|p| p.turn_positions.clone())
        .collect();
    positions.sort_unstable();
    positions.dedup();
    let list: Vec<String> = chosen.iter().map(|p| p.text()).collect();
    Some(UnitDraft {
        granularity: Granularity::Keywords,
        ordinal: 0,
        text: format!("Topics: {}", list.join(", ")),
        event_time: input.started_at,
        turn_positions: positions,
        producer: Producer::Extractive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionKey;
    use crate::{Role, SessionId, Timestamp, TurnId, TurnRecord, UserId};

    fn session(texts: &[&str]) -> BuildInput {
        BuildInput {
            session_key: SessionKey(1),
            status: crate::SessionStatus::Pending,
            user_id: crate::UserRef::of_default(UserId::new("u").unwrap()),
            session_id: SessionId::new("s").unwrap(),
            started_at: Timestamp(0),
            turns: texts
                .iter()
                .enumerate()
                .map(|(i, t)| TurnRecord {
                    turn_id: TurnId(i as i64),
                    position: i as u32,
                    speaker: "Ann".into(),
                    role: Role::User,
                    text: (*t).into(),
                    timestamp: None,
                    external_id: None,
                    caption: None,
                    metadata: None,
                    source: crate::Source::default(),
                })
                .collect(),
        }
    }

    #[test]
    fn phrases_split_on_stop_words_and_punctuation() {
        let input = session(&[
            "I adopted a rescue dog named Biscuit, and pottery class was fun.",
            "Pottery class again!",
        ]);
        let phrases: Vec<(String, usize, Vec<u32>)> = key_phrases(&input)
            .into_iter()
            .map(|p| (p.text(), p.count, p.turn_positions))
            .collect();
        assert_eq!(
            phrases,
            vec![
                ("adopted".to_owned(), 1, vec![0]),
                ("rescue dog named".to_owned(), 1, vec![0]),
                ("biscuit".to_owned(), 1, vec![0]),
                ("pottery class".to_owned(), 2, vec![0, 1]),
                ("fun".to_owned(), 1, vec![0]),
            ]
        );
    }

    #[test]
    fn keywords_favour_what_is_frequent_here_and_rare_elsewhere() {
        let input = session(&[
            "My pottery class made a vase. Work was busy.",
            "The pottery kiln cracked my vase! Work again.",
        ]);
        let phrases = key_phrases(&input);
        // "work" appears in every one of the user's 10 other sessions; "pottery" in none.
        let df: HashMap<String, u64> = [("work".to_owned(), 10)].into_iter().collect();
        let config = BuildConfig {
            keywords: 2,
            ..BuildConfig::default()
        };
        let unit = extractive_keywords(&input, &phrases, &df, 10, &config).unwrap();
        assert_eq!(unit.granularity, Granularity::Keywords);
        assert!(unit.text.starts_with("Topics: pottery"), "{}", unit.text);
        assert!(!unit.text.contains("work"), "{}", unit.text);
        let terms = phrase_terms(&phrases);
        assert!(terms.windows(2).all(|w| w[0] < w[1]));
        assert!(terms.contains(&"kiln".to_owned()) && !terms.contains(&"my".to_owned()));
        assert!(
            extractive_keywords(
                &session(&["ok, yeah."]),
                &key_phrases(&session(&["ok, yeah."])),
                &df,
                0,
                &config
            )
            .is_none()
        );
    }
}
