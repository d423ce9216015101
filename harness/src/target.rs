//! The `Target` trait: anything that answers AWS calls. The in-process model is one; HTTP
//! endpoints (the simulator, other emulators, real AWS) are others.

use conform_model::{Caller, Event, Policy, Service, World};
use serde_json::Value;

/// One reply as a target sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    /// The error's shape name (`__type` with any namespace stripped), for error replies.
    pub error_type: Option<String>,
    pub body: Value,
}

impl From<conform_model::Reply> for Response {
    /// The model's reply as a target's: status, error type, body.
    fn from(r: conform_model::Reply) -> Response {
        Response {
            status: r.status,
            error_type: r.error_type().map(str::to_string),
            body: r.body,
        }
    }
}

impl Response {
    pub fn outcome(&self) -> &str {
        self.error_type.as_deref().unwrap_or("ok")
    }
}

/// A failure of the harness's own plumbing (connection refused, bad credentials): never
/// reported as nonconformance.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// A step this target cannot take (another account's, a clock event on real AWS): it skips
    /// its case or scenario instead of aborting the run.
    #[error("skipped on AWS: {0}")]
    Skipped(String),
    /// The safety guard refused to send the request (it would touch what the run did not
    /// create); skips like [`InfraError::Skipped`].
    #[error("safety guard refused: {0}")]
    Refused(String),
    /// The target does not implement an operation in scope (it answered the unknown-operation
    /// fault, 404 without an error type, 501, or not JSON): skips like [`InfraError::Skipped`],
    /// and is reported once per operation (`crate::unimplemented`).
    #[error("not implemented by the target: {operation} ({why})")]
    NotImplemented { operation: String, why: String },
    /// Anything else: connection refused, refused credentials, a reply that is no reply.
    #[error("{0}")]
    Other(String),
}

impl InfraError {
    /// Whether the error only skips the case or scenario it happened in.
    pub fn is_skip(&self) -> bool {
        matches!(
            self,
            InfraError::Skipped(_) | InfraError::Refused(_) | InfraError::NotImplemented { .. }
        )
    }
}

/// What a target can do beyond answering AWS calls: the capabilities of the control-plane
/// protocol (`docs/control-plane.md`) the harness uses, each discovered on its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// `reset`: forget every resource.
    pub reset: bool,
    /// `clock`: move the target's clock forward (`advance_clock`).
    pub clock: bool,
    /// `marketplace`: seed Marketplace-issued licenses (`seed_marketplace_license`).
    pub marketplace: bool,
    /// `evs_inventory`: seed EVS environments and connectors, add, remove and change VMs.
    pub evs_inventory: bool,
    /// `connector_health`: set an EVS connector's health.
    pub connector_health: bool,
}

impl Capabilities {
    /// Every capability (the model, the embedded simulator).
    pub const ALL: Capabilities = Capabilities {
        reset: true,
        clock: true,
        marketplace: true,
        evs_inventory: true,
        connector_health: true,
    };
    /// None (real AWS, an endpoint without a control plane).
    pub const NONE: Capabilities = Capabilities {
        reset: false,
        clock: false,
        marketplace: false,
        evs_inventory: false,
        connector_health: false,
    };

    /// Each capability's protocol name and whether the target has it.
    pub fn list(&self) -> [(&'static str, bool); 5] {
        [
            ("reset", self.reset),
            ("clock", self.clock),
            ("marketplace", self.marketplace),
            ("evs_inventory", self.evs_inventory),
            ("connector_health", self.connector_health),
        ]
    }

    /// The capabilities named in a `GET /_conform/capabilities` list (unknown names ignored).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Capabilities {
        let mut c = Capabilities::NONE;
        for name in names {
            match name {
                "reset" => c.reset = true,
                "clock" => c.clock = true,
                "marketplace" => c.marketplace = true,
                "evs_inventory" => c.evs_inventory = true,
                "connector_health" => c.connector_health = true,
                _ => {}
            }
        }
        c
    }

