//! Token budgets for text handed to a language model: the one estimate the context endpoint
//! and the evaluation harness share, so that a budget means the same in both.

/// Tokens of a text as budgets count them: one per four characters, rounded up (the usual
/// estimate for English; independent of any model, so budgets compare across systems).
pub fn tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// The first `tokens` tokens' worth of a text (four characters a token).
pub fn truncate(text: &str, tokens: usize) -> String {
    text.chars().take(tokens.saturating_mul(4)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_characters_make_a_token() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("abcd"), 1);
        assert_eq!(tokens("abcde"), 2);
        assert_eq!(tokens("éééé"), 1, "characters, not bytes");
        assert_eq!(truncate("abcdefghij", 2), "abcdefgh");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
