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
use conform_model::lm::public_key_pem;
use conform_model::Event;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

use crate::protocol::ClockRequest;
use crate::{Account, Fixtures, Simulator, MAX_BODY_BYTES};

pub(crate) fn reply(status: StatusCode, body: Value) -> Response {
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

/// Applies a control-plane change and answers once it is durable (`--state-dir`).
async fn answer_change(
    sim: &Simulator,
    accounts: Vec<Account>,
    events: Vec<Event>,
) -> Result<Vec<Value>, Response> {
    let (replies, ticket) = sim.change(accounts, events).map_err(refuse)?;
    sim.durable(ticket)
        .await
        .map_err(|m| reply(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": m })))?;
    Ok(replies)
}

pub(crate) async fn answer_events(sim: &Simulator, events: Vec<Event>) -> Response {
    match answer_change(sim, Vec::new(), events).await {
        Ok(replies) => reply(StatusCode::OK, json!({ "applied": replies })),
        Err(r) => r,
    }
}

/// `POST /_conform/reset`: forgets every resource (the model's `Reset` event). The body is
/// read, though unused, so that the connection stays open: a reply given before the body was
/// read ends its connection (see `router`), and a harness resets before every case.
pub(crate) async fn reset(State(sim): State<Arc<Simulator>>, _body: Bytes) -> Response {
    answer_events(&sim, vec![Event::Reset]).await
}

/// `POST /_conform/clock` `{"seconds": N}` (and/or `"millis"`): advances the model clock.
pub(crate) async fn clock(State(sim): State<Arc<Simulator>>, body: Bytes) -> Response {
    if let Some(r) = too_large(&body) {
        return r;
    }
    // serde would also read the struct from a JSON array; the body is an object.
    let parsed = serde_json::from_slice::<Value>(&body).and_then(|v| {
        if v.is_object() {
            serde_json::from_value::<ClockRequest>(v)
        } else {
            Err(serde::de::Error::custom("the body must be a JSON object"))
        }
    });
    match parsed {
        Ok(c) => {
            let advance = Event::AdvanceClock {
                seconds: c.seconds,
                millis: c.millis,
            };
            answer_events(&sim, vec![advance]).await
        }
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
    match answer_change(&sim, parsed.accounts, parsed.events).await {
        Ok(replies) => reply(
            StatusCode::OK,
            json!({ "accounts_added": accounts, "applied": replies }),
        ),
        Err(r) => r,
    }
}

/// `POST /_conform/events`: a list of model events, applied all or nothing.
pub(crate) async fn events(State(sim): State<Arc<Simulator>>, body: Bytes) -> Response {
    if let Some(r) = too_large(&body) {
        return r;
    }
    match serde_json::from_slice::<Vec<Event>>(&body) {
        Ok(events) => answer_events(&sim, events).await,
        Err(e) => refuse(format!("events: {e}")),
    }
}

/// `GET /_conform/state`: a read-only JSON dump of the world.
pub(crate) async fn state(State(sim): State<Arc<Simulator>>) -> Response {
    let dump = {
        let inner = sim.lock();
        inner.world.dump()
    };
    reply(StatusCode::OK, dump)
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
