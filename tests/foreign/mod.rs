//! Shared by `harness_faults` and `foreign_target`: what each fault must be classified as, and
//! the foreign target (the simulator behind other id formats, wording and clock).

pub mod faults;
pub mod wrapper;
