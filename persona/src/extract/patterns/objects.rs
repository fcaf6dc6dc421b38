//! What follows a first-person verb: the key of an object, a liking, a job, a place, a pet,
//! an activity or a plan, each as a [`Found`] statement.

use memory::persona::StatementKind;

use super::{Found, found, word};
use crate::extract::lexicon::*;
use crate::extract::{MAX_KEY_WORDS, Tok};

/// A key of content words from `t[i..]`, stopping at a pause, an object stop, a time word or
/// any of `extra_stops`.
pub(super) fn key_of(t: &[Tok], i: usize, extra_stops: &[&str]) -> String {
    let mut words = Vec::new();
    for tok in t.iter().skip(i) {
        let w = tok.w.as_str();
        if OBJECT_STOPS.contains(&w)
            || extra_stops.contains(&w)
            || (TIME_WORDS.contains(&w) && !words.is_empty())
        {
            break;
        }
        if TIME_WORDS.contains(&w)
            && words.is_empty()
            && matches!(w, "this" | "last" | "next" | "every")
        {
            break;
        }
        // A capitalised word is part of a name: "New York", "The Beatles".
        if tok.cap || (!KEY_STOPWORDS.contains(&w) && !TIME_WORDS.contains(&w)) {
            words.push(w);
        }
        if tok.stop || words.len() == MAX_KEY_WORDS {
            break;
        }
    }
    words.join(" ")
}

pub(super) fn preference(t: &[Tok], i: usize, like: bool, confidence: f32) -> Option<Found> {
    let mut i = i;
    if word(t, i) == "to" {
        i += 1;
    }
    let first = word(t, i);
    if first.is_empty() || REACTION_OBJECTS.contains(&first) {
        return None;
    }
    // "the idea of", "the way you": reactions; "the beach", "the ocean": fine.
    if first == "the" && REACTION_OBJECTS.contains(&word(t, i + 1)) {
        return None;
    }
    // "going on road trips": a light verb needs its complement.
    let light = matches!(
        first,
        "going" | "doing" | "spending" | "having" | "getting" | "taking" | "being" | "making"
    );
    let stops: &[&str] = if light {
        &[]
    } else {
        &["to", "in", "at", "on", "for"]
    };
    let key = key_of(t, i, stops);
    let key = if key.is_empty() {
        key_of(t, i, &[])
    } else {
        key
    };
    let value = if like { "like" } else { "dislike" };
    found(
        StatementKind::Preference,
        format!("likes:{key}"),
        value,
        confidence,
    )
}

pub(super) fn work(t: &[Tok], i: usize) -> Option<Found> {
    match word(t, i) {
        "as" => {
            let j = if matches!(word(t, i + 1), "a" | "an") {
                i + 2
            } else {
                i + 1
            };
            let key = key_of(t, j, NP_STOPS);
            found(StatementKind::LifeFact, "job", key, 0.85)
        }
        "at" | "for" => {
            let key = key_of(t, i + 1, NP_STOPS);
            found(StatementKind::LifeFact, "employer", key, 0.8)
        }
        "in" => {
            let key = key_of(t, i + 1, NP_STOPS);
            found(StatementKind::LifeFact, "work_field", key, 0.7)
        }
        _ => None,
    }
}

/// The place after `prep` at `t[i]`: "in Lisbon", "to New York City".
pub(super) fn place(t: &[Tok], i: usize, prep: &str) -> Option<String> {
    if word(t, i) != prep {
        return None;
    }
    let key = key_of(
        t,
        i + 1,
        &[
            "with", "for", "to", "in", "because", "a", "after", "before", "near",
        ],
    );
    if key.is_empty() || matches!(key.as_str(), "here" | "there" | "home" | "out" | "together") {
        return None;
    }
    Some(key)
}

/// Breeds count as their species for the slot.
pub(super) fn species(w: &str) -> &str {
    if let Some((_, s)) = PET_HEADS.iter().find(|(k, _)| *k == w) {
        return s;
    }
    match w {
        "greyhound" | "labrador" | "retriever" | "poodle" | "beagle" | "husky" | "terrier"
        | "shepherd" | "bulldog" | "corgi" | "dachshund" | "chihuahua" | "pug" | "collie"
        | "spaniel" | "pit" | "pitbull" => "dog",
        "tabby" => "cat",
        "cockatiel" | "budgie" | "parakeet" | "parrot" => "bird",
        _ => w,
    }
}

