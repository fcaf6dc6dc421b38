//! Persona statements in a real SQLite store: merge plans, history, edits, deletes and what a
//! session delete leaves behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use memory::persona::{
    MergePlan, Reinforcement, Statement, StatementEdit, StatementKind, StatementRef,
    StatementStatus, Supersession,
};
use memory::store::{Actor, AuditQuery, SessionKey, SqliteStore, TurnWrite};
use memory::validate::Limits;
use memory::{
    NewSession, NewTurn, Producer, Role, SessionId, TimeRange, Timestamp, TurnId, UserId, UserRef,
};

const ACTOR: Actor<'static> = Actor("test");

fn user() -> UserRef {
    UserRef::of_default(UserId::new("maya").unwrap())
}

/// Stores a two-turn session and returns its key and turn ids.
fn session(store: &SqliteStore, id: &str, at: i64) -> (SessionKey, Vec<TurnId>) {
    let turn = |text: &str| NewTurn {
        speaker: "Maya".to_owned(),
        role: Role::User,
        text: text.to_owned(),
        timestamp: None,
        external_id: None,
        caption: None,
        metadata: None,
    };
    let receipt = store
        .ingest_session(
            &user(),
            &NewSession {
                session_id: SessionId::new(id).unwrap(),
                started_at: Timestamp(at),
                title: None,
                turns: vec![turn("first"), turn("second")],
            },
            &Limits::default(),
            TurnWrite {
                now: Timestamp(at),
                actor: ACTOR,
                channel: memory::Channel::Chat,
            },
        )
        .unwrap();
    let input = store.build_input(receipt.session_key).unwrap().unwrap();
    (
        receipt.session_key,
        input.turns.iter().map(|t| t.turn_id).collect(),
    )
}

fn statement(slot: &str, value: &str, text: &str, turn: TurnId, at: i64) -> Statement {
    Statement {
        id: 0,
        speaker: "Maya".to_owned(),
        kind: StatementKind::LifeFact,
        slot: slot.to_owned(),
        value: value.to_owned(),
        text: text.to_owned(),
        turns: vec![turn],
        confidence: 0.6,
        first_seen: Timestamp(at),
        last_seen: Timestamp(at),
        status: StatementStatus::Active,
        version: 1,
        superseded_by: None,
        evidence: 1,
        producer: Producer::Extractive,
    }
}

fn insert_plan(statements: Vec<Statement>) -> impl FnOnce(&[Statement]) -> MergePlan {
    move |_| MergePlan {
        inserts: statements,
        ..MergePlan::default()
    }
}

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn a_merge_inserts_reinforces_and_supersedes_with_history() {
    let (_dir, store) = open();
    let (s1, t1) = session(&store, "s1", 100);
    let lisbon = statement("lives_in", "lisbon", "Maya lives in Lisbon.", t1[0], 100);
    let first = store
        .merge_persona(
            s1,
            &Producer::Extractive,
            Timestamp(100),
            ACTOR,
            insert_plan(vec![lisbon]),
        )
        .unwrap()
        .unwrap();
    assert_eq!(first.anchored.len(), 1);
    assert!(first.refresh.is_empty());
    let id = first.anchored[0].id;

    let (s2, t2) = session(&store, "s2", 200);
    let porto = statement("lives_in", "porto", "Maya lives in Porto.", t2[1], 200);
    let second = store
        .merge_persona(
            s2,
            &Producer::Llm { model: "m".into() },
            Timestamp(200),
            ACTOR,
            |existing| {
                assert_eq!(existing.len(), 1);
                MergePlan {
                    inserts: vec![porto],
                    reinforcements: vec![Reinforcement {
                        id,
                        added_turns: vec![t2[0]],
                        first_seen: Timestamp(100),
                        last_seen: Timestamp(200),
                        confidence: 0.8,
                        version: 2,
                        evidence: 2,
                    }],
                    supersessions: vec![Supersession {
                        old: StatementRef::Existing(id),
                        by: StatementRef::Inserted(0),
                    }],
                }
            },
        )
        .unwrap()
        .unwrap();
    // The old home's anchor (s1) must drop its fact unit: it is marked for a rebuild.
    assert_eq!(second.refresh, vec![s1]);
    assert_eq!(second.anchored.len(), 1);
    assert_eq!(
        second.anchored[0].producer,
        Producer::Llm { model: "m".into() }
    );

    let active = store.statements(&user(), None, false).unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].text, "Maya lives in Porto.");
    let all = store.statements(&user(), Some("Maya"), true).unwrap();
    let old = all.iter().find(|s| s.id == id).unwrap();
    assert_eq!(old.status, StatementStatus::Superseded);
    assert_eq!(old.superseded_by, Some(active[0].id));
    assert_eq!(old.turns, vec![t1[0], t2[0]]);
    assert_eq!(old.version, 3);
    assert!(
        store
            .statements(&user(), Some("Bo"), true)
            .unwrap()
            .is_empty()
    );

    let history = store.statement_history(&user(), id).unwrap();
    let actions: Vec<(u32, &str)> = history
        .iter()
        .map(|v| (v.version, v.action.as_str()))
        .collect();
    assert_eq!(actions, vec![(1, "extracted"), (3, "superseded")]);
    assert_eq!(history[0].statement.status, StatementStatus::Active);
}

