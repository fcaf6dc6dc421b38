//! The engine's measurements in Prometheus text format, through the `metrics` facade's
//! Prometheus recorder (one per engine, not a process-wide global, so that engines in one
//! process never mix). Latencies and sizes are histograms recorded as they happen; counters
//! and sizes are read when the text is rendered. No label names a user or a tenant.

use std::time::Duration;

use metrics::{Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusRecorder};

/// Seconds: 1 ms to 2 minutes.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Texts per embedding call.
const TEXTS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static META: Metadata<'static> = Metadata::new("mnemo", metrics::Level::INFO, None);

/// One engine's Prometheus registry.
pub(crate) struct Prometheus {
    recorder: PrometheusRecorder,
}

impl std::fmt::Debug for Prometheus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prometheus").finish_non_exhaustive()
    }
}

fn builder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)?
        .set_buckets_for_metric(Matcher::Full("mnemo_embed_batch_texts".into()), TEXTS)
}

impl Default for Prometheus {
    fn default() -> Self {
        // The bucket lists are non-empty constants, so this does not fail; if it did, the
        // histograms would be rendered as summaries instead.
        let builder = builder().unwrap_or_else(|_| PrometheusBuilder::new());
        Self {
            recorder: builder.build_recorder(),
        }
    }
}

fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
    Key::from_parts(
        name,
        labels
            .iter()
            .map(|(k, v)| Label::new(*k, v.clone()))
            .collect::<Vec<_>>(),
    )
}

impl Prometheus {
    /// Records a value in a histogram.
    pub(crate) fn observe(&self, name: &'static str, labels: &[(&'static str, String)], v: f64) {
        self.recorder
            .register_histogram(&key(name, labels), &META)
            .record(v);
    }

    /// Records a duration, in seconds.
    pub(crate) fn time(&self, name: &'static str, labels: &[(&'static str, String)], d: Duration) {
        self.observe(name, labels, d.as_secs_f64());
    }

    /// Sets a counter to its running total (read from the engine's own counters).
    pub(crate) fn total(&self, name: &'static str, labels: &[(&'static str, String)], v: u64) {
        self.recorder
            .register_counter(&key(name, labels), &META)
            .absolute(v);
    }

    /// Sets a gauge.
    pub(crate) fn gauge(&self, name: &'static str, v: f64) {
        self.recorder.register_gauge(&key(name, &[]), &META).set(v);
    }

    /// Everything recorded, in the Prometheus text format.
    pub(crate) fn render(&self) -> String {
        self.recorder.handle().render()
    }
}
