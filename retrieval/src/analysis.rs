//! Query analysis: which speakers a query names, which dates it mentions, and whether it asks
//! about the latest or the earliest occurrence of something.

use chrono::{Datelike, Months, NaiveDate};
use memory::time::MONTH_NAMES;
use memory::{TimeRange, Timestamp};

/// Whether a query asks for the newest or the oldest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalIntent {
    Latest,
    Earliest,
}

/// What a query says beyond its words.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryAnalysis {
    /// Known speakers the query names.
    pub speakers: Vec<String>,
    /// Time ranges the query mentions ("on 31 July, 2023": that day and the next two; "in
    /// June 2023": the month; "in 2022": the year).
    pub dates: Vec<TimeRange>,
    /// Months named without a year ("in July"), 1 to 12: that month of any year.
    pub months: Vec<u32>,
    pub temporal: Option<TemporalIntent>,
    /// The query asks when something happened ("When did...", "How long ago...", "In which
    /// year...").
    pub asks_when: bool,
}

const LATEST: [&str; 6] = [
    "most recent",
    "recently",
    "latest",
    "last time",
    "these days",
    "nowadays",
];
const EARLIEST: [&str; 5] = [
    "first time",
    "at first",
    "initially",
    "originally",
    "earliest",
];

fn month(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    MONTH_NAMES
        .iter()
        .position(|m| {
            *m == w || (w.len() == 3 && m.starts_with(&w)) || (w == "sept" && *m == "september")
        })
        .map(|i| i as u32 + 1)
}

