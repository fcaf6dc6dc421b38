//! The Markdown report of a run.

use std::fmt::Write;

use crate::aggregate::{Group, ModeSummary, Summary};
use crate::qa::QaResults;
use crate::run::{RunOptions, metric_names};
use crate::spec::RunSpec;

/// The headline metrics, in the main table's order.
const MAIN: [(&str, &str); 9] = [
    ("turn_recall@5", "turn R@5"),
    ("turn_recall@10", "turn R@10"),
    ("budget_recall@1000", "budget R@1k tok"),
    ("budget_recall@2000", "budget R@2k tok"),
    ("session_recall_all@3", "sess R_all@3"),
    ("session_recall_all@5", "sess R_all@5"),
    ("session_recall_all@10", "sess R_all@10"),
    ("session_recall_any@5", "sess R_any@5"),
    ("session_ndcg@10", "sess NDCG@10"),
];

fn pct(group: &Group, metric: &str) -> String {
    group
        .metrics
        .get(metric)
        .map_or_else(|| "-".to_owned(), |v| format!("{:.1}", v * 100.0))
}

fn group<'a>(m: &'a ModeSummary, key: &str) -> Option<&'a Group> {
    m.groups.iter().find(|g| g.key == key)
}

fn table(out: &mut String, header: &[String], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

/// Renders the report.
pub fn render(
    spec: &RunSpec,
    summary: &Summary,
    options: &RunOptions,
    qa: Option<&QaResults>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# mnemo retrieval evaluation on LoCoMo\n");
    let _ = writeln!(
        out,
        "Dataset `{}` (sha256 `{}`), {} conversations, {} questions; backend: {}; commit `{}`; \
         mnemo {}; {} ({} cores, {} GiB); started {}.\n",
        spec.dataset,
        spec.dataset_sha256,
        spec.conversations.len(),
        spec.questions,
        spec.backend,
        spec.git_commit,
        spec.mnemo_version,
        spec.machine.cpu,
        spec.machine.cores,
        spec.machine.memory_gib,
        spec.started_at,
    );
    let _ = writeln!(
        out,
        "All figures are percentages. Each search asks for {} units. Questions without evidence \
         are left out of every average. \"Overall 1-4\" is categories 1 to 4 (what most papers \
         report); \"overall 1-5\" adds category 5 (adversarial), whose evidence points at the \
         turns the false premise is about.\n",
        options.top_k
    );

    let _ = writeln!(out, "## Main table (overall, categories 1-4)\n");
    let mut header: Vec<String> = vec!["mode".into(), "questions".into()];
    header.extend(MAIN.iter().map(|(_, h)| (*h).to_owned()));
    header.extend(["search p50 ms".to_owned(), "search p95 ms".to_owned()]);
    let rows = summary
        .modes
        .iter()
        .filter_map(|m| {
            let g = group(m, "overall_1_4")?;
            let mut row = vec![format!("`{}`", m.mode), g.questions.to_string()];
            row.extend(MAIN.iter().map(|(k, _)| pct(g, k)));
            row.push(format!("{:.1}", m.search_latency_ms.p50));
            row.push(format!("{:.1}", m.search_latency_ms.p95));
            Some(row)
        })
        .collect();
    table(&mut out, &header, rows);

    let _ = writeln!(out, "## Modes\n");
    for mode in &options.modes {
        let options = serde_json::to_string(&mode.options).unwrap_or_default();
        let _ = writeln!(
            out,
            "- `{}`: {} (`{}`)",
            mode.name, mode.description, options
        );
    }
    out.push('\n');

    let _ = writeln!(out, "## Per category\n");
    for m in &summary.modes {
        let _ = writeln!(out, "### `{}`\n", m.mode);
        let mut header: Vec<String> = vec!["category".into(), "questions".into()];
        header.extend(MAIN.iter().map(|(_, h)| (*h).to_owned()));
        let rows = m
            .groups
            .iter()
            .map(|g| {
                let mut row = vec![g.label.clone(), g.questions.to_string()];
                row.extend(MAIN.iter().map(|(k, _)| pct(g, k)));
                row
            })
            .collect();
        table(&mut out, &header, rows);
    }

    let _ = writeln!(out, "## Every metric (overall 1-4 / overall 1-5)\n");
    let mut header: Vec<String> = vec!["metric".into()];
    header.extend(summary.modes.iter().map(|m| format!("`{}`", m.mode)));
    let rows = metric_names(options)
        .into_iter()
        .map(|name| {
            let mut row = vec![name.clone()];
            row.extend(summary.modes.iter().map(|m| {
                let a = group(m, "overall_1_4").map_or("-".into(), |g| pct(g, &name));
                let b = group(m, "overall_1_5").map_or("-".into(), |g| pct(g, &name));
                format!("{a} / {b}")
            }));
            row
        })
        .collect();
    table(&mut out, &header, rows);

    let _ = writeln!(out, "## Latency (ms)\n");
    let header: Vec<String> = ["what", "count", "p50", "p95", "p99", "mean"]
        .map(str::to_owned)
        .to_vec();
    let l = &summary.ingest_latency_ms;
    let mut rows = vec![vec![
        "ingest one session (units built)".to_owned(),
        l.count.to_string(),
        format!("{:.1}", l.p50),
        format!("{:.1}", l.p95),
        format!("{:.1}", l.p99),
        format!("{:.1}", l.mean),
    ]];
    rows.extend(summary.modes.iter().map(|m| {
        let l = &m.search_latency_ms;
        vec![
            format!("search `{}`", m.mode),
            l.count.to_string(),
            format!("{:.1}", l.p50),
            format!("{:.1}", l.p95),
            format!("{:.1}", l.p99),
            format!("{:.1}", l.mean),
        ]
    }));
    table(&mut out, &header, rows);

    answers(&mut out, qa);

    let _ = writeln!(out, "## Definitions\n");
    let _ = writeln!(
        out,
        "- `turn_recall@k`: the ranked units are expanded into the turns they cover, in rank \
         order (a unit's turns by their own similarity to the query), without repeats, and cut \
         at k turns; the share of the question's evidence turns among them (LoCoMo's recall on a \
         turn budget).\n\
         - `budget_recall@t`: the units in rank order, cut once their text reaches t tokens \
         (characters / 4); the share of evidence turns whose whole text is inside.\n\
         - `session_recall_all@k` / `session_recall_any@k`: the units' sessions in rank order \
         without repeats, cut at k; 1 if all / any evidence sessions are in (MemGAS).\n\
         - `session_ndcg@k`: binary-relevance NDCG over those sessions, with MemGAS's DCG \
         (rank 1 undiscounted, rank i >= 2 divided by log2 i).\n"
    );
    out
}

/// The answer-quality and cost sections.
fn answers(out: &mut String, qa: Option<&QaResults>) {
    let _ = writeln!(out, "## Answer quality\n");
    let Some(qa) = qa else {
        let _ = writeln!(
            out,
            "| measure | value |\n|---|---|\n| LoCoMo token F1 | not run (no language model configured) |\n\
             | LLM judge (categories 1-4) | not run (no language model configured) |\n\n\
             ## Cost\n\n| measure | value |\n|---|---|\n\
             | LLM calls / tokens | not run (no language model configured) |\n"
        );
        return;
    };
    let limit = qa
        .options
        .limit
        .map_or_else(|| "all".to_owned(), |n| format!("the first {n}"));
    let _ = writeln!(
        out,
        "Model `{}` answered {limit} questions from each listed mode's units, in rank order \
         within {} tokens, with LoCoMo's prompts (temperature 0, 32 answer tokens). F1 is \
         LoCoMo's token F1 with its category rules (category 5: 1 when the answer declines). \
         The judge (same model) labels categories 1-4 CORRECT or WRONG{}.\n",
        qa.model,
        qa.options.budget,
        if qa.options.judge {
            ""
        } else {
            " (not run: --no-judge)"
        }
    );
    let mut header: Vec<String> = vec![
        "mode".into(),
        "group".into(),
        "questions".into(),
        "F1".into(),
        "judge".into(),
    ];
    header.push("judged".into());
    let mut rows = Vec::new();
    for m in &qa.summary {
        for g in &m.groups {
            rows.push(vec![
                format!("`{}`", m.mode),
                g.label.clone(),
                g.questions.to_string(),
                format!("{:.1}", g.f1 * 100.0),
                g.judge
                    .map_or_else(|| "not run".to_owned(), |j| format!("{:.1}", j * 100.0)),
                g.judged.to_string(),
            ]);
        }
    }
    table(out, &header, rows);
    let failed = qa.answers.iter().filter(|a| a.error.is_some()).count();
    let u = &qa.usage;
    let _ = writeln!(out, "## Cost\n");
    let header: Vec<String> = ["measure", "value"].map(str::to_owned).to_vec();
    let mut rows = vec![
        vec![
            "LLM calls (answers and judging)".to_owned(),
            u.calls.to_string(),
        ],
        vec![
            "failed calls / retries".to_owned(),
            format!("{} / {}", u.failures, u.retries),
        ],
        vec![
            "answers without a prediction".to_owned(),
            failed.to_string(),
        ],
        vec!["prompt tokens".to_owned(), u.prompt_tokens.to_string()],
        vec![
            "completion tokens".to_owned(),
            u.completion_tokens.to_string(),
        ],
    ];
    for m in &qa.summary {
        rows.push(vec![
            format!("answer latency `{}` p50 / p95 ms", m.mode),
            format!(
                "{:.0} / {:.0}",
                m.answer_latency_ms.p50, m.answer_latency_ms.p95
            ),
        ]);
    }
    rows.push(vec![
        "building units".to_owned(),
        "no LLM calls (extractive)".to_owned(),
    ]);
    table(out, &header, rows);
}
