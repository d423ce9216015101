//! The always properties: what must hold after every step of any workload.

use conform_model::invariants::{check_evs, check_lm, same_state, Cause};
use conform_model::lm::types::{AllowedOperation, GrantStatus, GrantType};
use conform_model::{ErrorCode, Reply, Service, World};
use serde_json::Value;

use super::{Check, Observation, Outcome, Property};
use crate::gen::{InvalidBody, Step};

pub(super) static PROPERTIES: &[Property] = &[
    Property {
        name: "license_manager_invariants",
        spec: "SPEC 3.10",
        check: Check::Always(license_manager_invariants),
    },
    Property {
        name: "evs_invariants",
        spec: "SPEC 4.4",
        check: Check::Always(evs_invariants),
    },
    Property {
        name: "a_refused_request_changes_nothing",
        spec: "SPEC 3.4, 4.2",
        check: Check::Always(refused_request_changes_nothing),
    },
    Property {
        name: "a_refused_event_changes_nothing",
        spec: "SPEC 2",
        check: Check::Always(refused_event_changes_nothing),
    },
    Property {
        name: "an_idempotent_replay_changes_nothing",
        spec: "SPEC 3.4",
        check: Check::Always(idempotent_replay_changes_nothing),
    },
    Property {
        name: "access_needs_the_issuer_or_a_grant",
        spec: "SPEC 3.2, 3.3, 3.9",
        check: Check::Always(access_needs_the_issuer_or_a_grant),
    },
    Property {
        name: "a_reply_is_well_formed",
        spec: "SPEC 1.1",
        check: Check::Always(a_reply_is_well_formed),
    },
    Property {
        name: "an_invalid_request_is_refused",
        spec: "SPEC 1.2",
        check: Check::Always(an_invalid_request_is_refused),
    },
];

/// Operations whose success a byte-identical resend replays instead of running again (SPEC 3.4).
const IDEMPOTENT: [&str; 6] = [
    "CreateLicense",
    "CreateLicenseVersion",
    "CheckoutLicense",
    "CheckoutBorrowLicense",
    "CreateGrant",
    "CreateGrantVersion",
];

fn before<'a>(obs: &Observation<'a>) -> Result<&'a World, String> {
    obs.before
        .ok_or_else(|| "the world before the step was not kept".to_string())
}

fn unchanged(obs: &Observation) -> Result<bool, String> {
    let b = before(obs)?;
    Ok(same_state(obs.after, b))
}

fn license_manager_invariants(obs: &Observation) -> Result<(), String> {
    check_lm(obs.after, before(obs)?)
}

fn evs_invariants(obs: &Observation) -> Result<(), String> {
    let cause = match &obs.outcome {
        Outcome::Call { service, op, .. } => Cause::request(*service, op),
        Outcome::Event { event, .. } => Cause::Event(event),
    };
    check_evs(obs.after, before(obs)?, &cause)
}

fn refused_request_changes_nothing(obs: &Observation) -> Result<(), String> {
    match &obs.outcome {
        Outcome::Call { op, reply, .. } if reply.is_error() && !unchanged(obs)? => {
            Err(format!("refused {op} changed the state: {}", reply.body))
        }
        _ => Ok(()),
    }
}

fn refused_event_changes_nothing(obs: &Observation) -> Result<(), String> {
    match &obs.outcome {
        Outcome::Event { event, result } if result.is_err() && !unchanged(obs)? => {
            Err(format!("refused event {event:?} changed the state"))
        }
        _ => Ok(()),
    }
}

fn idempotent_replay_changes_nothing(obs: &Observation) -> Result<(), String> {
    match obs.outcome.op() {
        Some(op) if obs.replay && IDEMPOTENT.contains(&op) && !unchanged(obs)? => {
            Err(format!("an idempotent replay of {op} changed the state"))
        }
        _ => Ok(()),
    }
}