fn number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn day_start(d: NaiveDate) -> Timestamp {
    Timestamp::from_datetime(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn range(from: NaiveDate, to: NaiveDate) -> TimeRange {
    TimeRange {
        from: Some(day_start(from)),
        to: Some(day_start(to)),
    }
}

/// The query split into the words dates are read from (commas and full stops are separators).
fn date_words(query: &str) -> Vec<&str> {
    query
        .split(|c: char| c.is_whitespace() || c == ',' || c == '?' || c == '.')
        .filter(|w| !w.is_empty())
        .collect()
}

fn dates(query: &str) -> Vec<TimeRange> {
    let words = date_words(query);
    let mut out = Vec::new();
    let year_at = |i: usize| {
        words
            .get(i)
            .and_then(|w| number(w))
            .filter(|y| (1900..2200).contains(y))
    };
    for (i, w) in words.iter().enumerate() {
        if let Some(m) = month(w) {
            let day_before = i
                .checked_sub(1)
                .and_then(|j| number(words[j]))
                .filter(|d| (1..=31).contains(d));
            let day_after = words
                .get(i + 1)
                .and_then(|w| number(w))
                .filter(|d| (1..=31).contains(d));
            let year = year_at(i + 1).or_else(|| year_at(i + 2));
            let Some(year) = year else { continue };
            let found = match day_before.or(day_after) {
                Some(d) => NaiveDate::from_ymd_opt(year as i32, m, d)
                    .map(|day| range(day, day + chrono::Days::new(3))),
                None => NaiveDate::from_ymd_opt(year as i32, m, 1).and_then(|first| {
                    Some(range(first, first.checked_add_months(Months::new(1))?))
                }),
            };
            out.extend(found);
        }
    }
    if out.is_empty() {
        // A bare year ("in 2022").
        for (i, w) in words.iter().enumerate() {
            let in_year =
                i > 0 && matches!(words[i - 1].to_lowercase().as_str(), "in" | "during" | "of");
            if let (true, Some(y)) = (in_year, number(w).filter(|y| (1900..2200).contains(y))) {
                let first = NaiveDate::from_ymd_opt(y as i32, 1, 1);
                out.extend(first.and_then(|f| Some(range(f, f.with_year(f.year() + 1)?))));
            }
        }
    }
    out
}

/// Months the query names without a year, after a word such as "in" ("camping in July").
fn bare_months(query: &str) -> Vec<u32> {
    let words = date_words(query);
    let mut out = Vec::new();
    for (i, pair) in words.windows(2).enumerate() {
        let led = matches!(
            pair[0].to_lowercase().as_str(),
            "in" | "during" | "of" | "early" | "late" | "mid" | "since" | "until"
        );
        let dated = words.get(i + 2).is_some_and(|w| number(w).is_some());
        if let (true, false, Some(m)) = (led, dated, month(pair[1]))
            && !out.contains(&m)
        {
            out.push(m);
        }
    }
    out
}

/// The query without the words naming these speakers (possessives too), for the dense channel:
/// every turn of a speaker carries their name, which otherwise dominates the similarity.
pub fn without_names(query: &str, names: &[String]) -> String {
    let names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let kept: Vec<&str> = query
        .split_whitespace()
        .filter(|w| {
            let bare = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            let bare = bare
                .strip_suffix("'s")
                .or_else(|| bare.strip_suffix("\u{2019}s"))
                .unwrap_or(&bare);
            !names.iter().any(|n| n == bare)
        })
        .collect();
    if kept.is_empty() {
        query.to_owned()
    } else {
        kept.join(" ")
    }
}

/// Analyses a query against the user's known speakers.
pub fn analyse(query: &str, speakers: &[String]) -> QueryAnalysis {
    let lower = query.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches("'s").to_owned())
        .collect();
    let named: Vec<String> = speakers
        .iter()
        .filter(|s| {
            let name = s.to_lowercase();
            words
                .iter()
                .any(|w| *w == name || w.strip_suffix('s') == Some(name.as_str()))
        })
        .cloned()
        .collect();
    let temporal = if LATEST.iter().any(|p| lower.contains(p)) {
        Some(TemporalIntent::Latest)
    } else if EARLIEST.iter().any(|p| lower.contains(p)) {
        Some(TemporalIntent::Earliest)
    } else {
        None
    };
    QueryAnalysis {
        speakers: named,
        dates: dates(query),
        months: bare_months(query),
        temporal,
        asks_when: asks_when(&words),
    }
}

/// Whether the query's first words ask for a time.
fn asks_when(words: &[String]) -> bool {
    let at = |i: usize| words.get(i).map_or("", String::as_str);
    let (first, at_second) = match at(0) {
        "in" | "on" | "during" => (at(1), 2),
        w => (w, 1),
    };
    let when_period = matches!(at(at_second), "year" | "month" | "day" | "date" | "week");
    first == "when"
        || (first == "how" && at(1) == "long" && at(2) == "ago")
        || (matches!(first, "what" | "which") && when_period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_dates(query: &str, expected: &[(&str, &str)]) {
        let got: Vec<(String, String)> = analyse(query, &[])
            .dates
            .iter()
            .map(|r| {
                (
                    r.from.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.to.map(|t| t.to_rfc3339()).unwrap_or_default(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (format!("{a}T00:00:00Z"), format!("{b}T00:00:00Z")))
            .collect();
        assert_eq!(got, expected, "{query}");
    }

    #[test]
    fn questions_asking_when_are_recognised() {
        for q in [
            "When did Melanie go camping in July?",
            "How long ago was Caroline's 18th birthday?",
            "What year did John start surfing?",
            "In which month did Jon open his studio?",
        ] {
            assert!(analyse(q, &[]).asks_when, "{q}");
        }
        for q in [
            "What did Melanie paint?",
            "How long has Caroline had her friends?",
            "Where did Jon go in which weekend?",
            "Which games does Nate play?",
        ] {
            assert!(!analyse(q, &[]).asks_when, "{q}");
        }
    }

    #[test]
    fn dates_in_questions_become_ranges() {
        check_dates(
            "What did Maria do on 31 July, 2023?",
            &[("2023-07-31", "2023-08-03")],
        );
        check_dates(
            "What happened on July 4, 2023?",
            &[("2023-07-04", "2023-07-07")],
        );
        check_dates(
            "Where did Jon go in June 2023?",
            &[("2023-06-01", "2023-07-01")],
        );
        check_dates(
            "What did she buy in Dec 2022",
            &[("2022-12-01", "2023-01-01")],
        );
        check_dates(
            "What did she plan in Sept 2022?",
            &[("2022-09-01", "2022-10-01")],
        );
        check_dates(
            "What did he start in 2022?",
            &[("2022-01-01", "2023-01-01")],
        );
        check_dates("What did Melanie paint in May?", &[]);
        check_dates("Who did she meet at 2 pm?", &[]);
    }

    #[test]
    fn months_without_a_year_are_kept_apart() {
        let months = |q: &str| analyse(q, &[]).months;
        assert_eq!(months("When did Melanie go camping in July?"), vec![7]);
        assert_eq!(
            months("Which country was Tim visiting in the second week of November?"),
            vec![11]
        );
        assert_eq!(
            months("What did she do in early Sept and in June?"),
            vec![9, 6]
        );
        // A dated month is a date range, not a bare month; "may" the verb is no month.
        assert!(months("Where did Jon go in June 2023?").is_empty());
        assert!(months("What did he do on 4 July, 2023?").is_empty());
        assert!(months("What may Caroline do next?").is_empty());
    }

    #[test]
    fn named_speakers_are_left_out_of_the_dense_query() {
        let names = vec!["Caroline".to_owned(), "Melanie".to_owned()];
        assert_eq!(
            without_names("What activities does Melanie partake in?", &names[1..]),
            "What activities does partake in?"
        );
        assert_eq!(
            without_names(
                "What did Caroline's and MELANIE\u{2019}s friends say?",
                &names
            ),
            "What did and friends say?"
        );
        // Names inside other words stay; a query that is only a name is kept whole.
        assert_eq!(
            without_names("Is Carolines a shop?", &names),
            "Is Carolines a shop?"
        );
        assert_eq!(without_names("Melanie?", &names), "Melanie?");
    }

    #[test]
    fn speakers_and_temporal_intent_are_found() {
        let speakers = vec![
            "Caroline".to_owned(),
            "Melanie".to_owned(),
            "Mel".to_owned(),
        ];
        let a = analyse("What did Caroline's friend say most recently?", &speakers);
        assert_eq!(a.speakers, vec!["Caroline"]);
        assert_eq!(a.temporal, Some(TemporalIntent::Latest));
        let b = analyse("When did Melanie first time paint?", &speakers);
        assert_eq!(
            (b.speakers.as_slice(), b.temporal),
            (&["Melanie".to_owned()][..], Some(TemporalIntent::Earliest))
        );
        assert_eq!(
            analyse("How is the weather", &speakers),
            QueryAnalysis::default()
        );
    }
}
