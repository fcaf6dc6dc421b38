//! The settings of the MemGAS strategy: each step of the read path has its own knob, so that
//! every ablation is a configuration. A search may override any of them with
//! [`MemGasOverrides`]; the result is checked in `strategy`.

use memory::Granularity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::router::RouterMode;

/// The knobs of the MemGAS strategy. [`MemGasOptions::paper`] is the method as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemGasOptions {
    pub router: RouterMode,
    /// Softmax temperature of the router (paper: 0.2).
    pub lambda: f32,
    /// Min-max normalise dense scores within each granularity (the paper uses raw cosine).
    pub normalize: bool,
    /// Weight of BM25 (normalised by the best score of its granularity) next to dense; 0 is
    /// dense only.
    pub lexical_weight: f32,
    /// BM25 candidates per granularity.
    pub lexical_candidates: usize,
    /// Share of the graph score in a unit's score: 0 is no graph, 1 ranks by PageRank alone.
    pub graph_weight: f32,
    /// Units seeding PageRank (paper: 15).
    pub seeds: usize,
    /// PageRank restart probability (paper: 0.9).
    pub restart: f32,
    /// Weight of the session prior: the mean over granularities of the best unit score in the
    /// session, added to each of its units.
    pub session_prior: f32,
    /// Share of the previous turn's score added to a turn (an answer follows its question).
    pub previous_turn: f32,
    /// Share of the next turn's score added to a turn.
    pub next_turn: f32,
    /// Share taken off the score of a turn that only asks (a question tells nothing about its
    /// speaker); its reply still gets `previous_turn` of its full score.
    pub question_penalty: f32,
    /// Relative boost of turns spoken by the one speaker the query names.
    pub speaker_boost: f32,
    /// Relative boost of units from the dates the query names (a month without a year: that
    /// month of any year).
    pub date_boost: f32,
    /// Relative boost of turns that say when something happened ("two weekends ago", "last
    /// June") when the query asks when.
    pub when_boost: f32,
    /// Relative boost of recent (or early) units when the query asks for the latest (earliest).
    pub recency_boost: f32,
    /// Granularities returned when the request names none; empty means all.
    pub returns: Vec<Granularity>,
    /// The best plain dense and plain BM25 hits kept in the results whatever the other signals
    /// say.
    pub floor: usize,
    /// Embed the query without the speakers it names: every turn carries its speaker's name,
    /// which otherwise outweighs the topic in the similarity (the speaker boost still favours
    /// the named speaker's turns; BM25 keeps the whole query).
    pub dense_without_speakers: bool,
}

/// The defaults are the best configuration measured on LoCoMo (README, "MemGAS retrieval").
impl Default for MemGasOptions {
    fn default() -> Self {
        Self {
            router: RouterMode::NormalizedEntropy,
            lambda: 0.2,
            normalize: true,
            lexical_weight: 1.5,
            lexical_candidates: 1000,
            graph_weight: 0.0,
            seeds: 15,
            restart: 0.9,
            session_prior: 0.6,
            previous_turn: 0.4,
            next_turn: 0.2,
            question_penalty: 0.5,
            speaker_boost: 0.5,
            date_boost: 0.6,
            recency_boost: 0.3,
            when_boost: 0.4,
            returns: vec![Granularity::Turn],
            floor: 2,
            dense_without_speakers: true,
        }
    }
}

impl MemGasOptions {
    /// MemGAS as published: dense only, entropy router with lambda 0.2, 15 seeds, restart 0.9,
    /// ranked by PageRank, every granularity returned.
    pub fn paper() -> Self {
        Self {
            router: RouterMode::Entropy,
            lambda: 0.2,
            normalize: false,
            lexical_weight: 0.0,
            graph_weight: 1.0,
            session_prior: 0.0,
            previous_turn: 0.0,
            next_turn: 0.0,
            question_penalty: 0.0,
            speaker_boost: 0.0,
            date_boost: 0.0,
            recency_boost: 0.0,
            when_boost: 0.0,
            returns: Vec::new(),
            floor: 0,
            dense_without_speakers: false,
            ..Self::default()
        }
    }
}

/// Declares [`MemGasOverrides`], one optional field per [`MemGasOptions`] field, and the
/// conversions between them from a single list. The `From` conversion destructures
/// [`MemGasOptions`] without `..`, so a setting added there and missing here does not compile.
macro_rules! memgas_overrides {
    ($($(#[$schema:meta])* $field:ident: $ty:ty),* $(,)?) => {
        /// Some MemGAS settings of one search, laid over the configured ones with
        /// [`MemGasOptions::overlay`]; each field means what it does in [`MemGasOptions`], and
        /// an absent one leaves the configured value. Unknown fields are rejected when parsed.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, default)]
        pub struct MemGasOverrides {
            $(
                #[doc = concat!("Replaces [`MemGasOptions::", stringify!($field), "`].")]
                #[serde(skip_serializing_if = "Option::is_none")]
                $(#[$schema])*
                pub $field: Option<$ty>,
            )*
        }

        impl MemGasOverrides {
            /// Replaces in `options` every setting given here.
            fn apply_to(&self, options: &mut MemGasOptions) {
                $(
                    if let Some(value) = &self.$field {
                        options.$field = value.clone();
                    }
                )*
            }
        }

        /// Every setting given: overlaying the result on anything gives these options.
        impl From<MemGasOptions> for MemGasOverrides {
            fn from(options: MemGasOptions) -> Self {
                let MemGasOptions { $($field),* } = options;
                Self { $($field: Some($field)),* }
            }
        }
    };
}

// The schema attributes say what `MemGasOptions::check` accepts (its bounds are `MAX_WEIGHT`,
// `MIN_LAMBDA` and `MAX_LAMBDA` in `strategy`), so the OpenAPI document does.
memgas_overrides! {
    router: RouterMode,
    #[schemars(range(min = 0.01, max = 100.0))]
    lambda: f32,
    normalize: bool,
    #[schemars(range(min = 0.0, max = 100.0))]
    lexical_weight: f32,
    #[schemars(range(max = 1000))]
    lexical_candidates: usize,
    #[schemars(range(min = 0.0, max = 1.0))]
    graph_weight: f32,
    #[schemars(range(max = 1000))]
    seeds: usize,
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0))]
    restart: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    session_prior: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    previous_turn: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    next_turn: f32,
    #[schemars(range(min = 0.0, max = 1.0))]
    question_penalty: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    speaker_boost: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    date_boost: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    when_boost: f32,
    #[schemars(range(min = 0.0, max = 100.0))]
    recency_boost: f32,
    returns: Vec<Granularity>,
    #[schemars(range(max = 100))]
    floor: usize,
    dense_without_speakers: bool,
}

impl MemGasOverrides {
    /// Whether no setting is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl MemGasOptions {
    /// These settings with those `overrides` gives replaced, checked as a whole.
    pub fn overlay(&self, overrides: &MemGasOverrides) -> std::result::Result<Self, String> {
        let mut options = self.clone();
        overrides.apply_to(&mut options);
        options.check()?;
        Ok(options)
    }
}
