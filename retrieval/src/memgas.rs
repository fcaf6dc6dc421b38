//! The MemGAS read path: every unit of every granularity is scored against the query, the
//! granularities are weighted by the entropy router, the best units seed personalised PageRank
//! over the association graph, and the result is ranked. On top of the paper, and each with its
//! own weight so that ablations are configurations: BM25 fused with the dense score, a session
//! prior (the best unit of each granularity lifts the units of its session), the neighbouring
//! turns of a turn, the speaker and the dates a query names, and a floor of plain hits. The
//! settings are in `memgas_options`.

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;
use memory::catalog::UserCatalog;
use memory::text_index::TextQuery;
use memory::vector_index::VectorQuery;
use memory::{Granularity, TimeRange, UnitId, UserRef};
use tracing::instrument;

use crate::analysis::{QueryAnalysis, TemporalIntent, analyse, without_names};
use crate::fusion::sort_hits;
use crate::ppr::personalized_pagerank;
use crate::query::{Hit, Ranking, SearchParams, SignalScores};
use crate::router::{RouteWeight, route};
use crate::{Result, Retriever};

pub use crate::memgas_options::{MemGasOptions, MemGasOverrides};

/// One unit's signals while ranking.
#[derive(Debug, Clone, Copy)]
struct Scored {
    granularity: Granularity,
    scores: SignalScores,
    /// Router-weighted dense and lexical score, after boosts.
    base: f32,
    /// `base` and graph combined, in [0, 1].
    combined: f32,
}

fn max_of(values: impl Iterator<Item = f32>) -> f32 {
    values.fold(0.0f32, f32::max)
}

/// Relative boosts from what the query says: its speaker, dates and temporal intent, and
/// whether it asks when.
fn boost(
    meta: &memory::catalog::UnitMeta,
    analysis: &QueryAnalysis,
    span: (i64, i64),
    o: &MemGasOptions,
) -> f32 {
    let mut factor = 1.0;
    if let ([name], Some(speaker)) = (analysis.speakers.as_slice(), &meta.speaker)
        && name == speaker
    {
        factor *= 1.0 + o.speaker_boost;
    }
    let in_month = || {
        chrono::DateTime::from_timestamp_millis(meta.event_time.0)
            .is_some_and(|t| analysis.months.contains(&t.month()))
    };
    if analysis.dates.iter().any(|d| d.contains(meta.event_time))
        || (!analysis.months.is_empty() && in_month())
    {
        factor *= 1.0 + o.date_boost;
    }
    if analysis.asks_when && meta.mentions_time {
        factor *= 1.0 + o.when_boost;
    }
    if let Some(intent) = analysis.temporal {
        let width = (span.1 - span.0).max(1) as f32;
        let t = (meta.event_time.0 - span.0) as f32 / width;
        let lean = match intent {
            TemporalIntent::Latest => t,
            TemporalIntent::Earliest => 1.0 - t,
        };
        factor *= 1.0 + o.recency_boost * lean;
    }
    factor
}

/// The session prior: for each session, the mean over granularities of its best unit.
fn session_priors(units: &HashMap<UnitId, Scored>, catalog: &UserCatalog) -> HashMap<i64, f32> {
    let mut best: BTreeMap<(i64, Granularity), f32> = BTreeMap::new();
    for (id, s) in units {
        if let Some(meta) = catalog.get(*id) {
            let entry = best.entry((meta.session_key.0, s.granularity)).or_default();
            *entry = entry.max(s.combined);
        }
    }
    let mut sums: BTreeMap<i64, (f32, f32)> = BTreeMap::new();
    for ((session, _), v) in best {
        let e = sums.entry(session).or_default();
        e.0 += v;
        e.1 += 1.0;
    }
    let priors: HashMap<i64, f32> = sums.into_iter().map(|(s, (sum, n))| (s, sum / n)).collect();
    let top = max_of(priors.values().copied()).max(1e-9);
    priors.into_iter().map(|(s, p)| (s, p / top)).collect()
}

/// Keeps the `floor` best plain hits of each channel in the top `k`, replacing the weakest.
fn apply_floor(ranked: &mut Vec<Hit>, k: usize, floor: usize) {
    if floor == 0 || ranked.len() <= k {
        ranked.truncate(k);
        return;
    }
    let mut protected: Vec<UnitId> = Vec::new();
    for by_dense in [true, false] {
        let mut plain: Vec<&Hit> = ranked
            .iter()
            .filter(|h| {
                if by_dense {
                    h.scores.dense_rank.is_some()
                } else {
                    h.scores.lexical.is_some()
                }
            })
            .collect();
        plain.sort_by(|a, b| {
            let key = |h: &Hit| {
                if by_dense {
                    h.scores.dense.unwrap_or(0.0)
                } else {
                    h.scores.lexical.unwrap_or(0.0)
                }
            };
            key(b).total_cmp(&key(a)).then(a.unit_id.cmp(&b.unit_id))
        });
        protected.extend(plain.iter().take(floor).map(|h| h.unit_id));
    }
    let (mut top, rest): (Vec<Hit>, Vec<Hit>) = {
        let rest = ranked.split_off(k);
        (std::mem::take(ranked), rest)
    };
    for hit in rest.into_iter().filter(|h| protected.contains(&h.unit_id)) {
        if let Some(pos) = top.iter().rposition(|h| !protected.contains(&h.unit_id)) {
            top.remove(pos);
            top.push(hit);
        }
    }
    sort_hits(&mut top);
    *ranked = top;
}

