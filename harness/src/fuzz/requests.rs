//! The request targets: one request against a seeded world, with the reply shape, the
//! invariants, determinism and the request round trip checked.

use conform_model::evs::EvsRequest;
use conform_model::invariants::{check_evs, check_lm, same_state, Cause};
use conform_model::lm::LmRequest;
use conform_model::{Caller, Service};

use crate::audit::check_reply;
use serde_json::Value;

use super::worlds::{evs_base, lm_base, Base};
use super::{evs_caller, evs_operation, lm_caller, lm_operation, split, substitute};

/// A body that passes the service model's decoder must build a typed request, and that request's
/// serialization must decode back to the same request.
fn check_round_trip(service: Service, operation: &str, body: &[u8]) -> Result<(), String> {
    let model = service.model();
    let Some(op) = model.operation(operation) else {
        return Ok(());
    };
    let Ok(decoded) = model.decode(op, body) else {
        return Ok(());
    };
    let again = |v: Value| model.decode(op, v.to_string().as_bytes());
    match service {
        Service::LicenseManager => {
            let Some(req) = LmRequest::from_body(operation, decoded)
                .map_err(|e| format!("a decoded body did not type: {e}"))?
            else {
                return Ok(());
            };
            let back =
                again(req.to_body()).map_err(|e| format!("the serialized request failed validation: {e}"))?;
            match LmRequest::from_body(operation, back) {
                Ok(Some(r)) if r == req => Ok(()),
                other => Err(format!("round trip changed {req:?} into {other:?}")),
            }
        }
        Service::Evs => {
            let Some(req) = EvsRequest::from_body(operation, decoded)
                .map_err(|e| format!("a decoded body did not type: {e}"))?
            else {
                return Ok(());
            };
            let back =
                again(req.to_body()).map_err(|e| format!("the serialized request failed validation: {e}"))?;
            match EvsRequest::from_body(operation, back) {
                Ok(Some(r)) if r == req => Ok(()),
                other => Err(format!("round trip changed {req:?} into {other:?}")),
            }
        }
    }
}

/// One request against a clone of `base`: reply shape, refusal changes nothing, the invariants,
/// the same reply from a second clone (SPEC 2), and the request round trip.
fn one_request(
    base: &Base,
    service: Service,
    operation: &str,
    caller: &Caller,
    raw: &[u8],
) -> Result<(), String> {
    let body = substitute(raw, &base.ids);
    let mut world = base.world.clone();
    let reply = world.handle(caller, service, operation, &body);
    check_reply(service, &reply).map_err(|e| format!("{operation}: {e}"))?;
    if reply.is_error() && !same_state(&world, &base.world) {
        return Err(format!("refused {operation} changed the state: {}", reply.body));
    }
    check_lm(&world, &base.world).map_err(|e| format!("{operation}: SPEC 3.10: {e}"))?;
    check_evs(&world, &base.world, &Cause::request(service, operation))
        .map_err(|e| format!("{operation}: SPEC 4.4: {e}"))?;
    let mut twin = base.world.clone();
    let again = twin.handle(caller, service, operation, &body);
    if again != reply {
        return Err(format!(
            "{operation}: the same request gave {reply:?} and then {again:?}"
        ));
    }
    check_round_trip(service, operation, &body).map_err(|e| format!("{operation}: {e}"))
}

/// The `lm_request` target: byte 0 picks the operation ([`lm_operation`]), byte 1 the caller
/// (account in bits 0-1, region in bit 2), the rest is the body.
pub fn lm_request(data: &[u8]) -> Result<(), String> {
    let (op, caller, body) = split(data);
    one_request(
        lm_base(),
        Service::LicenseManager,
        lm_operation(op),
        &lm_caller(caller),
        body,
    )
}

/// The `evs_request` target: byte 0 picks the operation ([`evs_operation`]), byte 1 the caller
/// (account in bit 0, region in bit 1), the rest is the body.
pub fn evs_request(data: &[u8]) -> Result<(), String> {
    let (op, caller, body) = split(data);
    one_request(
        evs_base(),
        Service::Evs,
        evs_operation(op),
        &evs_caller(caller),
        body,
    )
}
