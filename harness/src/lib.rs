//! # conform-harness
//!
//! Drives any [`target::Target`] (the in-process model, an HTTP endpoint) with request
//! sequences and checks every reply: the built-in [`scenarios`] with their expected outcomes,
//! generated cases ([`gen`], [`driver`]) compared with the reference model after normalization
//! ([`normalize`]), and JSON Schemas generated from AWS's service models ([`specs`]).
//!
//! ```
//! use conform_harness::{scenario, scenarios, target::ModelTarget};
//! use conform_model::Policy;
//!
//! let mut model = ModelTarget::new(1, Policy::default());
//! for s in scenarios::all() {
//!     let run = scenario::run(&mut model, &s).unwrap();
//!     assert!(run.failures.is_empty(), "{}: {:?}", s.name, run.failures);
//! }
//! ```

pub mod aws;
pub mod driver;
#[cfg(feature = "fuzzing")]
pub mod fuzz;
pub mod gen;
pub mod http;
pub mod normalize;
pub mod record;
pub mod scenario;
pub mod scenarios;
pub mod specs;
pub mod target;
pub mod trace;
pub mod wrappers;
