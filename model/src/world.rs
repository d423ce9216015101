//! The world: clock, creation sequence, id streams, policy and every service's state, with the
//! one entry point the simulator, the harness and the fuzzers share (`World::handle`).

use serde_json::Value;

use crate::clock::{Clock, Millis};
use crate::error::AwsError;
use crate::events::Event;
use crate::explain::{Explanation, Rule};
use crate::idempotency::Idempotency;
use crate::ids::IdStreams;
use crate::lm::{LicenseManager, LmRequest, Signatures};
use crate::policy::{Policy, PolicyRule};
use crate::service::Service;

/// The operations of `service` conform implements (SPEC 5), in the order of the typed requests.
pub fn operations(service: Service) -> &'static [&'static str] {
    match service {
        Service::LicenseManager => LmRequest::OPERATIONS,
        Service::Evs => crate::evs::EvsRequest::OPERATIONS,
    }
}

/// Whether conform implements a modelled operation (SPEC 5); others get the unknown-operation
/// fault before any validation (SPEC 1.2).
pub fn implements(service: Service, operation: &str) -> bool {
    match service {
        Service::LicenseManager => LmRequest::OPERATIONS.contains(&operation),
        Service::Evs => crate::evs::implements(operation),
    }
}

/// Who sends a request: the account its credentials map to and the region of their scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Caller {
    pub account: String,
    pub region: String,
}

impl Caller {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Caller {
            account: account.into(),
            region: region.into(),
        }
    }
}

/// A request [`World::decode`] read: a typed request for [`World::handle_decoded`], or the
/// refusal its reply will carry.
#[derive(Clone, Debug)]
pub struct Decoded {
    service: Service,
    request: Result<Typed, Refused>,
}

impl Decoded {
    /// The service the request was sent to.
    pub fn service(&self) -> Service {
        self.service
    }
}

// Made and moved once per request: boxing the larger variant would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Typed {
    Lm(LmRequest),
    Evs(crate::evs::EvsRequest),
}

/// A refusal found while decoding; `settled`: the world settles before answering it.
#[derive(Clone, Debug)]
struct Refused {
    error: AwsError,
    settled: bool,
}

/// A reply of the model, ready for the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub service: Service,
    pub status: u16,
    /// `Some` for an error reply: its `__type` is `error.type_name()`.
    pub error: Option<crate::error::ErrorCode>,
    pub body: Value,
    /// `x-amzn-RequestId`.
    pub request_id: String,
    /// `Location` header of a RedirectException.
    pub location: Option<String>,
    /// The `[P]` rules of SPEC.md this reply relied on.
    pub policies: Vec<PolicyRule>,
    /// Why an error reply refused (issue #18); `None` on success. Not part of the wire reply.
    pub explanation: Option<Explanation>,
}

impl Reply {
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }

    /// The error's shape name, for error replies.
    pub fn error_type(&self) -> Option<&'static str> {
        self.error.map(|e| e.type_name())
    }
}

/// The whole simulated world.
#[derive(Clone, Debug)]
pub struct World {
    pub(crate) policy: Policy,
    pub(crate) clock: Clock,
    pub(crate) seed: u64,
    pub(crate) next_seq: u64,
    pub(crate) ids: IdStreams,
    /// Shared between clones until one records a reply (`Arc::make_mut`).
    pub(crate) idempotency: std::sync::Arc<Idempotency>,
    /// Shared between clones until one changes it (`Arc::make_mut`, `World::lm_mut`): an
    /// explored transition that changes no License Manager table copies none.
    pub(crate) lm: std::sync::Arc<LicenseManager>,
    /// Shared between clones until one changes it (`Arc::make_mut`): an explored LM
    /// transition copies no EVS table.
    pub(crate) evs: std::sync::Arc<crate::evs::Evs>,
    pub(crate) relied: Vec<PolicyRule>,
    /// Whether SignedTokens carry their signature (kept through a reset; not state).
    pub(crate) signatures: Signatures,
    #[cfg(feature = "faults")]
    pub(crate) faults: crate::faults::FaultSet,
}

impl World {
    /// A fresh world with the given seed and policy, its clock at `clock::DEFAULT_START_MS`.
    pub fn new(seed: u64, policy: Policy) -> Self {
        World {
            policy,
            clock: Clock::default(),
            seed,
            next_seq: 1,
            ids: IdStreams::new(seed),
            idempotency: Default::default(),
            lm: Default::default(),
            evs: Default::default(),
            relied: Vec::new(),
            signatures: Signatures::default(),
            #[cfg(feature = "faults")]
            faults: Default::default(),
        }
    }

    /// The License Manager tables to change: this world's own copy, made on the first change
    /// after a clone.
    pub(crate) fn lm_mut(&mut self) -> &mut LicenseManager {
        std::sync::Arc::make_mut(&mut self.lm)
    }

    /// The EVS state to change: this world's own copy, made on the first change after a clone.
    pub(crate) fn evs_mut(&mut self) -> &mut crate::evs::Evs {
        std::sync::Arc::make_mut(&mut self.evs)
    }