/// Runs a MemGAS search.
#[instrument(skip_all, fields(top_k = params.top_k))]
pub(crate) fn search(
    r: &Retriever<'_>,
    user: &UserRef,
    params: &SearchParams,
    o: &MemGasOptions,
) -> Result<Ranking> {
    let time = params.effective_time();
    let present: Vec<Granularity> = Granularity::ALL
        .into_iter()
        .filter(|&g| r.vectors.count(user, g) > 0)
        .collect();
    let returns: Vec<Granularity> = if !params.granularities.is_empty() {
        params.granularities.clone()
    } else if !o.returns.is_empty() {
        o.returns.clone()
    } else {
        present.clone()
    };
    let speakers = r.catalog.with_user(user, |c| c.speakers())?;
    let analysis = analyse(&params.query, &speakers);
    let dense_text = if o.dense_without_speakers {
        without_names(&params.query, &analysis.speakers)
    } else {
        params.query.clone()
    };
    let vector = r
        .embedder
        .embed(&[dense_text.as_str()])?
        .pop()
        .unwrap_or_default();
    let all = VectorQuery {
        vector: &vector,
        granularities: &present,
        time,
        k: usize::MAX,
        exclude_session: None,
        only: r.only,
    };
    let dense = r.vectors.search(user, &all)?;
    let sims: Vec<(Granularity, Vec<f32>)> = dense
        .iter()
        .map(|(g, list)| (*g, list.iter().map(|s| s.score).collect()))
        .collect();
    let routes: Vec<RouteWeight> = route(&sims, o.lambda, o.router);
    let lexical = lexical_scores(r, user, &params.query, &present, time, o)?;

    let mut units: HashMap<UnitId, Scored> = HashMap::new();
    let g_count = routes.len().max(1) as f32;
    for ((g, list), route) in dense.iter().zip(&routes) {
        let (lo, hi) = (
            list.last().map_or(0.0, |s| s.score),
            list.first().map_or(0.0, |s| s.score),
        );
        for (rank, s) in list.iter().enumerate() {
            let d = if o.normalize {
                if hi > lo {
                    (s.score - lo) / (hi - lo)
                } else {
                    1.0
                }
            } else {
                s.score
            };
            let lex = lexical.get(&s.unit_id);
            let f = d + o.lexical_weight * lex.map_or(0.0, |l| l.2);
            let scores = SignalScores {
                dense: Some(s.score),
                dense_rank: Some(rank as u32 + 1),
                lexical: lex.map(|l| l.0),
                lexical_rank: lex.map(|l| l.1),
                router_weight: Some(route.weight),
                ..SignalScores::default()
            };
            let base = route.weight * g_count * f;
            units.insert(
                s.unit_id,
                Scored {
                    granularity: *g,
                    scores,
                    base,
                    combined: 0.0,
                },
            );
        }
    }
    let mut hits = r.catalog.with_user(user, |catalog| {
        rank(r, user, o, &analysis, catalog, &mut units, &returns)
    })??;
    apply_floor(&mut hits, params.top_k, o.floor);
    Ok(Ranking {
        hits,
        query_vector: Some(vector),
        router: routes,
    })
}

/// BM25 per granularity: unit -> (score, rank, score / best score of its granularity).
fn lexical_scores(
    r: &Retriever<'_>,
    user: &UserRef,
    query: &str,
    present: &[Granularity],
    time: TimeRange,
    o: &MemGasOptions,
) -> Result<HashMap<UnitId, (f32, u32, f32)>> {
    let mut out = HashMap::new();
    if o.lexical_weight <= 0.0 {
        return Ok(out);
    }
    let q = TextQuery {
        text: query,
        granularities: present,
        time,
        k: o.lexical_candidates.max(1),
        only: r.only,
    };
    for (_, list) in r.text.search(user, &q)? {
        let best = list.first().map_or(1.0, |s| s.score).max(1e-9);
        for (rank, s) in list.iter().enumerate() {
            out.insert(s.unit_id, (s.score, rank as u32 + 1, s.score / best));
        }
    }
    Ok(out)
}

