//! # conform-harness
//!
//! Drives any [`target::Target`] (the in-process model, an HTTP endpoint, real AWS) and checks
//! every reply against the reference model. The one way through is [`campaign::Campaign`]: the
//! built-in [`scenarios`], then generated cases ([`gen`], [`driver`]) compared with the model
//! after normalization ([`normalize`]) and against JSON Schemas from AWS's service models
//! ([`specs`]); findings shrunk, classified and written as [`trace`]s; everything told to a
//! [`report::Reporter`].
//!
//! ```
//! use conform_harness::campaign::{Campaign, Config};
//! use conform_harness::report::Silent;
//! use conform_harness::target::ModelTarget;
//! use conform_model::Policy;
//!
//! let mut config = Config::default();
//! config.cases = 2;
//! config.max_steps = 8;
//! let mut model = ModelTarget::new(1, Policy::default());
//! let summary = Campaign::new(config).run(&mut model, &mut Silent).unwrap();
//! assert!(summary.findings.is_empty());
//! assert!(summary.scenarios.iter().all(|s| s.failures.is_empty()));
//! ```
//!
//! Against an emulator: `http::HttpTarget::new(url, accounts::credentials())` as the target
//! (see `examples/emulator_conforms.rs`); against the simulator in process: [`embedded`].

pub mod accounts;
pub mod audit;
pub mod aws;
pub mod baseline;
pub mod campaign;
pub mod concurrent;
pub mod driver;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod explore;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod gen;
pub mod http;
pub mod lanes;
pub mod normalize;
pub mod record;
pub mod report;
pub mod scenario;
pub mod scenarios;
pub mod shard;
pub mod specs;
#[cfg(feature = "proptest")]
pub mod state_machine;
pub mod target;
pub mod trace;
pub mod unimplemented;
pub mod wrappers;
