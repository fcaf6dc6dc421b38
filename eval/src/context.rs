//! Evidence recall through the context endpoint: the share of a question's evidence turns that a
//! prompt-ready block of a given budget cites with their whole text, for each way the block mixes
//! granularities. Comparable to `budget_recall@B` of a search mode, except that the block also
//! pays for its headings and dates.

use retrieval::budget;
use serde::{Deserialize, Serialize};
use server::engine::ContextMix;

use crate::backend::Backend;
use crate::dataset::Question;

/// The mean recall of one mix at one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextRecall {
    pub mix: ContextMix,
    pub budget: usize,
    /// Questions with evidence that were asked.
    pub questions: usize,
    pub recall: f64,
    /// Mean size of the blocks, in budget tokens.
    pub mean_tokens: f64,
}

/// The share of `evidence` turns that a block cites and whose text (`evidence_texts[i]` for
/// `evidence[i]`) it holds in full.
pub fn evidence_in_block(
    text: &str,
    cited: &[String],
    evidence: &[String],
    evidence_texts: &[String],
) -> f64 {
    if evidence.is_empty() {
        return 0.0;
    }
    let found = evidence
        .iter()
        .zip(evidence_texts)
        .filter(|(id, body)| cited.contains(id) && text.contains(body.as_str()))
        .count();
    found as f64 / evidence.len() as f64
}

/// Asks every question with evidence for a block of each budget and mix (without the persona).
pub async fn measure(
    backend: &Backend,
    questions: &[Question],
    budgets: &[usize],
    mixes: &[ContextMix],
    progress: impl Fn(),
) -> anyhow::Result<Vec<ContextRecall>> {
    let mut rows = Vec::new();
    for &mix in mixes {
        for &b in budgets {
            let (mut recall, mut tokens, mut asked) = (0.0, 0.0, 0usize);
            for q in questions.iter().filter(|q| !q.evidence.is_empty()) {
                let (text, cited) = backend.context(&q.sample_id, &q.question, b, mix).await?;
                recall += evidence_in_block(&text, &cited, &q.evidence, &q.evidence_texts);
                tokens += budget::tokens(&text) as f64;
                asked += 1;
                progress();
            }
            let n = asked.max(1) as f64;
            rows.push(ContextRecall {
                mix,
                budget: b,
                questions: asked,
                recall: recall / n,
                mean_tokens: tokens / n,
            });
        }
    }
    Ok(rows)
}

/// The rows as a Markdown table, one line per mix and budget.
pub fn table(rows: &[ContextRecall]) -> String {
    let mut out = String::from(
        "| mix | budget (tokens) | questions | evidence recall | mean block (tokens) |\n\
         |---|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let mix = serde_json::to_value(r.mix).unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {:.0} |\n",
            mix.as_str().unwrap_or("?"),
            r.budget,
            r.questions,
            r.recall * 100.0,
            r.mean_tokens
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_counts_only_when_cited_with_its_whole_text() {
        let evidence = vec!["D1:1".to_owned(), "D1:2".to_owned()];
        let texts = vec!["Ann: I keep bees".to_owned(), "Bo: nice".to_owned()];
        let block = "Session s (2023-01-01):\n[2023-01-01] Ann: I keep bees";
        let cited = vec!["D1:1".to_owned()];
        assert_eq!(evidence_in_block(block, &cited, &evidence, &texts), 0.5);
        assert_eq!(evidence_in_block(block, &[], &evidence, &texts), 0.0);
        let cut = "[2023-01-01] Ann: I keep be";
        assert_eq!(evidence_in_block(cut, &cited, &evidence, &texts), 0.0);
        assert_eq!(evidence_in_block(block, &cited, &[], &[]), 0.0);
    }

    #[test]
    fn the_table_has_a_line_per_mix_and_budget() {
        let row = |mix, budget, recall| ContextRecall {
            mix,
            budget,
            questions: 3,
            recall,
            mean_tokens: 480.2,
        };
        let t = table(&[
            row(ContextMix::Turns, 500, 0.5),
            row(ContextMix::Router, 500, 0.625),
        ]);
        assert!(t.contains("| turns | 500 | 3 | 50.0 | 480 |"), "{t}");
        assert!(t.contains("| router | 500 | 3 | 62.5 | 480 |"), "{t}");
    }
}
