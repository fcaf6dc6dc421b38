//! Start-up: load the vector index from the store and bring the full-text index up to date,
//! replaying the index log or rebuilding from scratch when the index is missing or ahead.

use std::collections::HashMap;

use memory::catalog::Catalog;
use memory::graph_index::GraphIndex;
use memory::store::{IndexOp, IndexedUnit, SqliteStore};
use memory::text_index::TextIndex;
use memory::vector_index::{VectorEntry, VectorIndex};
use memory::{UnitId, UserRef};
use tracing::{info, instrument, warn};

use crate::Result;

/// Units read from the store at a time.
const LOAD_BATCH: usize = 2_000;

fn upsert_vectors(vectors: &dyn VectorIndex, units: &[IndexedUnit]) -> Result<()> {
    let mut by_user: HashMap<&UserRef, Vec<VectorEntry>> = HashMap::new();
    for u in units {
        by_user.entry(&u.user_id).or_default().push(VectorEntry {
            unit_id: u.unit_id,
            session_key: u.session_key,
            granularity: u.granularity,
            event_time: u.event_time,
            vector: u.embedding.clone(),
        });
    }
    for (user, entries) in by_user {
        vectors.upsert(user, entries)?;
    }
    Ok(())
}

/// Loads every stored vector and makes the full-text index match the store.
#[instrument(skip_all)]
pub(crate) fn load_indexes(
    store: &SqliteStore,
    vectors: &dyn VectorIndex,
    text: &dyn TextIndex,
    catalog: &Catalog,
    graph: &GraphIndex,
) -> Result<()> {
    let head = store.index_log_head()?;
    let applied = text.applied_seq()?;
    let rebuild = match applied {
        None => true,
        // The index is derived from the store and written after it: an index ahead of the
        // store means the store lost commits. Rebuilding would make the loss silent.
        Some(seq) if seq > head => {
            return Err(memory::MemoryError::StoreBehindIndex {
                store: store.path().display().to_string(),
                applied: seq,
                head,
            }
            .into());
        }
        Some(_) => false,
    };
    if rebuild {
        text.clear()?;
    }
    let mut loaded = 0usize;
    store.for_each_indexed_unit(LOAD_BATCH, |units| {
        upsert_vectors(vectors, &units).map_err(|e| match e {
            crate::Error::Memory(m) => m,
            other => memory::MemoryError::Corrupt {
                reason: other.to_string(),
            },
        })?;
        let mut by_user: HashMap<&UserRef, Vec<IndexedUnit>> = HashMap::new();
        for u in &units {
            by_user.entry(&u.user_id).or_default().push(u.clone());
        }
        for (user, list) in by_user {
            catalog.upsert(user, &list)?;
        }
        if rebuild {
            text.add(&units)?;
        }
        loaded += units.len();
        Ok(())
    })?;
    let mut edges = 0usize;
    store.for_each_edge(LOAD_BATCH, |batch| {
        let mut by_user: HashMap<UserRef, Vec<memory::store::Edge>> = HashMap::new();
        for (user, e) in batch {
            by_user.entry(user).or_default().push(e);
        }
        for (user, list) in by_user {
            edges += list.len();
            graph.add(&user, &list)?;
        }
        Ok(())
    })?;
    match applied {
        Some(seq) if !rebuild && seq < head => replay(store, text, seq)?,
        _ => {}
    }
    if rebuild || applied != Some(head) {
        text.commit(head)?;
    }
    store.truncate_index_log(head)?;
    info!(
        units = loaded,
        rebuilt_text_index = rebuild,
        "indexes loaded"
    );
    Ok(())
}

/// Applies the log entries after `seq` to the full-text index, in order.
fn replay(store: &SqliteStore, text: &dyn TextIndex, seq: i64) -> Result<()> {
    let entries = store.index_log_since(seq)?;
    info!(entries = entries.len(), "replaying the full-text index log");
    let mut adds: Vec<UnitId> = Vec::new();
    let flush = |adds: &mut Vec<UnitId>| -> Result<()> {
        if !adds.is_empty() {
            text.add(&store.indexed_units(adds)?)?;
            adds.clear();
        }
        Ok(())
    };
    for (_, op) in entries {
        match op {
            IndexOp::AddUnit(unit) => adds.push(unit),
            IndexOp::DeleteSession(session) => {
                flush(&mut adds)?;
                text.delete_session(session)?;
            }
            IndexOp::DeleteUnit(unit) => {
                flush(&mut adds)?;
                text.delete_unit(unit)?;
            }
        }
    }
    flush(&mut adds)
}
