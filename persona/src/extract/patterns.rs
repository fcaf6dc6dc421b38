//! The patterns of the offline extractor: what a first-person clause says (a home, a job, a
//! pet, a liking, a plan, a relation), as a kind, a slot and a value.

use memory::persona::StatementKind;

use super::lexicon::*;
use super::{MIN_TOKENS, Tok, Word, expand};

mod objects;
use objects::*;

/// What a clause says, before it becomes a candidate.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Found {
    pub(super) kind: StatementKind,
    pub(super) slot: String,
    pub(super) value: String,
    pub(super) confidence: f32,
}

fn found(
    kind: StatementKind,
    slot: impl Into<String>,
    value: impl Into<String>,
    confidence: f32,
) -> Option<Found> {
    let (slot, value) = (slot.into(), value.into());
    if value.is_empty() || slot.ends_with(':') {
        return None;
    }
    Some(Found {
        kind,
        slot,
        value,
        confidence,
    })
}

fn skip_adverbs(t: &[Tok], mut i: usize) -> usize {
    while t.get(i).is_some_and(|x| ADVERBS.contains(&x.w.as_str())) {
        i += 1;
    }
    i
}

fn word(t: &[Tok], i: usize) -> &str {
    t.get(i).map_or("", |x| x.w.as_str())
}

pub(super) fn match_clause(clause: &[Word]) -> Option<Found> {
    let t = expand(clause);
    if t.len() < MIN_TOKENS {
        return None;
    }
    match t[0].w.as_str() {
        "i" => match_i(&t),
        "my" => match_my(&t),
        _ => None,
    }
}

fn match_i(t: &[Tok]) -> Option<Found> {
    let mut i = skip_adverbs(t, 1);
    // "I've adopted", "I have been", "I have started": a perfect is read as its participle.
    if word(t, i) == "have" && is_participle(word(t, skip_adverbs(t, i + 1))) {
        i = skip_adverbs(t, i + 1);
    }
    let v = word(t, i);
    let rest = i + 1;
    match v {
        "am" => match_am(t, skip_adverbs(t, rest)),
        "can" if word(t, rest) == "not" && word(t, rest + 1) == "stand" => {
            preference(t, rest + 2, false, 0.8)
        }
        "would" | "could" | "should" | "might" | "may" | "must" | "will" | "can" => None,
        "love" | "like" | "enjoy" | "adore" | "prefer" => preference(t, rest, true, 0.8),
        "hate" | "dislike" | "detest" | "despise" | "loathe" => preference(t, rest, false, 0.8),
        "do" if word(t, rest) == "not" && matches!(word(t, rest + 1), "like" | "enjoy") => {
            preference(t, rest + 2, false, 0.75)
        }
        "work" => work(t, rest),
        "live" => {
            place(t, rest, "in").and_then(|p| found(StatementKind::LifeFact, "lives_in", p, 0.85))
        }
        "moved" | "relocated" => {
            place(t, rest, "to").and_then(|p| found(StatementKind::LifeFact, "lives_in", p, 0.85))
        }
        "got" | "landed" | "have" | "started" if new_job(t, rest) => {
            let at = (rest..t.len()).find(|&k| matches!(t[k].w.as_str(), "at" | "as"))?;
            work(t, at)
        }
        "adopted" | "got" | "have" | "has" | "bought" | "rescued" | "own" => {
            pet(t, rest, v == "adopted")
        }
        "been" => activity_ing(t, skip_adverbs(t, rest), 0.7),
        "started" | "began" | "start" => started(t, skip_adverbs(t, rest)),
        "took" | "taken" if word(t, rest) == "up" => activity_phrase(t, rest + 1, 0.75),
        "plan" | "want" | "hope" | "intend" | "planned" | "decided" if word(t, rest) == "to" => {
            plan(t, rest + 1, 0.65)
        }
        "plan" if word(t, rest) == "on" => plan(t, rest + 1, 0.65),
        "play" => activity_phrase(t, rest, 0.65),
        "volunteer" | "volunteered" => {
            let key = key_of(t, rest, &[]);
            found(
                StatementKind::LifeFact,
                "activity:volunteering",
                if key.is_empty() {
                    "volunteering".to_owned()
                } else {
                    key
                },
                0.7,
            )
        }
        _ => None,
    }
}

/// "a new job", "a job": the employer or role follows.
fn new_job(t: &[Tok], i: usize) -> bool {
    (i..(i + 4).min(t.len())).any(|k| t[k].w == "job" || t[k].w == "position")
}

fn is_participle(w: &str) -> bool {
    matches!(
        w,
        "been"
            | "started"
            | "adopted"
            | "got"
            | "gotten"
            | "moved"
            | "taken"
            | "begun"
            | "bought"
            | "rescued"
            | "decided"
            | "relocated"
    )
}