#[test]
fn edits_and_deletes_keep_history_and_a_delete_brings_back_what_it_superseded() {
    let (_dir, store) = open();
    let (s1, t1) = session(&store, "s1", 100);
    let lisbon = statement("lives_in", "lisbon", "Maya lives in Lisbon.", t1[0], 100);
    let porto = statement("lives_in", "porto", "Maya lives in Porto.", t1[1], 150);
    let merged = store
        .merge_persona(s1, &Producer::Extractive, Timestamp(100), ACTOR, |_| {
            MergePlan {
                inserts: vec![lisbon, porto],
                supersessions: vec![Supersession {
                    old: StatementRef::Inserted(0),
                    by: StatementRef::Inserted(1),
                }],
                ..MergePlan::default()
            }
        })
        .unwrap()
        .unwrap();
    let porto_id = merged.anchored[0].id;

    let edit = StatementEdit {
        text: Some("  Maya lives in Porto, near the river. ".into()),
        ..StatementEdit::default()
    };
    let (edited, refresh) = store
        .edit_statement(&user(), porto_id, &edit, Timestamp(300), ACTOR)
        .unwrap();
    assert_eq!(edited.text, "Maya lives in Porto, near the river.");
    assert_eq!(
        (edited.version, edited.producer.clone()),
        (2, Producer::Edited)
    );
    assert_eq!(refresh, vec![s1]);

    for bad in [
        StatementEdit {
            text: Some("   ".into()),
            ..StatementEdit::default()
        },
        StatementEdit {
            confidence: Some(1.5),
            ..StatementEdit::default()
        },
        StatementEdit {
            confidence: Some(f32::NAN),
            ..StatementEdit::default()
        },
    ] {
        let e = store
            .edit_statement(&user(), porto_id, &bad, Timestamp(301), ACTOR)
            .unwrap_err();
        assert_eq!(e.kind(), memory::ErrorKind::InvalidInput, "{e}");
    }
    assert_eq!(store.statement(&user(), porto_id).unwrap(), edited);

    let (deleted, _) = store
        .delete_statement(&user(), porto_id, Timestamp(400), ACTOR)
        .unwrap();
    assert_eq!(deleted.status, StatementStatus::Deleted);
    let active = store.statements(&user(), None, false).unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(
        active[0].text, "Maya lives in Lisbon.",
        "the older home holds again"
    );
    let e = store
        .delete_statement(&user(), porto_id, Timestamp(401), ACTOR)
        .unwrap_err();
    assert!(
        matches!(e, memory::MemoryError::StatementNotFound { .. }),
        "{e}"
    );

    let actions: Vec<String> = store
        .statement_history(&user(), porto_id)
        .unwrap()
        .into_iter()
        .map(|v| v.action)
        .collect();
    assert_eq!(actions, vec!["extracted", "edited", "deleted"]);
    let audit: Vec<String> = store
        .audit_entries(
            &user(),
            &AuditQuery {
                action: None,
                time: TimeRange::default(),
                after: None,
                limit: 10,
            },
        )
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(audit.contains(&"edit_statement".to_owned()), "{audit:?}");
    assert!(audit.contains(&"delete_statement".to_owned()), "{audit:?}");
}

#[test]
fn deleting_a_session_drops_statements_it_alone_supported_and_reanchors_the_rest() {
    let (_dir, store) = open();
    let (s1, t1) = session(&store, "s1", 100);
    let (s2, t2) = session(&store, "s2", 200);
    let dog = statement("pet:dog", "rex", "Maya has a dog named Rex.", t1[0], 100);
    let knits = statement("hobby", "knitting", "Maya knits.", t1[1], 100);
    store
        .merge_persona(
            s1,
            &Producer::Extractive,
            Timestamp(100),
            ACTOR,
            insert_plan(vec![dog, knits]),
        )
        .unwrap()
        .unwrap();
    let dog_id = store.statements(&user(), None, false).unwrap()[0].id;
    // s2 repeats the dog.
    store
        .merge_persona(s2, &Producer::Extractive, Timestamp(200), ACTOR, |_| {
            MergePlan {
                reinforcements: vec![Reinforcement {
                    id: dog_id,
                    added_turns: vec![t2[0]],
                    first_seen: Timestamp(100),
                    last_seen: Timestamp(200),
                    confidence: 0.8,
                    version: 2,
                    evidence: 2,
                }],
                ..MergePlan::default()
            }
        })
        .unwrap()
        .unwrap();
    assert!(store.anchored_statements(s2).unwrap().is_empty());

    let (_, counts, refresh) = store
        .delete_session(
            &user(),
            &SessionId::new("s1").unwrap(),
            Timestamp(300),
            ACTOR,
        )
        .unwrap();
    assert_eq!(counts.statements, 1, "knitting had no other evidence");
    assert_eq!(refresh, vec![s2], "the dog moves to s2 and s2 is rebuilt");
    let left = store.statements(&user(), None, true).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].turns, vec![t2[0]]);
    assert_eq!(store.anchored_statements(s2).unwrap()[0].id, dog_id);
    assert_eq!(store.pending_sessions().unwrap(), vec![s2]);
}
