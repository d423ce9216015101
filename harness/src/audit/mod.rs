//! The auditor: named properties of the reference model, checked on every step of the one
//! workload wherever it runs (the campaign's reference side, the property tests, the fuzz
//! `sequence` target, the proptest-state-machine adapter).
//!
//! A property is [`Expectation::Always`] (it must hold after every step: SPEC 3.10 and 4.4, a
//! refused request changes nothing, an idempotent replay changes nothing, access needs the
//! issuer or a grant, replies are well formed) or [`Expectation::Sometimes`] (a state or outcome a
//! healthy workload reaches: a license at version 4, a drawdown to exactly zero then refused, an
//! entitlement record AT_RISK and back). Sometimes properties are the run's goals: evaluated on
//! typed facts of the model's state and replies, never on strings found anywhere in a reply.
//!
//! ```
//! use conform_harness::audit::{goals, properties, Auditor, Expectation};
//!
//! // Every property has a unique name; the goals are the sometimes ones.
//! let mut names: Vec<_> = properties().map(|p| p.name).collect();
//! let count = names.len();
//! names.sort();
//! names.dedup();
//! assert_eq!(names.len(), count);
//! assert!(goals().all(|p| p.expectation() == Expectation::Sometimes));
//! let auditor = Auditor::new(true);
//! assert!(auditor.reached().is_empty());
//! ```

mod always;
mod sometimes;

pub use always::check_reply;

use std::collections::BTreeMap;

use conform_model::evs::types::EntitlementStatus;
use conform_model::{AwsError, Caller, Event, Reply, Service, World};
use serde_json::Value;

use crate::gen::Step;

/// Whether a property must hold after every step, or be reached by some step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    Always,
    Sometimes,
}

/// How a property is evaluated on one observed step.
#[derive(Clone, Copy)]
pub enum Check {
    /// `Err` describes the violation.
    Always(fn(&Observation) -> Result<(), String>),
    /// `true` when the step reaches the property.
    Sometimes(fn(&Observation, &Facts) -> bool),
}

/// A named property of the model, with the rule it stands for.
pub struct Property {
    pub name: &'static str,
    /// The SPEC section (or issue goal) it comes from.
    pub spec: &'static str,
    pub check: Check,
}

impl Property {
    pub fn expectation(&self) -> Expectation {
        match self.check {
            Check::Always(_) => Expectation::Always,
            Check::Sometimes(_) => Expectation::Sometimes,
        }
    }
}

/// Every property the auditor checks: the always ones, then the goals.
pub fn properties() -> impl Iterator<Item = &'static Property> {
    always::PROPERTIES.iter().chain(sometimes::PROPERTIES)
}

/// What one step did, as the properties see it.
pub struct Observation<'a> {
    /// The abstract step, where the workload has one.
    pub step: Option<&'a Step>,
    /// The world before the step (after settling); `None` when only goals are audited.
    pub before: Option<&'a World>,
    pub after: &'a World,
    pub outcome: Outcome<'a>,
    /// A successful resend of a request the same caller sent earlier (since the last reset) with
    /// the same bytes and the same reply: an idempotent replay (SPEC 3.4).
    pub replay: bool,
    /// The requests of the case before this one (since the last reset), with their replies.
    pub history: &'a [std::sync::Arc<Sent>],
    /// The call's body as JSON, parsed on first use (`Observation::request`): the goals read
    /// it several times a step.
    pub(crate) parsed: std::cell::OnceCell<Option<Value>>,
}

impl Observation<'_> {
    /// The call's ClientToken, if its body is a JSON object with one.
    pub fn client_token(&self) -> Option<String> {
        self.request()?.get("ClientToken")?.as_str().map(str::to_string)
    }

    /// The call's body parsed, if the step was a call and its body is JSON.
    pub fn request(&self) -> Option<&Value> {
        self.parsed
            .get_or_init(|| match &self.outcome {
                Outcome::Call { body, .. } => serde_json::from_slice(body).ok(),
                Outcome::Event { .. } => None,
            })
            .as_ref()
    }
}

