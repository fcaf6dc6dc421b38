//! Personalised PageRank over a user's association graph, by power iteration.

use std::collections::{BTreeMap, HashMap};

use memory::UnitId;
use memory::graph_index::Adjacency;

/// Stationary scores of a random walk that restarts at the seeds (in proportion to their
/// weights) with probability `restart` at each step and otherwise follows an edge in proportion
/// to its weight. Walkers at a node without edges restart. The scores sum to 1. Mass is
/// summed in unit-id order, so equal inputs give bit-identical scores.
pub fn personalized_pagerank(
    graph: &Adjacency,
    seeds: &HashMap<UnitId, f32>,
    restart: f32,
    iterations: usize,
) -> HashMap<UnitId, f32> {
    let positive: BTreeMap<UnitId, f32> = seeds
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .map(|(u, w)| (*u, *w))
        .collect();
    let total: f32 = positive.values().sum();
    if total <= 0.0 {
        return HashMap::new();
    }
    let reset: BTreeMap<UnitId, f32> = positive.iter().map(|(u, w)| (*u, w / total)).collect();
    let degree: HashMap<UnitId, f32> = graph
        .iter()
        .map(|(u, list)| (*u, list.iter().map(|(_, w)| w).sum()))
        .collect();
    let mut scores = reset.clone();
    for _ in 0..iterations {
        let mut next: BTreeMap<UnitId, f32> = BTreeMap::new();
        let mut stuck = 0.0;
        for (&u, &mass) in &scores {
            match (graph.get(&u), degree.get(&u)) {
                (Some(list), Some(&d)) if d > 0.0 => {
                    for &(v, w) in list {
                        *next.entry(v).or_default() += (1.0 - restart) * mass * w / d;
                    }
                }
                _ => stuck += (1.0 - restart) * mass,
            }
        }
        for (&u, &r) in &reset {
            *next.entry(u).or_default() += (restart + stuck) * r;
        }
        let change: f32 = next
            .iter()
            .map(|(u, v)| (v - scores.get(u).copied().unwrap_or(0.0)).abs())
            .sum();
        scores = next;
        if change < 1e-6 {
            break;
        }
    }
    scores.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(i64, i64, f32)]) -> Adjacency {
        let mut g = Adjacency::new();
        for &(a, b, w) in edges {
            g.entry(UnitId(a)).or_default().push((UnitId(b), w));
            g.entry(UnitId(b)).or_default().push((UnitId(a), w));
        }
        // Sorted by neighbour, as the graph index keeps them.
        for list in g.values_mut() {
            list.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
        }
        g
    }

    fn seeds(list: &[(i64, f32)]) -> HashMap<UnitId, f32> {
        list.iter().map(|&(u, w)| (UnitId(u), w)).collect()
    }

    #[test]
    fn a_two_node_graph_matches_the_closed_form() {
        // Seed a, restart r: x_a = r + (1-r) x_b, x_b = (1-r) x_a  =>  x_a = 1/(2-r).
        let g = graph(&[(1, 2, 1.0)]);
        let x = personalized_pagerank(&g, &seeds(&[(1, 1.0)]), 0.9, 100);
        assert!((x[&UnitId(1)] - 1.0 / 1.1).abs() < 1e-5);
        assert!((x[&UnitId(2)] - 0.1 / 1.1).abs() < 1e-5);
    }

    #[test]
    fn mass_flows_to_neighbours_by_weight_and_sums_to_one() {
        let g = graph(&[(1, 2, 3.0), (1, 3, 1.0), (3, 4, 1.0)]);
        let x = personalized_pagerank(&g, &seeds(&[(1, 1.0)]), 0.5, 200);
        assert!(x[&UnitId(2)] > x[&UnitId(3)]);
        assert!(x[&UnitId(4)] > 0.0);
        assert!((x.values().sum::<f32>() - 1.0).abs() < 1e-4);
        // A seed without edges keeps its mass; an empty seed set gives nothing.
        let lonely = personalized_pagerank(&g, &seeds(&[(9, 2.0)]), 0.5, 10);
        assert!((lonely[&UnitId(9)] - 1.0).abs() < 1e-6);
        assert!(personalized_pagerank(&g, &HashMap::new(), 0.5, 10).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn scores_are_finite_sum_to_one_and_do_not_depend_on_input_order(
            edges in proptest::collection::vec((0i64..30, 0i64..30, 0.01f32..1.0), 0..80),
            picks in proptest::collection::btree_map(0i64..30, 0.01f32..1.0, 1..10),
            restart in 0.05f32..1.0,
        ) {
            let edges: Vec<(i64, i64, f32)> = edges.into_iter().filter(|(a, b, _)| a != b).collect();
            let picks: Vec<(i64, f32)> = picks.into_iter().collect();
            let forward = personalized_pagerank(&graph(&edges), &seeds(&picks), restart, 50);
            let mut reversed_edges = edges.clone();
            reversed_edges.reverse();
            let mut reversed_picks = picks.clone();
            reversed_picks.reverse();
            let backward = personalized_pagerank(&graph(&reversed_edges), &seeds(&reversed_picks), restart, 50);
            proptest::prop_assert!(forward.values().all(|v| v.is_finite() && *v >= 0.0));
            proptest::prop_assert!((forward.values().sum::<f32>() - 1.0).abs() < 1e-3);
            proptest::prop_assert_eq!(forward, backward);
        }
    }
}
