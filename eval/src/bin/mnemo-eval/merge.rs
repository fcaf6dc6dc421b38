//! `mnemo-eval merge`: runs over disjoint conversations reported as one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use eval::output::{Results, write_all};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where to write the merged report.md, results.json, spec.json and charts.
    #[arg(long)]
    out: PathBuf,
    /// The runs: their output directories (or their results.json files).
    #[arg(required = true, num_args = 1..)]
    runs: Vec<PathBuf>,
}

fn read(path: &Path) -> anyhow::Result<Results> {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", file.display()))
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let runs = args
        .runs
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = eval::merge::merge(runs)?;
    let options = merged.spec.options.clone();
    for path in write_all(&args.out, &merged, &options)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}
