//! Restoring an archive into an empty user, in one transaction: sessions and turns (written
//! by the importer), units with their new vectors, association edges, people's unit changes,
//! persona statements with their history, and the audit entries. Row ids are new; the
//! archive's keys only tie its records together.

use std::collections::HashMap;

use rusqlite::{Transaction, params};
use serde_json::json;

use super::persona::insert;
use super::sessions::insert_turns;
use super::units::encode_vector;
use super::{SqliteStore, audit, index_log, require_user, terms};
use crate::persona::Statement;
use crate::store::archive::{ArchivedUnit, ImportCounts, StatementState, TurnPlace, UserArchive};
use crate::store::{Edge, IndexOp, SessionKey, TurnWrite};
use crate::{MemoryError, Result, SessionId, SessionStatus, Source, TurnId, UnitId, UserRef};

/// What an import needs besides the archive.
#[derive(Debug, Clone, Copy)]
pub struct ImportInput<'a> {
    pub archive: &'a UserArchive,
    /// The vector of every unit text of the archive.
    pub vectors: &'a HashMap<String, Vec<f32>>,
    /// Each session's distinct terms, for the keyword statistics.
    pub terms: &'a HashMap<SessionId, Vec<String>>,
    /// When, by whom, and through which channel: every turn is written by the importer.
    pub write: TurnWrite<'a>,
}

/// What an import stored, for the derived indexes and the receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedUser {
    pub counts: ImportCounts,
    /// Every restored unit.
    pub units: Vec<UnitId>,
    pub edges: Vec<Edge>,
    /// Sessions to build, in archive order.
    pub pending: Vec<SessionKey>,
}

/// The new row ids of the archive's records.
#[derive(Default)]
struct Ids {
    turns: HashMap<TurnPlace, TurnId>,
    sessions: HashMap<SessionId, SessionKey>,
    units: HashMap<i64, UnitId>,
    statements: HashMap<i64, i64>,
}

impl Ids {
    fn statement(&self, s: &StatementState, id: i64) -> Statement {
        Statement {
            id,
            speaker: s.speaker.clone(),
            kind: s.kind,
            slot: s.slot.clone(),
            value: s.value.clone(),
            text: s.text.clone(),
            turns: s
                .turns
                .iter()
                .filter_map(|p| self.turns.get(p).copied())
                .collect(),
            confidence: s.confidence,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            status: s.status,
            version: s.version,
            superseded_by: s
                .superseded_by
                .and_then(|k| self.statements.get(&k).copied()),
            evidence: s.evidence,
            producer: s.producer.clone(),
        }
    }
}

/// How many sessions and statements a user holds.
const HELD: &str = "SELECT (SELECT COUNT(*) FROM sessions WHERE user_pk = ?1)
    + (SELECT COUNT(*) FROM persona_statements WHERE user_pk = ?1)";

fn require_empty(tx: &Transaction<'_>, user: &UserRef, user_pk: i64) -> Result<()> {
    let held: i64 = tx
        .prepare_cached(HELD)?
        .query_row([user_pk], |r| r.get(0))?;
    if held > 0 {
        return Err(MemoryError::UserNotEmpty {
            user_id: user.user.to_string(),
        });
    }
    Ok(())
}