    /// The names of the capabilities it lacks.
    pub fn missing(&self) -> Vec<&'static str> {
        self.list()
            .into_iter()
            .filter(|(_, has)| !has)
            .map(|(n, _)| n)
            .collect()
    }

    /// Whether it takes every environment event (the seeds of the case fixtures too).
    pub fn fixtures(&self) -> bool {
        self.marketplace && self.evs_inventory && self.connector_health
    }

    /// Whether it takes every event the generator draws: the clock and every seed.
    pub fn events(&self) -> bool {
        self.clock && self.fixtures()
    }

    /// Whether it takes `event`.
    pub fn takes(&self, event: &Event) -> bool {
        match event {
            Event::AdvanceClock { .. } => self.clock,
            Event::SeedMarketplaceLicense(_) => self.marketplace,
            Event::SeedEvsEnvironment(_)
            | Event::SeedEvsConnector(_)
            | Event::AddVm(_)
            | Event::RemoveVm(_)
            | Event::SetVmGuestOs(_) => self.evs_inventory,
            Event::SetConnectorHealth(_) => self.connector_health,
            Event::Reset => self.reset,
        }
    }

    /// The names of the capabilities of `self` that `target` lacks.
    pub fn missing_from(&self, target: &Capabilities) -> Vec<&'static str> {
        self.list()
            .into_iter()
            .zip(target.list())
            .filter(|((_, need), (_, has))| *need && !has)
            .map(|((n, _), _)| n)
            .collect()
    }

    /// What a run cannot do without the capabilities it lacks, and why: one line each.
    pub fn limits(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.reset {
            out.push("no reset: the scenarios are skipped (each starts from nothing), cases share the target's state (each touches only its own resources), findings are not shrunk".to_string());
        }
        if !self.clock {
            out.push("no clock: scenarios are skipped (each starts at a known instant); nothing waits for time (expiry, TTLs, EVS syncs); the target's clock is read from its Date header".to_string());
        }
        for (name, what) in [
            ("marketplace", "Marketplace licenses cannot be seeded"),
            (
                "evs_inventory",
                "EVS environments, connectors and VMs cannot be seeded or changed",
            ),
            ("connector_health", "EVS connector health cannot be set"),
        ] {
            if self.missing().contains(&name) {
                out.push(format!(
                    "no {name}: {what}; the scenarios that need it are skipped"
                ));
            }
        }
        if !self.events() && self.list().iter().any(|(_, has)| *has) {
            out.push("generated cases draw only the events it takes; the case fixtures (EVS environments and VMs) need evs_inventory and reset, and cases share its state unless it takes every event".to_string());
        } else if !self.events() {
            out.push(
                "generated cases draw no environment events and no case fixtures; every other step runs"
                    .to_string(),
            );
        }
        out
    }

    /// Both sets together.
    pub fn with(self, other: Capabilities) -> Capabilities {
        Capabilities {
            reset: self.reset || other.reset,
            clock: self.clock || other.clock,
            marketplace: self.marketplace || other.marketplace,
            evs_inventory: self.evs_inventory || other.evs_inventory,
            connector_health: self.connector_health || other.connector_health,
        }
    }

    /// The capability an event of kind `kind` (its `event` tag, `seed_evs_connector`) needs;
    /// an unknown kind needs every one.
    pub fn of_event_kind(kind: &str) -> Capabilities {
        let mut c = Capabilities::NONE;
        match kind {
            "advance_clock" => c.clock = true,
            "seed_marketplace_license" => c.marketplace = true,
            "seed_evs_environment" | "seed_evs_connector" | "add_vm" | "remove_vm" | "set_vm_guest_os" => {
                c.evs_inventory = true
            }
            "set_connector_health" => c.connector_health = true,
            "reset" => c.reset = true,
            _ => c = Capabilities::ALL,
        }
        c
    }
}

pub trait Target {
    /// A short name for reports.
    fn name(&self) -> String;
    fn capabilities(&self) -> Capabilities;
    /// Sends one AWS call.
    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError>;
    /// Applies an environment event (clock, fixtures); only where `capabilities` allow.
    fn event(&mut self, event: &Event) -> Result<Value, InfraError>;
    /// Forgets every resource.
    fn reset(&mut self) -> Result<(), InfraError>;
    /// The target's own instant (milliseconds since the epoch) as it tells it where its clock
    /// is not ours (the HTTP `Date` of its latest reply); `None` when it tells none.
    fn now_ms(&mut self) -> Result<Option<i64>, InfraError> {
        Ok(None)
    }
    /// Another client of the same target on a connection of its own, for concurrent clients
    /// (`conform run --clients N`); `None` where the target cannot give one (the in-process
    /// model, real AWS).
    fn connect(&self) -> Option<Result<Box<dyn Target + Send>, InfraError>> {
        None
    }
}

/// The reference model, in process.
pub struct ModelTarget {
    world: World,
    seed: u64,
    policy: Policy,
}

impl ModelTarget {
    pub fn new(seed: u64, policy: Policy) -> Self {
        ModelTarget {
            world: World::new(seed, policy.clone()),
            seed,
            policy,
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }
}

impl Target for ModelTarget {
    fn name(&self) -> String {
        "model".into()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let r = self.world.handle(caller, service, operation, body);
        Ok(Response::from(r))
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        // A refused event is an answer, as the simulator's control plane gives it, not a failure.
        Ok(self
            .world
            .apply(event.clone())
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })))
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        self.world = World::new(self.seed, self.policy.clone());
        Ok(())
    }
}
