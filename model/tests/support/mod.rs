//! Shared helpers of the model's integration tests.
#![allow(dead_code)]

pub mod lm;
pub mod policies;
