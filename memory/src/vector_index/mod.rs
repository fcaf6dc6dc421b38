//! The vector index: nearest units to a query vector, per user and granularity.

mod exact;

pub use exact::ExactIndex;

use std::collections::HashSet;

use crate::store::SessionKey;
use crate::{Granularity, Result, ScoredUnit, TimeRange, Timestamp, UnitId, UserRef};

/// One unit's vector with what searches filter on.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorEntry {
    pub unit_id: UnitId,
    pub session_key: SessionKey,
    pub granularity: Granularity,
    pub event_time: Timestamp,
    pub vector: Vec<f32>,
}

/// What to search for.
#[derive(Debug, Clone, Copy)]
pub struct VectorQuery<'a> {
    /// A unit-length query vector.
    pub vector: &'a [f32],
    /// Granularities to search; each gets its own ranked list.
    pub granularities: &'a [Granularity],
    pub time: TimeRange,
    /// Results per granularity (`usize::MAX` for all).
    pub k: usize,
    /// Leave out this session's units.
    pub exclude_session: Option<SessionKey>,
    /// Only these units (a filter resolved by the caller); `None` for all.
    pub only: Option<&'a HashSet<UnitId>>,
}

/// Nearest-neighbour search over units' vectors, partitioned by user.
pub trait VectorIndex: Send + Sync {
    /// The vector size the index holds.
    fn dim(&self) -> usize;

    /// Adds vectors of a user's units, replacing any with the same unit id.
    fn upsert(&self, user: &UserRef, entries: Vec<VectorEntry>) -> Result<()>;

    /// Removes every vector of a session; returns how many were removed.
    fn remove_session(&self, user: &UserRef, session: SessionKey) -> Result<usize>;

    /// Removes the vectors of these units; returns how many were removed.
    fn remove_units(&self, user: &UserRef, units: &[UnitId]) -> Result<usize>;

    /// The best units by dot product, per granularity in the order asked, best first.
    fn search(
        &self,
        user: &UserRef,
        query: &VectorQuery<'_>,
    ) -> Result<Vec<(Granularity, Vec<ScoredUnit>)>>;

    /// Vectors of a user per granularity.
    fn count(&self, user: &UserRef, granularity: Granularity) -> usize;

    /// Vectors held in all.
    fn len(&self) -> usize;

    /// Whether the index holds no vector.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sorts scored units best first (ties by unit id, for determinism) and keeps the best `k`.
pub fn top_k(mut scored: Vec<ScoredUnit>, k: usize) -> Vec<ScoredUnit> {
    let order = |a: &ScoredUnit, b: &ScoredUnit| {
        b.score.total_cmp(&a.score).then(a.unit_id.cmp(&b.unit_id))
    };
    if k < scored.len() {
        scored.select_nth_unstable_by(k, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored
}
