//! The embedded vector index: an exact scan over each user's vectors, kept in memory and
//! loaded from the record store at start. At per-user scale (thousands of units) a scan is
//! exact and takes well under a millisecond.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use super::{VectorEntry, VectorIndex, VectorQuery, top_k};
use crate::embed::dot;
use crate::store::SessionKey;
use crate::{Granularity, MemoryError, Result, ScoredUnit, UnitId, UserRef};

/// The vectors of one user and granularity, stored contiguously for a cache-friendly scan.
#[derive(Debug, Default)]
struct Partition {
    ids: Vec<crate::UnitId>,
    sessions: Vec<SessionKey>,
    times: Vec<crate::Timestamp>,
    data: Vec<f32>,
}

impl Partition {
    fn remove_where(&mut self, dim: usize, mut doomed: impl FnMut(usize) -> bool) -> usize {
        let mut kept = 0;
        let before = self.ids.len();
        for i in 0..before {
            if doomed(i) {
                continue;
            }
            if kept != i {
                self.ids[kept] = self.ids[i];
                self.sessions[kept] = self.sessions[i];
                self.times[kept] = self.times[i];
                self.data.copy_within(i * dim..(i + 1) * dim, kept * dim);
            }
            kept += 1;
        }
        self.ids.truncate(kept);
        self.sessions.truncate(kept);
        self.times.truncate(kept);
        self.data.truncate(kept * dim);
        before - kept
    }
}

type UserPartitions = HashMap<Granularity, Partition>;

/// Exact in-memory vector index.
#[derive(Debug)]
pub struct ExactIndex {
    dim: usize,
    users: RwLock<HashMap<UserRef, UserPartitions>>,
}

impl ExactIndex {
    /// An empty index for vectors of `dim` dimensions.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            users: RwLock::new(HashMap::new()),
        }
    }

    fn poisoned() -> MemoryError {
        MemoryError::Corrupt {
            reason: "vector index lock poisoned by an earlier panic".to_owned(),
        }
    }
}

impl VectorIndex for ExactIndex {
    fn dim(&self) -> usize {
        self.dim
    }

    fn upsert(&self, user: &UserRef, entries: Vec<VectorEntry>) -> Result<()> {
        if let Some(bad) = entries.iter().find(|e| e.vector.len() != self.dim) {
            return Err(MemoryError::DimensionMismatch {
                expected: self.dim,
                got: bad.vector.len(),
            });
        }
        let mut users = self.users.write().map_err(|_| Self::poisoned())?;
        let partitions = users.entry(user.clone()).or_default();
        // A unit keeps its id across rebuilds and edits, so any id may be a re-upsert: one pass
        // per partition drops the old vectors of the ids given.
        let replaced: HashSet<UnitId> = entries.iter().map(|e| e.unit_id).collect();
        for p in partitions.values_mut() {
            if p.ids.iter().any(|id| replaced.contains(id)) {
                let ids = p.ids.clone();
                p.remove_where(self.dim, |i| replaced.contains(&ids[i]));
            }
        }
        for entry in entries {
            let p = partitions.entry(entry.granularity).or_default();
            p.ids.push(entry.unit_id);
            p.sessions.push(entry.session_key);
            p.times.push(entry.event_time);
            p.data.extend_from_slice(&entry.vector);
        }
        Ok(())
    }

    fn remove_session(&self, user: &UserRef, session: SessionKey) -> Result<usize> {
        let mut users = self.users.write().map_err(|_| Self::poisoned())?;
        let Some(partitions) = users.get_mut(user) else {
            return Ok(0);
        };
        let mut removed = 0;
        for p in partitions.values_mut() {
            let sessions = p.sessions.clone();
            removed += p.remove_where(self.dim, |i| sessions[i] == session);
        }
        partitions.retain(|_, p| !p.ids.is_empty());
        if partitions.is_empty() {
            users.remove(user);
        }
        Ok(removed)
    }

    fn remove_units(&self, user: &UserRef, units: &[UnitId]) -> Result<usize> {
        let mut users = self.users.write().map_err(|_| Self::poisoned())?;
        let Some(partitions) = users.get_mut(user) else {
            return Ok(0);
        };
        let doomed: HashSet<UnitId> = units.iter().copied().collect();
        let mut removed = 0;
        for p in partitions.values_mut() {
            let ids = p.ids.clone();
            removed += p.remove_where(self.dim, |i| doomed.contains(&ids[i]));
        }
        partitions.retain(|_, p| !p.ids.is_empty());
        if partitions.is_empty() {
            users.remove(user);
        }
        Ok(removed)
    }