/// A step's effect: a request and its reply, or an environment event and its result.
pub enum Outcome<'a> {
    Call {
        caller: &'a Caller,
        service: Service,
        op: &'a str,
        body: &'a [u8],
        reply: &'a Reply,
    },
    Event {
        event: &'a Event,
        result: &'a Result<Value, AwsError>,
    },
}

impl Outcome<'_> {
    /// The operation of a call, if the step was one.
    pub fn op(&self) -> Option<&str> {
        match self {
            Outcome::Call { op, .. } => Some(op),
            Outcome::Event { .. } => None,
        }
    }

    /// The reply of a call, if the step was one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Outcome::Call { reply, .. } => Some(reply),
            Outcome::Event { .. } => None,
        }
    }
}

/// A request sent earlier in the case, and its reply body.
#[derive(Clone, Debug)]
pub struct Sent {
    pub account: String,
    pub service: Service,
    pub op: String,
    pub body: Vec<u8>,
    /// The body's ClientToken, if it has one.
    pub client_token: Option<String>,
    pub reply: Value,
}

/// An always property that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub property: &'static str,
    pub spec: &'static str,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.property, self.spec, self.detail)
    }
}

impl std::error::Error for Violation {}

/// What the auditor keeps across a case's steps for the goals: each entitlement record's status
/// before and after the step, and the statuses it went through.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub before: BTreeMap<u64, EntitlementStatus>,
    pub after: BTreeMap<u64, EntitlementStatus>,
    /// Each record's statuses in order, consecutive repeats folded.
    pub history: BTreeMap<u64, Vec<EntitlementStatus>>,
}

impl Facts {
    fn update(&mut self, world: &World) {
        self.before = std::mem::take(&mut self.after);
        self.after = world.evs().statuses().collect();
        for (seq, status) in &self.after {
            let h = self.history.entry(*seq).or_default();
            if h.last() != Some(status) {
                h.push(*status);
            }
        }
    }
}

/// Checks the properties on each observed step and counts the goals reached.
#[derive(Clone, Debug, Default)]
pub struct Auditor {
    always: bool,
    reached: BTreeMap<&'static str, u64>,
    facts: Facts,
}

impl Auditor {
    /// `always`: check the always properties too (they need the world before each step, which
    /// costs a clone); the goals are counted either way.
    pub fn new(always: bool) -> Auditor {
        Auditor {
            always,
            reached: BTreeMap::new(),
            facts: Facts::default(),
        }
    }

    /// Whether the always properties are checked.
    pub fn checks_always(&self) -> bool {
        self.always
    }

    /// Checks one step: the first always property it breaks, else counts the goals it reaches.
    pub fn observe(&mut self, obs: &Observation) -> Result<(), Violation> {
        self.facts.update(obs.after);
        for p in properties() {
            match p.check {
                Check::Always(check) if self.always && obs.before.is_some() => {
                    check(obs).map_err(|detail| Violation {
                        property: p.name,
                        spec: p.spec,
                        detail,
                    })?;
                }
                Check::Sometimes(reached) => {
                    if reached(obs, &self.facts) {
                        *self.reached.entry(p.name).or_default() += 1;
                    }
                }
                Check::Always(_) => {}
            }
        }
        Ok(())
    }

    /// How often each goal was reached (goals never reached are absent).
    pub fn reached(&self) -> &BTreeMap<&'static str, u64> {
        &self.reached
    }

    /// Forgets the records seen (after a reset, or at a new case); goal counts are kept.
    pub fn forget_state(&mut self) {
        self.facts = Facts::default();
    }
}

/// Every goal (sometimes property) by name, in declaration order.
pub fn goals() -> impl Iterator<Item = &'static Property> {
    sometimes::PROPERTIES.iter()
}

#[cfg(test)]
mod tests;
