//! The control-plane protocol (`docs/control-plane.md`): the bodies of every `/_conform/`
//! request and reply as types, their JSON Schemas derived from them (committed under
//! `docs/control-plane/`, checked by a test), and the capabilities this simulator declares at
//! `GET /_conform/capabilities`. The simulator is the protocol's reference implementation; an
//! emulator implements the capabilities it can and declares only those.

use std::collections::BTreeMap;

use conform_model::Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Fixtures;

/// The protocol's name and version, as `GET /_conform/capabilities` says it.
pub const PROTOCOL: &str = "conform-control-plane/1";

/// The header on every reply of the simulator, naming conform and its version, so a simulated
/// answer can never be mistaken for AWS's.
pub const SIMULATOR_HEADER: &str = "x-conform-simulator";

/// `conform/<version>`: the value of [`SIMULATOR_HEADER`] and of `server` in replies.
pub fn server() -> String {
    format!("conform/{}", env!("CARGO_PKG_VERSION"))
}

/// Every capability of the protocol, with what implementing it means.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("reset", "POST /_conform/reset forgets every resource"),
    (
        "clock",
        "POST /_conform/clock and the advance_clock event move the service's clock forward",
    ),
    (
        "marketplace",
        "the seed_marketplace_license event seeds a Marketplace-issued license",
    ),
    (
        "evs_inventory",
        "the seed_evs_environment, seed_evs_connector, add_vm, remove_vm and set_vm_guest_os events",
    ),
    (
        "connector_health",
        "the set_connector_health event sets an EVS connector's health",
    ),
    (
        "fixtures",
        "POST /_conform/fixtures adds SigV4 accounts and applies events",
    ),
    ("state", "GET /_conform/state dumps the world as JSON"),
    (
        "requests",
        "GET and DELETE /_conform/requests: the request journal",
    ),
    ("jwks", "GET /_conform/jwks: the key that verifies SignedTokens"),
];

/// `GET /_conform/capabilities`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapabilitiesReply {
    /// `conform-control-plane/1`.
    pub protocol: String,
    /// The implementation and its version (`conform/0.1.0`, or an emulator's own).
    pub server: String,
    /// The capabilities implemented; a client uses none other (names in `docs/control-plane.md`).
    pub capabilities: Vec<String>,
}

impl CapabilitiesReply {
    /// The simulator's own: every capability.
    pub fn simulator() -> CapabilitiesReply {
        CapabilitiesReply {
            protocol: PROTOCOL.into(),
            server: server(),
            capabilities: CAPABILITIES.iter().map(|(n, _)| n.to_string()).collect(),
        }
    }
}

/// `POST /_conform/clock`: how far to move the clock (both default to 0; never backwards).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockRequest {
    #[serde(default)]
    pub seconds: i64,
    #[serde(default)]
    pub millis: i64,
}

/// `POST /_conform/events`: model events, applied in order, all or nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct EventsRequest(pub Vec<Event>);

/// The reply of `reset`, `clock`, `events` and `/_localstack/state/reset`: each event's reply
/// in order (`advance_clock` answers `{"now_ms": N}`, a seed the id it made).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AppliedReply {
    pub applied: Vec<Value>,
}

/// The reply of `POST /_conform/fixtures`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FixturesReply {
    pub accounts_added: usize,
    pub applied: Vec<Value>,
}

/// Every refusal of the control plane (400, 413, 500): a plain message, never an AWS error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorReply {
    pub error: String,
}

/// `GET /_conform/health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HealthReply {
    /// `running`.
    pub status: String,
    pub server: String,
    /// The AWS services served, by signing name, each `running`.
    pub services: BTreeMap<String, String>,
}

/// `GET /_localstack/health`, in LocalStack's shape, for tooling that waits on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LocalstackHealthReply {
    pub services: BTreeMap<String, String>,
    pub edition: String,
    pub version: String,
}

/// `GET /`: what is served and where the documentation is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IndexReply {
    pub server: String,
    pub about: String,
    /// The AWS services served, by signing name, with their protocol and `X-Amz-Target` prefix.
    pub services: Vec<ServedService>,
    pub control_plane: String,
    pub docs: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServedService {
    pub name: String,
    pub protocol: String,
    pub target_prefix: String,
}

/// The services the simulator serves, by signing name.
pub fn served() -> Vec<ServedService> {
    use conform_model::Service;
    let mut out: Vec<ServedService> = [Service::LicenseManager, Service::Evs]
        .into_iter()
        .map(|s| ServedService {
            name: match s {
                Service::LicenseManager => "license-manager".into(),
                Service::Evs => "evs".into(),
            },
            protocol: s.content_type().trim_start_matches("application/x-amz-").into(),
            target_prefix: s.target_prefix().into(),
        })
        .collect();
    out.push(ServedService {
        name: "sts".into(),
        protocol: "query (GetCallerIdentity only)".into(),
        target_prefix: String::new(),
    });
    out
}

/// Every schema of the protocol: (file name under `docs/control-plane/`, schema).
pub fn schemas() -> Vec<(&'static str, Value)> {
    fn of<T: schemars::JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    vec![
        ("capabilities.reply.schema.json", of::<CapabilitiesReply>()),
        ("clock.request.schema.json", of::<ClockRequest>()),
        ("events.request.schema.json", of::<EventsRequest>()),
        ("fixtures.request.schema.json", of::<Fixtures>()),
        ("applied.reply.schema.json", of::<AppliedReply>()),
        ("fixtures.reply.schema.json", of::<FixturesReply>()),
        ("error.reply.schema.json", of::<ErrorReply>()),
        ("health.reply.schema.json", of::<HealthReply>()),
        (
            "localstack-health.reply.schema.json",
            of::<LocalstackHealthReply>(),
        ),
        ("index.reply.schema.json", of::<IndexReply>()),
    ]
}

