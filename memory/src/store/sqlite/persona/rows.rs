//! Reading statements back from `persona_statements` and `statement_turns`.

use rusqlite::{Connection, Row};

use crate::persona::Statement;
use crate::{MemoryError, Producer, Result, Timestamp, TurnId};

const COLUMNS: &str = "id, speaker, kind, slot, value, text, confidence, first_seen, last_seen,
    status, version, superseded_by, evidence, producer";

struct RawStatement {
    id: i64,
    speaker: String,
    kind: String,
    slot: String,
    value: String,
    text: String,
    confidence: f64,
    first_seen: i64,
    last_seen: i64,
    status: String,
    version: u32,
    superseded_by: Option<i64>,
    evidence: u32,
    producer: String,
}

fn raw_statement(r: &Row<'_>) -> rusqlite::Result<RawStatement> {
    Ok(RawStatement {
        id: r.get(0)?,
        speaker: r.get(1)?,
        kind: r.get(2)?,
        slot: r.get(3)?,
        value: r.get(4)?,
        text: r.get(5)?,
        confidence: r.get(6)?,
        first_seen: r.get(7)?,
        last_seen: r.get(8)?,
        status: r.get(9)?,
        version: r.get(10)?,
        superseded_by: r.get(11)?,
        evidence: r.get(12)?,
        producer: r.get(13)?,
    })
}

fn finish(conn: &Connection, raw: RawStatement) -> Result<Statement> {
    let corrupt = |reason: String| MemoryError::Corrupt { reason };
    let turns: Vec<TurnId> = conn
        .prepare_cached(
            "SELECT turn_id FROM statement_turns WHERE statement_id = ?1 ORDER BY turn_id",
        )?
        .query_map([raw.id], |r| Ok(TurnId(r.get(0)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Statement {
        id: raw.id,
        speaker: raw.speaker,
        kind: raw.kind.parse().map_err(|e| corrupt(format!("{e}")))?,
        slot: raw.slot,
        value: raw.value,
        text: raw.text,
        turns,
        confidence: raw.confidence as f32,
        first_seen: Timestamp(raw.first_seen),
        last_seen: Timestamp(raw.last_seen),
        status: raw.status.parse().map_err(|e| corrupt(format!("{e}")))?,
        version: raw.version,
        superseded_by: raw.superseded_by,
        evidence: raw.evidence,
        producer: Producer::from_stored(&raw.producer),
    })
}

/// Statements matching a `WHERE` clause over `persona_statements`, by id.
pub(in crate::store::sqlite) fn select(
    conn: &Connection,
    clause: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Statement>> {
    let sql = format!("SELECT {COLUMNS} FROM persona_statements WHERE {clause} ORDER BY id");
    let raws: Vec<RawStatement> = conn
        .prepare_cached(&sql)?
        .query_map(args, raw_statement)?
        .collect::<rusqlite::Result<_>>()?;
    raws.into_iter().map(|raw| finish(conn, raw)).collect()
}

/// A statement of a user, deleted ones included.
pub(super) fn load_one(conn: &Connection, user_pk: i64, id: i64) -> Result<Statement> {
    select(conn, "user_pk = ?1 AND id = ?2", &[&user_pk, &id])?
        .pop()
        .ok_or(MemoryError::StatementNotFound { statement_id: id })
}
