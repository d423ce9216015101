//! The reference side of a case: the model, the ids it handed out and the auditor. Every
//! workload runs its steps on the model through here (the generator, the [`super::Session`]
//! beside a target, the property tests, the fuzz `sequence` target), so concretization,
//! execution and the audit have one home.

use std::sync::Arc;

use conform_model::{Caller, Event, PolicyRule, Service, World};
use serde::Deserialize;
use serde_json::Value;

use super::{case_world, CaseConfig};
use crate::audit::{Auditor, Observation, Outcome, Sent, Violation};
use crate::gen::{case_fixtures, concretize, concretize_parsed, Concrete, Known, Step, Who};
use crate::target::Response;

/// What the model did with one step.
#[derive(Clone, Debug)]
pub struct Ran {
    pub response: Response,
    /// The `[P]` rules the model's reply relied on (requests only).
    pub policies: Vec<PolicyRule>,
    /// The reply's `x-amzn-RequestId` (requests only).
    pub request_id: String,
}

/// How deep a case went: the most the model held at any step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Depth {
    /// The longest version chain of one license.
    pub license_versions: usize,
    /// The most live tokens on one license.
    pub live_tokens: usize,
    /// The most grants.
    pub grants: usize,
}

impl Depth {
    /// What `world` holds now.
    pub fn of(world: &World) -> Depth {
        let lm = world.lm();
        // Live tokens per license, indexed as the licenses are.
        let mut live = vec![0usize; lm.licenses().len()];
        for t in lm
            .tokens()
            .iter()
            .filter(|t| t.state == conform_model::lm::TokenState::Live)
        {
            if let Some(n) = live.get_mut(t.license) {
                *n += 1;
            }
        }
        Depth {
            license_versions: lm.licenses().iter().map(|l| l.versions.len()).max().unwrap_or(0),
            live_tokens: live.into_iter().max().unwrap_or(0),
            grants: lm.grants().len(),
        }
    }

    fn update(&mut self, world: &World) {
        let now = Depth::of(world);
        self.license_versions = self.license_versions.max(now.license_versions);
        self.live_tokens = self.live_tokens.max(now.live_tokens);
        self.grants = self.grants.max(now.grants);
    }
}

/// The model beside a case, with what it has handed out and the auditor watching it.
#[derive(Clone, Debug)]
pub struct Reference {
    depth: Depth,
    ns: String,
    isolated: bool,
    world: World,
    known: Known,
    /// Shared between the clones of an explored state: a clone copies pointers, not bodies.
    history: Vec<Arc<Sent>>,
    auditor: Auditor,
    /// Nothing has changed the world since it was last settled: settling again is a no-op
    /// (an explored state is settled before each of its successors).
    settled: bool,
}

pub(crate) fn caller(who: Who) -> Caller {
    Caller::new(who.account(), "us-east-1")
}

impl Reference {
    /// Case `case` of `cfg`: its seeded world at the case's phase of the sync grid, with the
    /// case's fixtures where the target takes events. `always`: check the always properties.
    pub fn new(cfg: &CaseConfig, case: u64, always: bool) -> Reference {
        let world = case_world(cfg.case_seed(case), &cfg.policy);
        let mut r = Reference::on(world, cfg.namespace(case), cfg.isolated(), always);
        if cfg.seeds_fixtures() {
            for f in case_fixtures() {
                r.fixture(&f);
            }
        }
        r
    }

    /// A reference on `world` as it is, for the case namespace `ns`. Its SignedTokens carry no
    /// signature: comparisons read a SignedToken's header and claims only (SPEC 3.8), and the
    /// RSA signature was a quarter of a compared step and nine tenths of an explored borrow.
    pub fn on(mut world: World, ns: String, isolated: bool, always: bool) -> Reference {
        world.set_signatures(conform_model::lm::Signatures::Omitted);
        Reference {
            depth: Depth::default(),
            ns,
            isolated,
            world,
            known: Known::default(),
            history: Vec::new(),
            auditor: Auditor::new(always),
            settled: false,
        }
    }

