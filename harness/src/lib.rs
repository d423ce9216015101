//! # conform-harness
//!
//! Drives any target with operation sequences generated from the model and checks every reply.
//! [`specs`] holds the first of those checks: JSON Schemas generated from AWS's service models,
//! the validator every request and reply goes through, and constraint-derived request cases.

pub mod specs;
