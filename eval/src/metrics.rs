//! Retrieval metrics that need no language model: turn-level evidence recall on a budget of k
//! turns, evidence recall within a token budget, and session-level recall and NDCG.

use retrieval::budget;
use serde::{Deserialize, Serialize};

/// A retrieved unit as the metrics see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrievedUnit {
    pub unit_id: i64,
    pub granularity: String,
    pub session_id: String,
    /// The unit's event time, RFC 3339.
    pub event_time: String,
    pub text: String,
    /// The turns the unit covers, in conversation order.
    pub turns: Vec<RetrievedTurn>,
    /// The score each retrieval signal gave (`dense`, `lexical`, `fused`, ...).
    pub scores: serde_json::Map<String, serde_json::Value>,
}

/// A turn a retrieved unit covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrievedTurn {
    /// The client's id of the turn (LoCoMo's `dia_id`).
    pub external_id: Option<String>,
    /// The turn's own similarity to the query, when the search explained it.
    pub relevance: Option<f32>,
}

/// Expands ranked units into ranked turns: units in rank order, each unit's turns by their own
/// relevance to the query (best first; turns without one keep conversation order after those
/// with one), each turn kept at its first place.
pub fn ranked_turns(units: &[RetrievedUnit]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for unit in units {
        let mut turns: Vec<(usize, &RetrievedTurn)> = unit.turns.iter().enumerate().collect();
        turns.sort_by(|(i, a), (j, b)| match (a.relevance, b.relevance) {
            (Some(x), Some(y)) => y.total_cmp(&x).then(i.cmp(j)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => i.cmp(j),
        });
        for (_, turn) in turns {
            if let Some(id) = &turn.external_id
                && !out.contains(id)
            {
                out.push(id.clone());
            }
        }
    }
    out
}

/// The share of evidence turns among the first `k` ranked turns (LoCoMo's recall).
pub fn turn_recall(ranked: &[String], evidence: &[String], k: usize) -> f64 {
    if evidence.is_empty() {
        return 0.0;
    }
    let top = &ranked[..ranked.len().min(k)];
    let found = evidence.iter().filter(|e| top.contains(e)).count();
    found as f64 / evidence.len() as f64
}

/// The sessions of ranked units, in rank order, each at its first place.
pub fn ranked_sessions(units: &[RetrievedUnit]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for unit in units {
        if !out.contains(&unit.session_id) {
            out.push(unit.session_id.clone());
        }
    }
    out
}

/// 1 if any gold session is among the first `k` ranked sessions.
pub fn session_recall_any(ranked: &[String], gold: &[String], k: usize) -> f64 {
    let top = &ranked[..ranked.len().min(k)];
    f64::from(u8::from(gold.iter().any(|g| top.contains(g))))
}

/// 1 if every gold session is among the first `k` ranked sessions.
pub fn session_recall_all(ranked: &[String], gold: &[String], k: usize) -> f64 {
    let top = &ranked[..ranked.len().min(k)];
    f64::from(u8::from(
        !gold.is_empty() && gold.iter().all(|g| top.contains(g)),
    ))
}

/// DCG as LongMemEval (and so MemGAS) computes it: the first rank undiscounted, rank `i >= 2`
/// divided by log2(i). Ranks 1 and 2 therefore weigh the same.
fn dcg(relevances: &[f64]) -> f64 {
    relevances
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if i == 0 {
                *r
            } else {
                r / ((i + 1) as f64).log2()
            }
        })
        .sum()
}

/// NDCG@k of the ranked sessions with binary relevance (MemGAS's `ndcg_any`).
pub fn session_ndcg(ranked: &[String], gold: &[String], k: usize) -> f64 {
    let actual: Vec<f64> = ranked
        .iter()
        .take(k)
        .map(|s| f64::from(u8::from(gold.contains(s))))
        .collect();
    let ideal = vec![1.0; gold.len().min(k)];
    let best = dcg(&ideal);
    if best == 0.0 {
        0.0
    } else {
        dcg(&actual) / best
    }
}

