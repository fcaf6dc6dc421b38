//! Writes a run's files: `report.md`, `results.json`, `spec.json` and the SVG charts.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::aggregate::Summary;
use crate::persona::{self, PersonaScore};
use crate::qa::QaResults;
use crate::run::{QuestionOutcome, RunOptions};
use crate::spec::RunSpec;
use crate::{charts, report};

/// The version of the `results.json` layout.
pub const RESULTS_FORMAT: &str = "mnemo-eval-results/1";

/// `results.json`: the spec, the aggregates and every question with its units per mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub format: String,
    pub spec: RunSpec,
    pub summary: Summary,
    pub questions: Vec<QuestionOutcome>,
    /// Each session's ingest time in milliseconds, in ingest order (what `summary`'s ingest
    /// latency was computed from; absent in files written before it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingest_ms: Vec<f64>,
    /// Answers and their scores; absent when no language model was configured.
    pub qa: Option<QaResults>,
    /// Persona statements against LoCoMo's observations; absent with `--no-persona`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<PersonaScore>,
}

/// Writes every file into `dir`, returning their paths.
pub fn write_all(
    dir: &Path,
    results: &Results,
    options: &RunOptions,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    let mut write = |name: &str, contents: String| -> anyhow::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    let mut report = report::render(
        &results.spec,
        &results.summary,
        options,
        results.qa.as_ref(),
    );
    if let Some(persona) = &results.persona {
        report.push('\n');
        report.push_str(&persona::render(persona, persona::Detail::Conversations));
    }
    write("report.md", report)?;
    write("results.json", serde_json::to_string(results)?)?;
    write("spec.json", serde_json::to_string_pretty(&results.spec)?)?;
    write(
        "recall_at_k.svg",
        charts::recall_at_k(&results.summary, options)?,
    )?;
    for metric in [
        "turn_recall@10",
        "session_recall_all@5",
        "budget_recall@2000",
    ] {
        let name = format!("category_{}.svg", metric.replace('@', "_at_"));
        write(&name, charts::per_category(&results.summary, metric)?)?;
    }
    Ok(written)
}
