//! Retrieval modes: named search configurations compared in one run. A mode is data (a file can
//! define more), so comparing a new configuration needs no change to the harness.

use memory::Granularity;
use retrieval::Fusion;
use serde::{Deserialize, Serialize};

/// The search options a mode sets; the same names as the search API's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ModeOptions {
    /// Granularities to search; empty means all.
    pub granularities: Vec<Granularity>,
    pub fusion: Fusion,
}

/// A named retrieval configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mode {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub options: ModeOptions,
}

fn mode(name: &str, description: &str, granularities: &[Granularity], fusion: Fusion) -> Mode {
    Mode {
        name: name.to_owned(),
        description: description.to_owned(),
        options: ModeOptions {
            granularities: granularities.to_vec(),
            fusion,
        },
    }
}

/// The built-in modes: plain baselines and mnemo's default.
pub fn builtin() -> Vec<Mode> {
    use Granularity::{Round, Session, Turn};
    vec![
        mode("bm25-turn", "BM25 over turns", &[Turn], Fusion::Lexical),
        mode(
            "dense-turn",
            "dense (all-MiniLM-L6-v2) over turns",
            &[Turn],
            Fusion::Dense,
        ),
        mode(
            "dense-round",
            "dense over rounds (a turn and its reply)",
            &[Round],
            Fusion::Dense,
        ),
        mode(
            "dense-session",
            "dense over session chunks",
            &[Session],
            Fusion::Dense,
        ),
        mode(
            "bm25-session",
            "BM25 over session chunks",
            &[Session],
            Fusion::Lexical,
        ),
        mode(
            "hybrid",
            "mnemo default: dense and BM25 over every granularity, reciprocal-rank fusion",
            &[],
            Fusion::Rrf,
        ),
    ]
}

/// Picks modes by name from the built-in ones and any read from a file.
pub fn select(names: &[String], extra: Vec<Mode>) -> Result<Vec<Mode>, String> {
    let mut known = builtin();
    for m in extra {
        known.retain(|k| k.name != m.name);
        known.push(m);
    }
    if names.is_empty() {
        return Ok(known);
    }
    names
        .iter()
        .map(|n| {
            known.iter().find(|m| &m.name == n).cloned().ok_or_else(|| {
                let all: Vec<&str> = known.iter().map(|m| m.name.as_str()).collect();
                format!("unknown mode {n:?}; known modes: {}", all.join(", "))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_selected_by_name_and_files_can_add_or_replace_them() {
        let all = select(&[], Vec::new()).unwrap();
        assert_eq!(all.len(), builtin().len());
        let extra: Vec<Mode> = serde_json::from_str(
            r#"[{"name": "dense-summary", "description": "summaries", "options": {"granularities": ["summary"], "fusion": "dense"}}]"#,
        )
        .unwrap();
        let picked = select(&["dense-summary".into(), "bm25-turn".into()], extra).unwrap();
        assert_eq!(picked[0].options.granularities, vec![Granularity::Summary]);
        assert_eq!(picked[1].options.fusion, Fusion::Lexical);
        assert!(
            select(&["nope".into()], Vec::new())
                .unwrap_err()
                .contains("bm25-turn")
        );
    }
}