/// Boosts, graph propagation, session prior and neighbours; returns the ranked units of the
/// returned granularities.
fn rank(
    r: &Retriever<'_>,
    user: &UserRef,
    o: &MemGasOptions,
    analysis: &QueryAnalysis,
    catalog: &UserCatalog,
    units: &mut HashMap<UnitId, Scored>,
    returns: &[Granularity],
) -> Result<Vec<Hit>> {
    let times: Vec<i64> = catalog.units().map(|m| m.event_time.0).collect();
    let span = (
        times.iter().copied().min().unwrap_or(0),
        times.iter().copied().max().unwrap_or(0),
    );
    for (id, s) in units.iter_mut() {
        if let Some(meta) = catalog.get(*id) {
            s.base *= boost(meta, analysis, span, o);
        }
    }
    let top_base = max_of(units.values().map(|s| s.base)).max(1e-9);
    let graph_scores: HashMap<UnitId, f32> = if o.graph_weight > 0.0 {
        let mut seeds: Vec<(UnitId, f32)> = units.iter().map(|(u, s)| (*u, s.base)).collect();
        seeds.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        seeds.truncate(o.seeds);
        let seeds: HashMap<UnitId, f32> = seeds.into_iter().filter(|(_, w)| *w > 0.0).collect();
        r.graph.with_user(user, |adjacency| {
            personalized_pagerank(adjacency, &seeds, o.restart, 50)
        })?
    } else {
        HashMap::new()
    };
    let top_graph = max_of(graph_scores.values().copied()).max(1e-12);
    for (id, s) in units.iter_mut() {
        let g = graph_scores.get(id).copied().unwrap_or(0.0);
        if o.graph_weight > 0.0 {
            s.scores.graph = Some(g);
        }
        s.combined = (1.0 - o.graph_weight) * s.base / top_base + o.graph_weight * g / top_graph;
    }
    let priors = if o.session_prior > 0.0 {
        session_priors(units, catalog)
    } else {
        HashMap::new()
    };
    let mut hits: Vec<Hit> = Vec::new();
    for (id, s) in units.iter() {
        if !returns.contains(&s.granularity) {
            continue;
        }
        let Some(meta) = catalog.get(*id) else {
            continue;
        };
        let mut score = s.combined;
        if s.granularity == Granularity::Turn {
            if meta.only_asks {
                score *= 1.0 - o.question_penalty;
            }
            let neighbour = |pos: Option<u32>| {
                pos.and_then(|p| catalog.turn_at(meta.session_key, p))
                    .and_then(|u| units.get(&u))
                    .map_or(0.0, |n| n.combined)
            };
            score += o.previous_turn * neighbour(meta.first_position.checked_sub(1));
            score += o.next_turn * neighbour(meta.first_position.checked_add(1));
        }
        let prior = priors.get(&meta.session_key.0).copied();
        score += o.session_prior * prior.unwrap_or(0.0);
        let mut scores = s.scores;
        scores.prior = prior.filter(|_| o.session_prior > 0.0);
        scores.fused = score;
        hits.push(Hit {
            unit_id: *id,
            granularity: s.granularity,
            scores,
        });
    }
    sort_hits(&mut hits);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: i64, fused: f32, dense: f32, lexical: Option<f32>) -> Hit {
        Hit {
            unit_id: UnitId(id),
            granularity: Granularity::Turn,
            scores: SignalScores {
                dense: Some(dense),
                dense_rank: Some(1),
                lexical,
                fused,
                ..SignalScores::default()
            },
        }
    }

    #[test]
    fn the_floor_keeps_the_best_plain_hits() {
        // Unit 9 has the best dense score and 8 the best BM25, but both rank last.
        let mut ranked = vec![
            hit(1, 0.9, 0.1, None),
            hit(2, 0.8, 0.2, None),
            hit(3, 0.7, 0.3, None),
            hit(8, 0.2, 0.1, Some(9.0)),
            hit(9, 0.1, 0.95, None),
        ];
        sort_hits(&mut ranked);
        apply_floor(&mut ranked, 3, 1);
        let ids: Vec<i64> = ranked.iter().map(|h| h.unit_id.0).collect();
        assert_eq!(ids, vec![1, 8, 9]);
        let mut plain = vec![hit(1, 0.9, 0.1, None), hit(2, 0.8, 0.2, None)];
        apply_floor(&mut plain, 1, 0);
        assert_eq!(plain.len(), 1);
    }

    #[test]
    fn paper_settings_are_dense_only_and_rank_by_pagerank() {
        let p = MemGasOptions::paper();
        assert_eq!(
            (
                p.lexical_weight,
                p.graph_weight,
                p.seeds,
                p.restart,
                p.lambda
            ),
            (0.0, 1.0, 15, 0.9, 0.2)
        );
        assert!(p.returns.is_empty() && !p.normalize);
    }
}
