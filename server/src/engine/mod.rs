//! The engine: mnemo's whole behaviour behind one handle, with no HTTP in sight. The REST API,
//! the CLI, the evaluation harness and the tests all drive this same type.

pub mod access;
mod admin;
mod archive;
mod association;
mod audit;
mod consistency;
mod context;
mod erase;
mod ingest;
mod keys;
mod llm_units;
mod metrics;
mod persona;
mod pipeline;
mod prometheus;
mod rate;
pub(crate) mod recovery;
mod search;
mod settle;
mod turn_edits;
mod unit_edits;
mod worker;

pub use access::{Access, Internal, UserPass};
pub use admin::{CreatedKey, NewKey};
pub use archive::ImportReport;
pub use context::{
    Citation, Context, ContextMix, ContextRequest, MAX_CONTEXT_TOKENS, MIN_CONTEXT_TOKENS,
};
pub use erase::{EraseReceipt, Scrub};
pub use ingest::{IngestReport, PendingIngest};
pub use metrics::{Metrics, MetricsSnapshot};
pub use persona::{Persona, PersonaFilter, StatementHistory, StatementView};
pub use pipeline::BuildOutcome;
pub use rate::RateLimitConfig;
pub use search::{SearchOutcome, SearchResult};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::Utc;
use llm_units::ReplyCache;
use memory::build::BuildConfig;
use memory::catalog::Catalog;
use memory::data_dir::{DataDir, DataDirLock};
use memory::embed::{Embedder, FastEmbedder};
use memory::graph_index::GraphIndex;
use memory::llm::{LanguageModel, LlmUsage};
use memory::store::{Actor, DeleteCounts, IngestReceipt, SessionCursor, SqliteStore, TurnWrite};
use memory::tenancy::Scope;
use memory::text_index::{TantivyIndex, TextIndex};
use memory::vector_index::{ExactIndex, VectorIndex, VectorQuery};
use memory::{
    Channel, Granularity, MemoryError, NewTurn, SessionDraft, SessionId, SessionRecord,
    SessionStatus, SessionSummary, TimeRange, Timestamp, TurnId, Unit, UnitFilter, UnitId, UserId,
};
use retrieval::association::AssociationConfig;
use retrieval::router::RouteWeight;
use retrieval::{Retriever, SearchParams, SignalScores};
use tokio::sync::oneshot;
use tracing::info;
use worker::{Job, Worker};

use crate::llm::OpenAiClient;
use crate::{Config, Error, Result};

/// Sessions whose model readings are kept for rebuilds (a few hundred small records).
const LLM_CACHE_SESSIONS: usize = 512;

/// The wall clock, read here and passed down: the engine crates never read it themselves.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_datetime(Utc::now())
}

/// The parts the request path and the worker share.
pub(crate) struct Shared {
    pub(crate) store: SqliteStore,
    pub(crate) vectors: Box<dyn VectorIndex>,
    pub(crate) text: Box<dyn TextIndex>,
    pub(crate) build: BuildConfig,
    pub(crate) catalog: Catalog,
    pub(crate) graph: GraphIndex,
    pub(crate) association: AssociationConfig,
    pub(crate) metrics: Metrics,
    /// The configured language model, if any.
    pub(crate) llm: Option<Arc<dyn LanguageModel>>,
    /// Sessions sent to the model at once (`llm.max_concurrency`).
    pub(crate) llm_concurrency: usize,
    /// The model's readings of sessions, for rebuilds of unchanged sessions.
    pub(crate) llm_cache: ReplyCache,
}

impl Shared {
    /// The write path's view, with the embedder that builds units.
    pub(crate) fn parts<'a>(&'a self, embedder: &'a dyn Embedder) -> pipeline::Parts<'a> {
        pipeline::Parts {
            store: &self.store,
            vectors: self.vectors.as_ref(),
            text: self.text.as_ref(),
            embedder,
            build: &self.build,
            catalog: &self.catalog,
            graph: &self.graph,
            association: &self.association,
            metrics: &self.metrics,
            llm: self.llm.as_deref(),
            llm_concurrency: self.llm_concurrency,
            llm_cache: &self.llm_cache,
        }
    }
}

struct Inner {
    config: Config,
    keys: keys::KeyRing,
    rates: rate::RateLimits,
    shared: Arc<Shared>,
    query_embedder: Arc<dyn Embedder>,
    worker: Worker,
    /// Held while the engine lives, and released last, after the store has closed.
    _lock: DataDirLock,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.worker.stop();
    }
}

