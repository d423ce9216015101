//! Races, compiled only with the `faults` feature: the simulator's own concurrency done wrong,
//! for proving the harness's linearizability check (`conform run --clients N`). Each answers a
//! request the way a server with that bug would under concurrent clients; a sequential client
//! sees (almost) nothing wrong.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use conform_model::{Caller, Reply, Service};
use serde_json::Value;

use crate::{Failure, Simulator};

/// How long a race keeps its window open: long enough that concurrent clients on loopback
/// land in it, short enough that a run stays fast.
const WINDOW: Duration = Duration::from_millis(15);

/// One named race.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RaceFault {
    /// The capacity check and the capacity take happen under separate lock acquisitions: a
    /// checkout is answered on a copy of the world read under one, and the copy written back
    /// under another, so concurrent changes in between are lost.
    SplitCheckout,
    /// A check-in answers before it releases: the reply is computed on a copy, the seat is
    /// given back a moment later.
    CheckInBeforeRelease,
    /// The idempotency record of a ClientToken is written a moment after the reply, so a
    /// replay sent on another connection in between is taken as a new request.
    IdempotencyRecordLate,
}

impl RaceFault {
    pub const ALL: &'static [RaceFault] = &[
        RaceFault::SplitCheckout,
        RaceFault::CheckInBeforeRelease,
        RaceFault::IdempotencyRecordLate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RaceFault::SplitCheckout => "race-split-checkout",
            RaceFault::CheckInBeforeRelease => "race-check-in-before-release",
            RaceFault::IdempotencyRecordLate => "race-idempotency-record-late",
        }
    }

    pub fn about(self) -> &'static str {
        match self {
            RaceFault::SplitCheckout => {
                "checkouts check capacity and take it under separate lock acquisitions (lost updates)"
            }
            RaceFault::CheckInBeforeRelease => "CheckInLicense answers before the units are released",
            RaceFault::IdempotencyRecordLate => {
                "a ClientToken's record is written after the reply: a concurrent replay runs again"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<RaceFault> {
        RaceFault::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// The races a simulator has switched on, with what they remember.
#[derive(Debug, Default)]
pub struct RaceFaults {
    on: BTreeSet<RaceFault>,
    /// (account, ClientToken) → when its request was answered (`IdempotencyRecordLate`).
    answered: Mutex<HashMap<(String, String), Instant>>,
    /// Replays taken as new requests so far: each gets a ClientToken of its own.
    replays: Mutex<u64>,
}

impl RaceFaults {
    pub fn insert(&mut self, f: RaceFault) {
        self.on.insert(f);
    }

    pub fn contains(&self, f: RaceFault) -> bool {
        self.on.contains(&f)
    }

    pub fn is_empty(&self) -> bool {
        self.on.is_empty()
    }

    /// The body as this server's racy idempotency sees it: a replay inside the window gets a
    /// ClientToken of its own, as if no record existed yet.
    fn late_record(&self, caller: &Caller, body: &[u8]) -> Option<Vec<u8>> {
        let mut v: Value = serde_json::from_slice(body).ok()?;
        let token = v.get("ClientToken")?.as_str()?.to_string();
        let key = (caller.account.clone(), token.clone());
        let now = Instant::now();
        let mut answered = self.answered.lock().unwrap_or_else(PoisonError::into_inner);
        answered.retain(|_, at| now.duration_since(*at) < WINDOW * 4);
        match answered.get(&key) {
            Some(at) if now.duration_since(*at) < WINDOW => {
                let mut n = self.replays.lock().unwrap_or_else(PoisonError::into_inner);
                *n += 1;
                v["ClientToken"] = Value::from(format!("{token}-{n}"));
                Some(v.to_string().into_bytes())
            }
            _ => {
                answered.insert(key, now);
                None
            }
        }
    }
}

/// Answers an AWS request through a race switched on for it; `None` leaves it to the faithful
/// path. Nothing here is journaled (`--state-dir`): races are for proving the checker.
pub(crate) async fn answer(
    sim: &Arc<Simulator>,
    caller: &Caller,
    service: Service,
    operation: &str,
    body: &[u8],
) -> Option<Result<Reply, Failure>> {
    let races = &sim.race_faults;
    if races.is_empty() {
        return None;
    }
    let run = |world: &mut conform_model::World, body: &[u8]| {
        crate::decode_and_dispatch(sim.dispatch, world, caller, service, operation, body)
            .map_err(|_| Failure::Panicked)
    };
    let checkout = matches!(operation, "CheckoutLicense" | "CheckoutBorrowLicense");
    if races.contains(RaceFault::SplitCheckout) && checkout {
        let mut copy = sim.lock().world.clone();
        tokio::time::sleep(WINDOW / 5).await;
        let reply = run(&mut copy, body);
        sim.lock().world = copy;
        return Some(reply);
    }
    if races.contains(RaceFault::CheckInBeforeRelease) && operation == "CheckInLicense" {
        let mut copy = sim.lock().world.clone();
        let reply = run(&mut copy, body);
        let (later, caller, operation, body) =
            (sim.clone(), caller.clone(), operation.to_string(), body.to_vec());
        tokio::spawn(async move {
            tokio::time::sleep(WINDOW).await;
            let mut inner = later.lock();
            let _ = crate::decode_and_dispatch(
                later.dispatch,
                &mut inner.world,
                &caller,
                service,
                &operation,
                &body,
            );
        });
        return Some(reply);
    }
    if races.contains(RaceFault::IdempotencyRecordLate) {
        if let Some(fresh) = races.late_record(caller, body) {
            let mut inner = sim.lock();
            return Some(run(&mut inner.world, &fresh));
        }
    }
    None
}