/// After "I am" (and adverbs).
fn match_am(t: &[Tok], i: usize) -> Option<Found> {
    let w = word(t, i);
    let next = word(t, i + 1);
    match w {
        "not" => match (next, word(t, i + 2)) {
            ("into", _) => preference(t, i + 2, false, 0.7),
            ("a", "fan") if word(t, i + 3) == "of" => preference(t, i + 4, false, 0.75),
            ("a", "big") | ("a", "huge") if word(t, i + 3) == "fan" && word(t, i + 4) == "of" => {
                preference(t, i + 5, false, 0.75)
            }
            _ => None,
        },
        "always" => {
            let key = key_of(t, i + 1, &[]);
            if REACTIONS.contains(&next) {
                return None;
            }
            found(
                StatementKind::Trait,
                format!("trait:always {key}"),
                key,
                0.6,
            )
        }
        "training" if next == "for" => plan(t, i, 0.75),
        "planning" | "hoping" | "aiming" if next == "to" || next == "on" => plan(t, i + 2, 0.7),
        "planning" if next == "a" || next == "an" => plan(t, i + 1, 0.7),
        "keen" | "excited" | "eager" if next == "on" || next == "to" => plan(t, i + 2, 0.55),
        "going" if next == "to" => {
            // "going to a parade" is a trip: the key says "go to".
            let place_like = matches!(word(t, i + 2), "a" | "an" | "the" | "my")
                || t.get(i + 2).is_some_and(|x| x.cap);
            if !place_like {
                return plan(t, i + 2, 0.65);
            }
            let key = key_of(t, i + 2, &[]);
            if key.is_empty() {
                return None;
            }
            let key = format!("go to {key}");
            found(StatementKind::Plan, format!("plan:{key}"), key, 0.65)
        }
        "thinking" if next == "about" || next == "of" => plan(t, i + 2, 0.5),
        "looking" if next == "forward" && word(t, i + 2) == "to" => plan(t, i + 3, 0.6),
        "moving" if next == "to" => {
            place(t, i + 1, "to").and_then(|p| found(StatementKind::LifeFact, "lives_in", p, 0.75))
        }
        "into" => preference(t, i + 1, true, 0.7),
        "from" => place(t, i, "from").and_then(|p| found(StatementKind::LifeFact, "from", p, 0.8)),
        "allergic" if next == "to" => {
            let key = key_of(t, i + 2, &[]);
            found(
                StatementKind::Trait,
                format!("allergy:{key}"),
                key.clone(),
                0.8,
            )
        }
        "married" | "single" | "divorced" | "engaged" | "widowed" => {
            found(StatementKind::LifeFact, "marital", w, 0.75)
        }
        "working" if next == "as" || next == "at" || next == "for" => work(t, i + 1),
        "studying" => {
            let key = key_of(t, i + 1, &[]);
            found(StatementKind::LifeFact, "studies", key, 0.7)
        }
        "learning" | "taking" => activity_phrase(t, i + 1, 0.65),
        "a" | "an" => match_a(t, i + 1),
        _ if TRAIT_ADJECTIVES.contains(&w) => {
            found(StatementKind::Trait, format!("trait:{w}"), w, 0.65)
        }
        _ => None,
    }
}

/// After "I am a/an".
fn match_a(t: &[Tok], i: usize) -> Option<Found> {
    let w = word(t, i);
    if matches!(w, "bit" | "little" | "lot" | "tad" | "mess" | "wreck") {
        return None;
    }
    if w == "fan" && word(t, i + 1) == "of" {
        return preference(t, i + 2, true, 0.75);
    }
    if matches!(w, "big" | "huge" | "massive" | "great")
        && word(t, i + 1) == "fan"
        && word(t, i + 2) == "of"
    {
        return preference(t, i + 3, true, 0.8);
    }
    // The noun phrase: up to a preposition, a pause or the end.
    let mut end = i;
    while end < t.len() && !NP_STOPS.contains(&t[end].w.as_str()) {
        end += 1;
        if t[end - 1].stop {
            break;
        }
    }
    if end == i {
        return None;
    }
    let np: Vec<&str> = t[i..end].iter().map(|x| x.w.as_str()).collect();
    let head = np.last().copied().unwrap_or_default();
    if head == "person" && np.len() >= 2 {
        let adjective = np[np.len() - 2];
        if matches!(
            adjective,
            "good" | "nice" | "different" | "new" | "better" | "bad"
        ) {
            return None;
        }
        return found(
            StatementKind::Trait,
            format!("trait:{adjective}"),
            adjective,
            0.65,
        );
    }
    let value = np
        .iter()
        .filter(|w| !ADVERBS.contains(w))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if np.iter().any(|w| JOB_NOUNS.contains(w))
        && !np
            .iter()
            .any(|w| IDENTITY_NOUNS.contains(w) && !JOB_NOUNS.contains(w))
    {
        return found(StatementKind::LifeFact, "job", value, 0.8);
    }
    if IDENTITY_NOUNS.contains(&head) {
        let kind = if matches!(
            head,
            "introvert" | "extrovert" | "homebody" | "foodie" | "bookworm" | "morning" | "night"
        ) {
            StatementKind::Trait
        } else {
            StatementKind::LifeFact
        };
        return found(kind, format!("identity:{head}"), value, 0.7);
    }
    None
}

