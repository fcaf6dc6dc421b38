//! Merging extracted candidates into the stored statements: a plan of inserts, reinforcements
//! and supersessions. Nothing is overwritten: a contradicted statement is kept as history.
//!
//! Rules, per candidate in input order (so the plan is deterministic):
//! - evidence already known (a statement of the same speaker saying the same, whatever its
//!   status, cites every turn of the candidate): nothing changes, so re-reading a session is
//!   harmless and a statement a person deleted is not learnt again from the same turns;
//! - same speaker, same slot and same value, or near-identical text (token Jaccard >= 0.8), as
//!   an active statement: reinforce it;
//! - same speaker and an exclusive slot (`lives_in`, `job`, `pet:<animal>`, `relation:<r>` with
//!   a name, `likes:<object>`, ...) holding a different value: supersede the active statement,
//!   or, when the candidate is older than it, store the candidate as already superseded;
//! - otherwise insert. Statements of different speakers never interact.

use std::collections::BTreeSet;

use memory::Timestamp;

use memory::persona::{
    MergePlan, Reinforcement, Statement, StatementRef, StatementStatus, Supersession,
};

use crate::model::Candidate;

/// Near-identical texts: token Jaccard at or above this reinforce each other.
const SAME_TEXT_JACCARD: f32 = 0.8;

/// Confidence never reaches 1 by accumulation alone.
const MAX_CONFIDENCE: f32 = 0.99;

/// Whether two different values in `slot` contradict each other.
pub fn is_exclusive_slot(slot: &str) -> bool {
    const EXCLUSIVE: [&str; 6] = [
        "lives_in",
        "job",
        "employer",
        "from",
        "marital",
        "work_field",
    ];
    const EXCLUSIVE_PREFIXES: [&str; 3] = ["likes:", "favorite:", "pet:"];
    if EXCLUSIVE.contains(&slot) || EXCLUSIVE_PREFIXES.iter().any(|p| slot.starts_with(p)) {
        return true;
    }
    if let Some(rest) = slot.strip_prefix("relation:") {
        // relation:<r> holds a name; relation:<r>:lives_in and :job are exclusive facts about
        // them; relation:<r>:about is free text.
        let parts: Vec<&str> = rest.split(':').collect();
        return match parts.as_slice() {
            [_] => true,
            [_, sub] => is_exclusive_slot(sub),
            _ => false,
        };
    }
    false
}

