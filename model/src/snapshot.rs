//! A snapshot of a whole world (issue #18: snapshots bound the replay time of `conform serve
//! --state-dir`): everything a world is made of, as a serde value, and the world made from it
//! again. The restored world is indistinguishable from the one snapshotted: the same dump, the
//! same counters, and the same reply to any further request, idempotent replays of earlier
//! ClientTokens included.
//!
//! The model only gives the value; how it is encoded and where it is kept is the simulator's
//! (`conform_simulator::persist`). Not kept: the `[P]` rules the last reply relied on, which
//! every request clears before it runs.
//!
//! ```
//! use conform_model::{Caller, Policy, Service, World};
//!
//! let mut world = World::new(1, Policy::default());
//! let caller = Caller::new("111122223333", "us-east-1");
//! let list = br#"{}"#;
//! world.handle(&caller, Service::LicenseManager, "ListLicenses", list);
//! let mut again = World::restore(world.snapshot()?)?;
//! assert_eq!(again.dump(), world.dump());
//! let (a, b) = (
//!     world.handle(&caller, Service::LicenseManager, "ListLicenses", list),
//!     again.handle(&caller, Service::LicenseManager, "ListLicenses", list),
//! );
//! assert_eq!(a.request_id, b.request_id);
//! # Ok::<(), conform_model::snapshot::SnapshotError>(())
//! ```

use std::any::Any;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, Millis};
use crate::evs::Evs;
use crate::idempotency::{Entry, Idempotency};
use crate::lm::types::*;
use crate::lm::LicenseManager;
use crate::policy::Policy;
use crate::restore::Counters;
use crate::world::World;

/// The layout of `Snapshot` this build writes and reads; any other is refused.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything a world is made of.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// `SNAPSHOT_VERSION` of the build that made it.
    pub version: u32,
    /// `conform-model`'s crate version that made it: the rules its state was made under.
    pub model: String,
    seed: u64,
    policy: Policy,
    clock: Clock,
    counters: Counters,
    /// The names of the faults switched on (`faults` feature; empty without it).
    faults: Vec<String>,
    /// The ClientToken records, ordered by (account, operation, token).
    idempotency: Vec<Recorded>,
    lm: LicenseManager,
    evs: Evs,
}

impl Snapshot {
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Why a snapshot was not made or not restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// Made with another `SNAPSHOT_VERSION`.
    Version { found: u32 },
    /// Made by another version of the model (other rules made its state).
    Model { found: String },
    /// A fault this build does not know (or a build without the `faults` feature).
    Fault(String),
    /// An idempotency record of an operation the snapshot has no types for.
    Idempotency(String),
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotError::Version { found } => write!(
                f,
                "snapshot layout version {found}; this model reads version {SNAPSHOT_VERSION} only"
            ),
            SnapshotError::Model { found } => write!(
                f,
                "made by model version {found}; this is model version {}",
                crate::VERSION
            ),
            SnapshotError::Fault(name) => write!(f, "fault '{name}' is not one this build has"),
            SnapshotError::Idempotency(op) => {
                write!(f, "a ClientToken record of {op}, which a snapshot cannot hold")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

/// One ClientToken record with its typed request and reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    account: String,
    token: String,
    expires_ms: Millis,
    typed: Typed,
}

/// The one list of operations that record ClientTokens (`lm::license::idempotent`), with their
/// canonical request and reply types: a snapshot reads a record through it and a restore writes
/// it back. An operation that records ClientTokens and is missing here makes `World::snapshot`
/// refuse (`SnapshotError::Idempotency`), never drop the record.
macro_rules! typed {
    ($($op:ident: $request:ty => $reply:ty),+ $(,)?) => {
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[allow(clippy::large_enum_variant)]
        enum Typed {
            $($op { request: $request, reply: $reply }),+
        }

        impl Typed {
            fn of(op: &str, request: &dyn Any, reply: &dyn Any) -> Option<Typed> {
                match op {
                    $(stringify!($op) => Some(Typed::$op {
                        request: request.downcast_ref::<$request>()?.clone(),
                        reply: reply.downcast_ref::<$reply>()?.clone(),
                    }),)+
                    _ => None,
                }
            }

            fn record(self, into: &mut Idempotency, account: &str, token: &str, expires_ms: Millis) {
                match self {
                    $(Typed::$op { request, reply } => {
                        into.record(account, stringify!($op), token, request, reply, expires_ms)
                    })+
                }
            }
        }
    };
}

typed! {
    CreateLicense: CreateLicenseRequest => CreateLicenseResponse,
    CreateLicenseVersion: CreateLicenseVersionRequest => CreateLicenseVersionResponse,
    CreateGrant: CreateGrantRequest => GrantChangeResponse,
    CreateGrantVersion: CreateGrantVersionRequest => GrantChangeResponse,
    CheckoutLicense: CheckoutLicenseRequest => CheckoutLicenseResponse,
    CheckoutBorrowLicense: CheckoutBorrowLicenseRequest => CheckoutBorrowLicenseResponse,
}

fn recorded(e: Entry<'_>) -> Result<Recorded, SnapshotError> {
    let typed = Typed::of(e.op, e.request, e.reply).ok_or_else(|| SnapshotError::Idempotency(e.op.into()))?;
    Ok(Recorded {
        account: e.account.to_string(),
        token: e.token.to_string(),
        expires_ms: e.expires_ms,
        typed,
    })
}

impl World {
    /// A snapshot of this world (a clone of it is taken; see `into_snapshot`).
    pub fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        self.clone().into_snapshot()
    }

