//! Where a run's searches go: the engine in this process, or a running server over HTTP.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use memory::{Channel, NewSession, TenantId, UserId};
use retrieval::SearchParams;
use serde_json::{Map, Value, json};
use server::Engine;
use server::engine::{Access, ContextMix, ContextRequest, Internal, PersonaFilter, SearchResult};

use crate::metrics::{RetrievedTurn, RetrievedUnit};
use crate::modes::ModeOptions;
use crate::persona::ExtractedStatement;

/// The system under evaluation.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The engine, called directly.
    InProcess(Engine),
    /// A server at this base URL, called over HTTP as a client would.
    Http {
        client: reqwest::Client,
        base: String,
        /// An API key of the server's, sent as `Authorization: Bearer`.
        key: Option<String>,
    },
}

/// The harness's access to the engine it runs in process: every user of the default tenant of
/// its own scratch data directory.
fn eval_access() -> Access {
    Access::internal(TenantId::default_tenant(), Internal::Eval)
}

/// A request with the key, if any.
fn keyed(request: reqwest::RequestBuilder, key: &Option<String>) -> reqwest::RequestBuilder {
    match key {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

fn scores(r: &SearchResult) -> Map<String, Value> {
    let s = &r.scores;
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), json!(v));
        }
    };
    put("dense", s.dense.map(f64::from));
    put("dense_rank", s.dense_rank.map(f64::from));
    put("lexical", s.lexical.map(f64::from));
    put("lexical_rank", s.lexical_rank.map(f64::from));
    put("router_weight", s.router_weight.map(f64::from));
    put("graph", s.graph.map(f64::from));
    put("prior", s.prior.map(f64::from));
    put("fused", Some(f64::from(s.fused)));
    m
}

fn from_engine(r: SearchResult) -> RetrievedUnit {
    let scores = scores(&r);
    RetrievedUnit {
        unit_id: r.unit.unit_id.0,
        granularity: r.unit.granularity.to_string(),
        session_id: r.unit.session_id.to_string(),
        event_time: r.unit.event_time.to_rfc3339(),
        turns: r
            .unit
            .turns
            .iter()
            .enumerate()
            .map(|(i, t)| RetrievedTurn {
                external_id: t.external_id.clone(),
                relevance: r.turn_relevance.get(i).copied().flatten(),
            })
            .collect(),
        text: r.unit.text,
        scores,
    }
}

fn from_json(v: &Value) -> anyhow::Result<RetrievedUnit> {
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .with_context(|| format!("result without {k}"))
    };
    Ok(RetrievedUnit {
        unit_id: v["unit_id"].as_i64().context("result without unit_id")?,
        granularity: text("granularity")?,
        session_id: text("session_id")?,
        event_time: text("event_time")?,
        text: text("text")?,
        turns: v["turns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| RetrievedTurn {
                external_id: t["external_id"].as_str().map(str::to_owned),
                relevance: t["relevance"].as_f64().map(|r| r as f32),
            })
            .collect(),
        scores: v["scores"].as_object().cloned().unwrap_or_default(),
    })
}

/// A session as the REST API takes it.
fn session_json(session: &NewSession) -> Value {
    let turns: Vec<Value> = session
        .turns
        .iter()
        .map(|t| {
            json!({
                "speaker": t.speaker, "role": t.role, "text": t.text,
                "timestamp": t.timestamp.map(|t| t.to_rfc3339()),
                "external_id": t.external_id, "caption": t.caption, "metadata": t.metadata,
            })
        })
        .collect();
    json!({
        "session_id": session.session_id.as_str(),
        "started_at": session.started_at.to_rfc3339(),
        "title": session.title,
        "turns": turns,
    })
}

async fn checked(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .context("reading the server's answer")?;
    if !status.is_success() {
        bail!(
            "server answered {status}: {}",
            body["error"]["message"].as_str().unwrap_or("?")
        );
    }
    Ok(body)
}

