//! Memory unit records: reading them back with provenance, filtering them by their turns, and
//! streaming them to the derived indexes.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, require_user};
use crate::store::{IndexedUnit, SessionKey};
use crate::{
    Granularity, MemoryError, Producer, Result, Role, SessionId, SourceFilter, Timestamp, TurnId,
    TurnRef, Unit, UnitFilter, UnitId, UserRef,
};

/// The query selecting a user's units that `f` keeps, with its arguments: every turn
/// condition on one provenance turn.
fn filter_sql(user_pk: i64, f: &SourceFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as Sql;
    let mut sql = String::from(
        "SELECT DISTINCT n.id FROM units n
         JOIN unit_turns ut ON ut.unit_id = n.id JOIN turns t ON t.id = ut.turn_id
         JOIN sessions s ON s.id = n.session_pk
         WHERE n.user_pk = ?",
    );
    let mut args = vec![Sql::Integer(user_pk)];
    let mut exact = |column: &str, value: Option<String>, args: &mut Vec<Sql>| {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} = ?"));
            args.push(Sql::Text(value));
        }
    };
    exact("t.writer", f.writer.clone(), &mut args);
    exact(
        "t.channel",
        f.channel.map(|c| c.as_str().to_owned()),
        &mut args,
    );
    exact("t.speaker", f.speaker.clone(), &mut args);
    exact("t.role", f.role.map(|r| r.as_str().to_owned()), &mut args);
    if !f.sessions.is_empty() {
        let marks = vec!["?"; f.sessions.len()].join(", ");
        sql.push_str(&format!(" AND s.session_id IN ({marks})"));
        args.extend(f.sessions.iter().map(|s| Sql::Text(s.as_str().to_owned())));
    }
    // The key is quoted into a JSON path by SQLite itself, so any key is one path step.
    const PATH: &str = "'$.' || json_quote(?)";
    for (key, value) in &f.metadata {
        let key = Sql::Text(key.clone());
        let (kind, exact): (&str, Option<Sql>) = match value {
            serde_json::Value::Null => ("null", None),
            serde_json::Value::Bool(true) => ("true", None),
            serde_json::Value::Bool(false) => ("false", None),
            serde_json::Value::String(s) => ("text", Some(Sql::Text(s.clone()))),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ("integer", Some(Sql::Integer(i))),
                None => ("real", Some(Sql::Real(n.as_f64().unwrap_or(f64::NAN)))),
            },
            // Arrays and objects are refused before a filter is made; nothing matches them.
            _ => ("none", None),
        };
        sql.push_str(&format!(" AND json_type(t.metadata, {PATH}) = ?"));
        args.push(key.clone());
        args.push(Sql::Text(kind.to_owned()));
        if let Some(exact) = exact {
            sql.push_str(&format!(" AND json_extract(t.metadata, {PATH}) = ?"));
            args.push(key);
            args.push(exact);
        }
    }
    (sql, args)
}

