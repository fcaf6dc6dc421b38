//! Reading the reply's JSON object and its slots.

use super::*;

fn check_object(text: &str, expected: Option<&str>) {
    assert_eq!(json_object(text), expected, "{text}");
}

#[test]
fn the_first_balanced_object_is_extracted() {
    check_object("{}", Some("{}"));
    check_object(
        "```json\n{\"a\": {\"b\": 1}}\n```",
        Some("{\"a\": {\"b\": 1}}"),
    );
    check_object(
        "x {\"a\": \"}\\\"{\"} y {\"b\": 2}",
        Some("{\"a\": \"}\\\"{\"}"),
    );
    check_object("{\"a\": [1, 2", None);
    check_object("no object", None);
    check_object("} {\"a\": 1}", Some("{\"a\": 1}"));
}

fn check_slot(slot: &str, known: bool) {
    assert_eq!(is_known_slot(slot), known, "{slot:?}");
}

#[test]
fn only_well_formed_exclusive_slots_are_kept() {
    check_slot("lives_in", true);
    check_slot("job", true);
    check_slot("pet:dog", true);
    check_slot("likes:road trips", true);
    check_slot("relation:sister", true);
    check_slot("relation:sister:lives_in", true);
    check_slot("relation:sister:about", false);
    check_slot("likes:", false);
    check_slot("Lives_in", false);
    check_slot("pet: dog", false);
    check_slot("hobby", false);
    check_slot("", false);
}
