//! The extractive summary: the session's most central turns, chosen with the turn vectors the
//! pipeline computes anyway, so summarising costs no extra model call.

use super::{BuildConfig, participants};
use crate::embed::dot;
use crate::store::BuildInput;
use crate::{Granularity, Producer, UnitDraft};

/// How strongly a candidate is penalised for repeating a turn already chosen (maximal marginal
/// relevance); 0 ignores redundancy.
const REDUNDANCY: f32 = 0.6;

/// Words under which a turn counts as small talk and is scaled down.
const INFORMATIVE_WORDS: f32 = 12.0;

/// Picks the turns closest to the session's centroid, avoiding near-repeats, and renders them
/// in conversation order, each cut to `summary_turn_words` words.
///
/// `rendered` and `vectors` hold each turn's text and unit-length embedding. Returns `None` for
/// an empty session.
pub fn extractive_summary(
    input: &BuildInput,
    rendered: &[String],
    vectors: &[&[f32]],
    config: &BuildConfig,
) -> Option<UnitDraft> {
    let n = vectors.len();
    if n == 0 || rendered.len() != n {
        return None;
    }
    let dim = vectors[0].len();
    let mut centroid = vec![0.0f32; dim];
    for v in vectors {
        centroid.iter_mut().zip(v.iter()).for_each(|(c, x)| *c += x);
    }
    crate::embed::normalise(&mut centroid);
    let relevance: Vec<f32> = vectors
        .iter()
        .zip(rendered)
        .map(|(v, text)| {
            let words = text.split_whitespace().count() as f32;
            dot(v, &centroid) * (words / INFORMATIVE_WORDS).min(1.0)
        })
        .collect();
    let want = n.div_ceil(6).clamp(1, config.summary_max_turns.max(1));
    let mut chosen: Vec<usize> = Vec::with_capacity(want);
    while chosen.len() < want {
        let best = (0..n)
            .filter(|i| !chosen.contains(i))
            .map(|i| {
                let redundancy = chosen
                    .iter()
                    .map(|&j| dot(vectors[i], vectors[j]))
                    .fold(0.0f32, f32::max);
                (i, relevance[i] - REDUNDANCY * redundancy)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((i, _)) => chosen.push(i),
            None => break,
        }
    }
    chosen.sort_unstable();
    let body: Vec<String> = chosen
        .iter()
        .map(|&i| {
            let words: Vec<&str> = rendered[i].split_whitespace().collect();
            let mut line = words[..words.len().min(config.summary_turn_words)].join(" ");
            if words.len() > config.summary_turn_words {
                line.push_str(" ...");
            }
            line
        })
        .collect();
    Some(UnitDraft {
        granularity: Granularity::Summary,
        ordinal: 0,
        text: format!(
            "Conversation between {}.\n{}",
            participants(&input.turns),
            body.join("\n")
        ),
        event_time: input.started_at,
        turn_positions: chosen.iter().map(|&i| input.turns[i].position).collect(),
        producer: Producer::Extractive,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionKey;
    use crate::{Role, SessionId, Timestamp, TurnId, TurnRecord, UserId};

    fn session(texts: &[&str]) -> (BuildInput, Vec<String>) {
        let turns: Vec<TurnRecord> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| TurnRecord {
                turn_id: TurnId(i as i64),
                position: i as u32,
                speaker: if i % 2 == 0 { "Ann" } else { "Bo" }.into(),
                role: Role::User,
                text: (*t).into(),
                timestamp: None,
                external_id: None,
                caption: None,
                metadata: None,
                source: crate::Source::default(),
            })
            .collect();
        let rendered = turns.iter().map(super::super::render_turn).collect();
        let input = BuildInput {
            session_key: SessionKey(1),
            status: crate::SessionStatus::Pending,
            user_id: crate::UserRef::of_default(UserId::new("u").unwrap()),
            session_id: SessionId::new("s").unwrap(),
            started_at: Timestamp(5),
            turns,
        };
        (input, rendered)
    }

    #[test]
    fn summary_prefers_central_informative_turns_over_small_talk() {
        let long = "we spent the whole weekend hiking the coastal trail and camping near the old lighthouse";
        let (input, rendered) = session(&[long, "ok", long, "cool", "lol", "sure", "bye"]);
        // Turns 0 and 2 are long and carry the two topics most turns share; the rest are short.
        let v: Vec<Vec<f32>> = vec![
            vec![1.0, 0.0, 0.0],
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
            vec![
                std::f32::consts::FRAC_1_SQRT_2,
                std::f32::consts::FRAC_1_SQRT_2,
                0.0,
            ],
            vec![0.0, 0.0, 1.0],
        ];
        let refs: Vec<&[f32]> = v.iter().map(Vec::as_slice).collect();
        let config = BuildConfig {
            summary_max_turns: 2,
            summary_turn_words: 6,
            ..BuildConfig::default()
        };
        let unit = extractive_summary(&input, &rendered, &refs, &config).unwrap();
        assert_eq!(unit.granularity, Granularity::Summary);
        assert_eq!(unit.turn_positions, vec![0, 2]);
        assert!(
            unit.text.starts_with(
                "Conversation between Ann and Bo.\nAnn: we spent the whole weekend ..."
            )
        );
        assert!(extractive_summary(&input, &[], &[], &config).is_none());
    }
}
