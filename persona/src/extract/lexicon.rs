//! Word lists of the offline extractor: what marks a question, a hypothetical, a reaction,
//! a trait, and the words a statement's key skips; the nouns (identities, jobs, pets,
//! relations) are in `nouns`.

mod nouns;
pub(super) use nouns::*;

pub(super) const QUESTION_STARTS: &[&str] = &[
    "do", "does", "did", "have", "has", "are", "is", "what", "where", "when", "why", "how", "who",
    "which", "can", "could", "would", "will",
];

/// Words after which a new first-person clause may start.
pub(super) const CONNECTORS: &[&str] = &[
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
pub(super) const HYPOTHETICAL: &[&str] = &[
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

pub(super) const SECOND_PERSON: &[&str] = &[
    "you", "your", "you're", "youre", "yours", "yourself", "u", "ya", "you've", "you'll", "you'd",
];

/// Feelings of the moment, not traits.
pub(super) const REACTIONS: &[&str] = &[
    "happy", "glad", "sorry", "sure", "good", "fine", "great", "okay", "ok", "excited", "thrilled",
    "proud", "tired", "busy", "here", "there", "down", "in", "on", "so",
];

pub(super) const TRAIT_ADJECTIVES: &[&str] = &[
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

/// Words that end a noun phrase.
pub(super) const NP_STOPS: &[&str] = &[
    "at", "for", "in", "on", "with", "and", "but", "because", "who", "which", "that", "so", "to",
    "from", "since", "by", "of", "now", "too", "as", "when", "like", "or",
];

/// Words that end an object phrase (likes, activities, plans).
pub(super) const OBJECT_STOPS: &[&str] = &[
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
pub(super) const KEY_STOPWORDS: &[&str] = &[
    "been", "being", "a", "an", "the", "my", "our", "their", "his", "her", "some", "this", "that",
    "really", "very", "so", "just", "to", "of", "in", "on", "at", "for", "all", "lot", "lots",
    "much", "more", "most", "new", "own", "also", "again", "more", "it", "be", "and",
];

/// Time expressions: a key ends at them.
pub(super) const TIME_WORDS: &[&str] = &[
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

/// Objects that make a like a reaction to what was just said, not a preference.
pub(super) const REACTION_OBJECTS: &[&str] = &[
    "it", "that", "this", "them", "those", "these", "him", "her", "how", "what", "when", "the",
    "hearing", "seeing", "reading", "knowing", "talking", "chatting", "catching", "sharing",
    "idea", "sound", "sounds", "which", "where", "who", "here", "there",
];

pub(super) const SUBJECT_VERBS: &[&str] = &[
    "is", "lives", "works", "has", "just", "got", "moved", "loves", "likes", "was", "and",
    "recently", "started", "teaches", "plays", "studies", "runs", "owns", "adopted", "had", "are",
    "live", "work", "have", "love", "like", "were", "play",
];

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
