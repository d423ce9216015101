//! Conventions emulators share, beside the AWS APIs and the `/_conform/` control plane: the
//! header naming conform on every reply, `GET /` saying what is served, `GET /_conform/health`,
//! `GET /_conform/capabilities`, and LocalStack's `GET /_localstack/health` and
//! `POST /_localstack/state/reset` that existing test tooling calls.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use conform_model::Event;
use serde_json::json;

use crate::control::{answer_events, reply};
use crate::protocol::{
    self, CapabilitiesReply, HealthReply, IndexReply, LocalstackHealthReply, SIMULATOR_HEADER,
};
use crate::Simulator;

/// Where the documentation of the simulator and its control plane lives.
pub const DOCS: &str =
    "README.md (Simulator) and docs/control-plane.md of the conform repository; `conform serve --help`";

/// Puts [`SIMULATOR_HEADER`] on every reply, AWS's, the control plane's and refusals alike.
pub(crate) async fn stamp(req: Request, next: Next) -> Response {
    // Made once: formatting and checking the value on every reply was 4% of a checkout's CPU.
    static VALUE: OnceLock<Option<HeaderValue>> = OnceLock::new();
    let mut response = next.run(req).await;
    if let Some(value) = VALUE.get_or_init(|| HeaderValue::from_str(&protocol::server()).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(SIMULATOR_HEADER), value.clone());
    }
    response
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

fn services_running() -> std::collections::BTreeMap<String, String> {
    protocol::served()
        .into_iter()
        .map(|s| (s.name, "running".to_string()))
        .collect()
}

/// `GET /`: what is served and where the documentation is.
pub(crate) async fn index() -> Response {
    let body = IndexReply {
        server: protocol::server(),
        about: "conform's simulator of AWS License Manager and Amazon EVS entitlements: \
                not AWS. AWS requests are POST / with X-Amz-Target, signed with SigV4."
            .into(),
        services: protocol::served(),
        control_plane: "/_conform/capabilities".into(),
        docs: DOCS.into(),
    };
    reply(StatusCode::OK, to_json(&body))
}

/// `GET /_conform/health`.
pub(crate) async fn health() -> Response {
    let body = HealthReply {
        status: "running".into(),
        server: protocol::server(),
        services: services_running(),
    };
    reply(StatusCode::OK, to_json(&body))
}

/// `GET /_conform/capabilities`: every capability of the protocol.
pub(crate) async fn capabilities() -> Response {
    reply(StatusCode::OK, to_json(&CapabilitiesReply::simulator()))
}

/// `GET /_localstack/health`, in LocalStack's shape.
pub(crate) async fn localstack_health() -> Response {
    let body = LocalstackHealthReply {
        services: services_running(),
        edition: "conform".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    reply(StatusCode::OK, to_json(&body))
}

/// `POST /_localstack/state/reset`: as `POST /_conform/reset`. The body is read, though unused,
/// so that the connection stays open.
pub(crate) async fn localstack_reset(State(sim): State<Arc<Simulator>>, _body: Bytes) -> Response {
    answer_events(&sim, vec![Event::Reset]).await
}
