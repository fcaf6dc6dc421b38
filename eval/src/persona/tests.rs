//! Unit tests of the persona metric, with a bag-of-words embedder standing in for the model.

use memory::embed::normalise;

use super::*;

/// A deterministic stand-in for the model: bag-of-words vectors over the words of the
/// fixtures, so two texts of four distinct words sharing k of them have cosine k/4 exactly.
struct BagOfWords(Vec<String>);

impl BagOfWords {
    fn over<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut words: Vec<String> = texts
            .into_iter()
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect();
        words.sort();
        words.dedup();
        Self(words)
    }
}

impl Embedder for BagOfWords {
    fn dim(&self) -> usize {
        self.0.len()
    }

    fn max_tokens(&self) -> usize {
        256
    }

    fn token_counts(&self, texts: &[&str]) -> memory::Result<Vec<usize>> {
        Ok(texts.iter().map(|t| t.split_whitespace().count()).collect())
    }

    fn embed(&self, texts: &[&str]) -> memory::Result<Vec<Vec<f32>>> {
        let vector = |text: &str| {
            let mut v = vec![0.0; self.0.len()];
            for word in text.split_whitespace() {
                if let Some(i) = self.0.iter().position(|w| w == word) {
                    v[i] += 1.0;
                }
            }
            normalise(&mut v);
            v
        };
        Ok(texts.iter().map(|t| vector(t)).collect())
    }
}

