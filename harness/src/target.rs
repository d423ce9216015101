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
    /// Anything else: connection refused, refused credentials, a reply that is no reply.
    #[error("{0}")]
    Other(String),
}

impl InfraError {
    /// Whether the error only skips the case or scenario it happened in.
    pub fn is_skip(&self) -> bool {
        matches!(self, InfraError::Skipped(_) | InfraError::Refused(_))
    }
}

/// What a target can do beyond answering AWS calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    pub reset: bool,
    pub clock: bool,
    pub fixtures: bool,
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
        Capabilities {
            reset: true,
            clock: true,
            fixtures: true,
        }
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
