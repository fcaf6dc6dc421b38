//! Reading everything about a user into an archive, in one read transaction so that the
//! archive is one consistent moment of the store.

use std::collections::HashMap;

use rusqlite::Connection;

use super::persona::rows::select;
use super::sessions::load_turns;
use super::units::parse_granularity;
use super::{SqliteStore, require_user};
use crate::persona::Statement;
use crate::store::archive::{
    ArchivedAudit, ArchivedEdge, ArchivedOverride, ArchivedSession, ArchivedStatement,
    ArchivedStatementVersion, ArchivedTurn, ArchivedUnit, ArchivedUnitHistory, StatementState,
    TurnPlace, UserArchive,
};
use crate::store::{SessionKey, UnitVersion};
use crate::{
    MemoryError, NewTurn, Producer, Result, SessionId, SessionStatus, Timestamp, TurnId, UserRef,
};

/// Where each of the user's turns sits, by turn id.
type Places = HashMap<TurnId, TurnPlace>;

/// A session row: key, id, start, title, status, created and updated.
type SessionRow = (i64, String, i64, Option<String>, String, i64, i64);

fn sessions(conn: &Connection, user_pk: i64, places: &mut Places) -> Result<Vec<ArchivedSession>> {
    let rows: Vec<SessionRow> = conn
        .prepare_cached(
            "SELECT id, session_id, started_at, title, status, created_at, updated_at
             FROM sessions WHERE user_pk = ?1 ORDER BY id",
        )?
        .query_map([user_pk], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (key, session_id, started_at, title, status, created_at, updated_at) in rows {
        let session_id = SessionId::new(session_id)?;
        let stored = load_turns(conn, SessionKey(key))?;
        let mut turns = Vec::with_capacity(stored.len());
        let mut positions = HashMap::with_capacity(stored.len());
        for t in stored {
            places.insert(
                t.turn_id,
                TurnPlace {
                    session_id: session_id.clone(),
                    position: t.position,
                },
            );
            positions.insert(t.turn_id.0, t.position);
            turns.push(ArchivedTurn {
                turn: NewTurn {
                    speaker: t.speaker,
                    role: t.role,
                    text: t.text,
                    timestamp: t.timestamp,
                    external_id: t.external_id,
                    caption: t.caption,
                    metadata: t.metadata,
                },
                writer: t.source.writer,
                channel: t.source.channel.as_str().to_owned(),
            });
        }
        out.push(ArchivedSession {
            session_id,
            started_at: Timestamp(started_at),
            title,
            status: SessionStatus::from_stored(&status),
            created_at: Timestamp(created_at),
            updated_at: Timestamp(updated_at),
            turns,
            units: units(conn, key, &positions)?,
        });
    }
    Ok(out)
}

fn units(
    conn: &Connection,
    session: i64,
    positions: &HashMap<i64, u32>,
) -> Result<Vec<ArchivedUnit>> {
    let mut covered: HashMap<i64, Vec<u32>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT ut.unit_id, ut.turn_id FROM unit_turns ut JOIN units n ON n.id = ut.unit_id
         WHERE n.session_pk = ?1",
    )?;
    let rows = stmt.query_map([session], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (unit, turn) = row?;
        if let Some(&p) = positions.get(&turn) {
            covered.entry(unit).or_default().push(p);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, granularity, ordinal, text, event_time, producer, version, created_at,
                updated_at
         FROM units WHERE session_pk = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([session], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, u32>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, i64>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key, granularity, ordinal, text, event_time, producer, version, created, updated) =
            row?;
        let mut turns = covered.remove(&key).unwrap_or_default();
        turns.sort_unstable();
        out.push(ArchivedUnit {
            key,
            granularity: parse_granularity(&granularity)?,
            ordinal,
            text,
            event_time: Timestamp(event_time),
            producer: Producer::from_stored(&producer),
            version,
            created_at: Timestamp(created),
            updated_at: Timestamp(updated),
            turns,
        });
    }
    Ok(out)
}

/// A statement's content with turn places instead of turn ids (turns no longer stored are
/// left out: a snapshot may name turns a person deleted since).
fn state(s: Statement, places: &Places) -> StatementState {
    StatementState {
        turns: s
            .turns
            .iter()
            .filter_map(|t| places.get(t).cloned())
            .collect(),
        speaker: s.speaker,
        kind: s.kind,
        slot: s.slot,
        value: s.value,
        text: s.text,
        confidence: s.confidence,
        first_seen: s.first_seen,
        last_seen: s.last_seen,
        status: s.status,
        version: s.version,
        superseded_by: s.superseded_by,
        evidence: s.evidence,
        producer: s.producer,
    }
}

fn statements(conn: &Connection, user_pk: i64, places: &Places) -> Result<Vec<ArchivedStatement>> {
    let heads: HashMap<i64, (Option<String>, i64, i64)> = conn
        .prepare_cached(
            "SELECT p.id, s.session_id, p.created_at, p.updated_at FROM persona_statements p
             LEFT JOIN sessions s ON s.id = p.anchor_pk WHERE p.user_pk = ?1",
        )?
        .query_map([user_pk], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut history: HashMap<i64, Vec<ArchivedStatementVersion>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT h.statement_id, h.version, h.at, h.actor, h.action, h.snapshot
         FROM statement_history h JOIN persona_statements p ON p.id = h.statement_id
         WHERE p.user_pk = ?1 ORDER BY h.statement_id, h.version",
    )?;
    let rows = stmt.query_map([user_pk], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    for row in rows {
        let (id, version, at, actor, action, snapshot) = row?;
        let statement: Statement =
            serde_json::from_str(&snapshot).map_err(|e| MemoryError::Corrupt {
                reason: format!("statement {id} version {version}: {e}"),
            })?;
        history
            .entry(id)
            .or_default()
            .push(ArchivedStatementVersion {
                version,
                at: Timestamp(at),
                actor,
                action,
                state: state(statement, places),
            });
    }
    let mut out = Vec::new();
    for s in select(conn, "user_pk = ?1", &[&user_pk])? {
        let key = s.id;
        let (anchor, created_at, updated_at) = heads.get(&key).cloned().unwrap_or_default();
        out.push(ArchivedStatement {
            key,
            anchor: anchor.map(SessionId::new).transpose()?,
            state: state(s, places),
            created_at: Timestamp(created_at),
            updated_at: Timestamp(updated_at),
            history: history.remove(&key).unwrap_or_default(),
        });
    }
    Ok(out)
}

fn unit_histories(conn: &Connection, user_pk: i64) -> Result<Vec<ArchivedUnitHistory>> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.unit_id, s.session_id, h.version, h.at, h.actor, h.action, h.producer, h.text
         FROM unit_history h JOIN sessions s ON s.id = h.session_pk
         WHERE s.user_pk = ?1 ORDER BY h.unit_id, h.version",
    )?;
    let rows = stmt.query_map([user_pk], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            UnitVersion {
                version: r.get(2)?,
                at: Timestamp(r.get(3)?),
                actor: r.get(4)?,
                action: r.get(5)?,
                producer: r.get(6)?,
                text: r.get(7)?,
            },
        ))
    })?;
    let mut out: Vec<ArchivedUnitHistory> = Vec::new();
    for row in rows {
        let (key, session_id, version) = row?;
        match out.last_mut() {
            Some(h) if h.key == key => h.versions.push(version),
            _ => out.push(ArchivedUnitHistory {
                key,
                session_id: SessionId::new(session_id)?,
                versions: vec![version],
            }),
        }
    }
    Ok(out)
}

