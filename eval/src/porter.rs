//! The Porter stemmer as NLTK runs it by default (`NLTK_EXTENSIONS`), which LoCoMo's official
//! F1 uses: Porter's 1980 algorithm with Martin Porter's later changes and NLTK's own (a table
//! of irregular forms, `-ies`/`-ied` on four-letter words, `y -> i` only after a consonant that
//! is not the whole stem, `-fulli`, `-logi`, and two-letter words counting as ending cvc).

/// Words the algorithm gets wrong, mapped straight to their stem.
const IRREGULAR: [(&str, &str); 16] = [
    ("sky", "sky"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// For each letter, whether it is a consonant: not a vowel, and a `y` only when it starts the
/// word or follows a vowel.
fn consonants(w: &[char]) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(w.len());
    for (i, &c) in w.iter().enumerate() {
        let consonant = if is_vowel(c) {
            false
        } else if c == 'y' {
            i == 0 || !flags[i - 1]
        } else {
            true
        };
        flags.push(consonant);
    }
    flags
}

/// The number of vowel-consonant sequences ([C](VC){m}[V]).
fn measure(w: &[char]) -> usize {
    consonants(w).windows(2).filter(|p| !p[0] && p[1]).count()
}

fn contains_vowel(w: &[char]) -> bool {
    consonants(w).iter().any(|c| !c)
}

fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && consonants(w)[n - 1]
}

/// Ends consonant-vowel-consonant, the last not w, x or y; or is a two-letter vowel-consonant.
fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    let c = consonants(w);
    (n >= 3 && c[n - 3] && !c[n - 2] && c[n - 1] && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !c[0] && c[1])
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

fn stem_of<'a>(w: &'a [char], suffix: &str) -> &'a [char] {
    &w[..w.len() - suffix.chars().count()]
}

fn with(stem: &[char], tail: &str) -> Vec<char> {
    stem.iter().copied().chain(tail.chars()).collect()
}

type Condition<'a> = &'a dyn Fn(&[char]) -> bool;

/// Applies the first rule whose suffix the word ends with: replaced when its condition holds,
/// unchanged otherwise (later rules are not tried).
fn apply(w: &[char], rules: &[(&str, &str, Condition<'_>)]) -> Vec<char> {
    for (suffix, replacement, condition) in rules {
        if ends_with(w, suffix) {
            let stem = stem_of(w, suffix);
            return if condition(stem) {
                with(stem, replacement)
            } else {
                w.to_vec()
            };
        }
    }
    w.to_vec()
}

fn positive(stem: &[char]) -> bool {
    measure(stem) > 0
}

fn step1a(w: &[char]) -> Vec<char> {
    if w.len() == 4 && ends_with(w, "ies") {
        return with(stem_of(w, "ies"), "ie");
    }
    let always: Condition<'_> = &|_| true;
    apply(
        w,
        &[
            ("sses", "ss", always),
            ("ies", "i", always),
            ("ss", "ss", always),
            ("s", "", always),
        ],
    )
}

fn step1b(w: &[char]) -> Vec<char> {
    if ends_with(w, "ied") {
        let tail = if w.len() == 4 { "ie" } else { "i" };
        return with(stem_of(w, "ied"), tail);
    }
    if ends_with(w, "eed") {
        let stem = stem_of(w, "eed");
        return if measure(stem) > 0 {
            with(stem, "ee")
        } else {
            w.to_vec()
        };
    }
    let Some(stem) = ["ed", "ing"]
        .iter()
        .filter(|s| ends_with(w, s))
        .map(|s| stem_of(w, s))
        .find(|stem| contains_vowel(stem))
    else {
        return w.to_vec();
    };
    for (suffix, tail) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if ends_with(stem, suffix) {
            return with(stem_of(stem, suffix), tail);
        }
    }
    if ends_double_consonant(stem) {
        let last = stem[stem.len() - 1];
        return if matches!(last, 'l' | 's' | 'z') {
            stem.to_vec()
        } else {
            stem[..stem.len() - 1].to_vec()
        };
    }
    if measure(stem) == 1 && ends_cvc(stem) {
        with(stem, "e")
    } else {
        stem.to_vec()
    }
}

fn step1c(w: &[char]) -> Vec<char> {
    let condition: Condition<'_> =
        &|stem: &[char]| stem.len() > 1 && consonants(stem)[stem.len() - 1];
    apply(w, &[("y", "i", condition)])
}

fn step2(w: &[char]) -> Vec<char> {
    if ends_with(w, "alli") && positive(stem_of(w, "alli")) {
        return step2(&with(stem_of(w, "alli"), "al"));
    }
    let p: Condition<'_> = &positive;
    let logi: Condition<'_> = &|_| positive(&w[..w.len() - 3]);
    apply(
        w,
        &[
            ("ational", "ate", p),
            ("tional", "tion", p),
            ("enci", "ence", p),
            ("anci", "ance", p),
            ("izer", "ize", p),
            ("bli", "ble", p),
            ("alli", "al", p),
            ("entli", "ent", p),
            ("eli", "e", p),
            ("ousli", "ous", p),
            ("ization", "ize", p),
            ("ation", "ate", p),
            ("ator", "ate", p),
            ("alism", "al", p),
            ("iveness", "ive", p),
            ("fulness", "ful", p),
            ("ousness", "ous", p),
            ("aliti", "al", p),
            ("iviti", "ive", p),
            ("biliti", "ble", p),
            ("fulli", "ful", p),
            ("logi", "log", logi),
        ],
    )
}

fn step3(w: &[char]) -> Vec<char> {
    let p: Condition<'_> = &positive;
    apply(
        w,
        &[
            ("icate", "ic", p),
            ("ative", "", p),
            ("alize", "al", p),
            ("iciti", "ic", p),
            ("ical", "ic", p),
            ("ful", "", p),
            ("ness", "", p),
        ],
    )
}

fn step4(w: &[char]) -> Vec<char> {
    let m: Condition<'_> = &|stem| measure(stem) > 1;
    let ion: Condition<'_> =
        &|stem: &[char]| measure(stem) > 1 && matches!(stem.last(), Some('s' | 't'));
    apply(
        w,
        &[
            ("al", "", m),
            ("ance", "", m),
            ("ence", "", m),
            ("er", "", m),
            ("ic", "", m),
            ("able", "", m),
            ("ible", "", m),
            ("ant", "", m),
            ("ement", "", m),
            ("ment", "", m),
            ("ent", "", m),
            ("ion", "", ion),
            ("ou", "", m),
            ("ism", "", m),
            ("ate", "", m),
            ("iti", "", m),
            ("ous", "", m),
            ("ive", "", m),
            ("ize", "", m),
        ],
    )
}

fn step5a(w: &[char]) -> Vec<char> {
    if ends_with(w, "e") {
        let stem = stem_of(w, "e");
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            return stem.to_vec();
        }
    }
    w.to_vec()
}

fn step5b(w: &[char]) -> Vec<char> {
    if ends_with(w, "ll") && measure(&w[..w.len() - 1]) > 1 {
        return w[..w.len() - 1].to_vec();
    }
    w.to_vec()
}

/// The stem of a word (lower-cased first), as `nltk.stem.PorterStemmer().stem(word)` gives it.
pub fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if let Some((_, s)) = IRREGULAR.iter().find(|(w, _)| *w == lower) {
        return (*s).to_owned();
    }
    if word.chars().count() <= 2 {
        return lower;
    }
    let mut w: Vec<char> = lower.chars().collect();
    for step in [step1a, step1b, step1c, step2, step3, step4, step5a, step5b] {
        w = step(&w);
    }
    w.into_iter().collect()
}
