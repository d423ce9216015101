//! Named deviations from SPEC.md, compiled only with the `faults` feature: `conform serve
//! --fault NAME` makes the simulator misbehave in one known way, so tests can prove the harness
//! finds, classifies and shrinks each kind of bug. A build without the feature has none of this
//! code, and the `fault!` checks in the model are the constant `false`.
//!
//! These are rules done wrong; faults that only rewrite a correct reply on the wire live in the
//! simulator (`conform_simulator::faults`).

macro_rules! faults {
    ($($variant:ident = $name:literal: $about:literal),+ $(,)?) => {
        /// One named deviation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Fault {
            $($variant),+
        }

        impl Fault {
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name),+ }
            }

            pub fn about(self) -> &'static str {
                match self { $(Fault::$variant => $about),+ }
            }

            pub fn from_name(name: &str) -> Option<Fault> {
                Fault::ALL.iter().copied().find(|f| f.name() == name)
            }
        }
    };
}

faults! {
    VersionNotIncremented = "version-not-incremented": "CreateLicenseVersion answers the previous version number",
    SourceVersionIgnored = "source-version-ignored": "CreateLicenseVersion and DeleteLicense ignore SourceVersion",
    CapacityOffByOne = "capacity-off-by-one": "a checkout may take one unit more than MaxCount",
    OverageIgnored = "overage-ignored": "Overage is treated as false",
    PerpetualCheckInAccepted = "perpetual-check-in-accepted": "a PERPETUAL checkout can be checked in",
    ExpiryNotReleasing = "expiry-not-releasing": "an expired provisional checkout keeps its units",
    DeletedLicenseChecksOut = "deleted-license-checks-out": "a PENDING_DELETE or DELETED license still grants units",
    IdempotentReplayDrawsTwice = "idempotent-replay-draws-twice": "a CheckoutLicense ClientToken replay checks out again",
    AtRiskNeverReached = "at-risk-never-reached": "a CREATED entitlement stays CREATED on an unhealthy connector",
    DeletedEntitlementsListed = "deleted-entitlements-listed": "ListVmEntitlements shows DELETED records",
}

/// The faults a world has switched on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultSet(std::collections::BTreeSet<Fault>);

impl FaultSet {
    pub fn contains(&self, f: Fault) -> bool {
        self.0.contains(&f)
    }

    pub fn insert(&mut self, f: Fault) {
        self.0.insert(f);
    }
}

impl crate::World {
    /// Switches a fault on.
    pub fn set_fault(&mut self, fault: Fault) {
        self.faults.insert(fault);
    }
}
