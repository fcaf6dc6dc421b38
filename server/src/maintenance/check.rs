//! The consistency check of a data directory (`mnemo check`): SQLite's own checks, every unit's
//! vector, the association edges, and the full-text index against the store; `repair` rebuilds
//! the derived indexes from the store.

use std::path::Path;

use memory::catalog::Catalog;
use memory::data_dir::DataDir;
use memory::graph_index::GraphIndex;
use memory::store::{SqliteStore, StoreFacts, facts, integrity_problems};
use memory::text_index::{TantivyIndex, TextInventory};
use memory::vector_index::ExactIndex;
use memory::{MemoryError, UnitId};

use super::{MaintenanceError, io};
use crate::engine::recovery;

/// One line of a check's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Something is wrong: the data directory is not consistent.
    Problem(String),
    /// Worth knowing, and taken care of at the next start (a pending session, an index that
    /// is behind).
    Note(String),
}

/// A check's report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Check {
    pub findings: Vec<Finding>,
    /// Units, sessions and the index-log head the store holds (0 when unreadable).
    pub units: i64,
    pub sessions: i64,
    pub index_log_head: i64,
}

impl Check {
    /// The problems, one line each.
    pub fn problems(&self) -> Vec<&str> {
        self.findings
            .iter()
            .filter_map(|f| match f {
                Finding::Problem(line) => Some(line.as_str()),
                Finding::Note(_) => None,
            })
            .collect()
    }

    pub fn is_clean(&self) -> bool {
        self.problems().is_empty()
    }

    fn problem(&mut self, line: impl Into<String>) {
        self.findings.push(Finding::Problem(line.into()));
    }

    fn note(&mut self, line: impl Into<String>) {
        self.findings.push(Finding::Note(line.into()));
    }
}

/// Checks `data_dir` without changing anything. A running server may have it open; a
/// difference that a second run does not repeat was a write in flight.
pub fn check(data_dir: &Path) -> Result<Check, MaintenanceError> {
    let dir = DataDir::new(data_dir);
    let mut check = Check::default();
    let store = dir.store();
    if !store.is_file() {
        check.problem(format!("{}: no store file", store.display()));
        return Ok(check);
    }
    // A store SQLite cannot read at all is one problem, not a failure of the check.
    match integrity_problems(&store) {
        Ok(lines) => lines.into_iter().for_each(|line| check.problem(line)),
        Err(e) => {
            check.problem(format!("{}: SQLite cannot read it: {e}", store.display()));
            return Ok(check);
        }
    }
    if check
        .problems()
        .iter()
        .any(|p| p.starts_with("sqlite integrity"))
    {
        // The rest reads rows SQLite has just called damaged.
        return Ok(check);
    }
    let facts = facts(&store)?;
    check.units = facts.summary.units;
    check.sessions = facts.summary.sessions;
    check.index_log_head = facts.summary.index_log_head;
    if !facts.summary.schema_known {
        check.problem(format!(
            "{}: schema version {} is newer than this mnemo knows",
            store.display(),
            facts.summary.schema_version
        ));
        return Ok(check);
    }
    for (unit, flaw) in &facts.bad_vectors {
        check.problem(format!("unit {}: {flaw}", unit.0));
    }
    for line in &facts.bad_edges {
        check.problem(line.clone());
    }
    check_text(&dir, &facts, &mut check)?;
    for (tenant, user, session) in &facts.pending {
        check.note(format!(
            "session {tenant}/{user}/{session} is pending: it is built at the next start"
        ));
    }
    Ok(check)
}

