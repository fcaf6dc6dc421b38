//! Searching a user's memory through the engine: the retriever over the shared indexes, and
//! each result's unit with, on request, the relevance of each turn it covers.

use memory::{SourceFilter, UserRef};

use super::*;

/// One search result: the unit with the score of each signal.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    pub unit: Unit,
    pub scores: SignalScores,
    /// With `explain`: each covered turn's own similarity to the query, in `unit.turns` order.
    pub turn_relevance: Vec<Option<f32>>,
}

/// A search's results, with the router's weights when the method routes (MemGAS).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    pub results: Vec<SearchResult>,
    pub router: Vec<RouteWeight>,
}

/// Fills each result's `turn_relevance`: the query's similarity to each covered turn's own unit.
fn rate_turns(
    shared: &Shared,
    user: &UserRef,
    query: &[f32],
    results: &mut [SearchResult],
) -> Result<()> {
    let turns: Vec<TurnId> = results
        .iter()
        .flat_map(|r| r.unit.turns.iter().map(|t| t.turn_id))
        .collect();
    let turn_units = shared.store.turn_units(&turns)?;
    let all = VectorQuery {
        vector: query,
        granularities: &[Granularity::Turn],
        time: TimeRange::default(),
        k: usize::MAX,
        exclude_session: None,
        only: None,
    };
    let scores: HashMap<UnitId, f32> = shared
        .vectors
        .search(user, &all)?
        .into_iter()
        .flat_map(|(_, list)| list)
        .map(|s| (s.unit_id, s.score))
        .collect();
    for r in results {
        r.turn_relevance = r
            .unit
            .turns
            .iter()
            .map(|t| {
                turn_units
                    .get(&t.turn_id)
                    .and_then(|u| scores.get(u))
                    .copied()
            })
            .collect();
    }
    Ok(())
}

impl Engine {
    /// Searches a user's memory.
    pub async fn search(
        &self,
        access: &Access,
        user: UserId,
        params: SearchParams,
    ) -> Result<SearchOutcome> {
        self.search_from(access, user, params, SourceFilter::default())
            .await
    }

    /// Searches the part of a user's memory that `sources` admits: units with a provenance turn
    /// of that writer and channel.
    pub async fn search_from(
        &self,
        access: &Access,
        user: UserId,
        params: SearchParams,
        sources: SourceFilter,
    ) -> Result<SearchOutcome> {
        let pass = access.user(user, Scope::Read)?;
        self.inner.rates.check(access, super::rate::Class::Search)?;
        let shared = self.shared();
        let embedder = Arc::clone(&self.inner.query_embedder);
        let config = self.inner.config.retrieval.clone();
        blocking(move || {
            let retriever = Retriever {
                vectors: shared.vectors.as_ref(),
                text: shared.text.as_ref(),
                catalog: &shared.catalog,
                graph: &shared.graph,
                embedder: embedder.as_ref(),
                config: &config,
                only: None,
            };
            retriever.validate(&params)?;
            let user = pass.user();
            if !shared.store.user_exists(user)? {
                return Err(MemoryError::UserNotFound {
                    user_id: user.to_string(),
                }
                .into());
            }
            let only = if sources.is_empty() {
                None
            } else {
                Some(shared.store.units_from(user, &sources)?)
            };
            let retriever = Retriever {
                only: only.as_ref(),
                ..retriever
            };
            let started = std::time::Instant::now();
            let ranking = retriever.search(user, &params)?;
            let strategy = match params.method.strategy.unwrap_or(config.strategy) {
                retrieval::StrategyKind::Memgas => "memgas",
                retrieval::StrategyKind::Hybrid => "hybrid",
            };
            shared.metrics.searched(strategy, started.elapsed());
            // The graph may carry a score to a unit outside the filter; it stays out.
            let ids: Vec<UnitId> = ranking
                .hits
                .iter()
                .map(|h| h.unit_id)
                .filter(|id| only.as_ref().is_none_or(|o| o.contains(id)))
                .collect();
            let mut units: BTreeMap<UnitId, Unit> = shared
                .store
                .units_by_ids(user, &ids)?
                .into_iter()
                .map(|u| (u.unit_id, u))
                .collect();
            let mut results: Vec<SearchResult> = ranking
                .hits
                .into_iter()
                .filter_map(|h| {
                    units.remove(&h.unit_id).map(|unit| SearchResult {
                        unit,
                        scores: h.scores,
                        turn_relevance: Vec::new(),
                    })
                })
                .collect();
            if let (true, Some(vector)) = (params.explain, ranking.query_vector) {
                rate_turns(&shared, user, &vector, &mut results)?;
            }
            Ok(SearchOutcome {
                results,
                router: ranking.router,
            })
        })
        .await
    }
}
