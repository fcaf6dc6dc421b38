//! Cutting a session into rounds (a turn and its reply) and into chunks that fit the model.

use std::ops::Range;

/// Tokens the model adds around every input ([CLS] and [SEP]).
const SPECIAL_TOKENS: usize = 2;

/// Splits turns into rounds: the opening speaker's consecutive turns followed by the next
/// speaker's consecutive turns, at most `max_turns` turns and (unless a single turn is longer)
/// `max_tokens` tokens each. Every turn lands in exactly one round.
pub fn rounds(
    speakers: &[&str],
    tokens: &[usize],
    max_turns: usize,
    max_tokens: usize,
) -> Vec<Range<usize>> {
    let max_turns = max_turns.max(1);
    let budget = max_tokens.saturating_sub(SPECIAL_TOKENS).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < speakers.len() {
        let mut end = start + 1;
        let mut used = tokens[start];
        let fits = |end: usize, used: usize| {
            end < speakers.len() && end - start < max_turns && used + tokens[end] <= budget
        };
        let mut speaker = speakers[start];
        let mut replied = false;
        while fits(end, used) {
            if speakers[end] != speaker {
                if replied {
                    break;
                }
                replied = true;
                speaker = speakers[end];
            }
            used += tokens[end];
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Splits turns into consecutive chunks of at most `max_tokens` model tokens (a longer single
/// turn gets a chunk of its own and is truncated by the model). A short session is one chunk.
pub fn session_chunks(tokens: &[usize], max_tokens: usize) -> Vec<Range<usize>> {
    let budget = max_tokens.saturating_sub(SPECIAL_TOKENS).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, &t) in tokens.iter().enumerate() {
        if i > start && used + t > budget {
            out.push(start..i);
            start = i;
            used = 0;
        }
        used += t;
    }
    if start < tokens.len() {
        out.push(start..tokens.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_rounds(speakers: &str, tokens: &[usize], max_turns: usize, expected: &[Range<usize>]) {
        let speakers: Vec<&str> = speakers.split(' ').collect();
        assert_eq!(
            rounds(&speakers, tokens, max_turns, 100),
            expected,
            "{speakers:?}"
        );
    }

    #[test]
    fn rounds_pair_a_turn_with_its_reply() {
        check_rounds("A B A B", &[1; 4], 4, &[0..2, 2..4]);
        check_rounds("A A B B B A", &[1; 6], 4, &[0..4, 4..6]);
        check_rounds("A A B B B A", &[1; 6], 6, &[0..5, 5..6]);
        check_rounds("A B C A", &[1; 4], 4, &[0..2, 2..4]);
        check_rounds("A", &[1], 4, std::slice::from_ref(&(0..1)));
        check_rounds("A B A B", &[1; 4], 1, &[0..1, 1..2, 2..3, 3..4]);
        // Token budget: 100 - 2 special tokens.
        check_rounds("A B A B", &[60, 60, 10, 10], 4, &[0..1, 1..3, 3..4]);
        check_rounds("A B", &[500, 1], 4, &[0..1, 1..2]);
    }

    #[test]
    fn chunks_fill_the_budget() {
        assert_eq!(session_chunks(&[10, 10, 10], 100), vec![0..3]);
        assert_eq!(
            session_chunks(&[50, 40, 20, 90], 100),
            vec![0..2, 2..3, 3..4]
        );
        assert_eq!(session_chunks(&[300, 10], 100), vec![0..1, 1..2]);
        assert_eq!(session_chunks(&[], 100), Vec::<Range<usize>>::new());
    }
}
