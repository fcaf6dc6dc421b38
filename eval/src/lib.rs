//! mnemo's evaluation harness: LoCoMo questions, persona statements, latency statistics and
//! benchmarks, all run through the real engine (in process or over HTTP).

pub mod aggregate;
pub mod backend;
pub mod charts;
pub mod context;
pub mod dataset;
pub mod f1;
pub mod merge;
pub mod metrics;
pub mod modes;
pub mod output;
pub mod persona;
pub mod porter;
pub mod qa;
pub mod report;
pub mod run;
pub mod spec;
pub mod stats;
