//! The built-in scenario suite: one module per service.

pub mod lm;

use crate::scenario::Scenario;

/// Every built-in scenario, in a fixed order.
pub fn all() -> Vec<Scenario> {
    lm::all()
}
