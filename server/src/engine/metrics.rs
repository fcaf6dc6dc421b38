//! Counters of the engine's work, read by `/v1/admin/stats`, `/metrics` and the benchmark, and
//! the latencies `/metrics` shows as histograms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::prometheus::Prometheus;

/// Monotonic counters; cheap to bump from any thread.
#[derive(Debug, Default)]
pub struct Metrics {
    sessions_built: AtomicU64,
    build_failures: AtomicU64,
    units_built: AtomicU64,
    texts_embedded: AtomicU64,
    embed_nanos: AtomicU64,
    build_nanos: AtomicU64,
    association_nanos: AtomicU64,
    edges: AtomicU64,
    searches: AtomicU64,
    llm_sessions: AtomicU64,
    llm_retries: AtomicU64,
    llm_fallbacks: AtomicU64,
    prometheus: Prometheus,
}

/// A point-in-time copy of the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    pub sessions_built: u64,
    pub build_failures: u64,
    pub units_built: u64,
    /// Texts sent to the embedding model by the write path (after deduplication).
    pub texts_embedded: u64,
    /// Time the write path spent inside the embedding model.
    pub embed_time: Duration,
    /// Time the write path spent building batches, embedding included.
    pub build_time: Duration,
    /// Time the write path spent associating units (MemGAS links).
    pub association_time: Duration,
    /// Association edges made.
    pub edges: u64,
    pub searches: u64,
    /// Sessions whose summary, keywords and facts a language model built.
    pub llm_sessions: u64,
    /// Model replies that were malformed or off-schema and asked again.
    pub llm_retries: u64,
    /// Sessions built extractively because the model failed or answered off-schema twice.
    pub llm_fallbacks: u64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub(crate) fn built(&self, sessions: u64, units: u64) {
        add(&self.sessions_built, sessions);
        add(&self.units_built, units);
    }

    pub(crate) fn failed(&self, sessions: u64) {
        add(&self.build_failures, sessions);
    }

    pub(crate) fn embedded(&self, texts: u64, took: Duration) {
        add(&self.texts_embedded, texts);
        add(&self.embed_nanos, took.as_nanos() as u64);
        self.prometheus.time("mnemo_embed_seconds", &[], took);
        self.prometheus
            .observe("mnemo_embed_batch_texts", &[], texts as f64);
    }

    pub(crate) fn batch(&self, took: Duration) {
        add(&self.build_nanos, took.as_nanos() as u64);
        self.prometheus.time("mnemo_build_batch_seconds", &[], took);
    }

    pub(crate) fn associated(&self, edges: u64, took: Duration) {
        add(&self.edges, edges);
        add(&self.association_nanos, took.as_nanos() as u64);
    }

    pub(crate) fn llm_built(&self, retries: u64) {
        add(&self.llm_sessions, 1);
        add(&self.llm_retries, retries);
    }

    pub(crate) fn llm_fell_back(&self, retries: u64) {
        add(&self.llm_fallbacks, 1);
        add(&self.llm_retries, retries);
    }

    pub(crate) fn searched(&self, strategy: &'static str, took: Duration) {
        add(&self.searches, 1);
        self.prometheus.time(
            "mnemo_search_seconds",
            &[("strategy", strategy.to_owned())],
            took,
        );
    }

    /// One answered HTTP request, by route template (never a path with ids in it).
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.prometheus.time(
            "mnemo_http_request_duration_seconds",
            &[
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ],
            took,
        );
    }

    /// The registry, to set totals and gauges before rendering.
    pub(crate) fn prometheus(&self) -> &Prometheus {
        &self.prometheus
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            sessions_built: get(&self.sessions_built),
            build_failures: get(&self.build_failures),
            units_built: get(&self.units_built),
            texts_embedded: get(&self.texts_embedded),
            embed_time: Duration::from_nanos(get(&self.embed_nanos)),
            build_time: Duration::from_nanos(get(&self.build_nanos)),
            association_time: Duration::from_nanos(get(&self.association_nanos)),
            edges: get(&self.edges),
            searches: get(&self.searches),
            llm_sessions: get(&self.llm_sessions),
            llm_retries: get(&self.llm_retries),
            llm_fallbacks: get(&self.llm_fallbacks),
        }
    }
}