    /// This world as a snapshot, without copying its state again: a server clones the world
    /// under its lock and makes the snapshot from the clone elsewhere.
    pub fn into_snapshot(self) -> Result<Snapshot, SnapshotError> {
        let mut idempotency = self
            .idempotency
            .entries()
            .map(|e| Ok(((e.account, e.op, e.token), recorded(e)?)))
            .collect::<Result<Vec<_>, SnapshotError>>()?;
        idempotency.sort_by(|a, b| a.0.cmp(&b.0));
        let idempotency = idempotency.into_iter().map(|(_, r)| r).collect();
        let counters = self.counters();
        Ok(Snapshot {
            version: SNAPSHOT_VERSION,
            model: crate::VERSION.to_string(),
            seed: self.seed,
            faults: fault_names(&self),
            policy: self.policy,
            clock: self.clock,
            counters,
            idempotency,
            lm: std::sync::Arc::unwrap_or_clone(self.lm),
            evs: std::sync::Arc::unwrap_or_clone(self.evs),
        })
    }

    /// The world `snapshot` was made of.
    pub fn restore(snapshot: Snapshot) -> Result<World, SnapshotError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version {
                found: snapshot.version,
            });
        }
        if snapshot.model != crate::VERSION {
            return Err(SnapshotError::Model {
                found: snapshot.model,
            });
        }
        let mut world = World::new(snapshot.seed, snapshot.policy);
        set_faults(&mut world, &snapshot.faults)?;
        world.clock = snapshot.clock;
        world.set_counters(snapshot.counters);
        for r in snapshot.idempotency {
            r.typed.record(
                std::sync::Arc::make_mut(&mut world.idempotency),
                &r.account,
                &r.token,
                r.expires_ms,
            );
        }
        world.lm = std::sync::Arc::new(snapshot.lm);
        world.evs = std::sync::Arc::new(snapshot.evs);
        Ok(world)
    }
}

#[cfg(feature = "faults")]
fn fault_names(world: &World) -> Vec<String> {
    crate::faults::Fault::ALL
        .iter()
        .filter(|f| world.faults.contains(**f))
        .map(|f| f.name().to_string())
        .collect()
}

#[cfg(not(feature = "faults"))]
fn fault_names(_world: &World) -> Vec<String> {
    Vec::new()
}

#[cfg(feature = "faults")]
fn set_faults(world: &mut World, names: &[String]) -> Result<(), SnapshotError> {
    for name in names {
        let fault =
            crate::faults::Fault::from_name(name).ok_or_else(|| SnapshotError::Fault(name.clone()))?;
        world.set_fault(fault);
    }
    Ok(())
}

#[cfg(not(feature = "faults"))]
fn set_faults(_world: &mut World, names: &[String]) -> Result<(), SnapshotError> {
    names
        .first()
        .map_or(Ok(()), |name| Err(SnapshotError::Fault(name.clone())))
}

#[cfg(all(test, feature = "faults"))]
mod tests {
    use crate::faults::Fault;
    use crate::{Policy, World};

    #[test]
    fn the_faults_switched_on_are_restored() {
        let mut w = World::new(1, Policy::default());
        w.set_fault(Fault::CapacityOffByOne);
        let restored = World::restore(w.snapshot().expect("snapshots")).expect("restores");
        assert!(restored.faults.contains(Fault::CapacityOffByOne));
        assert!(!restored.faults.contains(Fault::OverageIgnored));
        let mut snapshot = w.snapshot().expect("snapshots");
        snapshot.faults = vec!["no-such-fault".into()];
        let err = World::restore(snapshot).expect_err("refused").to_string();
        assert!(err.contains("fault 'no-such-fault'"), "{err}");
    }
}
