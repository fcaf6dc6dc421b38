//! Session ids derived from a session's content, over a fixed byte layout.
//!
//! A session sent without an id gets one computed from what it says, so that sending it again
//! is idempotent. The bytes hashed are written out by hand below, never by serde, so adding a
//! field to [`NewTurn`] or renaming one changes no id: an id changes only when this layout
//! does, and the test at the bottom pins two ids so that such a change cannot go unnoticed.
//!
//! # Layout (version 1)
//!
//! The id is `s-` followed by the first 8 bytes, in lower-case hex, of the SHA-256 of this
//! sequence:
//!
//! 1. the tag `mnemo/session/v1` as a string;
//! 2. `started_at` in milliseconds since the Unix epoch, as an integer;
//! 3. the title, as an optional string;
//! 4. the number of turns, as a count;
//! 5. for each turn in order: the speaker (string), the role's stable name (`user`,
//!    `assistant` or `other`, string), the text (string), the timestamp in milliseconds
//!    (optional integer), the external id (optional string), the caption (optional string)
//!    and the metadata (optional JSON value).
//!
//! The encodings:
//! - an *integer* is 8 bytes, two's complement, little-endian;
//! - a *count* is 8 bytes, unsigned, little-endian;
//! - a *string* is its UTF-8 length as a count, then its bytes;
//! - an *optional* value is the byte `0` when absent, else the byte `1` and then the value;
//! - a *JSON value* is one tag byte and its content: `n` for null; `f` and `t` for false and
//!   true; `d` and a string holding the number as `serde_json` writes it; `s` and a string;
//!   `a`, the element count and each element; `o`, the member count and, in byte order of the
//!   keys, each key as a string followed by its value.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{NewTurn, SessionId, Timestamp};

/// The first item hashed; a new layout gets a new tag.
const LAYOUT_TAG: &str = "mnemo/session/v1";

/// How many leading bytes of the digest the id shows.
const ID_BYTES: usize = 8;

/// The id of a session sent without one: see the module documentation for the exact bytes.
pub fn content_session_id(
    started_at: Timestamp,
    title: Option<&str>,
    turns: &[NewTurn],
) -> SessionId {
    let mut hash = Hasher(Sha256::new());
    hash.string(LAYOUT_TAG);
    hash.integer(started_at.millis());
    hash.optional(title, Hasher::string);
    hash.count(turns.len());
    for turn in turns {
        hash.string(&turn.speaker);
        hash.string(turn.role.as_str());
        hash.string(&turn.text);
        hash.optional(turn.timestamp.map(Timestamp::millis), Hasher::integer);
        hash.optional(turn.external_id.as_deref(), Hasher::string);
        hash.optional(turn.caption.as_deref(), Hasher::string);
        hash.optional(turn.metadata.as_ref(), Hasher::json);
    }
    let digest = hash.0.finalize();
    let hex: String = digest
        .iter()
        .take(ID_BYTES)
        .map(|b| format!("{b:02x}"))
        .collect();
    SessionId::derived(format!("s-{hex}"))
}

/// Feeds the layout's encodings to SHA-256.
struct Hasher(Sha256);

impl Hasher {
    fn bytes(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn integer(&mut self, value: i64) {
        self.bytes(&value.to_le_bytes());
    }

    fn count(&mut self, value: usize) {
        // usize is at most 64 bits on every platform Rust supports for this crate.
        self.bytes(&(value as u64).to_le_bytes());
    }

    fn string(&mut self, value: &str) {
        self.count(value.len());
        self.bytes(value.as_bytes());
    }

    fn optional<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) {
        match value {
            None => self.bytes(&[0]),
            Some(value) => {
                self.bytes(&[1]);
                write(self, value);
            }
        }
    }

    fn json(&mut self, value: &Value) {
        match value {
            Value::Null => self.bytes(b"n"),
            Value::Bool(false) => self.bytes(b"f"),
            Value::Bool(true) => self.bytes(b"t"),
            Value::Number(n) => {
                self.bytes(b"d");
                self.string(&n.to_string());
            }
            Value::String(s) => {
                self.bytes(b"s");
                self.string(s);
            }
            Value::Array(items) => {
                self.bytes(b"a");
                self.count(items.len());
                for item in items {
                    self.json(item);
                }
            }
            Value::Object(members) => {
                self.bytes(b"o");
                self.count(members.len());
                let mut sorted: Vec<_> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                for (key, member) in sorted {
                    self.string(key);
                    self.json(member);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Role;

    fn turn(speaker: &str, role: Role, text: &str) -> NewTurn {
        NewTurn {
            speaker: speaker.to_owned(),
            role,
            text: text.to_owned(),
            timestamp: None,
            external_id: None,
            caption: None,
            metadata: None,
        }
    }

    fn check(started_at: i64, title: Option<&str>, turns: &[NewTurn], expected: &str) {
        let id = content_session_id(Timestamp(started_at), title, turns);
        assert_eq!(id.as_str(), expected);
    }

    /// These ids were computed once, independently of this code, from the layout as documented
    /// above; a failure means the layout changed, which changes the id of every session sent
    /// without one.
    #[test]
    fn pinned_ids_of_the_version_1_layout() {
        check(
            1_683_554_160_000,
            None,
            &[turn("Ann", Role::User, "I moved to Lisbon.")],
            "s-5b06502afcde47e9",
        );
        let mut full = turn("Bot", Role::Assistant, "Welcome!");
        full.timestamp = Some(Timestamp(1_683_554_161_500));
        full.external_id = Some("D1:2".to_owned());
        full.caption = Some("a photo of a tram".to_owned());
        full.metadata = Some(json!({"z": [1, 2.5, null], "a": {"ok": true, "no": false}}));
        check(
            -5,
            Some("Moving day"),
            &[turn("Ann", Role::Other, "Hi"), full],
            "s-896f6bfcf18b85a2",
        );
    }

    #[test]
    fn every_field_counts_and_boundaries_are_unambiguous() {
        let base = [turn("Ann", Role::User, "ab")];
        let id =
            |title: Option<&str>, turns: &[NewTurn]| content_session_id(Timestamp(0), title, turns);
        let reference = id(None, &base);
        assert_ne!(
            reference,
            id(Some(""), &base),
            "no title differs from an empty one"
        );
        let mut moved = base.clone();
        moved[0].speaker = "Anna".to_owned();
        moved[0].text = "b".to_owned();
        assert_ne!(
            reference,
            id(None, &moved),
            "bytes moved between fields differ"
        );
        let mut other_role = base.clone();
        other_role[0].role = Role::Assistant;
        assert_ne!(reference, id(None, &other_role));
        let mut with_metadata = base.clone();
        with_metadata[0].metadata = Some(json!({}));
        assert_ne!(reference, id(None, &with_metadata));
    }

    #[test]
    fn metadata_key_order_does_not_matter() {
        let mut a = turn("Ann", Role::User, "x");
        let mut b = a.clone();
        a.metadata = serde_json::from_str(r#"{"a": 1, "b": 2}"#).ok();
        b.metadata = serde_json::from_str(r#"{"b": 2, "a": 1}"#).ok();
        assert_eq!(
            content_session_id(Timestamp(0), None, &[a]),
            content_session_id(Timestamp(0), None, &[b])
        );
    }
}