fn tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Token Jaccard similarity of two texts, case-insensitive; 0 when both are empty.
pub fn jaccard(a: &str, b: &str) -> f32 {
    let (a, b) = (tokens(a), tokens(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f32 / union as f32
}

fn combine(old: f32, new: f32) -> f32 {
    (1.0 - (1.0 - old) * (1.0 - new))
        .clamp(0.0, MAX_CONFIDENCE)
        .max(old.min(1.0))
}

/// Whether a statement and a candidate say the same thing: same slot and value, or the same
/// kind in near-identical words.
fn says_same(statement: &Statement, candidate: &Candidate) -> bool {
    (statement.slot == candidate.slot && statement.value == candidate.value)
        || (statement.kind == candidate.kind
            && jaccard(&statement.text, &candidate.text) >= SAME_TEXT_JACCARD)
}

/// A statement while planning: a stored one (possibly updated) or one to insert.
struct Working {
    statement: Statement,
    origin: StatementRef,
    reinforced: bool,
    superseded: bool,
}

/// Plans how `candidates` join `existing`. `now` stands in for a candidate without a time
/// (`Timestamp(0)` or earlier).
pub fn merge(existing: &[Statement], candidates: Vec<Candidate>, now: Timestamp) -> MergePlan {
    let mut work: Vec<Working> = existing
        .iter()
        .map(|s| Working {
            statement: s.clone(),
            origin: StatementRef::Existing(s.id),
            reinforced: false,
            superseded: !s.is_active(),
        })
        .collect();
    let mut supersessions = Vec::new();
    let mut inserted = 0usize;

    for mut candidate in candidates {
        if candidate.time.0 <= 0 {
            candidate.time = now;
        }
        let known = work.iter().any(|w| {
            w.statement.speaker == candidate.speaker
                && says_same(&w.statement, &candidate)
                && candidate
                    .turns
                    .iter()
                    .all(|t| w.statement.turns.contains(t))
        });
        if known {
            continue;
        }
        let same_speaker = |w: &Working| !w.superseded && w.statement.speaker == candidate.speaker;
        let exclusive = is_exclusive_slot(&candidate.slot);
        let matching = work.iter().position(|w| {
            let same_slot = w.statement.slot == candidate.slot;
            let same_value = w.statement.value == candidate.value;
            // Similar wording never hides a contradiction ("a nurse at ..." / "a doctor at ...").
            let contradicts = exclusive && same_slot && !same_value;
            same_speaker(w)
                && ((same_slot && same_value)
                    || (!contradicts
                        && w.statement.kind == candidate.kind
                        && jaccard(&w.statement.text, &candidate.text) >= SAME_TEXT_JACCARD))
        });
        if let Some(i) = matching {
            let w = &mut work[i];
            let s = &mut w.statement;
            s.turns.extend(candidate.turns.iter().copied());
            s.turns.sort();
            s.turns.dedup();
            s.first_seen = s.first_seen.min(candidate.time);
            s.last_seen = s.last_seen.max(candidate.time);
            s.confidence = combine(s.confidence, candidate.confidence);
            s.evidence += 1;
            if !w.reinforced && matches!(w.origin, StatementRef::Existing(_)) {
                s.version += 1;
            }
            w.reinforced = true;
            continue;
        }

        let contradicted: Vec<usize> = if exclusive {
            work.iter()
                .enumerate()
                .filter(|(_, w)| same_speaker(w) && w.statement.slot == candidate.slot)
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        let mut new = Statement::from(candidate);
        let new_ref = StatementRef::Inserted(inserted);
        inserted += 1;
        // A candidate older than what it contradicts is history already.
        let newest_rival = contradicted
            .iter()
            .copied()
            .filter(|&i| work[i].statement.last_seen > new.last_seen)
            .max_by_key(|&i| work[i].statement.last_seen);
        if let Some(rival) = newest_rival {
            new.status = StatementStatus::Superseded;
            supersessions.push(Supersession {
                old: new_ref,
                by: work[rival].origin,
            });
            work.push(Working {
                statement: new,
                origin: new_ref,
                reinforced: false,
                superseded: true,
            });
            continue;
        }
        for i in contradicted {
            work[i].superseded = true;
            supersessions.push(Supersession {
                old: work[i].origin,
                by: new_ref,
            });
        }
        work.push(Working {
            statement: new,
            origin: new_ref,
            reinforced: false,
            superseded: false,
        });
    }

    let mut plan = MergePlan {
        supersessions,
        ..MergePlan::default()
    };
    for w in work {
        match w.origin {
            StatementRef::Existing(id) if w.reinforced => {
                let before = existing.iter().find(|s| s.id == id);
                let added_turns = w
                    .statement
                    .turns
                    .iter()
                    .copied()
                    .filter(|t| before.is_none_or(|b| !b.turns.contains(t)))
                    .collect();
                plan.reinforcements.push(Reinforcement {
                    id,
                    added_turns,
                    first_seen: w.statement.first_seen,
                    last_seen: w.statement.last_seen,
                    confidence: w.statement.confidence,
                    version: w.statement.version,
                    evidence: w.statement.evidence,
                });
            }
            StatementRef::Existing(_) => {}
            StatementRef::Inserted(_) => {
                let mut s = w.statement;
                if w.superseded {
                    s.status = StatementStatus::Superseded;
                }
                plan.inserts.push(s);
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests;