/// A schema as its committed file holds it: pretty JSON and a final newline.
pub fn schema_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/control-plane");

    /// Regenerate with `CONFORM_BLESS=1 cargo test -p conform-simulator committed_schemas`.
    #[test]
    fn the_committed_schemas_are_the_ones_the_types_derive() {
        let bless = std::env::var_os("CONFORM_BLESS").is_some();
        for (name, schema) in schemas() {
            let path = format!("{DIR}/{name}");
            if bless {
                std::fs::create_dir_all(DIR).unwrap();
                std::fs::write(&path, schema_text(&schema)).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(schema_text(&schema), committed, "{path} is stale");
        }
    }

    fn validator(name: &str) -> jsonschema::Validator {
        let (_, schema) = schemas().into_iter().find(|(n, _)| *n == name).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    /// The simulator's reply to `method path body`: status, the conform header, JSON body.
    async fn ask(
        sim: &std::sync::Arc<crate::Simulator>,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, Option<String>, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let r = crate::router(sim.clone()).oneshot(req).await.unwrap();
        let status = r.status().as_u16();
        let header = r
            .headers()
            .get(SIMULATOR_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, header, body)
    }

    /// Every request a client of the protocol sends, checked against its request schema, and
    /// the simulator's reply against its reply schema; each reply names conform.
    #[tokio::test]
    async fn the_simulator_answers_as_the_schemas_say() {
        let sim = crate::Simulator::new(&crate::Config::default()).unwrap();
        let marketplace = serde_json::json!([{
            "event": "seed_marketplace_license", "buyer_account": "222222222222",
            "product_sku": "sku-1", "product_name": "p", "license_name": "l",
            "home_region": "us-east-1", "entitlements": [{"Name": "Cores", "Unit": "Count", "MaxCount": 4}]
        }]);
        // (method, path, request, its schema, the reply's schema, status)
        type Exchange<'a> = (&'a str, &'a str, Value, Option<&'a str>, &'a str, u16);
        let exchanges: Vec<Exchange> = vec![
            ("GET", "/", Value::Null, None, "index.reply.schema.json", 200),
            (
                "GET",
                "/_conform/health",
                Value::Null,
                None,
                "health.reply.schema.json",
                200,
            ),
            (
                "GET",
                "/_conform/capabilities",
                Value::Null,
                None,
                "capabilities.reply.schema.json",
                200,
            ),
            (
                "GET",
                "/_localstack/health",
                Value::Null,
                None,
                "localstack-health.reply.schema.json",
                200,
            ),
            (
                "POST",
                "/_localstack/state/reset",
                serde_json::json!({}),
                None,
                "applied.reply.schema.json",
                200,
            ),
            (
                "POST",
                "/_conform/reset",
                serde_json::json!({}),
                None,
                "applied.reply.schema.json",
                200,
            ),
            (
                "POST",
                "/_conform/clock",
                serde_json::json!({"seconds": 5}),
                Some("clock.request.schema.json"),
                "applied.reply.schema.json",
                200,
            ),
            (
                "POST",
                "/_conform/clock",
                serde_json::json!({"hours": 5}),
                None,
                "error.reply.schema.json",
                400,
            ),
            (
                "POST",
                "/_conform/events",
                marketplace,
                Some("events.request.schema.json"),
                "applied.reply.schema.json",
                200,
            ),
            (
                "POST",
                "/_conform/events",
                serde_json::json!([{"event": "nope"}]),
                None,
                "error.reply.schema.json",
                400,
            ),
            (
                "POST",
                "/_conform/fixtures",
                serde_json::json!({"accounts": [], "events": [{"event": "advance_clock", "seconds": 1}]}),
                Some("fixtures.request.schema.json"),
                "fixtures.reply.schema.json",
                200,
            ),
        ];
        for (method, path, request, request_schema, reply_schema, status) in exchanges {
            if let Some(name) = request_schema {
                assert!(
                    validator(name).is_valid(&request),
                    "{path}: request {request} against {name}"
                );
            }
            let text = if request.is_null() {
                String::new()
            } else {
                request.to_string()
            };
            let (got, header, body) = ask(&sim, method, path, &text).await;
            assert_eq!(got, status, "{method} {path}: {body}");
            assert_eq!(header.as_deref(), Some(server().as_str()), "{method} {path}");
            let v = validator(reply_schema);
            assert!(
                v.is_valid(&body),
                "{method} {path}: {body} against {reply_schema}"
            );
        }
        // The schemas are not vacuous: a wrong reply is refused.
        assert!(!validator("applied.reply.schema.json").is_valid(&serde_json::json!({"error": "x"})));
        assert!(!validator("capabilities.reply.schema.json").is_valid(&serde_json::json!({"protocol": 1})));
        // AWS replies and refusals carry the header too.
        let (status, header, _) = ask(&sim, "GET", "/nowhere", "").await;
        assert_eq!((status, header.as_deref()), (404, Some(server().as_str())));
    }

    #[test]
    fn the_simulator_declares_every_capability_of_the_protocol() {
        let declared = CapabilitiesReply::simulator().capabilities;
        assert_eq!(declared.len(), CAPABILITIES.len());
        assert_eq!(CapabilitiesReply::simulator().protocol, PROTOCOL);
    }
}
