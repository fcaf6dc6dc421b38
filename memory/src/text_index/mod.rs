//! The full-text index: BM25 over unit texts, per user and granularity.

mod tantivy;

pub use self::tantivy::{TantivyIndex, TextInventory};

use std::collections::HashSet;

use crate::store::{IndexedUnit, SessionKey};
use crate::{Granularity, Result, ScoredUnit, TimeRange, UnitId, UserRef};

/// What to search for.
#[derive(Debug, Clone, Copy)]
pub struct TextQuery<'a> {
    /// Free text; analysed like the indexed texts, so no query syntax applies.
    pub text: &'a str,
    /// Granularities to search; each gets its own ranked list.
    pub granularities: &'a [Granularity],
    pub time: TimeRange,
    /// Results per granularity.
    pub k: usize,
    /// Only these units (a filter resolved by the caller); `None` for all.
    pub only: Option<&'a HashSet<UnitId>>,
}

/// A lexical index derived from the record store. Writes are buffered until [`TextIndex::commit`],
/// which records how far through the store's index log the index is.
pub trait TextIndex: Send + Sync {
    /// Buffers units for indexing, replacing any with the same unit id.
    fn add(&self, units: &[IndexedUnit]) -> Result<()>;

    /// Buffers the removal of every unit of a session.
    fn delete_session(&self, session: SessionKey) -> Result<()>;

    /// Buffers the removal of one unit.
    fn delete_unit(&self, unit: UnitId) -> Result<()>;

    /// Removes everything (before a full rebuild).
    fn clear(&self) -> Result<()>;

    /// Makes buffered changes durable and visible, recording `applied_seq` as applied.
    fn commit(&self, applied_seq: i64) -> Result<()>;

    /// Rewrites the committed segments that hold deleted documents without them and removes
    /// the old segments' files, so that deleted text is gone from disk, not only marked
    /// deleted. Returns how many segments were rewritten.
    fn purge_deleted(&self) -> Result<u64>;

    /// The index log position of the last commit, or `None` if the index has never committed.
    fn applied_seq(&self) -> Result<Option<i64>>;

    /// The best units by BM25, per granularity in the order asked, best first.
    fn search(
        &self,
        user: &UserRef,
        query: &TextQuery<'_>,
    ) -> Result<Vec<(Granularity, Vec<ScoredUnit>)>>;

    /// Committed documents in all.
    fn doc_count(&self) -> Result<u64>;
}