fn overrides(conn: &Connection, user_pk: i64) -> Result<Vec<ArchivedOverride>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.session_id, o.granularity, t.position, o.unit_id, o.action
         FROM unit_overrides o JOIN sessions s ON s.id = o.session_pk
         JOIN turns t ON t.id = o.first_turn
         WHERE s.user_pk = ?1 ORDER BY s.id, o.granularity, t.position",
    )?;
    let rows = stmt.query_map([user_pk], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (session_id, granularity, first_turn, key, action) = row?;
        out.push(ArchivedOverride {
            session_id: SessionId::new(session_id)?,
            granularity: parse_granularity(&granularity)?,
            first_turn,
            key,
            action,
        });
    }
    Ok(out)
}

fn edges(conn: &Connection, user_pk: i64) -> Result<Vec<ArchivedEdge>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.src, e.dst, e.weight FROM unit_edges e JOIN units n ON n.id = e.src
         WHERE n.user_pk = ?1 ORDER BY e.src, e.dst",
    )?;
    let rows = stmt.query_map([user_pk], |r| {
        Ok(ArchivedEdge {
            from: r.get(0)?,
            to: r.get(1)?,
            weight: r.get::<_, f64>(2)? as f32,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn audit(conn: &Connection, user: &UserRef) -> Result<Vec<ArchivedAudit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor, action, session_id, unit_id, before, after FROM audit_log
         WHERE tenant = ?1 AND user_id = ?2 ORDER BY id",
    )?;
    let parse = |v: Option<String>| v.and_then(|s| serde_json::from_str(&s).ok());
    let rows = stmt.query_map([user.tenant.as_str(), user.user.as_str()], |r| {
        Ok(ArchivedAudit {
            at: Timestamp(r.get(0)?),
            actor: r.get(1)?,
            action: r.get(2)?,
            session_id: r.get(3)?,
            unit_id: r.get(4)?,
            before: parse(r.get(5)?),
            after: parse(r.get(6)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl SqliteStore {
    /// Everything stored about a user, as one consistent moment: sessions with their turns and
    /// units, persona statements with their history, people's unit changes, association edges
    /// and audit entries. No vectors.
    pub fn export_user(&self, user: &UserRef) -> Result<UserArchive> {
        self.read(|conn| {
            let tx = conn.unchecked_transaction()?;
            let user_pk = require_user(&tx, user)?;
            let mut places = Places::new();
            let archive = UserArchive {
                sessions: sessions(&tx, user_pk, &mut places)?,
                statements: statements(&tx, user_pk, &places)?,
                unit_histories: unit_histories(&tx, user_pk)?,
                overrides: overrides(&tx, user_pk)?,
                edges: edges(&tx, user_pk)?,
                audit: audit(&tx, user)?,
            };
            tx.finish()?;
            Ok(archive)
        })
    }
}
