//! Shared helpers of the EVS integration tests.
#![allow(dead_code)]

pub mod transcript;
