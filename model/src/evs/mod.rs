//! Amazon EVS Windows Server entitlements (SPEC 4): environments, connectors, entitlement records
//! and the sync that moves their statuses.

use serde_json::Value;

use crate::clock::Millis;
use crate::error::AwsError;
use crate::service::Service;
use crate::world::{Caller, World};

/// The EVS state of a world.
#[derive(Clone, Debug, Default)]
pub struct Evs {}

/// Runs every sync due at or before `now` (SPEC 4.3).
pub(crate) fn settle(_world: &mut World, _now: Millis) {}

/// Whether conform implements this EVS operation.
pub(crate) fn implements(_operation: &str) -> bool {
    false
}

/// Runs one decoded EVS request.
pub(crate) fn execute_json(
    _world: &mut World,
    _caller: &Caller,
    _operation: &str,
    _body: Value,
) -> Result<Value, AwsError> {
    Err(Service::Evs.unknown_operation("not implemented by conform"))
}
