//! mnemo's evaluation harness: LoCoMo questions, latency statistics and benchmarks, all run
//! through the real engine (in process or over HTTP).

pub mod dataset;
pub mod stats;
