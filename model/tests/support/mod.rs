//! Shared helpers of the model's integration tests.

pub mod evs;
pub mod lm;
