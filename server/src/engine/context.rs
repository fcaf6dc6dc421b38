//! A prompt-ready block of what mnemo remembers for a query, within a token budget: the
//! persona summary (optional), then the chosen memories grouped by session in time order, each
//! line carrying the session's date and its speaker, and the units and turns it cites.

use std::collections::{BTreeMap, HashSet};

use chrono::DateTime;
use memory::{Granularity, SessionId, Timestamp, TurnId, TurnRef, UnitId, UserId};
use retrieval::budget;
use retrieval::router::RouteWeight;
use retrieval::{SearchParams, StrategyChoice, StrategyKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::search::SearchResult;
use super::{Access, Engine, PersonaFilter};
use crate::{Error, Result};

/// How a block spends its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContextMix {
    /// Turns only, best first (the default: it measured better on LoCoMo, see the README).
    #[default]
    Turns,
    /// Every granularity (facts, summaries, rounds, turns...), each given a share of the
    /// budget by the entropy router's weight for this query; a unit whose turns are all shown
    /// already is skipped; what a granularity leaves goes to the best units left.
    Router,
}

/// What to put in a block.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextRequest {
    pub query: String,
    /// The budget in tokens (four characters a token).
    pub max_tokens: usize,
    /// Start with the persona summary.
    pub persona: bool,
    pub mix: ContextMix,
}

/// The smallest and largest budgets accepted.
pub const MIN_CONTEXT_TOKENS: usize = 50;
pub const MAX_CONTEXT_TOKENS: usize = 16_000;

/// A unit the block shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    pub unit_id: UnitId,
    pub granularity: Granularity,
    pub session_id: SessionId,
    pub event_time: Timestamp,
    pub turns: Vec<TurnRef>,
}

/// A prompt-ready block and what it cites.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub text: String,
    /// The block's size in budget tokens (at most the budget asked for).
    pub tokens: usize,
    pub citations: Vec<Citation>,
    /// The router's weights for the query (empty with [`ContextMix::Turns`]).
    pub router: Vec<RouteWeight>,
}