fn sessions(
    tx: &Transaction<'_>,
    user_pk: i64,
    input: &ImportInput<'_>,
    ids: &mut Ids,
    out: &mut ImportedUser,
) -> Result<()> {
    let source = Source {
        writer: input.write.actor.0.to_owned(),
        channel: input.write.channel,
    };
    let mut insert_unit = tx.prepare_cached(
        "INSERT INTO units (user_pk, session_pk, granularity, ordinal, text, event_time,
                            producer, version, created_at, updated_at, embedding)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut insert_covered =
        tx.prepare_cached("INSERT OR IGNORE INTO unit_turns (unit_id, turn_id) VALUES (?1, ?2)")?;
    let mut session_turns: Vec<Vec<TurnId>> = Vec::with_capacity(input.archive.sessions.len());
    for s in &input.archive.sessions {
        tx.prepare_cached(
            "INSERT INTO sessions (user_pk, session_id, started_at, title, status, created_at,
                                   updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            user_pk,
            s.session_id.as_str(),
            s.started_at.0,
            s.title,
            s.status.as_str(),
            s.created_at.0,
            s.updated_at.0
        ])?;
        let key = SessionKey(tx.last_insert_rowid());
        ids.sessions.insert(s.session_id.clone(), key);
        let turns: Vec<_> = s.turns.iter().map(|t| t.turn.clone()).collect();
        insert_turns(tx, key, 0, &turns, &source)?;
        let turn_ids: Vec<TurnId> = tx
            .prepare_cached("SELECT id FROM turns WHERE session_pk = ?1 ORDER BY position")?
            .query_map([key.0], |r| Ok(TurnId(r.get(0)?)))?
            .collect::<rusqlite::Result<_>>()?;
        session_turns.push(turn_ids.clone());
        for (position, id) in turn_ids.iter().enumerate() {
            let place = TurnPlace {
                session_id: s.session_id.clone(),
                position: position as u32,
            };
            ids.turns.insert(place, *id);
        }
        if !s.units.is_empty()
            && let Some(t) = input.terms.get(&s.session_id)
        {
            terms::replace(tx, user_pk, key, t)?;
        }
        if s.status == SessionStatus::Pending {
            out.pending.push(key);
        }
        out.counts.sessions += 1;
        out.counts.turns += turn_ids.len() as u64;
    }
    // Units in the order of their ids in the exporting store, so that new ids keep that order
    // (ties in ranking fall back to it).
    let mut units: Vec<(usize, &ArchivedUnit)> = input
        .archive
        .sessions
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.units.iter().map(move |u| (i, u)))
        .collect();
    units.sort_by_key(|(_, u)| u.key);
    for (i, u) in units {
        let key = ids.sessions[&input.archive.sessions[i].session_id];
        let turn_ids = &session_turns[i];
        let vector = input
            .vectors
            .get(&u.text)
            .ok_or_else(|| MemoryError::Embedding {
                reason: format!("unit {} of the archive was not embedded", u.key),
            })?;
        insert_unit.execute(params![
            user_pk,
            key.0,
            u.granularity.as_str(),
            u.ordinal,
            u.text,
            u.event_time.0,
            u.producer.to_stored(),
            u.version,
            u.created_at.0,
            u.updated_at.0,
            encode_vector(vector),
        ])?;
        let id = UnitId(tx.last_insert_rowid());
        for &p in &u.turns {
            if let Some(turn) = turn_ids.get(p as usize) {
                insert_covered.execute(params![id.0, turn.0])?;
            }
        }
        index_log::append(tx, IndexOp::AddUnit(id))?;
        ids.units.insert(u.key, id);
        out.units.push(id);
    }
    out.counts.units = out.units.len() as u64;
    out.counts.pending = out.pending.len() as u64;
    Ok(())
}

/// New ids for units that exist only in a history (a person deleted them): taken from the
/// units' own id sequence, so that no unit stored later gets one of them.
fn reserve_gone_units(tx: &Transaction<'_>, archive: &UserArchive, ids: &mut Ids) -> Result<()> {
    let mut gone: Vec<i64> = archive
        .unit_histories
        .iter()
        .map(|h| h.key)
        .chain(archive.overrides.iter().map(|o| o.key))
        .filter(|k| !ids.units.contains_key(k))
        .collect();
    gone.sort_unstable();
    gone.dedup();
    if gone.is_empty() {
        return Ok(());
    }
    let last: i64 = tx.query_row(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'units'), 0),
                    COALESCE((SELECT MAX(id) FROM units), 0))",
        [],
        |r| r.get(0),
    )?;
    for (i, key) in gone.iter().enumerate() {
        ids.units.insert(*key, UnitId(last + 1 + i as i64));
    }
    let next = last + gone.len() as i64;
    let updated = tx.execute(
        "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'units'",
        [next],
    )?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('units', ?1)",
            [next],
        )?;
    }
    Ok(())
}

fn unit_changes(tx: &Transaction<'_>, archive: &UserArchive, ids: &Ids) -> Result<u64> {
    let unit = |k: &i64| {
        ids.units
            .get(k)
            .copied()
            .ok_or_else(|| MemoryError::InvalidArchive {
                reason: format!("unit {k} has no id"),
            })
    };
    let mut versions = 0;
    let mut insert = tx.prepare_cached(
        "INSERT INTO unit_history (unit_id, session_pk, version, at, actor, action, producer, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for h in &archive.unit_histories {
        let id = unit(&h.key)?;
        let session = ids.sessions[&h.session_id];
        for v in &h.versions {
            insert.execute(params![
                id.0, session.0, v.version, v.at.0, v.actor, v.action, v.producer, v.text
            ])?;
            versions += 1;
        }
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO unit_overrides (session_pk, granularity, first_turn, unit_id, action)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for o in &archive.overrides {
        let place = TurnPlace {
            session_id: o.session_id.clone(),
            position: o.first_turn,
        };
        insert.execute(params![
            ids.sessions[&o.session_id].0,
            o.granularity.as_str(),
            ids.turns[&place].0,
            unit(&o.key)?.0,
            o.action
        ])?;
    }
    Ok(versions)
}

fn edges(tx: &Transaction<'_>, archive: &UserArchive, ids: &Ids) -> Result<Vec<Edge>> {
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO unit_edges (src, dst, weight) VALUES (?1, ?2, ?3)",
    )?;
    let mut out = Vec::with_capacity(archive.edges.len());
    for e in &archive.edges {
        let (Some(&from), Some(&to)) = (ids.units.get(&e.from), ids.units.get(&e.to)) else {
            continue;
        };
        insert.execute(params![from.0, to.0, f64::from(e.weight)])?;
        out.push(Edge {
            from,
            to,
            weight: e.weight,
        });
    }
    Ok(out)
}

