use super::*;
use memory::TurnId;
use memory::persona::StatementKind;

fn candidate(
    speaker: &str,
    slot: &str,
    value: &str,
    text: &str,
    turn: i64,
    time: i64,
) -> Candidate {
    Candidate {
        speaker: speaker.to_owned(),
        kind: StatementKind::LifeFact,
        slot: slot.to_owned(),
        value: value.to_owned(),
        text: text.to_owned(),
        turns: vec![TurnId(turn)],
        time: Timestamp(time),
        confidence: 0.6,
    }
}

fn stored(id: i64, c: Candidate) -> Statement {
    Statement {
        id,
        ..Statement::from(c)
    }
}

#[test]
fn reading_the_same_turns_again_changes_nothing() {
    let said = || {
        candidate(
            "Maya",
            "lives_in",
            "lisbon",
            "Maya lives in Lisbon.",
            3,
            100,
        )
    };
    let first = merge(&[], vec![said()], Timestamp(500));
    let after = first.apply(&[], 1);
    let again = merge(&after, vec![said()], Timestamp(600));
    assert!(again.is_empty(), "{again:#?}");

    // Still nothing when the statement has been superseded since.
    let moved = candidate("Maya", "lives_in", "porto", "Maya lives in Porto.", 8, 200);
    let plan = merge(&after, vec![moved], Timestamp(600));
    let after = plan.apply(&after, 2);
    assert_eq!(after[0].status, StatementStatus::Superseded);
    assert!(merge(&after, vec![said()], Timestamp(700)).is_empty());
}

#[test]
fn a_deleted_statement_is_not_learnt_again_from_the_same_turns_but_is_from_new_ones() {
    let mut deleted = stored(
        1,
        candidate(
            "Maya",
            "pet:dog",
            "rex",
            "Maya has a dog named Rex.",
            3,
            100,
        ),
    );
    deleted.status = StatementStatus::Deleted;
    let existing = vec![deleted];
    let same = candidate(
        "Maya",
        "pet:dog",
        "rex",
        "Maya has a dog named Rex.",
        3,
        100,
    );
    assert!(merge(&existing, vec![same], Timestamp(500)).is_empty());

    let new = candidate(
        "Maya",
        "pet:dog",
        "rex",
        "Maya has a dog named Rex.",
        9,
        300,
    );
    let plan = merge(&existing, vec![new], Timestamp(500));
    assert_eq!(plan.inserts.len(), 1, "{plan:#?}");
    assert!(plan.reinforcements.is_empty() && plan.supersessions.is_empty());
    assert!(plan.inserts[0].is_active());
}

#[test]
fn repeated_evidence_reinforces() {
    let existing = vec![stored(
        1,
        candidate("Maya", "job", "counselor", "Maya is a counselor.", 3, 100),
    )];
    let plan = merge(
        &existing,
        vec![
            candidate(
                "Maya",
                "job",
                "counselor",
                "Maya works as a counselor.",
                9,
                200,
            ),
            candidate("Maya", "job", "counselor", "Maya is a counselor.", 12, 300),
        ],
        Timestamp(400),
    );
    assert!(
        plan.inserts.is_empty() && plan.supersessions.is_empty(),
        "{plan:#?}"
    );
    assert_eq!(plan.reinforcements.len(), 1);
    let r = &plan.reinforcements[0];
    assert_eq!(r.id, 1);
    assert_eq!(r.added_turns, vec![TurnId(9), TurnId(12)]);
    assert_eq!(
        (r.first_seen, r.last_seen),
        (Timestamp(100), Timestamp(300))
    );
    assert_eq!((r.version, r.evidence), (2, 3));
    let once = 1.0 - 0.4 * 0.4;
    let twice = 1.0 - 0.4 * 0.4 * 0.4;
    assert!(
        r.confidence > once && (r.confidence - twice).abs() < 1e-5,
        "{}",
        r.confidence
    );

    let after = plan.apply(&existing, 10);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].turns, vec![TurnId(3), TurnId(9), TurnId(12)]);
    assert_eq!(after[0].first_seen, Timestamp(100));
}

