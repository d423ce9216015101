//! Named deviations from SPEC.md, compiled only with the `faults` feature: `conform serve
//! --fault NAME` makes the simulator misbehave in one known way, so tests can prove the harness
//! finds, classifies and shrinks each kind of bug. A build without the feature has none of this
//! code, and the `fault!` checks in the model are the constant `false`.

use serde_json::Value;

use crate::world::Reply;

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
    ReplyMemberMissing = "reply-member-missing": "CheckoutLicense replies lack Expiration",
    WrongErrorType = "wrong-error-type": "CheckInLicense answers InvalidParameterValueException instead of ConflictException",
    EvsTimestampAsString = "evs-timestamp-as-string": "EVS timestamps are sent as strings",
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

    /// The reply rewrites some faults make on the wire.
    pub(crate) fn rewrite(&self, operation: &str, reply: &mut Reply) {
        if self.contains(Fault::ReplyMemberMissing) && operation == "CheckoutLicense" && !reply.is_error() {
            if let Some(o) = reply.body.as_object_mut() {
                o.remove("Expiration");
            }
        }
        if self.contains(Fault::WrongErrorType)
            && operation == "CheckInLicense"
            && reply.error_type() == Some("ConflictException")
        {
            reply.error = Some(crate::ErrorCode::InvalidParameterValue);
            reply.status = 400;
            reply.body["__type"] = Value::from("InvalidParameterValueException");
        }
        if self.contains(Fault::EvsTimestampAsString) && reply.service == crate::Service::Evs {
            stringify_numbers(&mut reply.body);
        }
    }
}

const EVS_TIME_KEYS: &[&str] = &[
    "createdAt",
    "modifiedAt",
    "startedAt",
    "stoppedAt",
    "lastSyncedAt",
    "impairedSince",
    "lastCheckAttempt",
];

fn stringify_numbers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if EVS_TIME_KEYS.contains(&k.as_str()) && x.is_number() {
                    *x = Value::String(x.to_string());
                } else {
                    stringify_numbers(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(stringify_numbers),
        _ => {}
    }
}

impl crate::World {
    /// Switches a fault on.
    pub fn set_fault(&mut self, fault: Fault) {
        self.faults.insert(fault);
    }
}
