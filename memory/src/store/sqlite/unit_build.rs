//! Replacing a session's units with freshly built ones in one transaction, keeping the ids of
//! units a rebuild leaves unchanged and the units people edited.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, params};
use serde_json::json;

use super::units::encode_vector;
use super::{SqliteStore, audit, index_log, session_head, terms};
use crate::store::{Actor, IndexOp, SessionBuild, SessionKey};
use crate::{MemoryError, Producer, Result, Timestamp, UnitId};

/// A stored unit of a session as a rebuild compares it with the built ones.
struct StoredUnit {
    granularity: String,
    text: String,
    producer: String,
    /// The turns it covers, by id.
    turns: Vec<i64>,
}

/// A session's stored units by id, each with the turns it covers.
fn stored_units(conn: &Connection, session: SessionKey) -> Result<HashMap<i64, StoredUnit>> {
    let mut units: HashMap<i64, StoredUnit> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, granularity, text, producer FROM units WHERE session_pk = ?1",
    )?;
    let rows = stmt.query_map([session.0], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            StoredUnit {
                granularity: r.get(1)?,
                text: r.get(2)?,
                producer: r.get(3)?,
                turns: Vec::new(),
            },
        ))
    })?;
    for row in rows {
        let (id, unit) = row?;
        units.insert(id, unit);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT ut.unit_id, ut.turn_id FROM unit_turns ut JOIN units u ON u.id = ut.unit_id
         WHERE u.session_pk = ?1 ORDER BY ut.turn_id",
    )?;
    let rows = stmt.query_map([session.0], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (unit, turn) = row?;
        if let Some(u) = units.get_mut(&unit) {
            u.turns.push(turn);
        }
    }
    Ok(units)
}