#[test]
fn near_identical_text_reinforces_despite_a_different_slot() {
    let existing = vec![stored(
        4,
        candidate(
            "Maya",
            "activity:painting",
            "painting",
            "Maya has been painting a lot lately.",
            1,
            100,
        ),
    )];
    let plan = merge(
        &existing,
        vec![candidate(
            "Maya",
            "activity:painting lot",
            "painting lot",
            "Maya has been painting a lot lately!",
            2,
            200,
        )],
        Timestamp(300),
    );
    assert_eq!(plan.reinforcements.len(), 1, "{plan:#?}");
    assert!(plan.inserts.is_empty());
}

#[test]
fn similar_wording_does_not_hide_a_contradiction() {
    let text = |job: &str| format!("Maya is a {job} at the big city hospital downtown.");
    assert!(jaccard(&text("nurse"), &text("doctor")) >= SAME_TEXT_JACCARD);
    let existing = vec![stored(
        1,
        candidate("Maya", "job", "nurse", &text("nurse"), 1, 100),
    )];
    let plan = merge(
        &existing,
        vec![candidate("Maya", "job", "doctor", &text("doctor"), 2, 200)],
        Timestamp(300),
    );
    assert!(plan.reinforcements.is_empty(), "{plan:#?}");
    assert_eq!(plan.supersessions.len(), 1);
}

#[test]
fn a_move_supersedes_the_old_home_and_keeps_history() {
    let existing = vec![stored(
        1,
        candidate(
            "Theo",
            "lives_in",
            "lisbon",
            "Theo lives in Lisbon.",
            1,
            100,
        ),
    )];
    let plan = merge(
        &existing,
        vec![candidate(
            "Theo",
            "lives_in",
            "porto",
            "Theo moved to Porto.",
            5,
            500,
        )],
        Timestamp(600),
    );
    assert_eq!(plan.inserts.len(), 1);
    assert!(plan.inserts[0].is_active());
    assert_eq!(
        plan.supersessions,
        vec![Supersession {
            old: StatementRef::Existing(1),
            by: StatementRef::Inserted(0)
        }]
    );
    let after = plan.apply(&existing, 2);
    assert_eq!(after.len(), 2, "history is kept");
    let (old, new) = (&after[0], &after[1]);
    assert_eq!(old.status, StatementStatus::Superseded);
    assert_eq!(old.superseded_by, Some(2));
    assert_eq!(old.version, 2);
    assert_eq!(old.value, "lisbon");
    assert_eq!(
        (new.id, new.value.as_str(), new.status),
        (2, "porto", StatementStatus::Active)
    );

    // Moving back supersedes Porto with a new statement; Lisbon's old one stays history.
    let plan = merge(
        &after,
        vec![candidate(
            "Theo",
            "lives_in",
            "lisbon",
            "Theo moved back to Lisbon.",
            9,
            900,
        )],
        Timestamp(1_000),
    );
    assert!(plan.reinforcements.is_empty());
    let again = plan.apply(&after, 3);
    let active: Vec<_> = again
        .iter()
        .filter(|s| s.is_active())
        .map(|s| s.id)
        .collect();
    assert_eq!(active, vec![3]);
    assert_eq!(again.len(), 3);
}

#[test]
fn older_contradicting_evidence_is_stored_as_history() {
    let existing = vec![stored(
        1,
        candidate("Theo", "lives_in", "porto", "Theo moved to Porto.", 5, 500),
    )];
    let plan = merge(
        &existing,
        vec![candidate(
            "Theo",
            "lives_in",
            "lisbon",
            "Theo lives in Lisbon.",
            1,
            100,
        )],
        Timestamp(600),
    );
    assert_eq!(plan.inserts[0].status, StatementStatus::Superseded);
    assert_eq!(
        plan.supersessions,
        vec![Supersession {
            old: StatementRef::Inserted(0),
            by: StatementRef::Existing(1)
        }]
    );
    let after = plan.apply(&existing, 2);
    assert!(after[0].is_active());
    assert_eq!(after[1].superseded_by, Some(1));
}

