//! specs/: JSON Schemas generated from AWS's official service models (GitHub issue 4).
//!
//! - [`generate`]: `conform specs` (regenerate) and `conform specs --check` (verify).
//! - [`Specs`]: the committed schemas, compiled once, validating requests, replies and errors.
//! - [`cases`]: constraint-derived requests on both sides of every bound, built from valid bases.
//!
//! ```
//! use conform_harness::specs::{Direction, Specs};
//! use conform_model::Service;
//!
//! let specs = Specs::load();
//! let reply = serde_json::json!({"LicenseArn": "arn:aws:license-manager::111122223333:license:l-1",
//!     "Status": "AVAILABLE", "Version": "1"});
//! let report = specs.validate(Service::LicenseManager, "CreateLicense", Direction::Response, &reply);
//! assert!(report.violations.is_empty());
//! ```

pub mod cases;
mod error;
pub mod generate;
pub mod ordered;
pub mod overrides;
pub mod pattern;
pub mod schema;
pub mod scope;
mod validate;

pub use error::SpecsError;
pub use validate::{Direction, Report, Specs, Violation, Warning};