/// A successful read needs the issuer or a visible grant; a successful checkout or borrow needs
/// the issuer or an ACTIVE buyer grant listing the operation. Written out here rather than
/// through the model's grant helpers, so a bug there shows.
fn access_needs_the_issuer_or_a_grant(obs: &Observation) -> Result<(), String> {
    let Outcome::Call {
        caller,
        service: Service::LicenseManager,
        op,
        body,
        reply,
    } = &obs.outcome
    else {
        return Ok(());
    };
    if reply.is_error() {
        return Ok(());
    }
    let needed = match *op {
        "CheckoutLicense" => Some(AllowedOperation::CheckoutLicense),
        "CheckoutBorrowLicense" => Some(AllowedOperation::CheckoutBorrowLicense),
        "GetLicense" | "ListLicenseVersions" | "GetLicenseUsage" => None,
        _ => return Ok(()),
    };
    let from_reply = reply.body["LicenseArn"]
        .as_str()
        .or(reply.body["License"]["LicenseArn"].as_str())
        .or(reply.body["Licenses"][0]["LicenseArn"].as_str())
        .map(str::to_string);
    let from_body = || {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|b| b["LicenseArn"].as_str().map(str::to_string))
    };
    let Some(arn) = from_reply.or_else(from_body) else {
        return Ok(());
    };
    let lm = obs.after.lm();
    let Some(id) = lm.license_by_arn(&arn) else {
        return Err(format!("{op} answered for unknown {arn}"));
    };
    if lm.license(id).issuer_account == caller.account {
        return Ok(());
    }
    let mut grants = lm
        .grants()
        .iter()
        .filter(|g| g.license == id && g.grantee_account == caller.account);
    let ok = match needed {
        Some(needed) => grants.any(|g| {
            let v = g.current();
            v.status == GrantStatus::Active
                && g.grant_type == GrantType::BuyerGrant
                && v.allowed_operations.contains(&needed)
        }),
        None => grants.any(|g| !matches!(g.status(), GrantStatus::Deleted | GrantStatus::Rejected)),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{op} by {} succeeded on {arn} without issuer or grant",
            caller.account
        ))
    }
}

fn a_reply_is_well_formed(obs: &Observation) -> Result<(), String> {
    match &obs.outcome {
        Outcome::Call {
            service, op, reply, ..
        } => check_reply(*service, reply).map_err(|e| format!("{op}: {e}")),
        Outcome::Event { .. } => Ok(()),
    }
}

/// A constraint-derived invalid case, or a body that is not a JSON object, is refused.
fn an_invalid_request_is_refused(obs: &Observation) -> Result<(), String> {
    let invalid = matches!(
        obs.step,
        Some(Step::Constraint { .. })
            | Some(Step::Invalid {
                body: InvalidBody::Unterminated | InvalidBody::Array,
                ..
            })
    );
    match obs.outcome.reply() {
        Some(reply) if invalid && !reply.is_error() => Err(format!(
            "{} accepted an invalid request: {}",
            obs.outcome.op().unwrap_or_default(),
            reply.body
        )),
        _ => Ok(()),
    }
}

/// The shape every reply has (SPEC 1.1): 200 and an object without nulls, or an error status
/// (4xx, 5xx, or 308 for RedirectException with its Location) and an AWS error body with
/// `__type` and the message member of the service's protocol.
pub fn check_reply(service: Service, reply: &Reply) -> Result<(), String> {
    if !reply.body.is_object() {
        return Err(format!("the reply body is not an object: {}", reply.body));
    }
    if has_null(&reply.body) {
        return Err(format!("the reply body holds a null: {}", reply.body));
    }
    let Some(code) = reply.error else {
        return match reply.status {
            200 => Ok(()),
            s => Err(format!("status {s} without an error: {}", reply.body)),
        };
    };
    let redirect = code == ErrorCode::Redirect && reply.status == 308 && reply.location.is_some();
    if !(400..=599).contains(&reply.status) && !redirect {
        return Err(format!(
            "{} answered with status {}",
            code.type_name(),
            reply.status
        ));
    }
    let (want_type, message) = (service.error_type(code), service.message_member());
    if reply.body["__type"].as_str() != Some(want_type.as_str()) {
        return Err(format!("error body without __type {want_type}: {}", reply.body));
    }
    if !reply.body[message].is_string() {
        return Err(format!("error body without {message}: {}", reply.body));
    }
    Ok(())
}

/// Whether a JSON value holds a `null` anywhere: replies omit absent members (SPEC 1.1).
fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(has_null),
        Value::Object(m) => m.values().any(has_null),
        _ => false,
    }
}
