//! How a turn reads inside a unit: the speaker's name, the text and any shared image's caption.

use crate::TurnRecord;

/// Renders a turn as `Speaker: text`, followed by `[shared an image: caption]` when it has one.
///
/// Names are part of the text on purpose: questions name people ("What did Caroline paint?"),
/// and both the embedding and BM25 match them only if the unit's text carries them.
pub fn render_turn(turn: &TurnRecord) -> String {
    render(&turn.speaker, &turn.text, turn.caption.as_deref())
}

/// Renders a speaker's text and optional image caption the way [`render_turn`] does.
pub fn render(speaker: &str, text: &str, caption: Option<&str>) -> String {
    let mut out = format!("{}: {}", speaker.trim(), text.trim());
    if let Some(caption) = caption.map(str::trim).filter(|c| !c.is_empty()) {
        out.push_str(" [shared an image: ");
        out.push_str(caption);
        out.push(']');
    }
    out
}

/// The distinct speakers of a session in order of first appearance, as "A", "A and B" or
/// "A, B and C".
pub fn participants(turns: &[TurnRecord]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for t in turns {
        let name = t.speaker.trim();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, TurnId};

    fn turn(speaker: &str, text: &str, caption: Option<&str>) -> TurnRecord {
        TurnRecord {
            turn_id: TurnId(1),
            position: 0,
            speaker: speaker.into(),
            role: Role::User,
            text: text.into(),
            timestamp: None,
            external_id: None,
            caption: caption.map(Into::into),
            metadata: None,
            source: crate::Source::default(),
        }
    }

    #[test]
    fn turns_render_with_speaker_and_caption() {
        assert_eq!(render_turn(&turn("Ann", " Hi! ", None)), "Ann: Hi!");
        assert_eq!(
            render_turn(&turn("Ann", "Look", Some("a photo of a dog"))),
            "Ann: Look [shared an image: a photo of a dog]"
        );
        assert_eq!(render_turn(&turn("Ann", "Look", Some(" "))), "Ann: Look");
    }

    #[test]
    fn participants_are_listed_in_order() {
        let t = |s| turn(s, "x", None);
        assert_eq!(participants(&[t("Ann")]), "Ann");
        assert_eq!(participants(&[t("Ann"), t("Bo"), t("Ann")]), "Ann and Bo");
        assert_eq!(
            participants(&[t("Ann"), t("Bo"), t("Cy")]),
            "Ann, Bo and Cy"
        );
    }
}