fn statements(
    tx: &Transaction<'_>,
    user_pk: i64,
    archive: &UserArchive,
    ids: &mut Ids,
) -> Result<u64> {
    for a in &archive.statements {
        let anchor = a.anchor.as_ref().map(|id| ids.sessions[id]);
        let statement = ids.statement(&a.state, 0);
        let id = insert(
            tx,
            user_pk,
            anchor,
            &statement,
            (a.created_at, a.updated_at),
        )?;
        ids.statements.insert(a.key, id);
    }
    let mut link =
        tx.prepare_cached("UPDATE persona_statements SET superseded_by = ?2 WHERE id = ?1")?;
    let mut version = tx.prepare_cached(
        "INSERT OR REPLACE INTO statement_history (statement_id, version, at, actor, action, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut versions = 0;
    for a in &archive.statements {
        let id = ids.statements[&a.key];
        let now = ids.statement(&a.state, id);
        link.execute(params![id, now.superseded_by])?;
        for v in &a.history {
            let snapshot = serde_json::to_string(&ids.statement(&v.state, id)).map_err(|e| {
                MemoryError::Corrupt {
                    reason: format!("cannot encode a statement: {e}"),
                }
            })?;
            version.execute(params![id, v.version, v.at.0, v.actor, v.action, snapshot])?;
            versions += 1;
        }
    }
    Ok(versions)
}

fn audit_entries(tx: &Transaction<'_>, user: &UserRef, archive: &UserArchive) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, tenant, user_id, session_id, unit_id, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for a in &archive.audit {
        insert.execute(params![
            a.at.0,
            a.actor,
            a.action,
            user.tenant.as_str(),
            user.user.as_str(),
            a.session_id,
            a.unit_id,
            a.before.as_ref().map(|v| v.to_string()),
            a.after.as_ref().map(|v| v.to_string()),
        ])?;
    }
    Ok(())
}

impl SqliteStore {
    /// Whether the user holds sessions or persona statements (an import needs neither).
    pub fn holds_memory(&self, user: &UserRef) -> Result<bool> {
        self.read(|conn| {
            let Some(user_pk) = super::user_pk(conn, user)? else {
                return Ok(false);
            };
            let held: i64 = conn
                .prepare_cached(HELD)?
                .query_row([user_pk], |r| r.get(0))?;
            Ok(held > 0)
        })
    }

    /// Restores an archive (checked by the caller with [`UserArchive::check`]) into a user who
    /// holds no sessions and no statements, creating the user if needed, in one transaction.
    /// Units keep their texts, producers and versions and get the given vectors; the import
    /// itself is one more audit entry. Refuses a user with memory (`UserNotEmpty`).
    pub fn import_user(&self, user: &UserRef, input: ImportInput<'_>) -> Result<ImportedUser> {
        let archive = input.archive;
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO users (tenant, user_id, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                user.tenant.as_str(),
                user.user.as_str(),
                input.write.now.0
            ])?;
            let user_pk = require_user(tx, user)?;
            require_empty(tx, user, user_pk)?;
            let mut ids = Ids::default();
            let mut out = ImportedUser {
                counts: ImportCounts::default(),
                units: Vec::new(),
                edges: Vec::new(),
                pending: Vec::new(),
            };
            sessions(tx, user_pk, &input, &mut ids, &mut out)?;
            reserve_gone_units(tx, archive, &mut ids)?;
            out.counts.unit_versions = unit_changes(tx, archive, &ids)?;
            out.edges = edges(tx, archive, &ids)?;
            out.counts.edges = out.edges.len() as u64;
            out.counts.statement_versions = statements(tx, user_pk, archive, &mut ids)?;
            out.counts.statements = archive.statements.len() as u64;
            audit_entries(tx, user, archive)?;
            out.counts.audit_entries = archive.audit.len() as u64;
            audit::record(
                tx,
                input.write.now,
                input.write.actor,
                "import_user",
                user,
                None,
                None,
                None,
                Some(json!({
                    "counts": out.counts,
                    "channel": input.write.channel,
                })),
            )?;
            Ok(out)
        })
    }
}
