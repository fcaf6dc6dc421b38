//! LoCoMo's answer score: token F1 after the official normalisation, with the per-category
//! rules (see `../shared/data/locomo/README.md`).

use std::collections::HashMap;

use crate::dataset::Category;
use crate::porter::stem;

/// Lower-cases, drops commas and ASCII punctuation (no space inserted), replaces the whole
/// words a, an, the and and with a space, and collapses white space.
pub fn normalise(s: &str) -> String {
    let no_punctuation: String = s
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    // A regex `\b(a|an|the|and)\b`: a run of word characters that is exactly one of these.
    let mut out = String::with_capacity(no_punctuation.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if matches!(word.as_str(), "a" | "an" | "the" | "and") {
            out.push(' ');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in no_punctuation.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn tokens(s: &str) -> Vec<String> {
    normalise(s).split_whitespace().map(stem).collect()
}

/// Token F1 of a prediction against a gold answer; 0 when they share no token.
pub fn token_f1(prediction: &str, gold: &str) -> f64 {
    let (p, g) = (tokens(prediction), tokens(gold));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &g {
        *counts.entry(t).or_default() += 1;
    }
    let mut same = 0;
    for t in &p {
        if let Some(n) = counts.get_mut(t.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            same += 1;
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / p.len() as f64;
    let recall = same as f64 / g.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// Whether an answer declines, as category 5 expects.
pub fn declines(prediction: &str) -> bool {
    let low = prediction.to_lowercase();
    low.contains("no information available") || low.contains("not mentioned")
}

/// The official score of a prediction for a question of this category.
pub fn score(prediction: &str, gold: &str, category: Category) -> f64 {
    match category {
        Category::Adversarial => f64::from(u8::from(declines(prediction))),
        Category::MultiHop => {
            let predictions: Vec<&str> = prediction.split(',').map(str::trim).collect();
            let golds: Vec<&str> = gold.split(',').map(str::trim).collect();
            let best = |g: &str| {
                predictions
                    .iter()
                    .map(|p| token_f1(p, g))
                    .fold(0.0, f64::max)
            };
            golds.iter().map(|g| best(g)).sum::<f64>() / golds.len() as f64
        }
        Category::OpenDomain => token_f1(prediction, gold.split(';').next().unwrap_or("").trim()),
        Category::Temporal | Category::SingleHop => token_f1(prediction, gold),
    }
}