fn match_my(t: &[Tok]) -> Option<Found> {
    let mut i = 1;
    if matches!(word(t, i), "favorite" | "favourite") {
        // "my favorite band is Queen".
        let is_at = (2..t.len().min(6)).find(|&k| t[k].w == "is" || t[k].w == "are")?;
        let what = t[2..is_at]
            .iter()
            .map(|x| x.w.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let value = key_of(t, is_at + 1, &[]);
        if what.is_empty() {
            return None;
        }
        return found(
            StatementKind::Preference,
            format!("favorite:{what}"),
            value,
            0.8,
        );
    }
    let mut adjectives = Vec::new();
    while RELATION_ADJECTIVES.contains(&word(t, i)) {
        adjectives.push(word(t, i));
        i += 1;
    }
    let noun = word(t, i);
    let after = i + 1;
    if PETS.contains(&noun) {
        let name = t
            .get(after)
            .filter(|x| x.cap && !SUBJECT_VERBS.contains(&x.w.as_str()));
        let name = name?;
        return found(
            StatementKind::LifeFact,
            format!("pet:{}", species(noun)),
            name.w.clone(),
            0.8,
        );
    }
    let relation = if RELATIONS.contains(&noun) {
        noun
    } else if adjectives.last().is_some_and(|a| RELATIONS.contains(a)) {
        // "my twin is ...", "my baby ...": the adjective was the relation.
        i -= 1;
        adjectives.pop();
        word(t, i)
    } else {
        return None;
    };
    let relation = if adjectives.contains(&"best") && relation == "friend" {
        "best friend"
    } else {
        relation
    };
    let relation = relation.replace(' ', "_");
    let mut j = i + 1;
    // "my sister Anna", "my husband, John,".
    if let Some(name) = t
        .get(j)
        .filter(|x| x.cap && !SUBJECT_VERBS.contains(&x.w.as_str()))
    {
        let mut full = vec![name.w.clone()];
        if !name.stop && t.get(j + 1).is_some_and(|x| x.cap) {
            full.push(t[j + 1].w.clone());
        }
        return found(
            StatementKind::Relationship,
            format!("relation:{relation}"),
            full.join(" "),
            0.85,
        );
    }
    j = skip_adverbs(t, j);
    let verb = word(t, j);
    match verb {
        "lives" | "live" => place(t, j + 1, "in").and_then(|p| {
            found(
                StatementKind::Relationship,
                format!("relation:{relation}:lives_in"),
                p,
                0.8,
            )
        }),
        "moved" => place(t, j + 1, "to").and_then(|p| {
            found(
                StatementKind::Relationship,
                format!("relation:{relation}:lives_in"),
                p,
                0.8,
            )
        }),
        "works" if word(t, j + 1) == "as" => {
            let k = if matches!(word(t, j + 2), "a" | "an") {
                j + 3
            } else {
                j + 2
            };
            let key = key_of(t, k, NP_STOPS);
            found(
                StatementKind::Relationship,
                format!("relation:{relation}:job"),
                key,
                0.8,
            )
        }
        "is" if matches!(word(t, j + 1), "a" | "an")
            && t.get(j + 2).is_some_and(|x| {
                JOB_NOUNS.contains(&x.w.as_str())
                    || t.get(j + 3)
                        .is_some_and(|y| JOB_NOUNS.contains(&y.w.as_str()))
            }) =>
        {
            let key = key_of(t, j + 2, NP_STOPS);
            found(
                StatementKind::Relationship,
                format!("relation:{relation}:job"),
                key,
                0.8,
            )
        }
        "is" | "are" | "was" | "were" | "has" | "have" | "had" | "got" | "works" | "work"
        | "loves" | "love" | "likes" | "like" | "started" | "teaches" | "plays" | "play"
        | "studies" | "runs" | "owns" | "adopted" | "just" => {
            let key = key_of(t, j + 1, &[]);
            let copula = matches!(verb, "is" | "are" | "was" | "were" | "just");
            let short = key.is_empty() || (copula && key.split(' ').count() < 2);
            if short || REACTIONS.contains(&word(t, j + 1)) {
                return None;
            }
            found(
                StatementKind::Relationship,
                format!("relation:{relation}:about"),
                format!("{verb} {key}"),
                0.6,
            )
        }
        _ => None,
    }
}
