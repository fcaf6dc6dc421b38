//! Personalised PageRank over a user's association graph, by power iteration.

use std::collections::HashMap;

use memory::UnitId;
use memory::graph_index::Adjacency;

/// Stationary scores of a random walk that restarts at the seeds (in proportion to their
/// weights) with probability `restart` at each step and otherwise follows an edge in proportion
/// to its weight. Walkers at a node without edges restart. The scores sum to 1.
pub fn personalized_pagerank(
    graph: &Adjacency,
    seeds: &HashMap<UnitId, f32>,
    restart: f32,
    iterations: usize,
) -> HashMap<UnitId, f32> {
    let total: f32 = seeds.values().filter(|w| **w > 0.0).sum();
    if total <= 0.0 {
        return HashMap::new();
    }
    let reset: HashMap<UnitId, f32> = seeds
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .map(|(u, w)| (*u, w / total))
        .collect();
    let degree: HashMap<UnitId, f32> = graph
        .iter()
        .map(|(u, list)| (*u, list.iter().map(|(_, w)| w).sum()))
        .collect();
    let mut scores = reset.clone();
    for _ in 0..iterations {
        let mut next: HashMap<UnitId, f32> = HashMap::with_capacity(scores.len() * 4);
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
    scores
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
}