fn obs(speaker: &str, text: &str, sources: &[&str]) -> Observation {
    Observation {
        session: 1,
        speaker: speaker.to_owned(),
        text: text.to_owned(),
        sources: sources.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn st(speaker: &str, text: &str, turns: &[&str]) -> ExtractedStatement {
    ExtractedStatement {
        speaker: speaker.to_owned(),
        text: text.to_owned(),
        turns: turns.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn score(
    sample_id: &str,
    observations: &[Observation],
    statements: &[ExtractedStatement],
    threshold: f32,
) -> PersonaScore {
    let texts = observations.iter().map(|o| o.text.as_str());
    let model = BagOfWords::over(texts.chain(statements.iter().map(|s| s.text.as_str())));
    score_conversation(sample_id, observations, statements, &model, threshold).unwrap()
}

/// Observations, matched; statements, matched; matched with provenance.
type Counts = (usize, usize, usize, usize, usize);

fn counts(m: &PersonaMetrics) -> Counts {
    let PersonaMetrics {
        observations,
        observations_matched,
        statements,
        statements_matched,
        statements_with_provenance,
        ..
    } = *m;
    let c = (
        observations,
        observations_matched,
        statements,
        statements_matched,
        statements_with_provenance,
    );
    assert_eq!(m.fact_recall, ratio(c.1, c.0), "{m:?}");
    assert_eq!(m.statement_precision, ratio(c.3, c.2), "{m:?}");
    assert_eq!(m.provenance_precision, ratio(c.4, c.3), "{m:?}");
    c
}

fn check(
    observations: &[Observation],
    statements: &[ExtractedStatement],
    threshold: f32,
    expected: Counts,
) {
    let got = score("conv-t", observations, statements, threshold);
    assert_eq!(counts(&got.overall), expected, "threshold {threshold}");
    assert_eq!(got.conversations[0].metrics, got.overall);
}

#[test]
fn statements_match_only_their_own_speaker_with_fake_embedder() {
    let observations = [
        obs("Ann", "keeps bees in garden", &["D1:1"]),
        obs("Bo", "sails small red boat", &["D1:2"]),
    ];
    let swapped = [
        st("Bo", "keeps bees in garden", &["D1:1"]),
        st("Ann", "sails small red boat", &["D1:2"]),
    ];
    check(&observations, &swapped, 0.5, (2, 0, 2, 0, 0));
    let own = [
        st("Ann", "keeps bees in garden", &["D1:1"]),
        st("Bo", "sails small red boat", &["D1:2"]),
    ];
    check(&observations, &own, 0.5, (2, 2, 2, 2, 2));
    let swapped_score = score("conv-t", &observations, &swapped, 0.5);
    let speakers: Vec<(&str, Counts)> = swapped_score.conversations[0]
        .speakers
        .iter()
        .map(|s| (s.speaker.as_str(), counts(&s.metrics)))
        .collect();
    assert_eq!(
        speakers,
        vec![("Ann", (1, 0, 1, 0, 0)), ("Bo", (1, 0, 1, 0, 0))]
    );
}

#[test]
fn threshold_is_inclusive_with_fake_embedder() {
    let observations = [obs("Ann", "keeps bees in garden", &["D1:1"])];
    // Three shared words of four: cosine 0.75; two: 0.5.
    let three = [st("Ann", "keeps bees in pots", &["D1:1"])];
    let two = [st("Ann", "keeps goats in barn", &["D1:1"])];
    check(&observations, &three, 0.75, (1, 1, 1, 1, 1));
    check(&observations, &three, 0.76, (1, 0, 1, 0, 0));
    check(&observations, &two, 0.5, (1, 1, 1, 1, 1));
    check(&observations, &two, 0.51, (1, 0, 1, 0, 0));
}

#[test]
fn provenance_counts_matched_statements_against_their_best_observation_with_fake_embedder() {
    let observations = [
        obs("Ann", "keeps bees in garden", &["D1:1"]),
        obs("Ann", "keeps bees near pond", &["D2:4"]),
    ];
    let statements = [
        // Best observation is the first, whose sources miss D2:4 (the second has it).
        st("Ann", "keeps bees in garden", &["D2:4"]),
        // Best observation is the second; the turn id is normalised before comparing.
        st("Ann", "keeps bees near pond", &["D02:4", "D9:9"]),
        // Unmatched, so its turns do not count even though D1:1 is a source.
        st("Ann", "plays loud jazz drums", &["D1:1"]),
    ];
    check(&observations, &statements, 0.75, (2, 2, 3, 2, 1));
    // At 0.5 each bee statement also reaches the other observation; best still decides.
    check(&observations, &statements, 0.5, (2, 2, 3, 2, 1));
}

#[test]
fn conversations_aggregate_by_summed_counts_with_fake_embedder() {
    let a = score(
        "conv-a",
        &[obs("Ann", "keeps bees in garden", &["D1:1"])],
        &[st("Ann", "keeps bees in garden", &["D1:1"])],
        0.75,
    );
    let b = score(
        "conv-b",
        &[
            obs("Bo", "sails small red boat", &["D1:1"]),
            obs("Bo", "cooks spicy bean soup", &["D1:2"]),
            obs("Cy", "reads old sea maps", &["D1:3"]),
        ],
        &[st("Bo", "sails small red boat", &["D1:5"])],
        0.75,
    );
    let mut all = PersonaScore::empty(0.75);
    all.merge(a.clone()).unwrap();
    all.merge(b).unwrap();
    // 2 of 4 observations: 50%, not the mean of 100% and 33%.
    assert_eq!(counts(&all.overall), (4, 2, 2, 2, 1));
    assert_eq!(all.overall.fact_recall, Some(0.5));
    let ids: Vec<&str> = all
        .conversations
        .iter()
        .map(|c| c.sample_id.as_str())
        .collect();
    assert_eq!(ids, ["conv-a", "conv-b"]);
    let cy = &all.conversations[1].speakers[1];
    assert_eq!(
        (cy.speaker.as_str(), counts(&cy.metrics)),
        ("Cy", (1, 0, 0, 0, 0))
    );
    assert_eq!(cy.metrics.statement_precision, None);

    // The same conversation again adds to its own counts, speaker by speaker.
    all.merge(a).unwrap();
    assert_eq!(all.conversations.len(), 2);
    assert_eq!(counts(&all.conversations[0].metrics), (2, 2, 2, 2, 2));
    assert_eq!(
        counts(&all.conversations[0].speakers[0].metrics),
        (2, 2, 2, 2, 2)
    );
    assert_eq!(counts(&all.overall), (5, 3, 3, 3, 2));
    assert!(all.merge(PersonaScore::empty(0.7)).is_err());
}

#[test]
fn bad_thresholds_and_short_embedder_output_are_errors_with_fake_embedder() {
    let observations = [obs("Ann", "keeps bees in garden", &["D1:1"])];
    let model = BagOfWords::over(["keeps bees in garden"]);
    for threshold in [1.5, f32::NAN] {
        assert!(score_conversation("c", &observations, &[], &model, threshold).is_err());
    }
    struct Silent;
    impl Embedder for Silent {
        fn dim(&self) -> usize {
            4
        }
        fn max_tokens(&self) -> usize {
            256
        }
        fn token_counts(&self, texts: &[&str]) -> memory::Result<Vec<usize>> {
            Ok(vec![0; texts.len()])
        }
        fn embed(&self, _: &[&str]) -> memory::Result<Vec<Vec<f32>>> {
            Ok(Vec::new())
        }
    }
    let error = score_conversation("c", &observations, &[], &Silent, 0.75).unwrap_err();
    assert!(format!("{error:#}").contains("1 texts"), "{error:#}");
}

#[test]
fn report_table_shows_percentages_counts_and_speakers() {
    let score = score(
        "conv-a",
        &[
            obs("Ann", "keeps bees in garden", &["D1:1"]),
            obs("Bo", "sails small red boat", &["D1:2"]),
        ],
        &[st("Ann", "keeps bees in pots", &["D1:3"])],
        0.75,
    );
    let rendered = render(&score, Detail::Speakers);
    let table: Vec<&str> = rendered.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(
        table,
        [
            "| conversation | fact recall | statement precision | provenance precision | \
             observations matched | statements matched | with provenance |",
            "|---|---|---|---|---|---|---|",
            "| all | 50.0 | 100.0 | 0.0 | 1 / 2 | 1 / 1 | 0 / 1 |",
            "| conv-a | 50.0 | 100.0 | 0.0 | 1 / 2 | 1 / 1 | 0 / 1 |",
            "| conv-a / Ann | 100.0 | 100.0 | 0.0 | 1 / 1 | 1 / 1 | 0 / 1 |",
            "| conv-a / Bo | 0.0 | - | - | 0 / 1 | 0 / 0 | 0 / 0 |",
        ]
    );
    let brief = render(&score, Detail::Conversations);
    assert!(brief.starts_with("## Persona statements\n"));
    assert!(brief.contains("(match at >= 0.75)"));
    assert!(!brief.contains("conv-a / Ann"));
}
