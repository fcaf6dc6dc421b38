//! mnemo's read path: for a query, dense and lexical candidates per granularity, fused into one
//! ranking that keeps every signal's score.
//!
//! Retrieval reads the derived indexes through `memory`'s traits and knows nothing about HTTP
//! or about how units are stored.

pub mod analysis;
pub mod association;
pub mod budget;
mod candidates;
mod error;
mod fusion;
mod hybrid;
pub mod memgas;
mod memgas_options;
pub mod ppr;
mod query;
pub mod router;
mod strategy;

pub use candidates::{CandidateQuery, Candidates, gather};
pub use error::{Result, RetrievalError};
pub use fusion::{FusionInput, reciprocal_rank_fusion};
pub use hybrid::{RetrievalConfig, Retriever};
pub use memgas::{MemGasOptions, MemGasOverrides};
pub use query::{Fusion, Hit, Ranking, SearchParams, SignalScores};
pub use strategy::{Strategy, StrategyChoice, StrategyKind};