/// mnemo's engine. Cheap to clone; every clone is the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// The engine's state for `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub users: usize,
    pub vectors: usize,
    pub text_documents: u64,
    pub pending_sessions: usize,
}

/// Checks a text a person writes in place of a stored one (a unit's, a turn's): not blank, at
/// most `max` characters.
fn check_edit_text(text: &str, max: usize) -> Result<()> {
    if memory::validate::is_blank(text) {
        return Err(MemoryError::InvalidField {
            field: "text",
            reason: "must not be empty".to_owned(),
        }
        .into());
    }
    let len = text.chars().count();
    if len > max {
        return Err(MemoryError::FieldTooLong {
            field: "text",
            len,
            max,
        }
        .into());
    }
    Ok(())
}

/// Runs blocking work (SQLite, tantivy, the model) off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Task {
            reason: e.to_string(),
        })?
}

impl Engine {
    /// Opens the data directory, loads the embedding model and the indexes, and starts the
    /// worker, which resumes any session left pending by a crash. Blocking.
    pub fn open(config: Config) -> Result<Self> {
        // The worker's embedder leaves the query embedder cores while building runs.
        let building = memory::embed::EmbedderConfig {
            threads: config.worker.embedding_threads,
            sessions: 1,
            ..config.embedding.clone()
        };
        let ingest: Arc<dyn Embedder> = Arc::new(FastEmbedder::open(&building)?);
        let query: Arc<dyn Embedder> = Arc::new(FastEmbedder::open(&config.embedding)?);
        Self::open_with(config, ingest, query)
    }

