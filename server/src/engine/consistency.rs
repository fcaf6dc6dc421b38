//! The engine's in-memory indexes against its store, for the tests after every fault and for
//! anyone embedding the engine: every unit the store holds is in the catalog and the vector
//! index under its session and granularity and nothing else is, and the association graph holds
//! exactly the store's edges. `mnemo check` covers what is on disk; this covers what a running
//! engine derived from it.

use std::collections::{BTreeMap, BTreeSet};

use memory::store::{IndexedUnit, SessionKey};
use memory::vector_index::VectorQuery;
use memory::{Granularity, TimeRange, UnitId, UserRef};

use super::{Engine, Result, Shared, blocking};

/// Units read from the store at a time.
const BATCH: usize = 2_000;

/// A unit's session and granularity.
type Placement = (SessionKey, Granularity);

/// How an index files a unit, for comparing and for the report.
fn catalogued(p: &Placement) -> String {
    format!("session {} as {:?}", p.0.0, p.1)
}

/// What the store says each user has.
#[derive(Default)]
struct Expected {
    units: BTreeMap<UserRef, BTreeMap<UnitId, Placement>>,
    /// Undirected edges, the smaller unit id first.
    edges: BTreeMap<UserRef, BTreeSet<(UnitId, UnitId)>>,
}

fn expected(shared: &Shared) -> Result<Expected> {
    let mut want = Expected::default();
    shared
        .store
        .for_each_indexed_unit(BATCH, |units: Vec<IndexedUnit>| {
            for u in units {
                want.units
                    .entry(u.user_id)
                    .or_default()
                    .insert(u.unit_id, (u.session_key, u.granularity));
            }
            Ok(())
        })?;
    shared.store.for_each_edge(BATCH, |edges| {
        for (user, e) in edges {
            want.edges
                .entry(user)
                .or_default()
                .insert((e.from.min(e.to), e.from.max(e.to)));
        }
        Ok(())
    })?;
    Ok(want)
}

/// Lines for the units `have` and `want` disagree on, in one index; both describe each unit
/// the way that index files it.
fn compare(
    index: &str,
    user: &UserRef,
    have: &BTreeMap<UnitId, String>,
    want: &BTreeMap<UnitId, String>,
    problems: &mut Vec<String>,
) {
    for (id, placed) in want {
        match have.get(id) {
            None => problems.push(format!("{index}: user {user}: unit {} is missing", id.0)),
            Some(p) if p != placed => problems.push(format!(
                "{index}: user {user}: unit {} is filed as {p}, the store says {placed}",
                id.0
            )),
            Some(_) => {}
        }
    }
    for id in have.keys().filter(|id| !want.contains_key(id)) {
        problems.push(format!(
            "{index}: user {user}: unit {} is not in the store",
            id.0
        ));
    }
}

fn check(shared: &Shared) -> Result<Vec<String>> {
    let want = expected(shared)?;
    let mut users: BTreeSet<UserRef> = want.units.keys().cloned().collect();
    users.extend(want.edges.keys().cloned());
    users.extend(shared.catalog.users()?);
    users.extend(shared.graph.users()?);
    let none = BTreeMap::new();
    let mut problems = Vec::new();
    for user in &users {
        let stored = want.units.get(user).unwrap_or(&none);
        let in_catalog: BTreeMap<UnitId, String> = shared.catalog.with_user(user, |c| {
            c.units()
                .map(|m| (m.unit_id, catalogued(&(m.session_key, m.granularity))))
                .collect()
        })?;
        let expected: BTreeMap<UnitId, String> =
            stored.iter().map(|(id, p)| (*id, catalogued(p))).collect();
        compare("catalog", user, &in_catalog, &expected, &mut problems);

        // Every vector of the user: a zero query scores all of them alike.
        let zero = vec![0.0; shared.vectors.dim()];
        let all = VectorQuery {
            vector: &zero,
            granularities: &Granularity::ALL,
            time: TimeRange::default(),
            k: usize::MAX,
            exclude_session: None,
            only: None,
        };
        let mut vectors: BTreeMap<UnitId, String> = BTreeMap::new();
        for (granularity, hits) in shared.vectors.search(user, &all)? {
            for hit in hits {
                vectors.insert(hit.unit_id, format!("{granularity:?}"));
            }
        }
        let expected: BTreeMap<UnitId, String> = stored
            .iter()
            .map(|(id, p)| (*id, format!("{:?}", p.1)))
            .collect();
        compare("vector index", user, &vectors, &expected, &mut problems);

        let linked: BTreeSet<(UnitId, UnitId)> = shared.graph.with_user(user, |adjacency| {
            adjacency
                .iter()
                .flat_map(|(a, list)| list.iter().map(move |(b, _)| ((*a).min(*b), (*a).max(*b))))
                .collect()
        })?;
        let edges = want.edges.get(user).cloned().unwrap_or_default();
        for (a, b) in edges.difference(&linked) {
            problems.push(format!(
                "association graph: user {user}: the edge {}-{} is missing",
                a.0, b.0
            ));
        }
        for (a, b) in linked.difference(&edges) {
            problems.push(format!(
                "association graph: user {user}: the edge {}-{} is not in the store",
                a.0, b.0
            ));
        }
    }
    Ok(problems)
}

impl Engine {
    /// Compares the catalog, the vector index and the association graph with the store, after
    /// building whatever is queued; one line per disagreement, none when they agree. Reads
    /// every unit, so it is for tests and maintenance, not for every request.
    pub async fn check_indexes(&self) -> Result<Vec<String>> {
        self.flush().await?;
        let shared = self.shared();
        blocking(move || check(&shared)).await
    }
}
