//! Format version 1 of the user archive: one JSON object per line, told apart by `type`.
//! Times are RFC 3339 strings with millisecond precision; units and statements carry the
//! exporting store's ids, which tie the lines together and mean nothing to the importing store.

use memory::persona::{StatementKind, StatementStatus};
use memory::store::UnitVersion;
use memory::store::archive::{
    ArchivedAudit, ArchivedEdge, ArchivedOverride, ArchivedSession, ArchivedStatement,
    ArchivedStatementVersion, ArchivedTurn, ArchivedUnit, ArchivedUnitHistory, StatementState,
    TurnPlace, UserArchive,
};
use memory::{
    Granularity, MemoryError, NewTurn, Producer, Role, SessionId, SessionStatus, Timestamp,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A time as RFC 3339, exact to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Time(pub(super) Timestamp);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&text)
            .map(Time)
            .map_err(serde::de::Error::custom)
    }
}

/// A line of the archive after the header.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Line {
    Session(Session),
    Statement(Statement),
    UnitHistory(UnitHistory),
    UnitOverride(UnitOverride),
    Edge(Edge),
    Audit(Audit),
    /// The last line: how many lines came before it, header included, so that a cut archive
    /// is noticed.
    End {
        lines: u64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Session {
    session_id: String,
    started_at: Time,
    title: Option<String>,
    status: SessionStatus,
    created_at: Time,
    updated_at: Time,
    turns: Vec<Turn>,
    units: Vec<Unit>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Turn {
    speaker: String,
    role: Role,
    text: String,
    timestamp: Option<Time>,
    external_id: Option<String>,
    caption: Option<String>,
    metadata: Option<serde_json::Value>,
    /// Who wrote it into the exporting store, and through which channel (for the record).
    writer: String,
    channel: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Unit {
    id: i64,
    granularity: Granularity,
    ordinal: u32,
    text: String,
    event_time: Time,
    producer: String,
    version: u32,
    created_at: Time,
    updated_at: Time,
    /// Positions of the turns it covers.
    turns: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Place {
    session_id: String,
    position: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct State {
    speaker: String,
    kind: StatementKind,
    slot: String,
    value: String,
    text: String,
    turns: Vec<Place>,
    confidence: f32,
    first_seen: Time,
    last_seen: Time,
    status: StatementStatus,
    version: u32,
    superseded_by: Option<i64>,
    evidence: u32,
    producer: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Statement {
    id: i64,
    anchor_session_id: Option<String>,
    #[serde(flatten)]
    state: State,
    created_at: Time,
    updated_at: Time,
    history: Vec<StatementVersion>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StatementVersion {
    version: u32,
    at: Time,
    actor: String,
    action: String,
    statement: State,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct UnitHistory {
    unit_id: i64,
    session_id: String,
    versions: Vec<Version>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Version {
    version: u32,
    at: Time,
    actor: String,
    action: String,
    producer: String,
    text: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct UnitOverride {
    session_id: String,
    granularity: Granularity,
    /// The position of the first turn the unit covers: its place in the session.
    first_turn: u32,
    unit_id: i64,
    action: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Edge {
    from: i64,
    to: i64,
    weight: f32,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Audit {
    at: Time,
    actor: String,
    action: String,
    session_id: Option<String>,
    unit_id: Option<i64>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

type Result<T> = std::result::Result<T, MemoryError>;

fn session_id(id: String) -> Result<SessionId> {
    SessionId::new(id).map_err(|e| MemoryError::InvalidArchive {
        reason: e.to_string(),
    })
}

fn place_out(p: &TurnPlace) -> Place {
    Place {
        session_id: p.session_id.to_string(),
        position: p.position,
    }
}

fn state_out(s: &StatementState) -> State {
    State {
        speaker: s.speaker.clone(),
        kind: s.kind,
        slot: s.slot.clone(),
        value: s.value.clone(),
        text: s.text.clone(),
        turns: s.turns.iter().map(place_out).collect(),
        confidence: s.confidence,
        first_seen: Time(s.first_seen),
        last_seen: Time(s.last_seen),
        status: s.status,
        version: s.version,
        superseded_by: s.superseded_by,
        evidence: s.evidence,
        producer: s.producer.to_stored(),
    }
}

fn state_in(s: State) -> Result<StatementState> {
    Ok(StatementState {
        turns: s
            .turns
            .into_iter()
            .map(|p| {
                Ok(TurnPlace {
                    session_id: session_id(p.session_id)?,
                    position: p.position,
                })
            })
            .collect::<Result<_>>()?,
        speaker: s.speaker,
        kind: s.kind,
        slot: s.slot,
        value: s.value,
        text: s.text,
        confidence: s.confidence,
        first_seen: s.first_seen.0,
        last_seen: s.last_seen.0,
        status: s.status,
        version: s.version,
        superseded_by: s.superseded_by,
        evidence: s.evidence,
        producer: Producer::from_stored(&s.producer),
    })
}

/// The archive's lines after the header, `End` excluded.
pub(super) fn lines(a: &UserArchive) -> Vec<Line> {
    let mut out = Vec::new();
    out.extend(a.sessions.iter().map(|s| {
        Line::Session(Session {
            session_id: s.session_id.to_string(),
            started_at: Time(s.started_at),
            title: s.title.clone(),
            status: s.status,
            created_at: Time(s.created_at),
            updated_at: Time(s.updated_at),
            turns: s
                .turns
                .iter()
                .map(|t| Turn {
                    speaker: t.turn.speaker.clone(),
                    role: t.turn.role,
                    text: t.turn.text.clone(),
                    timestamp: t.turn.timestamp.map(Time),
                    external_id: t.turn.external_id.clone(),
                    caption: t.turn.caption.clone(),
                    metadata: t.turn.metadata.clone(),
                    writer: t.writer.clone(),
                    channel: t.channel.clone(),
                })
                .collect(),
            units: s
                .units
                .iter()
                .map(|u| Unit {
                    id: u.key,
                    granularity: u.granularity,
                    ordinal: u.ordinal,
                    text: u.text.clone(),
                    event_time: Time(u.event_time),
                    producer: u.producer.to_stored(),
                    version: u.version,
                    created_at: Time(u.created_at),
                    updated_at: Time(u.updated_at),
                    turns: u.turns.clone(),
                })
                .collect(),
        })
    }));
    out.extend(a.statements.iter().map(|s| {
        Line::Statement(Statement {
            id: s.key,
            anchor_session_id: s.anchor.as_ref().map(ToString::to_string),
            state: state_out(&s.state),
            created_at: Time(s.created_at),
            updated_at: Time(s.updated_at),
            history: s
                .history
                .iter()
                .map(|v| StatementVersion {
                    version: v.version,
                    at: Time(v.at),
                    actor: v.actor.clone(),
                    action: v.action.clone(),
                    statement: state_out(&v.state),
                })
                .collect(),
        })
    }));
    out.extend(a.unit_histories.iter().map(|h| {
        Line::UnitHistory(UnitHistory {
            unit_id: h.key,
            session_id: h.session_id.to_string(),
            versions: h
                .versions
                .iter()
                .map(|v| Version {
                    version: v.version,
                    at: Time(v.at),
                    actor: v.actor.clone(),
                    action: v.action.clone(),
                    producer: v.producer.clone(),
                    text: v.text.clone(),
                })
                .collect(),
        })
    }));
    out.extend(a.overrides.iter().map(|o| {
        Line::UnitOverride(UnitOverride {
            session_id: o.session_id.to_string(),
            granularity: o.granularity,
            first_turn: o.first_turn,
            unit_id: o.key,
            action: o.action.clone(),
        })
    }));
    out.extend(a.edges.iter().map(|e| {
        Line::Edge(Edge {
            from: e.from,
            to: e.to,
            weight: e.weight,
        })
    }));
    out.extend(a.audit.iter().map(|e| {
        Line::Audit(Audit {
            at: Time(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            session_id: e.session_id.clone(),
            unit_id: e.unit_id,
            before: e.before.clone(),
            after: e.after.clone(),
        })
    }));
    out
}

/// Adds one line's record to the archive being read.
pub(super) fn absorb(a: &mut UserArchive, line: Line) -> Result<()> {
    match line {
        Line::Session(s) => {
            let sid = session_id(s.session_id)?;
            a.sessions.push(ArchivedSession {
                session_id: sid,
                started_at: s.started_at.0,
                title: s.title,
                status: s.status,
                created_at: s.created_at.0,
                updated_at: s.updated_at.0,
                turns: s
                    .turns
                    .into_iter()
                    .map(|t| ArchivedTurn {
                        turn: NewTurn {
                            speaker: t.speaker,
                            role: t.role,
                            text: t.text,
                            timestamp: t.timestamp.map(|t| t.0),
                            external_id: t.external_id,
                            caption: t.caption,
                            metadata: t.metadata,
                        },
                        writer: t.writer,
                        channel: t.channel,
                    })
                    .collect(),
                units: s
                    .units
                    .into_iter()
                    .map(|u| ArchivedUnit {
                        key: u.id,
                        granularity: u.granularity,
                        ordinal: u.ordinal,
                        text: u.text,
                        event_time: u.event_time.0,
                        producer: Producer::from_stored(&u.producer),
                        version: u.version,
                        created_at: u.created_at.0,
                        updated_at: u.updated_at.0,
                        turns: u.turns,
                    })
                    .collect(),
            });
        }
        Line::Statement(s) => {
            let history = s
                .history
                .into_iter()
                .map(|v| {
                    Ok(ArchivedStatementVersion {
                        version: v.version,
                        at: v.at.0,
                        actor: v.actor,
                        action: v.action,
                        state: state_in(v.statement)?,
                    })
                })
                .collect::<Result<_>>()?;
            a.statements.push(ArchivedStatement {
                key: s.id,
                anchor: s.anchor_session_id.map(session_id).transpose()?,
                state: state_in(s.state)?,
                created_at: s.created_at.0,
                updated_at: s.updated_at.0,
                history,
            });
        }
        Line::UnitHistory(h) => a.unit_histories.push(ArchivedUnitHistory {
            key: h.unit_id,
            session_id: session_id(h.session_id)?,
            versions: h
                .versions
                .into_iter()
                .map(|v| UnitVersion {
                    version: v.version,
                    at: v.at.0,
                    actor: v.actor,
                    action: v.action,
                    producer: v.producer,
                    text: v.text,
                })
                .collect(),
        }),
        Line::UnitOverride(o) => a.overrides.push(ArchivedOverride {
            session_id: session_id(o.session_id)?,
            granularity: o.granularity,
            first_turn: o.first_turn,
            key: o.unit_id,
            action: o.action,
        }),
        Line::Edge(e) => a.edges.push(ArchivedEdge {
            from: e.from,
            to: e.to,
            weight: e.weight,
        }),
        Line::Audit(e) => a.audit.push(ArchivedAudit {
            at: e.at.0,
            actor: e.actor,
            action: e.action,
            session_id: e.session_id,
            unit_id: e.unit_id,
            before: e.before,
            after: e.after,
        }),
        Line::End { .. } => {}
    }
    Ok(())
}
