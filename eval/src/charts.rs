//! SVG charts of a run (charts-rs: pure Rust, its own embedded font, nothing to install).

use serde_json::json;

use crate::aggregate::Summary;
use crate::run::RunOptions;

/// An SVG that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {chart} chart: {reason}")]
pub struct ChartError {
    chart: &'static str,
    reason: String,
}

fn overall(summary: &Summary, mode: usize, metric: &str) -> f32 {
    summary.modes[mode]
        .groups
        .iter()
        .find(|g| g.key == "overall_1_4")
        .and_then(|g| g.metrics.get(metric))
        .map_or(0.0, |v| (v * 100.0) as f32)
}

/// Turn-level evidence recall (categories 1-4) against k, one line per mode.
pub fn recall_at_k(summary: &Summary, options: &RunOptions) -> Result<String, ChartError> {
    let series: Vec<serde_json::Value> = summary
        .modes
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let data: Vec<f32> = options
                .turn_ks
                .iter()
                .map(|k| overall(summary, i, &format!("turn_recall@{k}")))
                .collect();
            json!({ "name": m.mode, "data": data })
        })
        .collect();
    let x: Vec<String> = options.turn_ks.iter().map(|k| k.to_string()).collect();
    let spec = json!({
        "width": 820, "height": 480,
        "title_text": "Turn-level evidence recall (%) at k turns, categories 1-4",
        "legend_margin": { "top": 35, "left": 0, "right": 0, "bottom": 0 },
        "margin": { "left": 10, "top": 5, "right": 20, "bottom": 5 },
        "series_list": series,
        "x_axis_data": x,
        "y_axis_configs": [{ "axis_min": 0.0, "axis_max": 100.0 }],
    });
    charts_rs::LineChart::from_json(&spec.to_string())
        .and_then(|c| c.svg())
        .map_err(|e| ChartError {
            chart: "recall at k",
            reason: e.to_string(),
        })
}

/// One metric per category (1-5), one bar per mode.
pub fn per_category(summary: &Summary, metric: &str) -> Result<String, ChartError> {
    let labels: Vec<String> = summary
        .modes
        .first()
        .map(|m| {
            m.groups
                .iter()
                .filter(|g| g.key.starts_with("category_"))
                .map(|g| g.label.clone())
                .collect()
        })
        .unwrap_or_default();
    let series: Vec<serde_json::Value> = summary
        .modes
        .iter()
        .map(|m| {
            let data: Vec<f32> = m
                .groups
                .iter()
                .filter(|g| g.key.starts_with("category_"))
                .map(|g| (g.metrics.get(metric).copied().unwrap_or(0.0) * 100.0) as f32)
                .collect();
            json!({ "name": m.mode, "data": data })
        })
        .collect();
    let spec = json!({
        "width": 900, "height": 480,
        "title_text": format!("{metric} (%) per category"),
        "legend_margin": { "top": 35, "left": 0, "right": 0, "bottom": 0 },
        "margin": { "left": 10, "top": 5, "right": 20, "bottom": 5 },
        "series_list": series,
        "x_axis_data": labels,
        "y_axis_configs": [{ "axis_min": 0.0, "axis_max": 100.0 }],
    });
    charts_rs::BarChart::from_json(&spec.to_string())
        .and_then(|c| c.svg())
        .map_err(|e| ChartError {
            chart: "per category",
            reason: e.to_string(),
        })
}