    /// A fresh world whose clock starts at `start_ms` instead of `clock::DEFAULT_START_MS`.
    pub fn starting_at(seed: u64, policy: Policy, start_ms: Millis) -> Self {
        let mut world = World::new(seed, policy);
        world.clock = Clock::at(start_ms);
        world
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A copy that shares none of its copy-on-write tables with this world (a clone shares
    /// them until one side changes them): for a thread of its own, whose clones then count
    /// their references on cache lines no other thread writes.
    pub fn detached(&self) -> World {
        let mut copy = self.clone();
        copy.evs = std::sync::Arc::new(crate::evs::Evs::clone(&self.evs));
        copy.idempotency = std::sync::Arc::new(self.idempotency.detached());
        copy.lm = std::sync::Arc::new(LicenseManager::clone(&self.lm));
        for license in &mut copy.lm_mut().licenses {
            for version in &mut license.versions {
                *version = std::sync::Arc::new(crate::lm::LicenseVersion::clone(version));
            }
        }
        copy
    }

    /// Whether this world's SignedTokens carry their signature ([`Signatures`]).
    pub fn set_signatures(&mut self, signatures: Signatures) {
        self.signatures = signatures;
    }

    /// The License Manager state, read-only (for invariant checks and state dumps).
    pub fn lm(&self) -> &LicenseManager {
        &self.lm
    }

    pub fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    /// The next value of the world-wide creation sequence (SPEC 2).
    pub(crate) fn next_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    pub(crate) fn rely(&mut self, rule: PolicyRule) {
        if !self.relied.contains(&rule) {
            self.relied.push(rule);
        }
    }

    /// The caller a request without credentials maps to (SPEC 1.3 `default_account`).
    pub fn default_caller(&self) -> Caller {
        Caller::new(
            self.policy.default_account.clone(),
            self.policy.default_region.clone(),
        )
    }

    /// Settles every event due at or before now, in time order (SPEC 2).
    pub(crate) fn settle(&mut self) {
        let now = self.now_ms();
        let tokens_now = now - i64::from(fault!(self, TokenLiveAtExpiry));
        let extended = !fault!(self, ExtensionNotHonoured);
        // Nothing due copies nothing.
        if self.lm.next_due().is_some_and(|due| due <= tokens_now) {
            let release = !fault!(self, ExpiryNotReleasing);
            self.lm_mut().settle(tokens_now, release, extended);
        }
        crate::evs::settle(self, now);
    }

    /// Answers one AWS request for `service`'s operation `operation`: [`World::decode`], then
    /// [`World::handle_decoded`].
    pub fn handle(&mut self, caller: &Caller, service: Service, operation: &str, body: &[u8]) -> Reply {
        self.handle_decoded(caller, World::decode(service, operation, body))
    }

    /// The part of answering a request that reads no state: the operation looked up, the body
    /// parsed and checked against the service's model and made a typed request. A server can do
    /// it outside its lock on the world; the reply is the same as [`World::handle`]'s.
    pub fn decode(service: Service, operation: &str, body: &[u8]) -> Decoded {
        let refused = |error: AwsError, settled: bool| Decoded {
            service,
            request: Err(Refused { error, settled }),
        };
        let model = service.model();
        let Some(op) = model.operation(operation) else {
            let fault = service
                .unknown_operation(format!("Unknown operation '{operation}'"))
                .because_message(Rule::UnknownOperation);
            return refused(fault, false);
        };
        if !implements(service, operation) {
            let fault = service
                .unknown_operation("not implemented by conform")
                .because_message(Rule::UnknownOperation);
            return refused(fault, false);
        }
        let value = match model.decode(op, body) {
            Ok(v) => v,
            Err(e) => return refused(e.because_message(Rule::Shape), false),
        };
        // A body of the right shape that is no typed request is refused after the world has
        // settled, as a request that reaches its operation is.
        let typed = match service {
            Service::LicenseManager => LmRequest::from_body(operation, value).map(|r| r.map(Typed::Lm)),
            Service::Evs => crate::evs::EvsRequest::from_body(operation, value).map(|r| r.map(Typed::Evs)),
        }
        .and_then(|t| t.ok_or_else(|| service.unknown_operation("not implemented by conform")));
        Decoded {
            service,
            request: typed.map_err(|error| Refused { error, settled: true }),
        }
    }

    /// Answers a request [`World::decode`] made.
    pub fn handle_decoded(&mut self, caller: &Caller, decoded: Decoded) -> Reply {
        self.relied.clear();
        let service = decoded.service;
        let result = match decoded.request {
            Err(Refused { error, settled }) => {
                if settled {
                    self.settle();
                }
                Err(error)
            }
            Ok(typed) => {
                self.settle();
                match typed {
                    Typed::Lm(req) => crate::lm::execute(self, caller, req),
                    Typed::Evs(req) => crate::evs::execute(self, caller, req),
                }
            }
        };
        match result {
            Ok(body) => {
                let request_id = self.ids.request_id();
                Reply {
                    service,
                    status: 200,
                    error: None,
                    body,
                    request_id,
                    location: None,
                    policies: std::mem::take(&mut self.relied),
                    explanation: None,
                }
            }
            Err(e) => self.error_reply(service, e),
        }
    }

    fn error_reply(&mut self, service: Service, mut error: AwsError) -> Reply {
        self.rely_error_form(service);
        let explanation = match error.explanation.take() {
            Some(e) => *e,
            None => Explanation::new(Rule::Other, error.message.clone()),
        };
        Reply {
            service,
            status: error.status_under(service, &self.policy),
            error: Some(error.code),
            body: error.body_under(service, &self.policy),
            request_id: self.ids.request_id(),
            location: error.detail.location.clone(),
            policies: std::mem::take(&mut self.relied),
            explanation: Some(explanation),
        }
    }

    /// Applies an environment event (SPEC 2): clock, fixtures, reset.
    pub fn apply(&mut self, event: Event) -> Result<Value, AwsError> {
        crate::events::apply(self, event)
    }
}
