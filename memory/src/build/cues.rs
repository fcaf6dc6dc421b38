//! What a turn's text signals beyond its words, read once when the unit is indexed: whether it
//! only asks, and whether it says when something happened. Retrieval weighs turns by these.

use super::text::words;
use crate::time::MONTH_NAMES;

/// Whether a turn's text (without the speaker's name) only asks: every sentence is a question
/// or a short interjection (an exclamation of at most three words such as "Wow, nice!", or a
/// sentence of at most two such as "Oh, sure."), and no image is shared. Such a turn tells
/// nothing about its speaker, so retrieval ranks it below turns that state something (its
/// reply still inherits its score).
pub fn only_asks(text: &str) -> bool {
    if text.contains("[shared an image: ") {
        return false;
    }
    let mut asks = false;
    let mut sentence_words = 0usize;
    for token in text.split_whitespace() {
        sentence_words += 1;
        let end = token.trim_end_matches(['"', '\'', ')', '’', '”']);
        if end.ends_with('?') {
            asks = true;
            sentence_words = 0;
        } else if end.ends_with('!') || end.ends_with('.') {
            // "Wow, nice!", "Hey Mel!", "Oh, sure." interject; "We played Catan." states.
            let interjection = if end.ends_with('!') { 3 } else { 2 };
            if sentence_words > interjection {
                return false;
            }
            sentence_words = 0;
        }
    }
    asks && sentence_words <= 2
}

/// Periods a time expression counts in ("last week", "next summer", "this morning").
const PERIODS: &[&str] = &[
    "autumn",
    "fall",
    "friday",
    "monday",
    "month",
    "morning",
    "night",
    "saturday",
    "spring",
    "summer",
    "sunday",
    "thursday",
    "tuesday",
    "wednesday",
    "week",
    "weekend",
    "winter",
    "year",
];

const DURATIONS: &[&str] = &["days", "weeks", "months", "years"];

/// Whether a turn says when something happened: a relative time ("yesterday", "two weekends
/// ago", "last summer", "a few weeks"), a month after "in", "on", "last" or "since", or a year.
/// Questions asking "when" weigh such turns up: their answer is the session's date shifted by
/// the expression.
pub fn mentions_time(text: &str) -> bool {
    let words: Vec<String> = words(text).into_iter().map(|w| w.lower).collect();
    let at = |i: usize| words.get(i).map_or("", String::as_str);
    (0..words.len()).any(|i| {
        let (w, next) = (at(i), at(i + 1));
        matches!(
            w,
            "yesterday" | "today" | "tonight" | "tomorrow" | "ago" | "recently" | "since"
        ) || (matches!(w, "last" | "next" | "this") && (PERIODS.contains(&next) || next == "past"))
            || (w == "few" && DURATIONS.contains(&next))
            || (w == "couple" && next == "of" && DURATIONS.contains(&at(i + 2)))
            || (matches!(w, "in" | "on" | "last" | "since") && MONTH_NAMES.contains(&next))
            || (w == "just" && matches!(next, "got" | "finished" | "started" | "went"))
            || (w.len() == 4
                && (w.starts_with("19") || w.starts_with("20"))
                && w.chars().all(|c| c.is_ascii_digit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_that_only_asks_is_told_from_one_that_states() {
        assert!(only_asks("What game were you playing?"));
        assert!(only_asks("Wow, congrats! What game were you playing?"));
        assert!(only_asks("Hey Mel! How are the kids? Did they like it?"));
        assert!(!only_asks("We played Catan. Have you played it?"));
        assert!(only_asks("Oh, sure. Congrats, Mel! When is it?"));
        assert!(!only_asks("I went camping last week"));
        assert!(!only_asks(
            "Where is this? [shared an image: a photo of a lake]"
        ));
        assert!(!only_asks(
            "What a day... I finally finished the painting I started"
        ));
        assert!(!only_asks(""));
    }

    #[test]
    fn a_turn_that_says_when_is_told_from_one_that_does_not() {
        for said in [
            "I went camping with my fam two weekends ago.",
            "Yesterday I lost my job as a banker.",
            "We moved last summer, right after the wedding.",
            "I have been painting since 2019!",
            "The fair was in July and it was packed.",
            "It took a few weeks to finish.",
            "I just finished my first marathon!",
        ] {
            assert!(mentions_time(said), "{said}");
        }
        for plain in [
            "I love painting sunsets with the kids.",
            "You may like this one, it is a classic.",
            "Thanks! The last one was my favourite.",
            "Agent 2020x is a game.",
        ] {
            assert!(!mentions_time(plain), "{plain}");
        }
    }
}
