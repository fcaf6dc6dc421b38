//! A person's changes to units: edits and deletes, each kept in the unit's history and
//! remembered by the unit's place in its session (granularity and first covered turn), so that
//! rebuilding the session after an append keeps an edit and does not bring a deleted unit back.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use super::units::{encode_vector, load_indexed, parse_granularity};
use super::{SqliteStore, audit, index_log, require_user, session_head};
use crate::store::{Actor, IndexOp, IndexedUnit, SessionKey, UnitOverride, UnitVersion};
use crate::{Granularity, MemoryError, Result, Timestamp, TurnId, UnitId, UserRef};

const EDITED: &str = "edited";
const DELETED: &str = "deleted";

/// A unit of the user as a change needs it.
struct Target {
    session: SessionKey,
    granularity: Granularity,
    text: String,
    producer: String,
    version: u32,
    updated_at: i64,
    /// The first turn the unit covers: its place in the session.
    first_turn: Option<i64>,
}

fn load_target(tx: &Transaction<'_>, user: &UserRef, unit: UnitId) -> Result<Target> {
    let user_pk = require_user(tx, user)?;
    let row = tx
        .prepare_cached(
            "SELECT session_pk, granularity, text, producer, version, updated_at,
                    (SELECT MIN(turn_id) FROM unit_turns WHERE unit_id = units.id)
             FROM units WHERE id = ?1 AND user_pk = ?2",
        )?
        .query_row(params![unit.0, user_pk], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })
        .optional()?
        .ok_or(MemoryError::UnitNotFound { unit_id: unit.0 })?;
    let (session, granularity, text, producer, version, updated_at, first_turn) = row;
    let granularity = parse_granularity(&granularity)?;
    if granularity == Granularity::Fact {
        // A fact unit shows a persona statement; the statement is what a person changes.
        return Err(MemoryError::FactUnit { unit_id: unit.0 });
    }
    Ok(Target {
        session: SessionKey(session),
        granularity,
        text,
        producer,
        version,
        updated_at,
        first_turn,
    })
}

/// Records the unit's current state as its first version, if its history is still empty.
fn keep_original(tx: &Transaction<'_>, unit: UnitId, t: &Target) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO unit_history
             (unit_id, session_pk, version, at, actor, action, producer, text)
         SELECT ?1, ?2, ?3, ?4, 'worker', 'built', ?5, ?6
         WHERE NOT EXISTS (SELECT 1 FROM unit_history WHERE unit_id = ?1)",
    )?
    .execute(params![
        unit.0,
        t.session.0,
        t.version,
        t.updated_at,
        t.producer,
        t.text
    ])?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_version(
    tx: &Transaction<'_>,
    unit: UnitId,
    t: &Target,
    version: u32,
    now: Timestamp,
    actor: Actor<'_>,
    action: &str,
    (producer, text): (&str, &str),
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO unit_history (unit_id, session_pk, version, at, actor, action, producer, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        unit.0,
        t.session.0,
        version,
        now.0,
        actor.0,
        action,
        producer,
        text
    ])?;
    Ok(())
}

/// Remembers what a person did at the unit's place, for the session's next build.
fn remember(tx: &Transaction<'_>, unit: UnitId, t: &Target, action: &str) -> Result<()> {
    if let Some(first) = t.first_turn {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO unit_overrides
                 (session_pk, granularity, first_turn, unit_id, action)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            t.session.0,
            t.granularity.as_str(),
            first,
            unit.0,
            action
        ])?;
    }
    Ok(())
}

