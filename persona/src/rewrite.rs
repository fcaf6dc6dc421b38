//! Third-person rewriting of an extracted first-person clause: "I" and "my" become the
//! speaker's name or pronouns, and the verb after the subject agrees.

use crate::extract::{ADVERBS, FIRST_PERSON, Word};

/// The clause in the third person: the first "I"/"my" becomes the speaker's name, later ones
/// pronouns; the verb after the subject agrees.
pub(crate) fn rewrite(clause: &[Word], name: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut named = false;
    // Some(third_singular) while the verb after a subject is still to come.
    let mut pending: Option<bool> = None;
    for word in clause {
        let raw = &word.raw;
        let lead_len = raw.len() - raw.trim_start_matches(|c: char| !c.is_alphanumeric()).len();
        let core_end = raw
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .len()
            .max(lead_len);
        let (lead, core, trail) = (&raw[..lead_len], &raw[lead_len..core_end], &raw[core_end..]);
        let lower = core.to_lowercase();
        let subject = if named { "they" } else { name };
        let third = !named;
        let replaced: Option<String> = match lower.as_str() {
            "i" => {
                pending = Some(third);
                Some(subject.to_owned())
            }
            "i'm" | "im" => Some(format!("{subject} {}", if third { "is" } else { "are" })),
            "i've" | "ive" => Some(format!("{subject} {}", if third { "has" } else { "have" })),
            "i'd" => Some(format!("{subject} would")),
            "i'll" => Some(format!("{subject} will")),
            "my" => Some(if named {
                "their".to_owned()
            } else {
                format!("{name}'s")
            }),
            "mine" => Some(if named {
                "theirs".to_owned()
            } else {
                format!("{name}'s")
            }),
            "me" => Some("them".to_owned()),
            "myself" => Some("themself".to_owned()),
            _ => None,
        };
        if let Some(text) = replaced {
            if FIRST_PERSON.contains(&lower.as_str()) || lower == "mine" {
                named = true;
            }
            out.push(format!("{lead}{text}{trail}"));
            continue;
        }
        if let Some(third) = pending {
            if ADVERBS.contains(&lower.as_str())
                || lower == "always"
                || lower == "never"
                || lower == "often"
            {
                out.push(raw.clone());
                continue;
            }
            pending = None;
            let verb = if third {
                conjugate(&lower)
            } else {
                agree_plural(&lower)
            };
            out.push(format!("{lead}{verb}{trail}"));
            continue;
        }
        out.push(raw.clone());
    }
    let mut text = out.join(" ");
    let trimmed = text
        .trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '"')
        .len();
    text.truncate(trimmed);
    text.push('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// "they" after a first mention: "am" and "was" change, other verbs stay.
fn agree_plural(verb: &str) -> String {
    match verb {
        "am" => "are".to_owned(),
        "was" => "were".to_owned(),
        _ => verb.to_owned(),
    }
}

const IRREGULAR_PAST: &[&str] = &[
    "got", "went", "took", "made", "had", "was", "did", "saw", "found", "bought", "began",
    "became", "came", "met", "ran", "wrote", "gave", "left", "lost", "won", "felt", "thought",
    "built", "grew", "kept", "sold", "spent", "taught", "brought", "caught", "heard", "knew",
    "said", "told", "sent", "swam", "sang", "drove", "flew", "ate", "fell", "held", "paid",
];

const MODALS: &[&str] = &[
    "can",
    "could",
    "will",
    "would",
    "shall",
    "should",
    "may",
    "might",
    "must",
    "can't",
    "cannot",
    "won't",
    "wouldn't",
    "couldn't",
    "shouldn't",
    "used",
    "was",
    "were",
    "did",
    "didn't",
];

/// The third person singular of a present-tense verb after "I"; other forms unchanged.
fn conjugate(verb: &str) -> String {
    match verb {
        "am" => return "is".to_owned(),
        "have" => return "has".to_owned(),
        "do" => return "does".to_owned(),
        "don't" | "dont" => return "doesn't".to_owned(),
        "go" => return "goes".to_owned(),
        "haven't" => return "hasn't".to_owned(),
        _ => {}
    }
    if MODALS.contains(&verb)
        || IRREGULAR_PAST.contains(&verb)
        || verb.ends_with("ed")
        || verb.contains('\'')
        || !verb.chars().all(|c| c.is_ascii_alphabetic())
    {
        return verb.to_owned();
    }
    if verb.ends_with(['s', 'x', 'z', 'o']) || verb.ends_with("sh") || verb.ends_with("ch") {
        return format!("{verb}es");
    }
    if let Some(stem) = verb.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{verb}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conjugates_the_verb_after_the_subject() {
        assert_eq!(conjugate("love"), "loves");
        assert_eq!(conjugate("watch"), "watches");
        assert_eq!(conjugate("study"), "studies");
        assert_eq!(conjugate("play"), "plays");
        assert_eq!(conjugate("have"), "has");
        assert_eq!(conjugate("adopted"), "adopted");
        assert_eq!(conjugate("got"), "got");
        assert_eq!(conjugate("can't"), "can't");
    }
}
