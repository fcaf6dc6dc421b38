//! Rendering persona statements as a short paragraph per speaker, for prompts and answers.

use std::collections::BTreeMap;

use memory::persona::{Statement, StatementKind};

/// At most this many statements per speaker.
pub const MAX_PER_SPEAKER: usize = 8;

/// A paragraph per speaker (alphabetical, one blank line between) from the active statements:
/// the most confident (then most recent) [`MAX_PER_SPEAKER`], grouped by kind in
/// [`StatementKind::ALL`] order. `speaker` keeps only that speaker (case-insensitive). Empty
/// when nothing is active.
pub fn render_summary(statements: &[Statement], speaker: Option<&str>) -> String {
    let mut by_speaker: BTreeMap<&str, Vec<&Statement>> = BTreeMap::new();
    for s in statements.iter().filter(|s| s.is_active()) {
        if speaker.is_some_and(|want| !want.eq_ignore_ascii_case(&s.speaker)) {
            continue;
        }
        by_speaker.entry(s.speaker.as_str()).or_default().push(s);
    }
    let mut paragraphs = Vec::new();
    for (name, mut list) in by_speaker {
        list.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then(b.last_seen.cmp(&a.last_seen))
                .then(a.id.cmp(&b.id))
                .then(a.text.cmp(&b.text))
        });
        list.truncate(MAX_PER_SPEAKER);
        // Stable: within a kind, the confidence order above is kept.
        list.sort_by_key(|s| kind_rank(s.kind));
        let sentences: Vec<String> = list.iter().map(|s| sentence(&s.text)).collect();
        paragraphs.push(format!("{name}: {}", sentences.join(" ")));
    }
    paragraphs.join("\n\n")
}

fn kind_rank(kind: StatementKind) -> usize {
    StatementKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(StatementKind::ALL.len())
}

fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use memory::{Timestamp, TurnId};

    use super::*;
    use memory::persona::StatementStatus;

    use crate::model::Candidate;

    fn statement(
        id: i64,
        speaker: &str,
        kind: StatementKind,
        text: &str,
        confidence: f32,
    ) -> Statement {
        Statement {
            id,
            ..Statement::from(Candidate {
                speaker: speaker.to_owned(),
                kind,
                slot: format!("slot{id}"),
                value: "v".to_owned(),
                text: text.to_owned(),
                turns: vec![TurnId(id)],
                time: Timestamp(id),
                confidence,
            })
        }
    }

    fn sample() -> Vec<Statement> {
        let mut old_home = statement(
            1,
            "Theo",
            StatementKind::LifeFact,
            "Theo lives in Lisbon.",
            0.9,
        );
        old_home.status = StatementStatus::Superseded;
        old_home.superseded_by = Some(2);
        vec![
            old_home,
            statement(
                2,
                "Theo",
                StatementKind::LifeFact,
                "Theo moved to Porto.",
                0.8,
            ),
            statement(3, "Maya", StatementKind::Preference, "Maya loves jazz", 0.7),
            statement(
                4,
                "Maya",
                StatementKind::LifeFact,
                "Maya is a counselor.",
                0.6,
            ),
            statement(
                5,
                "Maya",
                StatementKind::Plan,
                "Maya is training for a marathon.",
                0.9,
            ),
        ]
    }

    #[test]
    fn renders_active_statements_grouped_by_kind_per_speaker() {
        let text = render_summary(&sample(), None);
        assert_eq!(
            text,
            "Maya: Maya is a counselor. Maya loves jazz. Maya is training for a marathon.\n\nTheo: Theo moved to Porto."
        );
        assert!(
            !text.contains("Lisbon"),
            "superseded statements are history only"
        );
    }

    #[test]
    fn filters_by_speaker() {
        assert_eq!(
            render_summary(&sample(), Some("theo")),
            "Theo: Theo moved to Porto."
        );
        assert_eq!(render_summary(&sample(), Some("Nobody")), "");
    }

    #[test]
    fn keeps_the_most_confident_statements() {
        let many: Vec<Statement> = (1..=12)
            .map(|i| {
                statement(
                    i,
                    "Maya",
                    StatementKind::Trait,
                    &format!("Maya trait {i}."),
                    i as f32 / 20.0,
                )
            })
            .collect();
        let text = render_summary(&many, None);
        assert_eq!(text.matches("Maya trait").count(), MAX_PER_SPEAKER);
        assert!(
            text.starts_with("Maya: Maya trait 12. Maya trait 11."),
            "{text}"
        );
        assert!(!text.contains("trait 4."), "{text}");
    }
}
