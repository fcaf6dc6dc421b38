//! Checking an archive before anything of it is stored: every turn passes the checks an
//! ingest applies, every text is within bounds, and every reference (a turn place, a unit or
//! statement key, an anchor session) names something the archive holds.

use std::collections::{HashMap, HashSet};

use super::{StatementState, TurnPlace, UserArchive};
use crate::store::MAX_STATEMENT_CHARS;
use crate::validate::{Limits, check_title, check_turns, is_blank};
use crate::{MemoryError, Result, SessionId};

/// Characters a unit's text may exceed the turns it covers by (speaker names, labels of
/// keywords and summaries).
const UNIT_TEXT_SLACK: usize = 4_000;

fn invalid(reason: String) -> MemoryError {
    MemoryError::InvalidArchive { reason }
}

/// What the archive's references may point at.
struct Known<'a> {
    /// Each session's turn count.
    sessions: HashMap<&'a SessionId, usize>,
    units: HashSet<i64>,
    /// Units that are gone but have a history.
    histories: HashSet<i64>,
    statements: HashSet<i64>,
}

impl Known<'_> {
    fn session(&self, id: &SessionId, what: &str) -> Result<usize> {
        self.sessions.get(id).copied().ok_or_else(|| {
            invalid(format!(
                "{what} names session {id}, which the archive lacks"
            ))
        })
    }

    fn place(&self, p: &TurnPlace, what: &str) -> Result<()> {
        let turns = self.session(&p.session_id, what)?;
        if p.position as usize >= turns {
            return Err(invalid(format!(
                "{what} names turn {} of session {}, which has {turns} turns",
                p.position, p.session_id
            )));
        }
        Ok(())
    }

    /// A statement's content; only its current state must name a replacement the archive
    /// holds (an old version may name one that was dropped since).
    fn statement_state(&self, s: &StatementState, what: &str, current: bool) -> Result<()> {
        for p in &s.turns {
            self.place(p, what)?;
        }
        if let Some(by) = s.superseded_by
            && current
            && !self.statements.contains(&by)
        {
            return Err(invalid(format!(
                "{what} is superseded by statement {by}, which the archive lacks"
            )));
        }
        if is_blank(&s.text) || s.text.chars().count() > MAX_STATEMENT_CHARS {
            return Err(invalid(format!(
                "{what} has an empty text or one over {MAX_STATEMENT_CHARS} characters"
            )));
        }
        if !(s.confidence > 0.0 && s.confidence <= 1.0) {
            return Err(invalid(format!(
                "{what} has confidence {}, not in (0, 1]",
                s.confidence
            )));
        }
        Ok(())
    }
}

impl UserArchive {
    /// Checks the archive as a whole; nothing is stored from an archive that fails.
    pub fn check(&self, limits: &Limits) -> Result<()> {
        let mut known = Known {
            sessions: HashMap::new(),
            units: HashSet::new(),
            histories: HashSet::new(),
            statements: HashSet::new(),
        };
        for s in &self.sessions {
            let what = format!("session {}", s.session_id);
            if known
                .sessions
                .insert(&s.session_id, s.turns.len())
                .is_some()
            {
                return Err(invalid(format!("{what} appears twice")));
            }
            check_title(s.title.as_deref(), limits).map_err(|e| invalid(format!("{what}: {e}")))?;
            let turns: Vec<_> = s.turns.iter().map(|t| t.turn.clone()).collect();
            check_turns(&turns, 0, &HashSet::new(), limits)
                .map_err(|e| invalid(format!("{what}: {e}")))?;
            let budget: usize = turns
                .iter()
                .map(|t| {
                    t.speaker.chars().count()
                        + t.text.chars().count()
                        + t.caption.as_deref().map_or(0, |c| c.chars().count())
                        + 64
                })
                .sum::<usize>()
                + UNIT_TEXT_SLACK;
            for u in &s.units {
                if !known.units.insert(u.key) {
                    return Err(invalid(format!("unit {} appears twice", u.key)));
                }
                if is_blank(&u.text) || u.text.chars().count() > budget {
                    return Err(invalid(format!(
                        "unit {} of {what} has an empty text or one longer than its session",
                        u.key
                    )));
                }
                if u.turns.iter().any(|&p| p as usize >= turns.len()) {
                    return Err(invalid(format!(
                        "unit {} of {what} covers a turn the session lacks",
                        u.key
                    )));
                }
            }
        }
        for h in &self.unit_histories {
            known.session(&h.session_id, &format!("the history of unit {}", h.key))?;
            if !known.histories.insert(h.key) || h.versions.is_empty() {
                return Err(invalid(format!(
                    "the history of unit {} appears twice or is empty",
                    h.key
                )));
            }
        }
        for o in &self.overrides {
            let what = format!("the change of unit {}", o.key);
            let turns = known.session(&o.session_id, &what)?;
            if o.first_turn as usize >= turns {
                return Err(invalid(format!("{what} names a turn its session lacks")));
            }
            if !(known.units.contains(&o.key) || known.histories.contains(&o.key)) {
                return Err(invalid(format!("{what} names a unit the archive lacks")));
            }
            if o.action != "edited" && o.action != "deleted" {
                return Err(invalid(format!("{what} has action {:?}", o.action)));
            }
        }
        for e in &self.edges {
            if !(known.units.contains(&e.from)
                && known.units.contains(&e.to)
                && e.weight.is_finite())
            {
                return Err(invalid(format!(
                    "the edge from unit {} to unit {} names a unit the archive lacks or has \
                     weight {}",
                    e.from, e.to, e.weight
                )));
            }
        }
        for s in &self.statements {
            if !known.statements.insert(s.key) {
                return Err(invalid(format!("statement {} appears twice", s.key)));
            }
        }
        for s in &self.statements {
            let what = format!("statement {}", s.key);
            if let Some(anchor) = &s.anchor {
                known.session(anchor, &what)?;
            }
            known.statement_state(&s.state, &what, true)?;
            for v in &s.history {
                known.statement_state(&v.state, &format!("{what} version {}", v.version), false)?;
            }
        }
        Ok(())
    }
}
