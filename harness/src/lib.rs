//! # conform-harness
//!
//! Will drive any target with operation sequences generated from the model and check every reply.
