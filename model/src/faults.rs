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
    ValidityEndInclusive = "validity-end-inclusive": "a checkout or borrow at exactly Validity.End is still granted",
    TokenLiveAtExpiry = "token-live-at-expiry": "a token expires one millisecond after its Expiration, so it is still live at that instant",
    ExtensionNotHonoured = "extension-not-honoured": "an extended token still expires at the Expiration it had before the extension",
    EarlyBorrowCheckInAccepted = "early-borrow-check-in-accepted": "a borrow is checked in before its expiry without AllowEarlyCheckIn",
    CheckedInTokenAcceptedAgain = "checked-in-token-accepted-again": "a token already checked in is checked in again, releasing its units twice",
    ClientTokenMismatchRuns = "client-token-mismatch-runs": "a ClientToken reused with other parameters runs as a new request",
    IdempotencyWindowInclusive = "idempotency-window-inclusive": "a ClientToken record still replays at exactly the end of its window",
    FirstVersionStatus = "first-version-status": "checkouts read the status of a license's first version, not its latest",
    ResetUsageIgnored = "reset-usage-ignored": "CreateLicenseVersion with ResetUsage keeps the usage counters",
    OldPeriodCheckInReleases = "old-period-check-in-releases": "checking in a token of an earlier usage period releases units of the current one",
    StoppedAtOverwritten = "stopped-at-overwritten": "DeleteEntitlement of an ENTITLEMENT_REMOVED record moves its stoppedAt to now",
    RemovedVmEntitlementKept = "removed-vm-entitlement-kept": "a healthy sync keeps the entitlement of a removed VM",
    GuestOsChangeIgnored = "guest-os-change-ignored": "a healthy sync keeps the entitlement of a VM no longer on Windows Server",
    FqdnChangeUnguarded = "fqdn-change-unguarded": "a connector's applianceFqdn changes while it has live entitlements",
    AtRiskConnectorDeletable = "at-risk-connector-deletable": "AT_RISK entitlements do not block a connector's deletion",
    EvsPageOneTooLong = "evs-page-one-too-long": "ListVmEntitlements pages hold one record more than maxResults",
    PartialCheckout = "partial-checkout": "a checkout or borrow takes the items that fit and drops those past MaxCount, not all or nothing",
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