impl Backend {
    /// A user's active persona statements, with their turns' external ids.
    pub async fn persona(&self, user: &str) -> anyhow::Result<Vec<ExtractedStatement>> {
        match self {
            Self::InProcess(engine) => {
                let persona = engine
                    .persona(&eval_access(), UserId::new(user)?, PersonaFilter::default())
                    .await?;
                Ok(persona
                    .statements
                    .into_iter()
                    .map(|s| ExtractedStatement {
                        turns: s
                            .turns
                            .iter()
                            .filter_map(|t| persona.turns.get(t)?.external_id.clone())
                            .collect(),
                        speaker: s.speaker,
                        text: s.text,
                    })
                    .collect())
            }
            Self::Http { client, base, key } => {
                let url = format!("{base}/v1/users/{user}/persona");
                let body = checked(keyed(client.get(url), key).send().await?).await?;
                body["statements"]
                    .as_array()
                    .context("persona without statements")?
                    .iter()
                    .map(|s| {
                        let text = |k: &str| {
                            s[k].as_str()
                                .map(str::to_owned)
                                .with_context(|| format!("statement without {k}"))
                        };
                        Ok(ExtractedStatement {
                            speaker: text("speaker")?,
                            text: text("text")?,
                            turns: s["turns"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|t| t["external_id"].as_str().map(str::to_owned))
                                .collect(),
                        })
                    })
                    .collect()
            }
        }
    }

    /// Stores a session and waits for its units; returns how long that took.
    pub async fn ingest(&self, user: &str, session: &NewSession) -> anyhow::Result<Duration> {
        let started = Instant::now();
        match self {
            Self::InProcess(engine) => {
                engine
                    .ingest(
                        &eval_access(),
                        UserId::new(user)?,
                        session.clone(),
                        Channel::Import,
                        true,
                    )
                    .await?;
            }
            Self::Http { client, base, key } => {
                let url = format!("{base}/v1/users/{user}/sessions?wait=true");
                let request = keyed(client.post(url), key).json(&session_json(session));
                checked(request.send().await?).await?;
            }
        }
        Ok(started.elapsed())
    }

    /// Runs one search with a mode's options, asking for per-turn relevance.
    pub async fn search(
        &self,
        user: &str,
        query: &str,
        top_k: usize,
        options: &ModeOptions,
    ) -> anyhow::Result<(Vec<RetrievedUnit>, Duration)> {
        let started = Instant::now();
        let units = match self {
            Self::InProcess(engine) => {
                let params = SearchParams {
                    granularities: options.granularities.clone(),
                    explain: true,
                    method: options.method(),
                    ..SearchParams::new(query, top_k)
                };
                let outcome = engine
                    .search(&eval_access(), UserId::new(user)?, params)
                    .await?;
                outcome.results.into_iter().map(from_engine).collect()
            }
            Self::Http { client, base, key } => {
                let mut body = serde_json::to_value(options)?;
                if let Some(map) = body.as_object_mut() {
                    map.insert("query".into(), json!(query));
                    map.insert("top_k".into(), json!(top_k));
                    map.insert("explain".into(), json!(true));
                }
                let url = format!("{base}/v1/users/{user}/search");
                let answer =
                    checked(keyed(client.post(url), key).json(&body).send().await?).await?;
                answer["results"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(from_json)
                    .collect::<anyhow::Result<Vec<_>>>()?
            }
        };
        Ok((units, started.elapsed()))
    }

    /// A context block for a query without the persona: its text and the external ids of the
    /// turns it cites.
    pub async fn context(
        &self,
        user: &str,
        query: &str,
        max_tokens: usize,
        mix: ContextMix,
    ) -> anyhow::Result<(String, Vec<String>)> {
        match self {
            Self::InProcess(engine) => {
                let request = ContextRequest {
                    query: query.to_owned(),
                    max_tokens,
                    persona: false,
                    mix,
                };
                let block = engine
                    .context(&eval_access(), UserId::new(user)?, request)
                    .await?;
                let cited = block
                    .citations
                    .iter()
                    .flat_map(|c| &c.turns)
                    .filter_map(|t| t.external_id.clone())
                    .collect();
                Ok((block.text, cited))
            }
            Self::Http { client, base, key } => {
                let body = json!({"query": query, "max_tokens": max_tokens,
                                  "persona": false, "mix": mix});
                let url = format!("{base}/v1/users/{user}/context");
                let answer =
                    checked(keyed(client.post(url), key).json(&body).send().await?).await?;
                let cited = answer["citations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c["turns"].as_array().into_iter().flatten())
                    .filter_map(|t| t["external_id"].as_str().map(str::to_owned))
                    .collect();
                let text = answer["context"].as_str().unwrap_or_default().to_owned();
                Ok((text, cited))
            }
        }
    }
}
