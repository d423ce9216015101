//! Wire-level faults, compiled only with the `faults` feature: rewrites of a correct reply on its
//! way out (a member dropped, an error type swapped, timestamps sent as strings), made around the
//! dispatch to the model. Faults of a rule done wrong live in the model (`conform_model::faults`);
//! `conform serve --fault NAME` takes the names of both.

pub mod race;

use std::collections::BTreeSet;

use conform_model::{ErrorCode, Reply, Service};
use serde_json::Value;

pub use race::{RaceFault, RaceFaults};

/// One named rewrite of the model's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WireFault {
    ReplyMemberMissing,
    WrongErrorType,
    EvsTimestampAsString,
}

impl WireFault {
    pub const ALL: &'static [WireFault] = &[
        WireFault::ReplyMemberMissing,
        WireFault::WrongErrorType,
        WireFault::EvsTimestampAsString,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WireFault::ReplyMemberMissing => "reply-member-missing",
            WireFault::WrongErrorType => "wrong-error-type",
            WireFault::EvsTimestampAsString => "evs-timestamp-as-string",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            WireFault::ReplyMemberMissing => "PROVISIONAL CheckoutLicense replies lack Expiration",
            WireFault::WrongErrorType => {
                "CheckInLicense answers InvalidParameterValueException instead of ConflictException"
            }
            WireFault::EvsTimestampAsString => "EVS timestamps are sent as strings",
        }
    }

    pub fn from_name(name: &str) -> Option<WireFault> {
        WireFault::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// The wire faults a simulator has switched on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WireFaults(BTreeSet<WireFault>);

impl WireFaults {
    pub fn contains(&self, f: WireFault) -> bool {
        self.0.contains(&f)
    }

    pub fn insert(&mut self, f: WireFault) {
        self.0.insert(f);
    }

    /// Rewrites the model's reply to `operation` as the switched-on faults say.
    pub fn rewrite(&self, operation: &str, reply: &mut Reply) {
        // A PERPETUAL reply without Expiration is the `perpetual_expiration=absent` reading of
        // SPEC 3.4, not a missing member: only PROVISIONAL replies lose it.
        if self.contains(WireFault::ReplyMemberMissing)
            && operation == "CheckoutLicense"
            && !reply.is_error()
            && reply.body["CheckoutType"] == "PROVISIONAL"
        {
            if let Some(o) = reply.body.as_object_mut() {
                o.remove("Expiration");
            }
        }
        if self.contains(WireFault::WrongErrorType)
            && operation == "CheckInLicense"
            && reply.error_type() == Some("ConflictException")
        {
            reply.error = Some(ErrorCode::InvalidParameterValue);
            reply.status = 400;
            reply.body["__type"] = Value::from("InvalidParameterValueException");
        }
        if self.contains(WireFault::EvsTimestampAsString) && reply.service == Service::Evs {
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
