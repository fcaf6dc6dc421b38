//! The association graph: undirected weighted edges between a user's units, kept in memory for
//! graph propagation at search time and loaded from the record store at start.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use crate::store::Edge;
use crate::{MemoryError, Result, UnitId, UserRef};

/// Adjacency lists of one user's units, each sorted by neighbour id.
pub type Adjacency = HashMap<UnitId, Vec<(UnitId, f32)>>;

/// Every user's association graph.
#[derive(Debug, Default)]
pub struct GraphIndex {
    users: RwLock<HashMap<UserRef, Adjacency>>,
}

fn poisoned() -> MemoryError {
    MemoryError::Corrupt {
        reason: "graph lock poisoned by an earlier panic".to_owned(),
    }
}

impl GraphIndex {
    /// Adds edges in both directions (an existing edge keeps the larger weight).
    pub fn add(&self, user: &UserRef, edges: &[Edge]) -> Result<()> {
        let mut users = self.users.write().map_err(|_| poisoned())?;
        let adjacency = users.entry(user.clone()).or_default();
        for e in edges {
            for (a, b) in [(e.from, e.to), (e.to, e.from)] {
                // Lists stay sorted by neighbour, so that sums over them are reproducible.
                let list = adjacency.entry(a).or_default();
                match list.binary_search_by_key(&b, |(n, _)| *n) {
                    Ok(i) => list[i].1 = list[i].1.max(e.weight),
                    Err(i) => list.insert(i, (b, e.weight)),
                }
            }
        }
        Ok(())
    }

    /// Removes units and every edge touching them.
    pub fn remove_units(&self, user: &UserRef, units: &[UnitId]) -> Result<()> {
        let mut users = self.users.write().map_err(|_| poisoned())?;
        let Some(adjacency) = users.get_mut(user) else {
            return Ok(());
        };
        let gone: HashSet<UnitId> = units.iter().copied().collect();
        let mut touched: HashSet<UnitId> = HashSet::new();
        for id in &gone {
            if let Some(list) = adjacency.remove(id) {
                touched.extend(list.into_iter().map(|(n, _)| n));
            }
        }
        for id in touched {
            if let Some(list) = adjacency.get_mut(&id) {
                list.retain(|(n, _)| !gone.contains(n));
                if list.is_empty() {
                    adjacency.remove(&id);
                }
            }
        }
        Ok(())
    }

    /// The users with an adjacency list, perhaps emptied by removals.
    pub fn users(&self) -> Result<Vec<UserRef>> {
        let users = self.users.read().map_err(|_| poisoned())?;
        Ok(users.keys().cloned().collect())
    }

    /// Runs `f` with a user's adjacency lists (empty when the user has none).
    pub fn with_user<T>(&self, user: &UserRef, f: impl FnOnce(&Adjacency) -> T) -> Result<T> {
        let users = self.users.read().map_err(|_| poisoned())?;
        let empty = Adjacency::new();
        Ok(f(users.get(user).unwrap_or(&empty)))
    }

    /// Undirected edges of a user.
    pub fn edge_count(&self, user: &UserRef) -> usize {
        self.users
            .read()
            .map(|u| {
                u.get(user)
                    .map_or(0, |a| a.values().map(Vec::len).sum::<usize>() / 2)
            })
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: i64, b: i64, w: f32) -> Edge {
        Edge {
            from: UnitId(a),
            to: UnitId(b),
            weight: w,
        }
    }

    #[test]
    fn edges_are_undirected_and_removed_with_their_units() {
        let graph = GraphIndex::default();
        let u = UserRef::of_default(crate::UserId::new("u").unwrap());
        graph
            .add(&u, &[edge(1, 2, 0.5), edge(2, 3, 0.7), edge(2, 1, 0.9)])
            .unwrap();
        assert_eq!(graph.edge_count(&u), 2);
        let w = graph.with_user(&u, |a| a[&UnitId(1)].clone()).unwrap();
        assert_eq!(w, vec![(UnitId(2), 0.9)]);
        graph.remove_units(&u, &[UnitId(2)]).unwrap();
        assert_eq!(graph.edge_count(&u), 0);
        assert!(graph.with_user(&u, |a| a.is_empty()).unwrap());
    }
}
