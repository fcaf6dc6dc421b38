//! A deterministic, offline persona extractor for chit-chat: first-person statements a speaker
//! makes about themself, attributed to that speaker and rewritten in the third person.
//!
//! A turn is split into sentences and each sentence into clauses that start with "I" or "my".
//! Questions, hypotheticals ("if I ...", "I'd love to"), clauses about the addressee ("you",
//! "your") and reactions ("I love that", "I'm so happy for you") are skipped. Only explicit
//! patterns produce candidates, so precision comes before recall.

use memory::{Timestamp, TurnId};
use serde::{Deserialize, Serialize};

use memory::persona::StatementKind;

use crate::model::Candidate;
use crate::rewrite::rewrite;

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

const QUESTION_STARTS: &[&str] = &[
    "do", "does", "did", "have", "has", "are", "is", "what", "where", "when", "why", "how", "who",
    "which", "can", "could", "would", "will",
];

pub(crate) const FIRST_PERSON: &[&str] = &["i", "i'm", "im", "i've", "ive", "i'd", "i'll", "my"];

/// Words after which a new first-person clause may start.
const CONNECTORS: &[&str] = &[
    "and",
    "but",
    "so",
    "because",
    "cause",
    "since",
    "also",
    "plus",
    "now",
    "then",
    "actually",
    "honestly",
    "lately",
    "recently",
    "yesterday",
    "today",
    "well",
    "oh",
    "yeah",
    "yes",
    "yep",
    "wow",
    "haha",
    "lol",
    "btw",
    "anyway",
    "anyways",
    "hey",
    "hi",
    "hello",
    "ah",
    "aw",
    "aww",
    "omg",
    "um",
    "uh",
    "guess",
    "though",
    "finally",
    "luckily",
    "sadly",
    "fortunately",
];

/// Words that make what follows in the sentence hypothetical or reported.
const HYPOTHETICAL: &[&str] = &[
    "if",
    "unless",
    "when",
    "whenever",
    "wish",
    "imagine",
    "suppose",
    "supposing",
    "maybe",
    "perhaps",
    "that",
    "whether",
    "sometimes",
];

const SECOND_PERSON: &[&str] = &[
    "you", "your", "you're", "youre", "yours", "yourself", "u", "ya", "you've", "you'll", "you'd",
];

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

/// What a clause says, before it becomes a candidate.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    kind: StatementKind,
    slot: String,
    value: String,
    confidence: f32,
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

/// Adverbs skipped between the subject and the verb.
pub(crate) const ADVERBS: &[&str] = &[
    "just",
    "really",
    "also",
    "actually",
    "recently",
    "finally",
    "totally",
    "absolutely",
    "still",
    "usually",
    "even",
    "kinda",
    "currently",
    "now",
    "already",
    "definitely",
    "truly",
    "honestly",
    "seriously",
    "literally",
    "officially",
    "so",
    "too",
    "very",
    "genuinely",
    "pretty",
    "generally",
    "normally",
    "mostly",
    "lately",
    "newly",
];

fn skip_adverbs(t: &[Tok], mut i: usize) -> usize {
    while t.get(i).is_some_and(|x| ADVERBS.contains(&x.w.as_str())) {
        i += 1;
    }
    i
}

fn word(t: &[Tok], i: usize) -> &str {
    t.get(i).map_or("", |x| x.w.as_str())
}