/// The units a person edited in a session, by their place (granularity and first turn id).
fn edited_places(conn: &Connection, session: SessionKey) -> Result<HashMap<(String, i64), i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT granularity, first_turn, unit_id FROM unit_overrides
         WHERE session_pk = ?1 AND action = 'edited'",
    )?;
    let rows = stmt.query_map([session.0], |r| {
        Ok((
            (r.get::<_, String>(0)?, r.get::<_, i64>(1)?),
            r.get::<_, i64>(2)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl SqliteStore {
    /// Replaces every unit of a session with the built ones, records its terms and association
    /// edges, marks it ready and logs the changes for the full-text index, all in one
    /// transaction. A built unit takes the id of the stored unit it stands for: a person's edit
    /// in its place (see [`SqliteStore::unit_overrides`]), or a unit of the same granularity,
    /// text and turns; so ids survive rebuilds that leave a unit unchanged. Returns the unit ids
    /// in input order, or `None` if the session was deleted meanwhile or has gained turns since
    /// the units were built (the caller builds it again).
    pub fn replace_units(
        &self,
        build: SessionBuild<'_>,
        now: Timestamp,
        actor: Actor<'_>,
    ) -> Result<Option<Vec<UnitId>>> {
        let SessionBuild {
            session,
            built_turns,
            units,
            links,
            terms: session_terms,
        } = build;
        self.write(|tx| {
            let Some((user_pk, user_id, session_id)) = session_head(tx, session)? else {
                return Ok(None);
            };
            let turn_ids: Vec<i64> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id FROM turns WHERE session_pk = ?1 ORDER BY position",
                )?;
                let rows = stmt.query_map([session.0], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            if turn_ids.len() != built_turns {
                return Ok(None);
            }
            let mut old = stored_units(tx, session)?;
            let had_units = !old.is_empty();
            let edited = edited_places(tx, session)?;
            // Units a rebuild may keep, by content; a person's edits are kept by place instead.
            let mut by_content: HashMap<(String, String, Vec<i64>), Vec<i64>> = HashMap::new();
            for (id, o) in &old {
                if o.producer != "edited" {
                    by_content
                        .entry((o.granularity.clone(), o.text.clone(), o.turns.clone()))
                        .or_default()
                        .push(*id);
                }
            }
            let mut reused: HashSet<i64> = HashSet::new();
            let mut insert_unit = tx.prepare_cached(
                "INSERT INTO units (user_pk, session_pk, granularity, ordinal, text, event_time,
                                    producer, version, created_at, updated_at, embedding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?9)",
            )?;
            let mut update_unit = tx.prepare_cached(
                "UPDATE units SET ordinal = ?2, event_time = ?3, producer = ?4 WHERE id = ?1",
            )?;
            let mut clear_turns = tx.prepare_cached("DELETE FROM unit_turns WHERE unit_id = ?1")?;
            let mut clear_edges =
                tx.prepare_cached("DELETE FROM unit_edges WHERE src = ?1 OR dst = ?1")?;
            let mut insert_turn = tx.prepare_cached(
                "INSERT OR IGNORE INTO unit_turns (unit_id, turn_id) VALUES (?1, ?2)",
            )?;
            let mut ids = Vec::with_capacity(units.len());
            let mut per_granularity: HashMap<&str, usize> = HashMap::new();
            for unit in units {
                let d = &unit.draft;
                let mut covered = Vec::with_capacity(d.turn_positions.len());
                for &position in &d.turn_positions {
                    let turn =
                        turn_ids
                            .get(position as usize)
                            .ok_or_else(|| MemoryError::Corrupt {
                                reason: format!(
                                    "unit covers turn position {position} the session lacks"
                                ),
                            })?;
                    covered.push(*turn);
                }
                covered.sort_unstable();
                covered.dedup();
                let granularity = d.granularity.as_str();
                let place = covered
                    .first()
                    .map(|&first| (granularity.to_owned(), first));
                let same = if d.producer == Producer::Edited {
                    place
                        .and_then(|p| edited.get(&p).copied())
                        .filter(|id| old.contains_key(id) && !reused.contains(id))
                } else {
                    by_content
                        .get_mut(&(granularity.to_owned(), d.text.clone(), covered.clone()))
                        .and_then(Vec::pop)
                };
                let id = match same {
                    Some(id) => {
                        update_unit.execute(params![
                            id,
                            d.ordinal,
                            d.event_time.0,
                            d.producer.to_stored()
                        ])?;
                        // Its associations are found again below, as for a new unit.
                        clear_edges.execute([id])?;
                        clear_turns.execute([id])?;
                        reused.insert(id);
                        id
                    }
                    None => {
                        insert_unit.execute(params![
                            user_pk,
                            session.0,
                            granularity,
                            d.ordinal,
                            d.text,
                            d.event_time.0,
                            d.producer.to_stored(),
                            now.0,
                            encode_vector(&unit.embedding),
                        ])?;
                        tx.last_insert_rowid()
                    }
                };
                for turn in &covered {
                    insert_turn.execute(params![id, turn])?;
                }
                *per_granularity.entry(granularity).or_default() += 1;
                ids.push(UnitId(id));
            }
            old.retain(|id, _| !reused.contains(id));
            let removed = old.len();
            let mut delete_unit = tx.prepare_cached("DELETE FROM units WHERE id = ?1")?;
            for id in old.keys() {
                delete_unit.execute([id])?;
            }
            if had_units {
                index_log::append(tx, IndexOp::DeleteSession(session))?;
            }
            for id in &ids {
                index_log::append(tx, IndexOp::AddUnit(*id))?;
            }
            let mut insert_edge = tx.prepare_cached(
                "INSERT OR REPLACE INTO unit_edges (src, dst, weight)
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM units WHERE id = ?2)",
            )?;
            for &(from, to, weight) in links {
                if let Some(src) = ids.get(from) {
                    insert_edge.execute(params![src.0, to.0, f64::from(weight)])?;
                }
            }
            terms::replace(tx, user_pk, session, session_terms)?;
            tx.prepare_cached(
                "UPDATE sessions SET status = 'ready', updated_at = ?2 WHERE id = ?1",
            )?
            .execute(params![session.0, now.0])?;
            audit::record(
                tx,
                now,
                actor,
                "build_units",
                &user_id,
                Some(&session_id),
                None,
                (removed > 0).then(|| json!({ "unit_count": removed })),
                Some(json!({ "units": per_granularity, "kept": reused.len() })),
            )?;
            Ok(Some(ids))
        })
    }
}
