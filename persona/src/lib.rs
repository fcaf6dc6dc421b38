//! mnemo's persona layer: statements about each user and speaker, with provenance.
//!
//! The pure logic lives here: [`extract()`] turns dialogue turns into candidate
//! statements (offline, deterministic), [`merge()`] plans how candidates join the
//! stored statements (insert, reinforce or supersede, never silently overwriting), and
//! [`render_summary`] writes a short paragraph per speaker.

pub mod extract;
pub mod merge;
pub mod model;
pub mod render;
mod rewrite;

pub use extract::{TurnInput, extract};
pub use memory::persona::{
    MergePlan, Reinforcement, Statement, StatementEdit, StatementKind, StatementRef,
    StatementStatus, StatementVersion, Supersession, UnknownStatementKind, UnknownStatementStatus,
};
pub use merge::{is_exclusive_slot, jaccard, merge};
pub use model::Candidate;
pub use render::render_summary;