    /// A copy that shares nothing copy-on-write with this one ([`World::detached`]; the
    /// history and the calls known are copied too): what a worker thread starts from.
    pub fn detached(&self) -> Reference {
        let mut copy = self.clone();
        copy.world = self.world.detached();
        copy.history = self.history.iter().map(|h| Arc::new(Sent::clone(h))).collect();
        copy.known.calls = self
            .known
            .calls
            .iter()
            .map(|c| Arc::new(Concrete::clone(c)))
            .collect();
        copy
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn known(&self) -> &Known {
        &self.known
    }

    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// How deep the case has gone so far.
    pub fn depth(&self) -> Depth {
        self.depth
    }

    /// Seeds a fixture event (not audited, not a step); its result as the model answers it.
    pub fn fixture(&mut self, event: &Value) -> Value {
        self.settled = false;
        let result = apply_event(&mut self.world, event);
        self.known
            .learn(&Concrete::Event(event.clone()), &result, self.world.now_ms());
        result
    }

    /// The model for requests that are not steps of the case (read-backs): not audited.
    pub(crate) fn world_mut(&mut self) -> &mut World {
        self.settled = false;
        &mut self.world
    }

    /// Moves the model's clock without a step (following a target's wall clock).
    pub(crate) fn follow(&mut self, millis: i64) {
        self.settled = false;
        let _ = self.world.apply(Event::AdvanceClock { seconds: 0, millis });
    }

    /// The request or event `step` stands for now.
    pub fn concretize(&self, step: &Step) -> Concrete {
        concretize(step, &self.ns, self.isolated, &self.known, &self.world)
    }

    /// Concretizes and runs `step`.
    pub fn advance(&mut self, step: &Step) -> Result<(Concrete, Ran), Violation> {
        let (concrete, parsed) = concretize_parsed(step, &self.ns, self.isolated, &self.known, &self.world);
        let ran = self.run_parsed(Some(step), &concrete, parsed)?;
        Ok((concrete, ran))
    }

    /// Runs a concrete step on the model, audits it and learns the ids it hands out.
    pub fn run(&mut self, step: Option<&Step>, concrete: &Concrete) -> Result<Ran, Violation> {
        self.run_parsed(step, concrete, None)
    }

    /// [`Reference::run`], given the call's body as the value it was serialized from if known.
    fn run_parsed(
        &mut self,
        step: Option<&Step>,
        concrete: &Concrete,
        parsed: Option<Value>,
    ) -> Result<Ran, Violation> {
        let always = self.auditor.checks_always();
        if always {
            self.settle();
        }
        let before = always.then(|| self.world.clone());
        self.run_after(step, concrete, parsed, before.as_ref())
    }

    /// Moves the model to what falls due now (an advance of zero), as every audited step does
    /// first, so that the world before a step already shows it.
    pub fn settle(&mut self) {
        if !std::mem::replace(&mut self.settled, true) {
            let _ = self.world.apply(Event::advance_seconds(0));
        }
    }

    /// The state `step` leads to from this one, audited against this one as the world before
    /// it: one clone of the state per transition, where [`Reference::advance`] on a clone makes
    /// two. Settles this state first (as `advance` would), so expanding one state many times
    /// settles it once.
    pub fn successor(&mut self, step: &Step) -> Result<Reference, Violation> {
        self.settle();
        let mut next = self.clone();
        let (concrete, parsed) = concretize_parsed(step, &next.ns, next.isolated, &next.known, &next.world);
        let before = self.auditor.checks_always().then_some(&self.world);
        next.run_after(Some(step), &concrete, parsed, before)?;
        Ok(next)
    }

    /// Runs a concrete step on a settled model whose state before the step is `before`;
    /// `parsed`: the call's body as the value it was serialized from, if the caller has it.
    fn run_after(
        &mut self,
        step: Option<&Step>,
        concrete: &Concrete,
        parsed: Option<Value>,
        before: Option<&World>,
    ) -> Result<Ran, Violation> {
        self.settled = false;
        let ran = match concrete {
            Concrete::Call {
                who,
                service,
                op,
                body,
            } => {
                let who = caller(*who);
                let reply = self
                    .world
                    .handle_decoded(&who, super::decoded::decode(*service, op, body));
                let replay = !reply.is_error()
                    && self.history.iter().any(|h| {
                        h.account == who.account && h.op == *op && h.body == *body && h.reply == reply.body
                    });
                let obs = Observation {
                    step,
                    before,
                    after: &self.world,
                    outcome: Outcome::Call {
                        caller: &who,
                        service: *service,
                        op,
                        body,
                        reply: &reply,
                    },
                    replay,
                    history: &self.history,
                    parsed: match parsed {
                        Some(value) => {
                            debug_assert_eq!(
                                serde_json::from_slice::<Value>(body).ok().as_ref(),
                                Some(&value)
                            );
                            Some(value).into()
                        }
                        None => Default::default(),
                    },
                };
                self.auditor.observe(&obs)?;
                let client_token = obs.client_token();
                self.history.push(Arc::new(Sent {
                    account: who.account.clone(),
                    service: *service,
                    op: op.clone(),
                    body: body.clone(),
                    client_token,
                    reply: reply.body.clone(),
                }));
                Ran {
                    policies: reply.policies.clone(),
                    request_id: reply.request_id.clone(),
                    response: Response::from(reply),
                }
            }
            Concrete::Event(e) => {
                let (event, result) = match Event::deserialize(e) {
                    Ok(event) => {
                        let result = self.world.apply(event.clone());
                        (Some(event), result)
                    }
                    Err(err) => (None, Ok(Value::String(format!("bad event: {err}")))),
                };
                if let Some(event) = &event {
                    let obs = Observation {
                        step,
                        before,
                        after: &self.world,
                        outcome: Outcome::Event {
                            event,
                            result: &result,
                        },
                        replay: false,
                        history: &self.history,
                        parsed: Default::default(),
                    };
                    self.auditor.observe(&obs)?;
                    if *event == Event::Reset {
                        // A reset world draws the same ids again: an equal reply from before it
                        // is a new object, not a replay.
                        self.history.clear();
                        self.auditor.forget_state();
                    }
                }
                let body = result.unwrap_or_else(|e| e.body(Service::LicenseManager));
                Ran {
                    response: Response {
                        status: 200,
                        error_type: None,
                        body,
                    },
                    policies: Vec::new(),
                    request_id: String::new(),
                }
            }
        };
        self.known
            .learn(concrete, &ran.response.body, self.world.now_ms());
        self.depth.update(&self.world);
        Ok(ran)
    }
}

/// Applies an event given as JSON; its result, or the error body of a refusal.
pub(crate) fn apply_event(world: &mut World, event: &Value) -> Value {
    match Event::deserialize(event) {
        Ok(e) => world.apply(e).unwrap_or_else(|e| e.body(Service::LicenseManager)),
        Err(e) => Value::String(format!("bad event: {e}")),
    }
}