#[test]
fn like_then_dislike_of_the_same_object_supersedes() {
    let mut like = candidate("Maya", "likes:jazz", "like", "Maya loves jazz.", 1, 100);
    like.kind = StatementKind::Preference;
    let mut dislike = candidate(
        "Maya",
        "likes:jazz",
        "dislike",
        "Maya can't stand jazz anymore.",
        2,
        200,
    );
    dislike.kind = StatementKind::Preference;
    let plan = merge(&[], vec![like, dislike], Timestamp(300));
    assert_eq!(plan.inserts.len(), 2);
    assert_eq!(plan.inserts[0].status, StatementStatus::Superseded);
    assert!(plan.inserts[1].is_active());
    assert_eq!(
        plan.supersessions,
        vec![Supersession {
            old: StatementRef::Inserted(0),
            by: StatementRef::Inserted(1)
        }]
    );
}

#[test]
fn never_merges_across_speakers() {
    let existing = vec![stored(
        1,
        candidate(
            "Maya",
            "lives_in",
            "lisbon",
            "Maya lives in Lisbon.",
            1,
            100,
        ),
    )];
    let plan = merge(
        &existing,
        vec![
            candidate(
                "Theo",
                "lives_in",
                "lisbon",
                "Theo lives in Lisbon.",
                2,
                200,
            ),
            candidate("Theo", "lives_in", "porto", "Theo moved to Porto.", 3, 300),
        ],
        Timestamp(400),
    );
    assert!(plan.reinforcements.is_empty(), "{plan:#?}");
    assert_eq!(plan.inserts.len(), 2);
    assert!(plan.inserts.iter().all(|s| s.speaker == "Theo"));
    // Theo's move supersedes only Theo's Lisbon.
    assert_eq!(
        plan.supersessions,
        vec![Supersession {
            old: StatementRef::Inserted(0),
            by: StatementRef::Inserted(1)
        }]
    );
}

#[test]
fn non_exclusive_slots_accumulate_and_merge_is_deterministic() {
    let mut a = candidate(
        "Maya",
        "plan:go to pride parade",
        "go to pride parade",
        "Maya is going to a pride parade.",
        1,
        100,
    );
    a.kind = StatementKind::Plan;
    let mut b = candidate(
        "Maya",
        "plan:visit mom",
        "visit mom",
        "Maya plans to visit her mom.",
        2,
        100,
    );
    b.kind = StatementKind::Plan;
    let first = merge(&[], vec![a.clone(), b.clone()], Timestamp(0));
    assert_eq!(first.inserts.len(), 2);
    assert!(first.supersessions.is_empty());
    assert_eq!(first, merge(&[], vec![a, b], Timestamp(0)));
}

#[test]
fn a_candidate_without_time_takes_now() {
    let plan = merge(
        &[],
        vec![candidate("Maya", "job", "nurse", "Maya is a nurse.", 1, 0)],
        Timestamp(77),
    );
    assert_eq!(plan.inserts[0].first_seen, Timestamp(77));
}

#[test]
fn exclusive_slots() {
    for slot in [
        "lives_in",
        "job",
        "pet:dog",
        "likes:jazz",
        "relation:sister",
        "relation:sister:lives_in",
    ] {
        assert!(is_exclusive_slot(slot), "{slot}");
    }
    for slot in [
        "plan:visit mom",
        "activity:painting",
        "relation:sister:about",
        "trait:shy",
    ] {
        assert!(!is_exclusive_slot(slot), "{slot}");
    }
}

#[test]
fn jaccard_of_tokens() {
    assert!((jaccard("Maya loves jazz.", "maya LOVES jazz!") - 1.0).abs() < 1e-6);
    assert!((jaccard("a b", "b c") - 1.0 / 3.0).abs() < 1e-6);
    assert_eq!(jaccard("", ""), 0.0);
}