fn match_clause(clause: &[Word]) -> Option<Found> {
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

/// Feelings of the moment, not traits.
const REACTIONS: &[&str] = &[
    "happy", "glad", "sorry", "sure", "good", "fine", "great", "okay", "ok", "excited", "thrilled",
    "proud", "tired", "busy", "here", "there", "down", "in", "on", "so",
];

const TRAIT_ADJECTIVES: &[&str] = &[
    "introverted",
    "extroverted",
    "shy",
    "outgoing",
    "creative",
    "organized",
    "organised",
    "vegan",
    "vegetarian",
    "religious",
    "spiritual",
    "athletic",
    "competitive",
    "adventurous",
    "independent",
    "ambitious",
    "optimistic",
    "pessimistic",
    "patient",
    "impatient",
    "curious",
    "sensitive",
    "stubborn",
    "artistic",
    "introvert",
    "extrovert",
    "lazy",
    "messy",
    "neat",
    "punctual",
    "spontaneous",
    "sporty",
    "left-handed",
    "colorblind",
    "diabetic",
    "lactose",
    "transgender",
    "gay",
    "lesbian",
    "bisexual",
    "nonbinary",
    "non-binary",
    "queer",
];

const IDENTITY_NOUNS: &[&str] = &[
    "woman",
    "man",
    "mom",
    "mother",
    "dad",
    "father",
    "parent",
    "mum",
    "vegan",
    "vegetarian",
    "christian",
    "muslim",
    "jew",
    "buddhist",
    "hindu",
    "atheist",
    "veteran",
    "immigrant",
    "introvert",
    "extrovert",
    "grandmother",
    "grandfather",
    "grandma",
    "grandpa",
    "homebody",
    "foodie",
    "runner",
    "gamer",
    "bookworm",
    "morning",
    "night",
];

const JOB_NOUNS: &[&str] = &[
    "nurse",
    "chef",
    "cook",
    "doctor",
    "surgeon",
    "dentist",
    "lawyer",
    "attorney",
    "student",
    "engineer",
    "nanny",
    "pilot",
    "architect",
    "mechanic",
    "plumber",
    "electrician",
    "barista",
    "cashier",
    "clerk",
    "firefighter",
    "paramedic",
    "therapist",
    "scientist",
    "artist",
    "musician",
    "accountant",
    "consultant",
    "analyst",
    "librarian",
    "pharmacist",
    "veterinarian",
    "vet",
    "professor",
    "tutor",
    "coach",
    "counselor",
    "counsellor",
    "teacher",
    "developer",
    "programmer",
    "designer",
    "writer",
    "author",
    "journalist",
    "photographer",
    "farmer",
    "carpenter",
    "waiter",
    "waitress",
    "bartender",
    "manager",
    "director",
    "entrepreneur",
    "freelancer",
    "intern",
    "assistant",
    "officer",
    "soldier",
    "police",
    "cop",
    "detective",
    "salesman",
    "saleswoman",
    "realtor",
    "painter",
    "dancer",
    "singer",
    "actor",
    "actress",
    "baker",
    "butcher",
    "tailor",
    "hairdresser",
    "stylist",
    "trainer",
    "instructor",
    "researcher",
    "volunteer",
    "activist",
    "ceo",
    "founder",
    "owner",
    "retiree",
    "housewife",
    "stay-at-home",
    "caregiver",
    "social",
    "worker",
    "editor",
    "producer",
    "streamer",
    "youtuber",
    "blogger",
];

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

/// Words that end a noun phrase.
const NP_STOPS: &[&str] = &[
    "at", "for", "in", "on", "with", "and", "but", "because", "who", "which", "that", "so", "to",
    "from", "since", "by", "of", "now", "too", "as", "when", "like", "or",
];

/// Words that end an object phrase (likes, activities, plans).
const OBJECT_STOPS: &[&str] = &[
    "because",
    "cause",
    "since",
    "when",
    "but",
    "so",
    "and",
    "or",
    "especially",
    "lately",
    "recently",
    "these",
    "nowadays",
    "though",
    "although",
    "which",
    "who",
    "as",
    "too",
    "like",
    "with",
];

/// Words left out of keys.
const KEY_STOPWORDS: &[&str] = &[
    "been", "being", "a", "an", "the", "my", "our", "their", "his", "her", "some", "this", "that",
    "really", "very", "so", "just", "to", "of", "in", "on", "at", "for", "all", "lot", "lots",
    "much", "more", "most", "new", "own", "also", "again", "more", "it", "be", "and",
];

/// Time expressions: a key ends at them.
const TIME_WORDS: &[&str] = &[
    "originally",
    "yesterday",
    "today",
    "tonight",
    "tomorrow",
    "lately",
    "recently",
    "now",
    "soon",
    "currently",
    "last",
    "next",
    "this",
    "ago",
    "every",
    "since",
    "someday",
    "eventually",
    "later",
    "already",
    "weekend",
    "week",
    "month",
    "year",
    "years",
    "months",
    "days",
    "summer",
    "winter",
    "spring",
    "fall",
    "once",
    "twice",
    "sometimes",
    "often",
    "again",
];

/// A key of content words from `t[i..]`, stopping at a pause, an object stop, a time word or
/// any of `extra_stops`.
fn key_of(t: &[Tok], i: usize, extra_stops: &[&str]) -> String {
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

/// Objects that make a like a reaction to what was just said, not a preference.
const REACTION_OBJECTS: &[&str] = &[
    "it", "that", "this", "them", "those", "these", "him", "her", "how", "what", "when", "the",
    "hearing", "seeing", "reading", "knowing", "talking", "chatting", "catching", "sharing",
    "idea", "sound", "sounds", "which", "where", "who", "here", "there",
];

fn preference(t: &[Tok], i: usize, like: bool, confidence: f32) -> Option<Found> {
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

fn work(t: &[Tok], i: usize) -> Option<Found> {
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
fn place(t: &[Tok], i: usize, prep: &str) -> Option<String> {
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

const PETS: &[&str] = &[
    "dog",
    "dogs",
    "puppy",
    "puppies",
    "pup",
    "cat",
    "cats",
    "kitten",
    "kittens",
    "kitty",
    "greyhound",
    "parrot",
    "bird",
    "birds",
    "hamster",
    "rabbit",
    "bunny",
    "fish",
    "goldfish",
    "turtle",
    "tortoise",
    "horse",
    "pony",
    "snake",
    "lizard",
    "gecko",
    "ferret",
    "chinchilla",
    "labrador",
    "lab",
    "retriever",
    "poodle",
    "beagle",
    "husky",
    "terrier",
    "shepherd",
    "bulldog",
    "corgi",
    "dachshund",
    "chihuahua",
    "pug",
    "collie",
    "spaniel",
    "pit",
    "pitbull",
    "tabby",
    "cockatiel",
    "budgie",
    "parakeet",
    "guinea",
    "pig",
    "hedgehog",
    "iguana",
    "chickens",
    "goat",
];

const PET_HEADS: &[(&str, &str)] = &[
    ("dogs", "dog"),
    ("puppy", "dog"),
    ("puppies", "dog"),
    ("pup", "dog"),
    ("cats", "cat"),
    ("kitten", "cat"),
    ("kittens", "cat"),
    ("kitty", "cat"),
    ("birds", "bird"),
    ("bunny", "rabbit"),
    ("goldfish", "fish"),
    ("pony", "horse"),
    ("lab", "dog"),
];

/// Breeds count as their species for the slot.
fn species(w: &str) -> &str {
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
fn pet(t: &[Tok], i: usize, adopted: bool) -> Option<Found> {
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
fn activity_ing(t: &[Tok], i: usize, confidence: f32) -> Option<Found> {
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

fn started(t: &[Tok], i: usize) -> Option<Found> {
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

fn activity_phrase(t: &[Tok], i: usize, confidence: f32) -> Option<Found> {
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

fn plan(t: &[Tok], i: usize, confidence: f32) -> Option<Found> {
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

const RELATIONS: &[&str] = &[
    "sister",
    "brother",
    "mom",
    "mother",
    "mum",
    "dad",
    "father",
    "parents",
    "wife",
    "husband",
    "partner",
    "boyfriend",
    "girlfriend",
    "son",
    "daughter",
    "kids",
    "children",
    "grandma",
    "grandmother",
    "grandpa",
    "grandfather",
    "aunt",
    "uncle",
    "cousin",
    "friend",
    "fiance",
    "fiancee",
    "fiancé",
    "fiancée",
    "niece",
    "nephew",
    "roommate",
    "boss",
    "coworker",
    "colleague",
    "neighbor",
    "neighbour",
    "siblings",
    "sisters",
    "brothers",
    "sons",
    "daughters",
    "grandparents",
    "friends",
    "stepmom",
    "stepdad",
    "stepson",
    "stepdaughter",
    "spouse",
    "bff",
    "twin",
    "baby",
];

/// Words allowed between "my" and the relation or animal.
const RELATION_ADJECTIVES: &[&str] = &[
    "little",
    "older",
    "younger",
    "big",
    "twin",
    "best",
    "oldest",
    "youngest",
    "new",
    "old",
    "eldest",
    "baby",
    "step",
    "favorite",
    "favourite",
    "dear",
    "sweet",
    "lovely",
    "rescue",
];

const SUBJECT_VERBS: &[&str] = &[
    "is", "lives", "works", "has", "just", "got", "moved", "loves", "likes", "was", "and",
    "recently", "started", "teaches", "plays", "studies", "runs", "owns", "adopted", "had", "are",
    "live", "work", "have", "love", "like", "were", "play",
];

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

#[cfg(test)]
mod tests;