    fn search(
        &self,
        user: &UserRef,
        query: &VectorQuery<'_>,
    ) -> Result<Vec<(Granularity, Vec<ScoredUnit>)>> {
        if query.vector.len() != self.dim {
            return Err(MemoryError::DimensionMismatch {
                expected: self.dim,
                got: query.vector.len(),
            });
        }
        let users = self.users.read().map_err(|_| Self::poisoned())?;
        let partitions = users.get(user);
        let mut out = Vec::with_capacity(query.granularities.len());
        for &g in query.granularities {
            let Some(p) = partitions.and_then(|ps| ps.get(&g)) else {
                out.push((g, Vec::new()));
                continue;
            };
            let scored: Vec<ScoredUnit> = p
                .data
                .chunks_exact(self.dim)
                .enumerate()
                .filter(|(i, _)| query.time.contains(p.times[*i]))
                .filter(|(i, _)| query.exclude_session != Some(p.sessions[*i]))
                .filter(|(i, _)| query.only.is_none_or(|only| only.contains(&p.ids[*i])))
                .map(|(i, v)| ScoredUnit {
                    unit_id: p.ids[i],
                    score: dot(query.vector, v),
                })
                .collect();
            out.push((g, top_k(scored, query.k)));
        }
        Ok(out)
    }

    fn count(&self, user: &UserRef, granularity: Granularity) -> usize {
        self.users
            .read()
            .ok()
            .and_then(|u| {
                u.get(user)
                    .and_then(|ps| ps.get(&granularity))
                    .map(|p| p.ids.len())
            })
            .unwrap_or(0)
    }

    fn len(&self) -> usize {
        self.users
            .read()
            .map(|u| {
                u.values()
                    .flat_map(|ps| ps.values())
                    .map(|p| p.ids.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TimeRange, Timestamp, UnitId};

    fn entry(id: i64, session: i64, g: Granularity, t: i64, v: [f32; 2]) -> VectorEntry {
        VectorEntry {
            unit_id: UnitId(id),
            session_key: SessionKey(session),
            granularity: g,
            event_time: Timestamp(t),
            vector: v.to_vec(),
        }
    }

    fn ids(hits: &[(Granularity, Vec<ScoredUnit>)], g: usize) -> Vec<i64> {
        hits[g].1.iter().map(|s| s.unit_id.0).collect()
    }

    #[test]
    fn search_ranks_filters_and_removes() {
        let index = ExactIndex::new(2);
        let ann = UserRef::of_default(crate::UserId::new("ann").unwrap());
        let bob = UserRef::of_default(crate::UserId::new("bob").unwrap());
        index
            .upsert(
                &ann,
                vec![
                    entry(1, 10, Granularity::Turn, 100, [1.0, 0.0]),
                    entry(2, 10, Granularity::Turn, 200, [0.6, 0.8]),
                    entry(3, 11, Granularity::Turn, 300, [0.0, 1.0]),
                    entry(4, 11, Granularity::Session, 300, [0.8, 0.6]),
                ],
            )
            .unwrap();
        index
            .upsert(&bob, vec![entry(5, 12, Granularity::Turn, 100, [1.0, 0.0])])
            .unwrap();
        let query = |time: TimeRange, k: usize| VectorQuery {
            vector: &[1.0, 0.0],
            granularities: &[Granularity::Turn, Granularity::Session],
            time,
            k,
            exclude_session: None,
            only: None,
        };
        let hits = index
            .search(&ann, &query(TimeRange::default(), 10))
            .unwrap();
        assert_eq!(ids(&hits, 0), vec![1, 2, 3]);
        let some: std::collections::HashSet<UnitId> = [UnitId(1), UnitId(3)].into();
        let only = VectorQuery {
            only: Some(&some),
            ..query(TimeRange::default(), 10)
        };
        assert_eq!(ids(&index.search(&ann, &only).unwrap(), 0), vec![1, 3]);
        assert_eq!(ids(&hits, 1), vec![4]);
        let hits = index.search(&ann, &query(TimeRange::default(), 2)).unwrap();
        assert_eq!(ids(&hits, 0), vec![1, 2]);
        let late = TimeRange {
            from: Some(Timestamp(150)),
            to: Some(Timestamp(300)),
        };
        assert_eq!(
            ids(&index.search(&ann, &query(late, 10)).unwrap(), 0),
            vec![2]
        );

        assert_eq!(index.remove_session(&ann, SessionKey(10)).unwrap(), 2);
        let hits = index
            .search(&ann, &query(TimeRange::default(), 10))
            .unwrap();
        assert_eq!(ids(&hits, 0), vec![3]);
        assert_eq!(index.len(), 3);
        assert!(
            index
                .upsert(
                    &ann,
                    vec![
                        entry(6, 1, Granularity::Turn, 0, [1.0, 0.0]),
                        VectorEntry {
                            vector: vec![1.0],
                            ..entry(7, 1, Granularity::Turn, 0, [0.0, 0.0])
                        }
                    ]
                )
                .is_err()
        );
    }
}