/// The full-text index against the store.
fn check_text(
    dir: &DataDir,
    facts: &StoreFacts,
    check: &mut Check,
) -> Result<(), MaintenanceError> {
    let text = dir.text();
    let head = facts.summary.index_log_head;
    let (applied, indexed) = match TantivyIndex::inventory(&text)? {
        TextInventory::Missing => {
            check.note(format!(
                "{}: no full-text index; it is built from the store at the next start",
                text.display()
            ));
            return Ok(());
        }
        TextInventory::Damaged(why) => {
            check.problem(format!(
                "{}: full-text index damaged ({why}); the next start or `mnemo check --repair` \
                 rebuilds it from the store",
                text.display()
            ));
            return Ok(());
        }
        TextInventory::Readable { applied, unit_ids } => (applied.unwrap_or(0), unit_ids),
    };
    if applied > head {
        check.problem(
            MemoryError::StoreBehindIndex {
                store: dir.store().display().to_string(),
                applied,
                head,
            }
            .to_string(),
        );
        return Ok(());
    }
    if applied < head {
        if facts
            .index_log_first
            .is_none_or(|first| first > applied + 1)
        {
            check.problem(format!(
                "the full-text index has applied index-log position {applied} but the log no \
                 longer holds the entries after it (it starts at {}): `mnemo check --repair` \
                 rebuilds the index",
                facts
                    .index_log_first
                    .map_or_else(|| "nothing".to_owned(), |f| f.to_string())
            ));
        } else {
            check.note(format!(
                "the full-text index is {} index-log entries behind the store; they are applied \
                 at the next start",
                head - applied
            ));
        }
        return Ok(());
    }
    compare_units(&facts.unit_ids, &indexed, check);
    Ok(())
}

/// Both lists sorted; `indexed` may repeat a unit.
fn compare_units(stored: &[UnitId], indexed: &[UnitId], check: &mut Check) {
    let (mut i, mut j) = (0, 0);
    while i < stored.len() || j < indexed.len() {
        match (stored.get(i), indexed.get(j)) {
            (Some(s), Some(x)) if s == x => {
                let mut copies = 0;
                while indexed.get(j) == Some(x) {
                    copies += 1;
                    j += 1;
                }
                if copies > 1 {
                    check.problem(format!("unit {} has {copies} full-text documents", s.0));
                }
                i += 1;
            }
            (Some(s), Some(x)) if s < x => {
                check.problem(format!("unit {} has no full-text document", s.0));
                i += 1;
            }
            (Some(s), None) => {
                check.problem(format!("unit {} has no full-text document", s.0));
                i += 1;
            }
            (_, Some(x)) => {
                check.problem(format!(
                    "the full-text index has a document of unit {}, which the store does not have",
                    x.0
                ));
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// Rebuilds the derived indexes of `data_dir` from its store (which no process may have open),
/// then checks it again. The store itself is not changed: when it is damaged (SQLite's checks,
/// a broken vector or edge) nothing is done and the damage is returned; restore a backup.
pub fn repair(data_dir: &Path) -> Result<Check, MaintenanceError> {
    let dir = DataDir::new(data_dir);
    let lock = dir.lock()?;
    let store_path = dir.store();
    let mut problems = integrity_problems(&store_path)?;
    let facts = facts(&store_path)?;
    problems.extend(
        facts
            .bad_vectors
            .iter()
            .map(|(unit, flaw)| format!("unit {}: {flaw}", unit.0)),
    );
    problems.extend(facts.bad_edges.iter().cloned());
    if !problems.is_empty() {
        // Derived indexes cannot be rebuilt from a store that is itself damaged.
        return Err(MaintenanceError::Damaged {
            path: store_path,
            problems,
        });
    }
    let text_dir = dir.text();
    if text_dir.exists() {
        std::fs::remove_dir_all(&text_dir).map_err(io(&text_dir))?;
    }
    {
        let store = SqliteStore::open(dir.root())?;
        let text = TantivyIndex::open(&text_dir)?;
        let vectors = ExactIndex::new(facts.dim.unwrap_or(1));
        recovery::load_indexes(
            &store,
            &vectors,
            &text,
            &Catalog::default(),
            &GraphIndex::default(),
        )
        .map_err(|e| match e {
            crate::Error::Memory(m) => MaintenanceError::Memory(m),
            other => MaintenanceError::Memory(MemoryError::Corrupt {
                reason: other.to_string(),
            }),
        })?;
    }
    drop(lock);
    check(data_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64]) -> Vec<UnitId> {
        v.iter().map(|&i| UnitId(i)).collect()
    }

    #[test]
    fn comparing_units_names_missing_extra_and_doubled_documents() {
        let mut check = Check::default();
        compare_units(&ids(&[1, 2, 3, 5]), &ids(&[1, 3, 3, 4, 5]), &mut check);
        assert_eq!(
            check.problems(),
            vec![
                "unit 2 has no full-text document",
                "unit 3 has 2 full-text documents",
                "the full-text index has a document of unit 4, which the store does not have",
            ]
        );
        let mut clean = Check::default();
        compare_units(&ids(&[1, 2]), &ids(&[1, 2]), &mut clean);
        assert!(clean.is_clean());
    }
}
