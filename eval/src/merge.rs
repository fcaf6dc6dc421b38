//! Merging runs over disjoint conversations into one, as if they had been one run: a slow
//! set-up (a local language model takes minutes per session) can be run a conversation at a
//! time, resumed after a stop, and reported together.

use std::time::Duration;

use anyhow::{bail, ensure};

use crate::output::{RESULTS_FORMAT, Results};
use crate::qa::{self, QaResults};
use crate::run::Run;
use crate::spec::RunSpec;

/// The engine configuration without what differs between identical runs (the scratch data
/// directory of an in-process run).
fn comparable_config(spec: &RunSpec) -> Option<serde_json::Value> {
    let mut config = spec.engine_config.clone()?;
    if let Some(storage) = config
        .get_mut("storage")
        .and_then(serde_json::Value::as_object_mut)
    {
        storage.remove("data_dir");
    }
    Some(config)
}

fn check_format(run: &Results, name: &str) -> anyhow::Result<()> {
    ensure!(
        run.format == RESULTS_FORMAT,
        "{name}: results format {:?}, expected {RESULTS_FORMAT:?}",
        run.format
    );
    Ok(())
}

/// Why `run` cannot be merged into a run like `first`, if it cannot.
fn check_compatible(first: &Results, run: &Results, name: &str) -> anyhow::Result<()> {
    check_format(run, name)?;
    let (a, b) = (&first.spec, &run.spec);
    ensure!(
        a.dataset_sha256 == b.dataset_sha256,
        "{name}: another dataset (sha256 {} against {})",
        b.dataset_sha256,
        a.dataset_sha256
    );
    ensure!(
        a.backend == b.backend,
        "{name}: another backend ({} against {})",
        b.backend,
        a.backend
    );
    ensure!(
        a.options == b.options,
        "{name}: other modes or cut-offs than the first run"
    );
    ensure!(
        comparable_config(a) == comparable_config(b),
        "{name}: another engine configuration than the first run"
    );
    ensure!(
        first.qa.is_some() == run.qa.is_some(),
        "{name}: answers in one run and not in the other"
    );
    ensure!(
        first.persona.is_some() == run.persona.is_some(),
        "{name}: a persona score in one run and not in the other"
    );
    Ok(())
}

fn merge_qa(into: &mut QaResults, other: QaResults, name: &str) -> anyhow::Result<()> {
    ensure!(
        into.model == other.model && into.options == other.options,
        "{name}: answers by another model or with other answer options"
    );
    into.answers.extend(other.answers);
    into.usage += other.usage;
    Ok(())
}

/// Merges runs, each named for error messages, over disjoint conversations of the same
/// dataset, made with the same modes, cut-offs, backend and configuration. The aggregates are
/// recomputed from the questions; ingest latency from the runs' per-session times (runs
/// written before those were recorded add none). Runs of different commits are merged with
/// every commit listed, joined by ` + `, so the report says so.
pub fn merge(runs: Vec<(String, Results)>) -> anyhow::Result<Results> {
    let mut runs = runs.into_iter();
    let Some((first_name, mut merged)) = runs.next() else {
        bail!("nothing to merge");
    };
    check_format(&merged, &first_name)?;
    for (name, run) in runs {
        check_compatible(&merged, &run, &name)?;
        if let Some(c) = run
            .spec
            .conversations
            .iter()
            .find(|c| merged.spec.conversations.contains(c))
        {
            bail!("{name}: conversation {c} is already in an earlier run");
        }
        let spec = &mut merged.spec;
        spec.conversations.extend(run.spec.conversations);
        spec.questions += run.spec.questions;
        if !spec
            .git_commit
            .split(" + ")
            .any(|c| c == run.spec.git_commit)
        {
            spec.git_commit = format!("{} + {}", spec.git_commit, run.spec.git_commit);
        }
        if run.spec.started_at < spec.started_at {
            spec.started_at = run.spec.started_at;
        }
        merged.questions.extend(run.questions);
        merged.ingest_ms.extend(run.ingest_ms);
        if let (Some(into), Some(other)) = (merged.qa.as_mut(), run.qa) {
            merge_qa(into, other, &name)?;
        }
        if let (Some(into), Some(other)) = (merged.persona.as_mut(), run.persona) {
            into.merge(other)?;
        }
    }
    if let Some(qa) = merged.qa.as_mut() {
        qa.summary = qa::summarise(&qa.answers, &qa.options.modes);
    }
    let run = Run {
        ingest: merged
            .ingest_ms
            .iter()
            .map(|ms| Duration::from_secs_f64(ms / 1e3))
            .collect(),
        questions: std::mem::take(&mut merged.questions),
    };
    merged.summary = crate::aggregate::summarise(&run, &merged.spec.options);
    merged.questions = run.questions;
    Ok(merged)
}

#[cfg(test)]
mod tests;