/// The share of evidence turns whose text reaches a reader who is given the units in rank order
/// until `budget` tokens are used (the unit that overflows is cut). A turn counts when a taken
/// unit covers it and the turn's rendered text (`evidence_texts[i]` for `evidence[i]`) is
/// entirely inside the taken text.
pub fn budget_recall(
    units: &[RetrievedUnit],
    evidence: &[String],
    evidence_texts: &[String],
    budget: usize,
) -> f64 {
    if evidence.is_empty() {
        return 0.0;
    }
    let mut found = vec![false; evidence.len()];
    let mut used = 0;
    for unit in units {
        if used >= budget {
            break;
        }
        let tokens = budget::tokens(&unit.text);
        let taken: String = if used + tokens <= budget {
            unit.text.clone()
        } else {
            budget::truncate(&unit.text, budget - used)
        };
        used += tokens;
        for (i, id) in evidence.iter().enumerate() {
            let covered = unit
                .turns
                .iter()
                .any(|t| t.external_id.as_ref() == Some(id));
            if covered && taken.contains(evidence_texts[i].as_str()) {
                found[i] = true;
            }
        }
    }
    found.iter().filter(|f| **f).count() as f64 / evidence.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn unit(session: &str, text: &str, turns: &[(&str, Option<f32>)]) -> RetrievedUnit {
        RetrievedUnit {
            unit_id: 0,
            granularity: "round".into(),
            session_id: session.into(),
            event_time: "2023-05-08T13:56:00Z".into(),
            text: text.into(),
            turns: turns
                .iter()
                .map(|(id, r)| RetrievedTurn {
                    external_id: Some((*id).to_owned()),
                    relevance: *r,
                })
                .collect(),
            scores: Default::default(),
        }
    }

    #[test]
    fn turns_expand_by_relevance_within_a_unit_and_keep_first_places() {
        let units = [
            unit(
                "s1",
                "",
                &[("D1:1", Some(0.1)), ("D1:2", Some(0.9)), ("D1:3", None)],
            ),
            unit("s1", "", &[("D1:2", Some(0.9))]),
            unit("s2", "", &[("D2:1", None), ("D2:2", None)]),
        ];
        assert_eq!(
            ranked_turns(&units),
            ids(&["D1:2", "D1:1", "D1:3", "D2:1", "D2:2"])
        );
    }

    #[test]
    fn turn_recall_counts_partial_evidence() {
        let ranked = ids(&["D1:2", "D1:1", "D1:3", "D2:1"]);
        assert_eq!(turn_recall(&ranked, &ids(&["D1:1", "D2:1"]), 2), 0.5);
        assert_eq!(turn_recall(&ranked, &ids(&["D1:1", "D2:1"]), 4), 1.0);
        assert_eq!(turn_recall(&ranked, &ids(&["D9:9"]), 50), 0.0);
        assert_eq!(
            turn_recall(&ranked, &ids(&["D1:2", "D1:1", "D9:9"]), 1),
            1.0 / 3.0
        );
        assert_eq!(turn_recall(&ranked, &[], 5), 0.0);
    }

    #[test]
    fn recall_all_needs_every_gold_session_and_recall_any_one() {
        let ranked = ids(&["s3", "s1", "s7"]);
        let gold = ids(&["s1", "s7"]);
        assert_eq!(
            (
                session_recall_any(&ranked, &gold, 1),
                session_recall_all(&ranked, &gold, 1)
            ),
            (0.0, 0.0)
        );
        assert_eq!(
            (
                session_recall_any(&ranked, &gold, 2),
                session_recall_all(&ranked, &gold, 2)
            ),
            (1.0, 0.0)
        );
        assert_eq!(
            (
                session_recall_any(&ranked, &gold, 3),
                session_recall_all(&ranked, &gold, 3)
            ),
            (1.0, 1.0)
        );
        assert_eq!(session_recall_all(&ranked, &[], 3), 0.0);
    }

    #[test]
    fn ndcg_follows_longmemeval_with_ranks_one_and_two_tied() {
        let gold = ids(&["a"]);
        // Ranks 1 and 2 weigh the same in this DCG.
        assert_eq!(session_ndcg(&ids(&["a", "x"]), &gold, 5), 1.0);
        assert_eq!(session_ndcg(&ids(&["x", "a"]), &gold, 5), 1.0);
        // Rank 3: 1 / log2(3).
        assert!((session_ndcg(&ids(&["x", "y", "a"]), &gold, 5) - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(session_ndcg(&ids(&["x", "y", "a"]), &gold, 2), 0.0);
        // Two gold sessions at ranks 1 and 3: (1 + 1/log2 3) / (1 + 1/log2 2).
        let two = session_ndcg(&ids(&["a", "x", "b"]), &ids(&["a", "b"]), 10);
        assert!((two - (1.0 + 1.0 / 3f64.log2()) / 2.0).abs() < 1e-12);
        assert_eq!(session_ndcg(&ids(&["a"]), &[], 10), 0.0);
    }

    #[test]
    fn budget_recall_takes_units_in_order_and_cuts_the_last() {
        // 40 characters = 10 tokens each.
        let first = unit(
            "s1",
            "Ann: aaaaaaaaaaaaaaaa\nBo: bbbbbbbbbbbbbbbb",
            &[("D1:1", None), ("D1:2", None)],
        );
        let second = unit(
            "s2",
            "Cy: cccccccccccccccccccccccccccccccccccc",
            &[("D2:1", None)],
        );
        let units = [first, second];
        let evidence = ids(&["D1:2", "D2:1"]);
        let texts = ids(&[
            "Bo: bbbbbbbbbbbbbbbb",
            "Cy: cccccccccccccccccccccccccccccccccccc",
        ]);
        assert_eq!(budget_recall(&units, &evidence, &texts, 21), 1.0);
        assert_eq!(budget_recall(&units, &evidence, &texts, 15), 0.5);
        assert_eq!(budget_recall(&units, &evidence, &texts, 5), 0.0);
        // A unit that covers a turn without containing its text (a keywords unit) does not count.
        let keywords = unit("s1", "Topics: bees", &[("D1:2", None)]);
        assert_eq!(budget_recall(&[keywords], &evidence, &texts, 4000), 0.0);
    }
}
