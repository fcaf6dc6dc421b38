//! Plain-text helpers for the extractive methods: words, phrase boundaries and stop words.

/// A word of a text, lower-cased, with whether a phrase may continue across it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub lower: String,
    /// The word was written with a capital letter (a name, most often).
    pub capitalised: bool,
    /// Punctuation between this word and the next ends a phrase.
    pub breaks_after: bool,
}

/// Splits text into words (letters, digits and inner apostrophes or hyphens). Sentence and
/// clause punctuation marks a phrase boundary.
pub fn words(text: &str) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut current = String::new();
    let mut capitalised = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner_joiner = (c == '\'' || c == '’' || c == '-')
            && !current.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || inner_joiner {
            if current.is_empty() {
                capitalised = c.is_uppercase();
            }
            current.extend(c.to_lowercase());
            continue;
        }
        if !current.is_empty() {
            out.push(Word {
                lower: std::mem::take(&mut current).replace('’', "'"),
                capitalised,
                breaks_after: false,
            });
        }
        if let Some(last) = out.last_mut().filter(|_| !c.is_whitespace()) {
            last.breaks_after = true;
        }
    }
    if !current.is_empty() {
        out.push(Word {
            lower: current.replace('’', "'"),
            capitalised,
            breaks_after: true,
        });
    }
    if let Some(last) = out.last_mut() {
        last.breaks_after = true;
    }
    out
}

/// Whether a lower-cased word carries no topic: function words and conversational filler.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
        || word.len() < 2
        || word.chars().all(|c| c.is_ascii_digit())
}

/// English function words and chat filler, sorted for binary search.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "actually",
    "after",
    "again",
    "against",
    "ago",
    "ah",
    "all",
    "almost",
    "also",
    "always",
    "am",
    "amazing",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "aren't",
    "around",
    "as",
    "at",
    "aw",
    "awesome",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "best",
    "better",
    "between",
    "big",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "cannot",
    "cool",
    "could",
    "couldn't",
    "day",
    "days",
    "definitely",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "else",
    "even",
    "ever",
    "every",
    "everything",
    "exactly",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "give",
    "glad",
    "go",
    "goes",
    "going",
    "gonna",
    "good",
    "got",
    "great",
    "guess",
    "had",
    "hadn't",
    "happy",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "hear",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "hey",
    "hi",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it'd",
    "it'll",
    "it's",
    "its",
    "itself",
    "just",
    "keep",
    "kind",
    "know",
    "last",
    "let",
    "let's",
    "like",
    "little",
    "lol",
    "lot",
    "lots",
    "made",
    "make",
    "makes",
    "making",
    "many",
    "may",
    "maybe",
    "me",
    "mean",
    "might",
    "more",
    "most",
    "much",
    "must",
    "mustn't",
    "my",
    "myself",
    "need",
    "new",
    "nice",
    "no",
    "nor",
    "not",
    "nothing",
    "now",
    "of",
    "off",
    "oh",
    "ok",
    "okay",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "pretty",
    "quite",
    "really",
    "right",
    "said",
    "same",
    "say",
    "says",
    "see",
    "seems",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "so",
    "some",
    "something",
    "soon",
    "sounds",
    "still",
    "such",
    "super",
    "sure",
    "take",
    "tell",
    "than",
    "thank",
    "thanks",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "though",
    "through",
    "time",
    "to",
    "today",
    "too",
    "totally",
    "under",
    "until",
    "up",
    "us",
    "very",
    "want",
    "was",
    "wasn't",
    "way",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "well",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "wow",
    "yeah",
    "yes",
    "yet",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted() {
        assert!(
            STOP_WORDS.windows(2).all(|w| w[0] < w[1]),
            "STOP_WORDS must stay sorted"
        );
    }

    fn check(text: &str, expected: &[(&str, bool, bool)]) {
        let got: Vec<(String, bool, bool)> = words(text)
            .into_iter()
            .map(|w| (w.lower, w.capitalised, w.breaks_after))
            .collect();
        let expected: Vec<(String, bool, bool)> = expected
            .iter()
            .map(|&(w, c, b)| (w.to_owned(), c, b))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn words_keep_inner_apostrophes_and_mark_breaks() {
        check(
            "I'm at the LGBTQ support-group, Mel!",
            &[
                ("i'm", true, false),
                ("at", false, false),
                ("the", false, false),
                ("lgbtq", true, false),
                ("support-group", false, true),
                ("mel", true, true),
            ],
        );
        check(
            "It’s 'fine'",
            &[("it's", true, true), ("fine", false, true)],
        );
        check("", &[]);
    }
}
