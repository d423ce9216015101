//! The harness's integration tests, in one binary (one link instead of one per file):
//!
//! - `campaign`: the library's one way through (`Campaign::run`) against faulty and faithful
//!   embedded simulators: findings shrunk, classified, counted, reported.
//! - `explore`: the explorer of issue #16: the default small world's states with every property
//!   holding, threads, an injected model bug found with its shortest path, covering cases.
//! - `explore_faults` (ignored: minutes): the covering cases of `--exhaustive` against every fault.
//! - `fuzz_corpus`: every committed fuzz corpus input and reproducer through the fuzz checks.
//! - `generation`: what seed 1 generates, pinned as a snapshot.
//! - `lanes`: cases run side by side on targets of their own report what one target reports.
//! - `props`: property tests of the model over the one workload: every always property of the
//!   auditor, determinism, relied rules, request round trips.
//! - `scenarios`: every built-in scenario as an insta snapshot of its transcript on the model.
//! - `specs_cases`: the constraint-derived cases of specs/: schema and model agree on each.
//! - `specs_check`: the committed specs/ equal a fresh generation.
//! - `specs_replies`: model replies validate against their JSON Schemas.
//! - `specs_scenarios`: every scenario's and generated case's replies validate.
//! - `state_machine`: the proptest-state-machine adapter against the embedded simulator.

mod campaign;
// The corpus replay needs the harness's `fuzzing` feature, which the workspace's tests enable.
mod explore;
mod explore_faults;
#[cfg(feature = "fuzzing")]
mod fuzz_corpus;
mod generation;
mod lanes;
#[cfg(feature = "proptest")]
mod props;
mod scenarios;
mod specs_cases;
mod specs_check;
mod specs_replies;
mod specs_scenarios;
// The adapter is behind the harness's `proptest` feature, which the workspace's tests enable
// (the root crate's dev-dependency).
#[cfg(feature = "proptest")]
mod state_machine;