/// "(adopted|got|have) a rescue greyhound named Pepper".
pub(super) fn pet(t: &[Tok], i: usize, adopted: bool) -> Option<Found> {
    let mut j = i;
    if matches!(
        word(t, j),
        "a" | "an" | "two" | "three" | "another" | "my" | "our" | "one"
    ) {
        j += 1;
    }
    // A few adjectives, then the animal.
    let mut animal = None;
    for k in j..(j + 4).min(t.len()) {
        if PETS.contains(&t[k].w.as_str()) {
            animal = Some(k);
            if !PETS.contains(&word(t, k + 1)) || t[k].stop {
                break;
            }
        } else if animal.is_some() || t[k].stop || NP_STOPS.contains(&t[k].w.as_str()) {
            break;
        }
    }
    let Some(k) = animal else {
        // "adopted a child", "got a new job": not pets.
        return None;
    };
    let kind = species(&t[k].w).to_owned();
    let name = if matches!(word(t, k + 1), "named" | "called") {
        t.get(k + 2).filter(|x| x.cap).map(|x| x.w.clone())
    } else {
        None
    };
    let confidence = if name.is_some() || adopted { 0.9 } else { 0.75 };
    found(
        StatementKind::LifeFact,
        format!("pet:{kind}"),
        name.unwrap_or_else(|| kind.clone()),
        confidence,
    )
}

/// "been painting", "been learning the guitar".
pub(super) fn activity_ing(t: &[Tok], i: usize, confidence: f32) -> Option<Found> {
    let w = word(t, i);
    if !w.ends_with("ing")
        || matches!(
            w,
            "going"
                | "feeling"
                | "thinking"
                | "wondering"
                | "having"
                | "trying"
                | "getting"
                | "being"
                | "meaning"
                | "looking"
                | "dealing"
                | "struggling"
                | "waiting"
                | "hoping"
                | "missing"
                | "telling"
        )
    {
        return None;
    }
    activity_phrase(t, i, confidence)
}

pub(super) fn started(t: &[Tok], i: usize) -> Option<Found> {
    let w = word(t, i);
    if w == "to" {
        return activity_phrase(t, i + 1, 0.7);
    }
    if w.ends_with("ing") {
        return activity_ing(t, i, 0.75);
    }
    // "started a pottery class", "started a new job at X".
    let key = key_of(t, i, NP_STOPS);
    let last = key.rsplit(' ').next().unwrap_or_default();
    if last == "job" {
        let at = (i..t.len()).find(|&k| t[k].w == "at" || t[k].w == "as")?;
        return work(t, at);
    }
    if matches!(
        last,
        "class"
            | "classes"
            | "course"
            | "lessons"
            | "club"
            | "team"
            | "blog"
            | "business"
            | "band"
            | "garden"
            | "podcast"
            | "channel"
            | "group"
            | "company"
    ) {
        return found(
            StatementKind::LifeFact,
            format!("activity:{key}"),
            key.clone(),
            0.75,
        );
    }
    None
}

pub(super) fn activity_phrase(t: &[Tok], i: usize, confidence: f32) -> Option<Found> {
    let key = key_of(t, i, &[]);
    if key.is_empty() {
        return None;
    }
    found(
        StatementKind::LifeFact,
        format!("activity:{key}"),
        key.clone(),
        confidence,
    )
}

pub(super) fn plan(t: &[Tok], i: usize, confidence: f32) -> Option<Found> {
    let key = key_of(t, i, &[]);
    // "I'm going to say", "I want to know": speech acts, not plans.
    let verb = key.split(' ').next().unwrap_or_default();
    let single_ok =
        matches!(verb, "retire" | "travel" | "relax" | "graduate") || verb.ends_with("ing");
    if key.split(' ').count() < 2 && !single_ok {
        return None;
    }
    if matches!(
        verb,
        "say"
            | "know"
            | "ask"
            | "tell"
            | "thank"
            | "check"
            | "see"
            | "hear"
            | "try"
            | "make"
            | "share"
            | "let"
            | "show"
    ) {
        return None;
    }
    found(
        StatementKind::Plan,
        format!("plan:{key}"),
        key.clone(),
        confidence,
    )
}