    /// Like [`Engine::open`] with embedders supplied by the caller (tests share one model).
    pub fn open_with(
        config: Config,
        ingest: Arc<dyn Embedder>,
        query: Arc<dyn Embedder>,
    ) -> Result<Self> {
        let dir = DataDir::new(&config.storage.data_dir);
        let lock = dir.lock()?;
        // Damage to the store stops the start with a message naming the file and the tools.
        let damaged = |e: MemoryError| {
            if e.is_damage() {
                MemoryError::StoreDamaged {
                    store: dir.store().display().to_string(),
                    reason: e.to_string(),
                }
            } else {
                e
            }
        };
        let store = SqliteStore::open(dir.root()).map_err(damaged)?;
        // Every page read once: a damaged page stops the start here, named, instead of failing
        // some later request.
        let problems = store.quick_problems().map_err(damaged)?;
        if !problems.is_empty() {
            return Err(MemoryError::StoreDamaged {
                store: dir.store().display().to_string(),
                reason: problems.into_iter().take(3).collect::<Vec<_>>().join("; "),
            }
            .into());
        }
        let text = TantivyIndex::open(&dir.text())?;
        let vectors = ExactIndex::new(ingest.dim());
        let catalog = Catalog::default();
        let graph = GraphIndex::default();
        recovery::load_indexes(&store, &vectors, &text, &catalog, &graph).map_err(|e| match e {
            Error::Memory(m) => Error::Memory(damaged(m)),
            other => other,
        })?;
        let llm = OpenAiClient::from_config(&config.llm)
            .map_err(|e| Error::InvalidInput {
                field: "llm",
                reason: e.to_string(),
            })?
            .map(|client| Arc::new(client) as Arc<dyn LanguageModel>);
        if let Some(llm) = &llm {
            info!(
                model = llm.model(),
                "summaries, keywords and facts come from the language model"
            );
        }
        let shared = Arc::new(Shared {
            store,
            vectors: Box::new(vectors),
            text: Box::new(text),
            build: config.build.clone(),
            catalog,
            graph,
            association: config.association.clone(),
            metrics: Metrics::default(),
            llm,
            llm_concurrency: config.llm.max_concurrency.max(1),
            llm_cache: ReplyCache::new(LLM_CACHE_SESSIONS),
        });
        let admin_key = config
            .auth
            .resolve_admin_key()
            .map_err(|e| Error::InvalidInput {
                field: "auth",
                reason: e.to_string(),
            })?;
        let keys = keys::KeyRing::new(admin_key.as_deref(), shared.store.list_keys(None)?);
        let pending = shared.store.pending_sessions()?;
        if !pending.is_empty() {
            info!(sessions = pending.len(), "resuming sessions left pending");
        }
        let worker = Worker::start(
            Arc::clone(&shared),
            ingest,
            worker::Settings {
                max_batch: config.worker.max_batch_sessions,
                slice_texts: config.worker.slice_texts,
                retry_backoff: std::time::Duration::from_millis(config.worker.retry_backoff_ms),
                nice: config.worker.nice,
            },
            pending,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                rates: rate::RateLimits::new(&config.rate_limit),
                config,
                keys,
                shared,
                query_embedder: query,
                worker,
                _lock: lock,
            }),
        })
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The engine's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.shared.metrics.snapshot()
    }

    /// The configured language model's name and use so far, if one is configured.
    pub fn llm_usage(&self) -> Option<(String, LlmUsage)> {
        let llm = self.inner.shared.llm.as_ref()?;
        Some((llm.model().to_owned(), llm.usage()))
    }

    fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.inner.shared)
    }

    /// Moves every commit of the store's write-ahead log into its main file (a graceful
    /// shutdown does this; dropping the last clone of the engine does it too).
    pub async fn checkpoint(&self) -> Result<()> {
        let shared = self.shared();
        blocking(move || Ok(shared.store.checkpoint()?)).await
    }

    /// Waits until every job queued so far (builds, deletes) has finished.
    pub async fn flush(&self) -> Result<()> {
        let (done, finished) = oneshot::channel();
        self.inner.worker.submit(Job::Flush { done })?;
        finished.await.map_err(|_| Error::WorkerStopped)
    }

    /// Runs `task` on the worker thread, in order with the other jobs, and waits for its answer.
    async fn on_worker<T: Send + 'static>(
        &self,
        task: impl FnOnce(&pipeline::Parts<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (done, answer) = oneshot::channel();
        self.inner.worker.submit(Job::Exec(Box::new(move |parts| {
            let _ = done.send(task(parts));
        })))?;
        answer.await.map_err(|_| Error::WorkerStopped)?
    }

    /// One session with its turns.
    pub async fn session(
        &self,
        access: &Access,
        user: UserId,
        session_id: SessionId,
    ) -> Result<SessionRecord> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || Ok(shared.store.get_session(pass.user(), &session_id)?)).await
    }

    /// A page of a user's sessions in time order, and where the next page starts.
    pub async fn sessions(
        &self,
        access: &Access,
        user: UserId,
        limit: u32,
        after: Option<SessionCursor>,
    ) -> Result<(Vec<SessionSummary>, Option<SessionCursor>)> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || Ok(shared.store.list_sessions(pass.user(), limit, after)?)).await
    }

    /// Deletes a session with its turns, units, vectors and full-text entries.
    pub async fn delete_session(
        &self,
        access: &Access,
        user: UserId,
        session_id: SessionId,
    ) -> Result<DeleteCounts> {
        let pass = access.user(user, Scope::Write)?;
        let (done, deleted) = oneshot::channel();
        self.inner.worker.submit(Job::Delete {
            pass,
            session_id,
            done,
        })?;
        deleted.await.map_err(|_| Error::WorkerStopped)?
    }

    /// One unit with its provenance.
    pub async fn unit(&self, access: &Access, user: UserId, unit: UnitId) -> Result<Unit> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || Ok(shared.store.get_unit(pass.user(), unit)?)).await
    }

    /// One unit with the units it is associated with (strongest first) and the edge weights.
    pub async fn unit_with_links(
        &self,
        access: &Access,
        user: UserId,
        unit: UnitId,
    ) -> Result<(Unit, Vec<(UnitId, f32)>)> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || {
            let found = shared.store.get_unit(pass.user(), unit)?;
            Ok((found, shared.store.unit_links(unit)?))
        })
        .await
    }

    /// A user's units matching the filter.
    pub async fn units(
        &self,
        access: &Access,
        user: UserId,
        filter: UnitFilter,
    ) -> Result<Vec<Unit>> {
        let pass = access.user(user, Scope::Read)?;
        let shared = self.shared();
        blocking(move || Ok(shared.store.list_units(pass.user(), &filter)?)).await
    }

    /// The users with stored memory that the caller may reach, in its tenant.
    pub async fn users(&self, access: &Access) -> Result<Vec<UserId>> {
        let tenant = access.tenant(Scope::Read)?;
        let shared = self.shared();
        let users = blocking(move || Ok(shared.store.list_users(&tenant)?)).await?;
        Ok(users
            .into_iter()
            .map(|u| u.user)
            .filter(|u| access.may_reach(u))
            .collect())
    }

    /// Sizes of the stores, for operators (see [`Engine::stats`]) and tests.
    pub async fn health(&self) -> Result<Health> {
        let shared = self.shared();
        blocking(move || {
            Ok(Health {
                users: shared.store.user_count()? as usize,
                vectors: shared.vectors.len(),
                text_documents: shared.text.doc_count()?,
                pending_sessions: shared.store.pending_sessions()?.len(),
            })
        })
        .await
    }
}
