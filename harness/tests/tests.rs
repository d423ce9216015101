//! The harness's integration tests, in one binary (one link instead of one per file):
//!
//! - `campaign`: the library's one way through (`Campaign::run`) against faulty and faithful
//!   embedded simulators: findings shrunk, classified, counted, reported.
//! - `scenarios`: every built-in scenario as an insta snapshot of its transcript on the model.
//! - `state_machine`: the proptest-state-machine adapter against the embedded simulator.

mod campaign;
mod scenarios;
mod state_machine;