/// Encodes a vector as little-endian `f32`s.
pub(super) fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Decodes a vector written by [`encode_vector`].
pub(super) fn decode_vector(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

pub(super) fn parse_granularity(value: &str) -> Result<Granularity> {
    value.parse().map_err(|e| MemoryError::Corrupt {
        reason: format!("stored unit has {e}"),
    })
}

const UNIT_COLUMNS: &str = "n.id, u.user_id, s.session_id, n.granularity, n.ordinal, n.text,
    n.event_time, n.created_at, n.updated_at, n.version, n.producer, u.tenant";

const UNIT_FROM: &str = "FROM units n JOIN sessions s ON s.id = n.session_pk
    JOIN users u ON u.id = n.user_pk";

/// A unit row before its granularity and ids are checked and its provenance attached.
struct RawUnit {
    unit_id: i64,
    tenant: String,
    user_id: String,
    session_id: String,
    granularity: String,
    ordinal: u32,
    text: String,
    event_time: i64,
    created_at: i64,
    updated_at: i64,
    version: u32,
    producer: String,
}

fn raw_unit(r: &Row<'_>) -> rusqlite::Result<RawUnit> {
    Ok(RawUnit {
        unit_id: r.get(0)?,
        tenant: r.get(11)?,
        user_id: r.get(1)?,
        session_id: r.get(2)?,
        granularity: r.get(3)?,
        ordinal: r.get(4)?,
        text: r.get(5)?,
        event_time: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        version: r.get(9)?,
        producer: r.get(10)?,
    })
}

fn turn_refs(conn: &Connection, unit: i64) -> Result<Vec<TurnRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.external_id, t.speaker, t.role, t.writer, t.channel
         FROM unit_turns ut JOIN turns t ON t.id = ut.turn_id
         WHERE ut.unit_id = ?1 ORDER BY t.position",
    )?;
    let rows = stmt.query_map([unit], |r| {
        Ok(TurnRef {
            turn_id: TurnId(r.get(0)?),
            external_id: r.get(1)?,
            speaker: r.get(2)?,
            role: Role::from_stored(&r.get::<_, String>(3)?),
            source: super::sessions::source_at(r, 4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn finish(conn: &Connection, raw: RawUnit) -> Result<Unit> {
    Ok(Unit {
        unit_id: UnitId(raw.unit_id),
        user_id: super::user_ref(raw.tenant, raw.user_id)?,
        session_id: SessionId::new(raw.session_id)?,
        granularity: parse_granularity(&raw.granularity)?,
        ordinal: raw.ordinal,
        text: raw.text,
        event_time: Timestamp(raw.event_time),
        created_at: Timestamp(raw.created_at),
        updated_at: Timestamp(raw.updated_at),
        version: raw.version,
        producer: Producer::from_stored(&raw.producer),
        turns: turn_refs(conn, raw.unit_id)?,
    })
}

/// A unit row as the derived indexes read it, before its ids and granularity are checked.
struct RawIndexed {
    unit_id: i64,
    tenant: String,
    user_id: String,
    session: i64,
    granularity: String,
    event_time: i64,
    text: String,
    embedding: Vec<u8>,
    first_position: u32,
    last_position: u32,
    speaker: Option<String>,
}

fn indexed_unit(r: &Row<'_>) -> rusqlite::Result<RawIndexed> {
    Ok(RawIndexed {
        unit_id: r.get(0)?,
        tenant: r.get(10)?,
        user_id: r.get(1)?,
        session: r.get(2)?,
        granularity: r.get(3)?,
        event_time: r.get(4)?,
        text: r.get(5)?,
        embedding: r.get(6)?,
        first_position: r.get::<_, Option<u32>>(7)?.unwrap_or(0),
        last_position: r.get::<_, Option<u32>>(8)?.unwrap_or(0),
        speaker: r.get(9)?,
    })
}

const INDEXED_SELECT: &str = "SELECT n.id, u.user_id, n.session_pk, n.granularity, n.event_time,
    n.text, n.embedding,
    (SELECT MIN(t.position) FROM unit_turns ut JOIN turns t ON t.id = ut.turn_id WHERE ut.unit_id = n.id),
    (SELECT MAX(t.position) FROM unit_turns ut JOIN turns t ON t.id = ut.turn_id WHERE ut.unit_id = n.id),
    CASE n.granularity WHEN 'turn' THEN
      (SELECT t.speaker FROM unit_turns ut JOIN turns t ON t.id = ut.turn_id WHERE ut.unit_id = n.id)
    END,
    u.tenant
    FROM units n JOIN users u ON u.id = n.user_pk";

/// One stored unit as the derived indexes see it, read in the caller's transaction.
pub(super) fn load_indexed(conn: &Connection, unit: UnitId) -> Result<Option<IndexedUnit>> {
    let sql = format!("{INDEXED_SELECT} WHERE n.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([unit.0], indexed_unit)
        .optional()?
        .map(to_indexed)
        .transpose()
}

fn to_indexed(row: RawIndexed) -> Result<IndexedUnit> {
    Ok(IndexedUnit {
        unit_id: UnitId(row.unit_id),
        user_id: super::user_ref(row.tenant, row.user_id)?,
        session_key: SessionKey(row.session),
        granularity: parse_granularity(&row.granularity)?,
        event_time: Timestamp(row.event_time),
        text: row.text,
        embedding: decode_vector(&row.embedding),
        first_position: row.first_position,
        last_position: row.last_position,
        speaker: row.speaker,
    })
}

impl SqliteStore {
    /// The stored embeddings of a session's units by text, to avoid embedding a text twice
    /// when the session is rebuilt.
    pub fn session_embeddings(&self, session: SessionKey) -> Result<HashMap<String, Vec<f32>>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT text, embedding FROM units WHERE session_pk = ?1")?;
            let rows = stmt.query_map([session.0], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    decode_vector(&r.get::<_, Vec<u8>>(1)?),
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many units of each granularity a session has.
    pub fn unit_counts(
        &self,
        session: SessionKey,
    ) -> Result<std::collections::BTreeMap<Granularity, usize>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT granularity, COUNT(*) FROM units WHERE session_pk = ?1 GROUP BY granularity",
            )?;
            let rows = stmt.query_map([session.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut out = std::collections::BTreeMap::new();
            for row in rows {
                let (g, n) = row?;
                out.insert(parse_granularity(&g)?, n as usize);
            }
            Ok(out)
        })
    }

    /// The turn unit of each of these turns (turns without one are left out).
    pub fn turn_units(&self, turns: &[TurnId]) -> Result<HashMap<TurnId, UnitId>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT n.id FROM unit_turns ut JOIN units n ON n.id = ut.unit_id
                 WHERE ut.turn_id = ?1 AND n.granularity = 'turn'",
            )?;
            let mut out = HashMap::with_capacity(turns.len());
            for &turn in turns {
                if let Some(unit) = stmt.query_row([turn.0], |r| r.get(0)).optional()? {
                    out.insert(turn, UnitId(unit));
                }
            }
            Ok(out)
        })
    }

    /// One unit of a user, with its provenance.
    pub fn get_unit(&self, user: &UserRef, unit: UnitId) -> Result<Unit> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let sql =
                format!("SELECT {UNIT_COLUMNS} {UNIT_FROM} WHERE n.id = ?1 AND n.user_pk = ?2");
            let raw = conn
                .prepare_cached(&sql)?
                .query_row(params![unit.0, user_pk], raw_unit)
                .optional()?
                .ok_or(MemoryError::UnitNotFound { unit_id: unit.0 })?;
            finish(conn, raw)
        })
    }

    /// The user's units with these ids, in the order asked; ids that do not exist are skipped.
    pub fn units_by_ids(&self, user: &UserRef, ids: &[UnitId]) -> Result<Vec<Unit>> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let sql =
                format!("SELECT {UNIT_COLUMNS} {UNIT_FROM} WHERE n.id = ?1 AND n.user_pk = ?2");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(raw) = stmt
                    .query_row(params![id.0, user_pk], raw_unit)
                    .optional()?
                {
                    out.push(finish(conn, raw)?);
                }
            }
            Ok(out)
        })
    }

    /// The ids of a user's units with a provenance turn the filter admits.
    pub fn units_from(&self, user: &UserRef, sources: &SourceFilter) -> Result<HashSet<UnitId>> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let (sql, args) = filter_sql(user_pk, sources);
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))?;
            Ok(rows
                .map(|id| id.map(UnitId))
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// A user's units matching the filter, in id order.
    pub fn list_units(&self, user: &UserRef, filter: &UnitFilter) -> Result<Vec<Unit>> {
        self.read(|conn| {
            let user_pk = require_user(conn, user)?;
            let sql = format!(
                "SELECT {UNIT_COLUMNS} {UNIT_FROM}
                 WHERE n.user_pk = ?1 AND n.id > ?2
                   AND (?3 IS NULL OR s.session_id = ?3)
                   AND (?4 IS NULL OR n.granularity = ?4)
                 ORDER BY n.id LIMIT ?5"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    user_pk,
                    filter.after.map_or(0, |u| u.0),
                    filter.session_id.as_ref().map(SessionId::as_str),
                    filter.granularity.map(Granularity::as_str),
                    filter.limit,
                ],
                raw_unit,
            )?;
            let raws = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(|raw| finish(conn, raw)).collect()
        })
    }

    /// The units with these ids as the derived indexes need them; missing ids are skipped.
    pub fn indexed_units(&self, ids: &[UnitId]) -> Result<Vec<IndexedUnit>> {
        self.read(|conn| {
            let sql = format!("{INDEXED_SELECT} WHERE n.id = ?1");
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(row) = stmt.query_row([id.0], indexed_unit).optional()? {
                    out.push(to_indexed(row)?);
                }
            }
            Ok(out)
        })
    }

    /// Calls `f` with every stored unit, in id order, in batches (to rebuild derived indexes).
    pub fn for_each_indexed_unit(
        &self,
        batch: usize,
        mut f: impl FnMut(Vec<IndexedUnit>) -> Result<()>,
    ) -> Result<()> {
        let mut after = 0i64;
        loop {
            let rows = self.read(|conn| {
                let sql = format!("{INDEXED_SELECT} WHERE n.id > ?1 ORDER BY n.id LIMIT ?2");
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![after, batch as i64], indexed_unit)?;
                let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                rows.into_iter().map(to_indexed).collect::<Result<Vec<_>>>()
            })?;
            let Some(last) = rows.last() else {
                return Ok(());
            };
            after = last.unit_id.0;
            f(rows)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_blobs() {
        let v = vec![0.0, -1.5, 3.25, f32::MIN_POSITIVE];
        assert_eq!(decode_vector(&encode_vector(&v)), v);
    }
}
