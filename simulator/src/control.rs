//! The `/_conform/` control plane (SPEC 2): environment events, fixtures, a state dump and the
//! key that verifies SignedTokens. Not an AWS API, so it answers plain JSON (`{"error": ...}`
//! with 400 on refusal) and is never reached through `X-Amz-Target`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use conform_model::lm::{public_key_pem, LicenseManager};
use conform_model::timefmt::iso_millis;
use conform_model::{Event, World};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{Fixtures, Simulator, MAX_BODY_BYTES};

fn reply(status: StatusCode, body: Value) -> Response {
    let bytes = serde_json::to_vec_pretty(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut r = (status, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn refuse(message: impl Into<String>) -> Response {
    reply(StatusCode::BAD_REQUEST, json!({ "error": message.into() }))
}

fn too_large(body: &Bytes) -> Option<Response> {
    (body.len() > MAX_BODY_BYTES).then(|| {
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({ "error": format!("body larger than {MAX_BODY_BYTES} bytes") }),
        )
    })
}

fn answer_events(sim: &Simulator, events: Vec<Event>) -> Response {
    match sim.apply_events(events) {
        Ok(replies) => reply(StatusCode::OK, json!({ "applied": replies })),
        Err(m) => refuse(m),
    }
}

/// `POST /_conform/reset`: forgets every resource (the model's `Reset` event).
pub(crate) async fn reset(State(sim): State<Arc<Simulator>>) -> Response {
    answer_events(&sim, vec![Event::Reset])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    #[serde(default)]
    seconds: i64,
    #[serde(default)]
    millis: i64,
}

/// `POST /_conform/clock` `{"seconds": N}` (and/or `"millis"`): advances the model clock.
pub(crate) async fn clock(State(sim): State<Arc<Simulator>>, body: Bytes) -> Response {
    if let Some(r) = too_large(&body) {
        return r;
    }
    // serde would also read the struct from a JSON array; the body is an object.
    let parsed = serde_json::from_slice::<Value>(&body).and_then(|v| {
        if v.is_object() {
            serde_json::from_value::<ClockBody>(v)
        } else {
            Err(serde::de::Error::custom("the body must be a JSON object"))
        }
    });
    match parsed {
        Ok(c) => answer_events(
            &sim,
            vec![Event::AdvanceClock {
                seconds: c.seconds,
                millis: c.millis,
            }],
        ),
        Err(e) => refuse(format!("clock: {e}")),
    }
}

/// `POST /_conform/fixtures`: the `--fixtures` format; accounts are added, events applied.
pub(crate) async fn fixtures(State(sim): State<Arc<Simulator>>, body: Bytes) -> Response {
    if let Some(r) = too_large(&body) {
        return r;
    }
    let parsed = match Fixtures::from_json(&body) {
        Ok(f) => f,
        Err(m) => return refuse(m),
    };
    let accounts = parsed.accounts.len();
    match sim.load_fixtures(parsed) {
        Ok(replies) => reply(
            StatusCode::OK,
            json!({ "accounts_added": accounts, "applied": replies }),
        ),
        Err(m) => refuse(m),
    }
}

/// `POST /_conform/events`: a list of model events, applied all or nothing.
pub(crate) async fn events(State(sim): State<Arc<Simulator>>, body: Bytes) -> Response {
    if let Some(r) = too_large(&body) {
        return r;
    }
    match serde_json::from_slice::<Vec<Event>>(&body) {
        Ok(events) => answer_events(&sim, events),
        Err(e) => refuse(format!("events: {e}")),
    }
}

/// `GET /_conform/state`: a read-only JSON dump of the world.
pub(crate) async fn state(State(sim): State<Arc<Simulator>>) -> Response {
    let dump = {
        let inner = sim.lock();
        dump(&inner.world)
    };
    reply(StatusCode::OK, dump)
}

/// The dump: clock, licenses with every version (stored and effective status) and usage,
/// tokens with their state, grants. Ordered by creation, so equal worlds dump equal text.
pub fn dump(world: &World) -> Value {
    let now = world.now_ms();
    let lm: &LicenseManager = world.lm();
    let licenses: Vec<Value> = lm
        .licenses()
        .iter()
        .map(|r| {
            let versions: Vec<Value> = r
                .versions
                .iter()
                .map(|v| {
                    json!({
                        "Version": v.version.to_string(),
                        "Status": v.status.as_str(),
                        "EffectiveStatus": r.effective_status(v, now).as_str(),
                        "CreatedMs": v.created_ms,
                        "LicenseName": v.license_name,
                        "ProductName": v.product_name,
                        "KeyFingerprint": v.key_fingerprint,
                        "Validity": v.validity,
                        "Entitlements": v.entitlements,
                    })
                })
                .collect();
            let usage: Vec<Value> = r
                .in_use
                .iter()
                .map(|((name, unit), n)| json!({ "Name": name, "Unit": unit.as_str(), "InUse": n.to_string() }))
                .collect();
            json!({
                "LicenseArn": r.arn,
                "Seq": r.seq,
                "IssuerAccount": r.issuer_account,
                "HomeRegion": r.home_region,
                "ProductSKU": r.product_sku,
                "Beneficiary": r.beneficiary,
                "DeletionMs": r.deletion_ms,
                "UsagePeriod": r.usage_period,
                "Versions": versions,
                "Usage": usage,
            })
        })
        .collect();
    let arn_of = |id: usize| lm.licenses().get(id).map(|r| r.arn.clone());
    let tokens: Vec<Value> = lm
        .tokens()
        .iter()
        .map(|t| {
            json!({
                "LicenseConsumptionToken": t.id,
                "Seq": t.seq,
                "Account": t.account,
                "LicenseArn": arn_of(t.license),
                "Kind": t.kind,
                "State": t.state,
                "ExpiresMs": t.expires_ms,
                "Period": t.period,
                "Held": t.held.iter().map(|(n, u, q)| json!({"Name": n, "Unit": u.as_str(), "Value": q.to_string()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let grants: Vec<Value> = lm
        .grants()
        .iter()
        .map(|g| {
            json!({
                "GrantArn": g.arn,
                "Seq": g.seq,
                "LicenseArn": arn_of(g.license),
                "OwnerAccount": g.owner_account,
                "GranteeAccount": g.grantee_account,
                "Status": g.status,
                "AllowedOperations": g.allowed_operations,
                "Version": g.version.to_string(),
            })
        })
        .collect();
    json!({
        "clock": { "now_ms": now, "now": iso_millis(now) },
        "seed": world.seed(),
        "licenses": licenses,
        "tokens": tokens,
        "grants": grants,
    })
}

/// `GET /_conform/jwks`: the public key that verifies every SignedToken, as a JWK set with the
/// PEM beside it.
pub(crate) async fn jwks() -> Response {
    let pem = public_key_pem();
    let key = match rsa::RsaPublicKey::from_public_key_pem(pem) {
        Ok(k) => k,
        Err(e) => {
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": format!("shipped public key: {e}") }),
            )
        }
    };
    let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    reply(
        StatusCode::OK,
        json!({
            "keys": [{
                "kty": "RSA",
                "alg": "PS384",
                "use": "sig",
                "kid": "conform-signing-key",
                "n": b64(key.n()),
                "e": b64(key.e()),
            }],
            "pem": pem,
        }),
    )
}
