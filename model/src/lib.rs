//! # conform-model
//!
//! The executable reference model of AWS License Manager and Amazon EVS Windows Server
//! entitlements: the rules of conform's SPEC.md and nothing else. Pure and deterministic: a
//! simulated clock, seeded ids, no I/O. The simulator puts it behind the AWS wire protocol and the
//! harness uses it as the expected answer for every step.
//!
//! One entry point, [`World::handle`], takes a caller, an operation and the raw body and returns
//! the HTTP status, error type and JSON body AWS would send. Typed requests run through
//! [`World::call`]; environment events (clock, fixtures) through [`World::apply`].
//!
//! ```
//! use conform_model::{Caller, Event, Policy, Service, World};
//!
//! let mut world = World::new(42, Policy::default());
//! let seller = Caller::new("111122223333", "us-east-1");
//! let create = br#"{
//!     "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "editor-pro",
//!     "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
//!     "Validity": {"Begin": "2025-01-01T00:00:00Z"},
//!     "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 1}],
//!     "Beneficiary": "customer-1",
//!     "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
//!     "ClientToken": "create-1"
//! }"#;
//! let reply = world.handle(&seller, Service::LicenseManager, "CreateLicense", create);
//! assert_eq!(reply.status, 200);
//!
//! let checkout = br#"{
//!     "ProductSKU": "editor-pro", "CheckoutType": "PROVISIONAL",
//!     "KeyFingerprint": "aws:111122223333:Example Corp:issuer-fingerprint",
//!     "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
//!     "Beneficiary": "customer-1", "ClientToken": "checkout-1"
//! }"#;
//! let first = world.handle(&seller, Service::LicenseManager, "CheckoutLicense", checkout);
//! assert_eq!(first.status, 200);
//! let again = br#"{
//!     "ProductSKU": "editor-pro", "CheckoutType": "PROVISIONAL",
//!     "KeyFingerprint": "aws:111122223333:Example Corp:issuer-fingerprint",
//!     "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
//!     "Beneficiary": "customer-1", "ClientToken": "checkout-2"
//! }"#;
//! let refused = world.handle(&seller, Service::LicenseManager, "CheckoutLicense", again);
//! assert_eq!(refused.error_type(), Some("NoEntitlementsAllowedException"));
//!
//! // The seat comes back when the provisional checkout expires.
//! world.apply(Event::advance_seconds(3600)).unwrap();
//! let after = world.handle(&seller, Service::LicenseManager, "CheckoutLicense", again);
//! assert_eq!(after.status, 200);
//! ```

// Macros first: `macro_rules!` are visible to the modules declared after them.
/// `fault!(world, Name)`: whether the named fault is on; the constant `false` without the
/// `faults` feature.
#[cfg(feature = "faults")]
macro_rules! fault {
    ($world:expr, $name:ident) => {
        $world.faults.contains(crate::faults::Fault::$name)
    };
}
#[cfg(not(feature = "faults"))]
macro_rules! fault {
    ($world:expr, $name:ident) => {
        false
    };
}

/// A closed enum of AWS string values (a service model `enum` shape), with `ALL`, `as_str` and
/// `Display`, serialized as the wire value.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod clock;
mod dump;
pub mod error;
pub mod events;
pub mod evs;
pub mod explain;
#[cfg(feature = "faults")]
pub mod faults;
mod fingerprint;
mod idempotency;
pub mod ids;
pub mod invariants;
pub mod lm;
pub mod pagination;
pub mod pattern;
pub mod policy;
pub mod restore;
pub mod service;
pub mod snapshot;
pub mod timefmt;
mod world;

/// The hash map of the model's lookup indexes: a fixed-seed hasher (foldhash), so the same
/// world hashes the same in every process and a lookup costs a fraction of SipHash's. The
/// indexes are keyed by ids the model made or names a request gave; none is iterated to build
/// a reply.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// This crate's version: a journal of requests replays only into the model that wrote it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use error::{AwsError, ErrorCode};
pub use events::Event;
pub use policy::{Policy, PolicyRule};
pub use service::Service;
pub use world::{implements, operations, Caller, Decoded, Reply, World};
