//! The built-in scenario suite: one module per service or resource family.

pub mod evs;
pub mod grants;
pub mod lm;

use crate::scenario::Scenario;

/// Every built-in scenario, in a fixed order.
pub fn all() -> Vec<Scenario> {
    let mut all = lm::all();
    all.extend(grants::all());
    all.extend(evs::all());
    all
}