impl SqliteStore {
    /// A person corrects a unit's text: the unit keeps its id, its version goes up by one, its
    /// producer becomes `edited`, its vector and association edges (to units of other
    /// sessions, strongest first, found by the caller for the new text) are replaced, and the
    /// text before is kept in its history. Logs the change for the full-text index. Returns
    /// the unit as the derived indexes need it. Fact units are refused: their statement is
    /// what changes.
    #[allow(clippy::too_many_arguments)]
    pub fn edit_unit(
        &self,
        user: &UserRef,
        unit: UnitId,
        text: &str,
        embedding: &[f32],
        links: &[(UnitId, f32)],
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<IndexedUnit> {
        self.write(|tx| {
            let t = load_target(tx, user, unit)?;
            keep_original(tx, unit, &t)?;
            let version = t.version + 1;
            add_version(tx, unit, &t, version, now, actor, EDITED, (EDITED, text))?;
            tx.prepare_cached(
                "UPDATE units SET text = ?2, embedding = ?3, producer = 'edited', version = ?4,
                                  updated_at = ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                unit.0,
                text,
                encode_vector(embedding),
                version,
                now.0
            ])?;
            tx.prepare_cached("DELETE FROM unit_edges WHERE src = ?1 OR dst = ?1")?
                .execute([unit.0])?;
            let mut insert_edge = tx.prepare_cached(
                "INSERT OR REPLACE INTO unit_edges (src, dst, weight)
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM units WHERE id = ?2)",
            )?;
            for &(to, weight) in links {
                if to != unit {
                    insert_edge.execute(params![unit.0, to.0, f64::from(weight)])?;
                }
            }
            remember(tx, unit, &t, EDITED)?;
            index_log::append(tx, IndexOp::DeleteUnit(unit))?;
            index_log::append(tx, IndexOp::AddUnit(unit))?;
            let session_id = session_head(tx, t.session)?.map(|(_, _, id)| id);
            audit::record(
                tx,
                now,
                actor,
                "edit_unit",
                user,
                session_id.as_ref(),
                Some(unit),
                Some(json!({ "text": t.text, "version": t.version, "producer": t.producer })),
                Some(json!({ "text": text, "version": version, "producer": EDITED })),
            )?;
            load_indexed(tx, unit)?.ok_or(MemoryError::UnitNotFound { unit_id: unit.0 })
        })
    }

    /// A person deletes a unit: it goes from the store with its edges and provenance, its last
    /// text stays in its history as `deleted`, and the next build of its session does not
    /// make it again. Logs the removal for the full-text index. Returns the unit's session.
    pub fn delete_unit(
        &self,
        user: &UserRef,
        unit: UnitId,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<SessionKey> {
        self.write(|tx| {
            let t = load_target(tx, user, unit)?;
            keep_original(tx, unit, &t)?;
            add_version(
                tx,
                unit,
                &t,
                t.version + 1,
                now,
                actor,
                DELETED,
                (&t.producer, &t.text),
            )?;
            tx.prepare_cached("DELETE FROM units WHERE id = ?1")?
                .execute([unit.0])?;
            remember(tx, unit, &t, DELETED)?;
            index_log::append(tx, IndexOp::DeleteUnit(unit))?;
            let session_id = session_head(tx, t.session)?.map(|(_, _, id)| id);
            audit::record(
                tx,
                now,
                actor,
                "delete_unit",
                user,
                session_id.as_ref(),
                Some(unit),
                Some(json!({ "text": t.text, "version": t.version, "producer": t.producer })),
                None,
            )?;
            Ok(t.session)
        })
    }

    /// Every version of a unit of the user, oldest first: a unit nobody changed has one, as it
    /// was built; a deleted unit's history ends with its deletion.
    pub fn unit_history(&self, user: &UserRef, unit: UnitId) -> Result<Vec<UnitVersion>> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let mut stmt = conn.prepare_cached(
                "SELECT h.version, h.at, h.actor, h.action, h.producer, h.text
                 FROM unit_history h JOIN sessions s ON s.id = h.session_pk
                 WHERE h.unit_id = ?1 AND s.user_pk = ?2 ORDER BY h.version",
            )?;
            let rows = stmt.query_map(params![unit.0, user_pk], |r| {
                Ok(UnitVersion {
                    version: r.get(0)?,
                    at: Timestamp(r.get(1)?),
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    producer: r.get(4)?,
                    text: r.get(5)?,
                })
            })?;
            let versions = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            if !versions.is_empty() {
                return Ok(versions);
            }
            let built = conn
                .prepare_cached(
                    "SELECT version, updated_at, producer, text FROM units
                     WHERE id = ?1 AND user_pk = ?2",
                )?
                .query_row(params![unit.0, user_pk], |r| {
                    Ok(UnitVersion {
                        version: r.get(0)?,
                        at: Timestamp(r.get(1)?),
                        actor: "worker".to_owned(),
                        action: "built".to_owned(),
                        producer: r.get(2)?,
                        text: r.get(3)?,
                    })
                })
                .optional()?
                .ok_or(MemoryError::UnitNotFound { unit_id: unit.0 })?;
            Ok(vec![built])
        })
    }

    /// What people did to the units of a session, by place, for its next build: an edited
    /// unit's text stands in for the built one, a deleted unit is not built again.
    pub fn unit_overrides(&self, session: SessionKey) -> Result<Vec<UnitOverride>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT o.granularity, o.first_turn, o.unit_id, o.action, n.text
                 FROM unit_overrides o LEFT JOIN units n ON n.id = o.unit_id
                 WHERE o.session_pk = ?1",
            )?;
            let rows = stmt.query_map([session.0], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (granularity, first_turn, unit_id, action, text) = row?;
                let text = match (action.as_str(), text) {
                    (DELETED, _) => None,
                    (_, Some(text)) => Some(text),
                    // An edited unit that is gone (its turns were removed): nothing to keep.
                    (_, None) => continue,
                };
                out.push(UnitOverride {
                    granularity: parse_granularity(&granularity)?,
                    first_turn: TurnId(first_turn),
                    unit_id: UnitId(unit_id),
                    text,
                });
            }
            Ok(out)
        })
    }
}