fn day(t: Timestamp) -> String {
    DateTime::from_timestamp_millis(t.0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A unit's lines as the block shows them: each line with the date, derived units labelled.
fn lines(r: &SearchResult) -> String {
    let date = day(r.unit.event_time);
    let label = match r.unit.granularity {
        Granularity::Summary => "summary: ",
        Granularity::Keywords => "keywords: ",
        Granularity::Fact => "fact: ",
        Granularity::Session | Granularity::Round | Granularity::Turn => "",
    };
    r.unit
        .text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("[{date}] {label}{}", l.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A session's heading in the block (its date is that of its earliest unit shown, which is
/// never longer than any other date).
fn heading(id: &SessionId, start: Timestamp) -> String {
    format!("Session {id} ({}):", day(start))
}

/// The results a block shows, in the order chosen, within `budget` tokens.
fn choose(
    results: &[SearchResult],
    router: &[RouteWeight],
    mix: ContextMix,
    budget: usize,
) -> Vec<usize> {
    // Each piece costs its tokens plus one for the line breaks around it; a session's first
    // unit also pays for the session's heading. The rendered block is never longer.
    let cost: Vec<usize> = results
        .iter()
        .map(|r| budget::tokens(&lines(r)) + 1)
        .collect();
    let mut chosen: Vec<usize> = Vec::new();
    let mut shown: HashSet<TurnId> = HashSet::new();
    let mut headed: HashSet<&SessionId> = HashSet::new();
    let mut used = 0;
    let mut take = |i: usize, limit: usize, chosen: &mut Vec<usize>, used: &mut usize| {
        let unit = &results[i].unit;
        let repeats =
            !unit.turns.is_empty() && unit.turns.iter().all(|t| shown.contains(&t.turn_id));
        let heading = if headed.contains(&unit.session_id) {
            0
        } else {
            budget::tokens(&heading(&unit.session_id, unit.event_time)) + 1
        };
        if chosen.contains(&i) || repeats || *used + cost[i] + heading > limit {
            return;
        }
        shown.extend(unit.turns.iter().map(|t| t.turn_id));
        headed.insert(&unit.session_id);
        chosen.push(i);
        *used += cost[i] + heading;
    };
    if mix == ContextMix::Router {
        let mut shares: Vec<&RouteWeight> = router.iter().filter(|w| w.weight > 0.0).collect();
        shares.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        for share in shares {
            let limit = used + (share.weight * budget as f32) as usize;
            for (i, r) in results.iter().enumerate() {
                if r.unit.granularity == share.granularity {
                    take(i, limit.min(budget), &mut chosen, &mut used);
                }
            }
        }
    }
    for i in 0..results.len() {
        take(i, budget, &mut chosen, &mut used);
    }
    chosen
}

/// Lays the chosen results out by session in time order, each session's units by position.
fn render(results: &[SearchResult], chosen: &[usize], intro: &str) -> (String, Vec<usize>) {
    let mut sessions: BTreeMap<(Timestamp, String), Vec<usize>> = BTreeMap::new();
    let mut starts: BTreeMap<String, Timestamp> = BTreeMap::new();
    for &i in chosen {
        let unit = &results[i].unit;
        let start = starts
            .entry(unit.session_id.to_string())
            .or_insert(unit.event_time);
        *start = (*start).min(unit.event_time);
    }
    for &i in chosen {
        let unit = &results[i].unit;
        let id = unit.session_id.to_string();
        let start = starts.get(&id).copied().unwrap_or(unit.event_time);
        sessions.entry((start, id)).or_default().push(i);
    }
    let mut order = Vec::new();
    let mut blocks = Vec::new();
    if !intro.is_empty() {
        blocks.push(intro.to_owned());
    }
    for ((start, id), mut members) in sessions {
        members.sort_by_key(|&i| {
            let u = &results[i].unit;
            (u.turns.first().map(|t| t.turn_id), u.granularity, u.unit_id)
        });
        let body: Vec<String> = members.iter().map(|&i| lines(&results[i])).collect();
        debug_assert_eq!(results[members[0]].unit.session_id.as_str(), id);
        let session = &results[members[0]].unit.session_id;
        blocks.push(format!("{}\n{}", heading(session, start), body.join("\n")));
        order.extend(members);
    }
    (blocks.join("\n\n"), order)
}

impl Engine {
    /// A prompt-ready block for `request.query` from the user's memory, within its budget.
    pub async fn context(
        &self,
        access: &Access,
        user: UserId,
        request: ContextRequest,
    ) -> Result<Context> {
        if !(MIN_CONTEXT_TOKENS..=MAX_CONTEXT_TOKENS).contains(&request.max_tokens) {
            return Err(Error::InvalidInput {
                field: "max_tokens",
                reason: format!("must be between {MIN_CONTEXT_TOKENS} and {MAX_CONTEXT_TOKENS}"),
            });
        }
        let granularities = match request.mix {
            ContextMix::Turns => vec![Granularity::Turn],
            ContextMix::Router => Granularity::ALL.to_vec(),
        };
        let params = SearchParams {
            granularities,
            method: StrategyChoice {
                strategy: Some(StrategyKind::Memgas),
                ..StrategyChoice::default()
            },
            ..SearchParams::new(request.query.clone(), self.inner.config.retrieval.max_top_k)
        };
        let outcome = self.search(access, user.clone(), params).await?;
        let budget = request.max_tokens;
        let mut intro = String::new();
        if request.persona {
            let persona = self.persona(access, user, PersonaFilter::default()).await?;
            let summary = persona.summary.trim();
            if !summary.is_empty() {
                // The persona takes at most half the budget; memories need the rest.
                intro = budget::truncate(&format!("About the people here:\n{summary}"), budget / 2);
            }
        }
        let room = budget.saturating_sub(budget::tokens(&intro) + 1);
        let router = match request.mix {
            ContextMix::Turns => Vec::new(),
            ContextMix::Router => outcome.router.clone(),
        };
        let chosen = choose(&outcome.results, &router, request.mix, room);
        let (text, order) = render(&outcome.results, &chosen, &intro);
        let citations = order
            .into_iter()
            .map(|i| {
                let u = &outcome.results[i].unit;
                Citation {
                    unit_id: u.unit_id,
                    granularity: u.granularity,
                    session_id: u.session_id.clone(),
                    event_time: u.event_time,
                    turns: u.turns.clone(),
                }
            })
            .collect();
        Ok(Context {
            tokens: budget::tokens(&text),
            text,
            citations,
            router,
        })
    }
}
