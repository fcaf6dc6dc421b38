//! mnemo's memory layer: the data model, durable storage, derived indexes, embedding and unit building.
//!
//! Nothing here knows about HTTP or reads the environment or the wall clock: callers pass
//! configuration and `now` in. Storage is reached through traits so that backends are chosen by
//! configuration (see [`store`], [`text_index`], [`vector_index`]).

pub mod build;
pub mod catalog;
mod content_id;
pub mod data_dir;
pub mod embed;
mod error;
pub mod graph_index;
mod ids;
pub mod llm;
mod model;
pub mod persona;
mod provenance;
pub mod store;
pub mod tenancy;
pub mod text_index;
pub mod time;
pub mod validate;
pub mod vector_index;

pub use content_id::content_session_id;
pub use error::{ErrorKind, MemoryError, Result};
pub use ids::{SessionId, TenantId, TurnId, UnitId, UserId, UserRef};
pub use model::{
    Granularity, NewSession, NewTurn, Producer, Role, ScoredUnit, SessionDraft, SessionRecord,
    SessionStatus, SessionSummary, TimeRange, TurnRecord, TurnRef, Unit, UnitDraft, UnitFilter,
    UnknownGranularity,
};
pub use provenance::{Channel, Source, SourceFilter};
pub use time::Timestamp;
