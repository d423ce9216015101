//! The checks behind conform's fuzz targets (`fuzz/`, a cargo-fuzz package outside the workspace).
//!
//! Each target is a thin `fuzz_target!` around one function here, and the stable-toolchain test
//! `model/tests/fuzz_corpus.rs` replays every committed corpus file and crash reproducer through
//! the same functions. So a fuzzing finding is an ordinary failing test on any toolchain, and the
//! rules a fuzzer checks are the ones `cargo test` checks.
//!
//! A check returns `Err` with a description instead of panicking, so the replay test can name the
//! file; the fuzz targets turn an `Err` into a panic, which is what libFuzzer records as a crash.
//!
//! - [`lm_request`]: one License Manager request (operation picked by the first byte, caller by
//!   the second, the rest is the body) against a world holding licenses, tokens and a grant.
//! - [`evs_request`]: the same for EVS, against seeded environments, connectors, VMs and
//!   entitlement records in several statuses.
//! - [`sequence`]: a list of [`Op`]s of both services and environment events, with the invariants
//!   of SPEC 3.10 and 4.4 ([`crate::invariants`]) checked after every step.
//!
//! Bodies may name existing resources through placeholders (`<license-1>`, `<token-2>`,
//! `<grant-1>`, `<env-1>`, `<cnctr-1>`, ...), the same spelling the scenario snapshots redact ids
//! to; they are replaced by the seeded world's real ids before the request is sent, so corpus
//! files taken from the snapshots reach the deep paths.
//!
//! ```
//! // Operation byte 2 (GetLicense), caller byte 0 (the seller), then the body.
//! let mut input = vec![2u8, 0u8];
//! input.extend_from_slice(br#"{"LicenseArn": "<license-1>"}"#);
//! conform_model::fuzzing::lm_request(&input).unwrap();
//! ```

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use serde_json::{json, Value};

use crate::events::{
    ConnectorFixture, ConnectorHealth, EnvironmentFixture, GuestOs, VmFixture, VmGuestOs, VmRef,
};
use crate::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use crate::evs::EvsRequest;
use crate::invariants::{check_evs, check_lm, evs_digest, lm_digest, Cause};
use crate::lm::LmRequest;
use crate::policy::Policy;
use crate::service::Service;
use crate::world::{Caller, Reply, World};
use crate::{ErrorCode, Event};

/// The accounts the License Manager checks act as.
pub const SELLER: &str = "111122223333";
pub const BUYER: &str = "444455556666";
pub const STRANGER: &str = "777788889999";
/// The account the EVS fixtures belong to (the policy's default account).
pub const EVS_ACCOUNT: &str = "123456789012";
/// Fixed EVS ids of the seeded worlds; `<env-1>` etc. stand for these.
pub const ENVIRONMENTS: [&str; 2] = ["env-aaaaaaaaaa", "env-bbbbbbbbbb"];
pub const CONNECTORS: [&str; 3] = ["cnctr-aaaaaaaaaa", "cnctr-bbbbbbbbbb", "cnctr-cccccccccc"];
/// VMs vm-1..vm-6 of the first environment.
pub const VM_COUNT: usize = 6;
/// The most steps a [`sequence`] input runs; the rest of a longer input is ignored.
pub const MAX_STEPS: usize = 48;

/// Operation names the request targets pick from besides the implemented ones: a modelled
/// operation conform does not implement, an unknown one, and a wrongly cased one (SPEC 1.2).
const LM_EXTRA: [&str; 3] = ["CreateLicenseConfiguration", "NoSuchOperation", "checkoutLicense"];
const EVS_EXTRA: [&str; 3] = ["CreateEnvironment", "NoSuchOperation", "createEntitlement"];

const FINGERPRINT: &str = "aws:111122223333:Example Corp:issuer-fingerprint";
const MARKETPLACE_FINGERPRINT: &str = "aws:294406891311:AWS/Marketplace:issuer-fingerprint";

/// The operation a request target's first byte picks.
pub fn lm_operation(byte: u8) -> &'static str {
    pick(LmRequest::OPERATIONS, &LM_EXTRA, byte)
}

/// The operation an EVS request target's first byte picks.
pub fn evs_operation(byte: u8) -> &'static str {
    pick(EvsRequest::OPERATIONS, &EVS_EXTRA, byte)
}

fn pick(ops: &[&'static str], extra: &[&'static str], byte: u8) -> &'static str {
    let i = usize::from(byte) % (ops.len() + extra.len());
    ops.get(i).copied().unwrap_or_else(|| extra[i - ops.len()])
}

fn lm_caller(byte: u8) -> Caller {
    let account = [SELLER, BUYER, STRANGER, SELLER][usize::from(byte & 3)];
    // Bit 2 moves the caller out of the licenses' home region (RedirectException paths).
    let region = if byte & 4 == 0 { "us-east-1" } else { "us-west-2" };
    Caller::new(account, region)
}

fn evs_caller(byte: u8) -> Caller {
    // Another account or region sees none of the fixtures (SPEC 1.3 partitions).
    let account = if byte & 1 == 0 { EVS_ACCOUNT } else { SELLER };
    let region = if byte & 2 == 0 { "us-east-1" } else { "us-west-2" };
    Caller::new(account, region)
}

/// Replaces every `<name>` placeholder with its id, on bytes (the body need not be UTF-8).
fn substitute(body: &[u8], ids: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    'scan: while i < body.len() {
        if body[i] == b'<' {
            for (name, id) in ids {
                if body[i..].starts_with(name.as_bytes()) {
                    out.extend_from_slice(id.as_bytes());
                    i += name.len();
                    continue 'scan;
                }
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// The seeded EVS world of [`evs_request`], for the invariants' own tests.
#[cfg(test)]
pub(crate) fn evs_base_world() -> &'static World {
    &evs_base().world
}

/// A seeded world and the placeholder table for it.
struct Base {
    world: World,
    ids: Vec<(String, String)>,
}

fn must(world: &mut World, caller: &Caller, service: Service, op: &str, body: Value) -> Value {
    // Building the fixed base world from fixed requests: a refusal is a defect of this module.
    let reply = world.handle(caller, service, op, body.to_string().as_bytes());
    assert_eq!(reply.status, 200, "seeding {op}: {}", reply.body);
    reply.body
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn license_body(token: &str, sku: &str, max: i64, overage: bool, check_in: bool, borrow: bool) -> Value {
    let mut cc = json!({"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}});
    if borrow {
        cc["BorrowConfiguration"] = json!({"AllowEarlyCheckIn": check_in, "MaxTimeToLiveInMinutes": 1440});
    }
    json!({
        "LicenseName": "Editor seats", "ProductName": "Editor", "ProductSKU": sku,
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [
            {"Name": "Seat", "Unit": "Count", "MaxCount": max, "Overage": overage, "AllowCheckIn": check_in},
            {"Name": "Premium", "Unit": "None", "Value": "Enabled"}
        ],
        "Beneficiary": "customer-1", "ConsumptionConfiguration": cc, "ClientToken": token,
    })
}

fn marketplace_event(sku: &str, max: i64) -> Event {
    Event::marketplace(
        BUYER,
        sku,
        vec![crate::lm::types::Entitlement {
            name: "Seat".into(),
            unit: crate::lm::types::Unit::Count,
            value: None,
            max_count: Some(max),
            overage: None,
            allow_check_in: Some(true),
        }],
    )
}

/// The License Manager world of [`lm_request`]: the seller's license with a PROVISIONAL, a borrow
/// and a PERPETUAL token, an ACTIVE grant of it to the buyer, and a Marketplace license.
fn lm_base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut w = World::new(7, Policy::default());
        let seller = lm_caller(0);
        let buyer = lm_caller(1);
        let lm = Service::LicenseManager;
        let license = text(&must(&mut w, &seller, lm, "CreateLicense", license_body("create", "editor-pro", 10, false, true, true)), "LicenseArn");
        let checkout = |kind: &str, token: &str| {
            json!({
                "ProductSKU": "editor-pro", "CheckoutType": kind, "KeyFingerprint": FINGERPRINT,
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}, {"Name": "Premium", "Unit": "None"}],
                "Beneficiary": "customer-1", "ClientToken": token,
            })
        };
        let t1 = text(&must(&mut w, &seller, lm, "CheckoutLicense", checkout("PROVISIONAL", "p")), "LicenseConsumptionToken");
        let borrow = json!({
            "LicenseArn": license, "DigitalSignatureMethod": "JWT_PS384",
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "ClientToken": "b",
        });
        let t2 = text(&must(&mut w, &seller, lm, "CheckoutBorrowLicense", borrow), "LicenseConsumptionToken");
        let t3 = text(&must(&mut w, &seller, lm, "CheckoutLicense", checkout("PERPETUAL", "q")), "LicenseConsumptionToken");
        let grant = json!({
            "ClientToken": "g", "GrantName": "G", "LicenseArn": license,
            "Principals": [format!("arn:aws:iam::{BUYER}:root")], "HomeRegion": "us-east-1",
            "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "CheckoutBorrowLicense", "ExtendConsumptionLicense"],
        });
        let grant = text(&must(&mut w, &seller, lm, "CreateGrant", grant), "GrantArn");
        must(&mut w, &buyer, lm, "AcceptGrant", json!({"GrantArn": grant}));
        must(&mut w, &buyer, lm, "CreateGrantVersion", json!({"GrantArn": grant, "ClientToken": "a", "Status": "ACTIVE"}));
        let market = match w.apply(marketplace_event("mkt", 3)) {
            Ok(v) => v,
            Err(e) => panic!("seeding the Marketplace license: {e}"),
        };
        let ids = [
            ("<license-1>", license),
            ("<license-2>", text(&market, "LicenseArn")),
            ("<token-1>", t1),
            ("<token-2>", t2),
            ("<token-3>", t3),
            ("<grant-1>", grant),
        ];
        Base {
            world: w,
            ids: ids.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    })
}

fn evs_placeholders() -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for (i, e) in ENVIRONMENTS.iter().enumerate() {
        ids.push((format!("<env-{}>", i + 1), e.to_string()));
    }
    for (i, c) in CONNECTORS.iter().enumerate() {
        ids.push((format!("<cnctr-{}>", i + 1), c.to_string()));
    }
    ids
}

fn evs_apply(w: &mut World, event: Event) {
    // Fixed fixtures into a fresh world: a refusal is a defect of this module.
    if let Err(e) = w.apply(event) {
        panic!("seeding an EVS fixture: {e}");
    }
}

fn vm_id(i: usize) -> String {
    format!("vm-{}", i + 1)
}

/// EVS fixtures only, no records: two CREATED environments; in the first a healthy VCENTER
/// connector, an SDDC_MANAGER one and VMs vm-1..vm-6 (vm-5 not Windows, vm-6 removed); in the
/// second a VCENTER connector whose health FAILED.
fn evs_fixtures() -> World {
    let mut w = World::new(7, Policy::default());
    for env in ENVIRONMENTS {
        evs_apply(
            &mut w,
            Event::SeedEvsEnvironment(EnvironmentFixture {
                account: None,
                region: None,
                environment_id: Some(env.into()),
                state: EnvironmentState::Created,
                name: None,
                vcf_version: None,
            }),
        );
    }
    let kinds = [
        ConnectorType::Vcenter,
        ConnectorType::SddcManager,
        ConnectorType::Vcenter,
    ];
    let envs = [ENVIRONMENTS[0], ENVIRONMENTS[0], ENVIRONMENTS[1]];
    for ((id, kind), env) in CONNECTORS.iter().zip(kinds).zip(envs) {
        evs_apply(
            &mut w,
            Event::SeedEvsConnector(ConnectorFixture {
                account: None,
                region: None,
                environment_id: env.into(),
                connector_id: Some((*id).into()),
                connector_type: kind,
                appliance_fqdn: "vc.example.com".into(),
                secret_identifier: "secret".into(),
                state: ConnectorState::Active,
                health: CheckResult::Passed,
            }),
        );
    }
    evs_apply(&mut w, health_event(CONNECTORS[2], CheckResult::Failed));
    for i in 0..VM_COUNT {
        let guest_os = if i == 4 {
            GuestOs::Other
        } else {
            GuestOs::WindowsServer
        };
        evs_apply(&mut w, add_vm_event(i, guest_os));
    }
    evs_apply(&mut w, Event::RemoveVm(vm_ref(5)));
    w
}

fn add_vm_event(i: usize, guest_os: GuestOs) -> Event {
    Event::AddVm(VmFixture {
        account: None,
        region: None,
        environment_id: ENVIRONMENTS[0].into(),
        vm_id: vm_id(i),
        name: format!("host-{}", i + 1),
        guest_os,
    })
}

fn vm_ref(i: usize) -> VmRef {
    VmRef {
        account: None,
        region: None,
        environment_id: ENVIRONMENTS[0].into(),
        vm_id: vm_id(i),
    }
}

fn health_event(connector: &str, health: CheckResult) -> Event {
    Event::SetConnectorHealth(ConnectorHealth {
        account: None,
        region: None,
        connector_id: connector.into(),
        health,
    })
}

fn entitlement_body(connector: &str, vms: &[usize]) -> Value {
    let vms: Vec<String> = vms.iter().map(|&i| vm_id(i)).collect();
    json!({"environmentId": ENVIRONMENTS[0], "connectorId": connector, "entitlementType": "WINDOWS_SERVER", "vmIds": vms})
}

/// The EVS world of [`evs_request`]: the fixtures plus records of the healthy connector in every
/// status a sync and a delete produce: CREATED (vm-1), DELETED (vm-2), CREATE_FAILED (vm-5, vm-6)
/// and CREATING (vm-3).
fn evs_base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut w = evs_fixtures();
        let caller = evs_caller(0);
        let conn = CONNECTORS[0];
        must(
            &mut w,
            &caller,
            Service::Evs,
            "CreateEntitlement",
            entitlement_body(conn, &[0, 1, 4, 5]),
        );
        evs_apply(&mut w, Event::advance_seconds(300));
        must(
            &mut w,
            &caller,
            Service::Evs,
            "DeleteEntitlement",
            entitlement_body(conn, &[1]),
        );
        must(
            &mut w,
            &caller,
            Service::Evs,
            "CreateEntitlement",
            entitlement_body(conn, &[2]),
        );
        Base {
            world: w,
            ids: evs_placeholders(),
        }
    })
}

/// Whether a JSON value holds a `null` anywhere: replies omit absent members (SPEC 1.1).
fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
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
    let (want_type, message) = match service {
        Service::LicenseManager => (code.type_name().to_string(), "Message"),
        Service::Evs => (format!("com.amazonaws.evs#{}", code.type_name()), "message"),
    };
    if reply.body["__type"].as_str() != Some(want_type.as_str()) {
        return Err(format!("error body without __type {want_type}: {}", reply.body));
    }
    if !reply.body[message].is_string() {
        return Err(format!("error body without {message}: {}", reply.body));
    }
    Ok(())
}

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
    if reply.is_error()
        && (lm_digest(&world) != lm_digest(&base.world) || evs_digest(&world) != evs_digest(&base.world))
    {
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

fn split(data: &[u8]) -> (u8, u8, &[u8]) {
    match data {
        [op, caller, body @ ..] => (*op, *caller, body),
        [op] => (*op, 0, &[]),
        [] => (0, 0, &[]),
    }
}

/// How many seconds an [`Op::Advance`] moves the clock: around sync boundaries (300 s), the
/// provisional TTL (60 min), the deletion delay (60 s) and the page token lifetime (24 h).
const ADVANCES: [i64; 12] = [0, 1, 59, 60, 61, 150, 299, 300, 301, 900, 3600, 86_400];
/// Quantities a checkout asks for: small counts and the malformed ones of SPEC 3.4.
const QUANTITIES: [&str; 8] = ["1", "2", "3", "0", "01", "-1", "x", "9223372036854775807"];
const SKUS: [&str; 3] = ["sku-a", "sku-b", "mkt"];
const BENEFICIARIES: [&str; 2] = ["customer-1", "customer-2"];

/// One step of the `sequence` target. Fields are small numbers mapped onto small domains, so that
/// references hit the licenses, tokens, grants, connectors and VMs the world already holds.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    CreateLicense {
        sku: u8,
        beneficiary: u8,
        max: u8,
        overage: bool,
        check_in: bool,
        borrow: bool,
        end_minutes: Option<u8>,
        token: u8,
    },
    CreateLicenseVersion {
        license: u8,
        max: u8,
        deactivate: bool,
        reset: bool,
        source: Option<bool>,
        token: u8,
    },
    Checkout {
        caller: u8,
        sku: u8,
        beneficiary: Option<u8>,
        quantity: u8,
        perpetual: bool,
        token: u8,
    },
    Borrow {
        caller: u8,
        license: u8,
        quantity: u8,
        token: u8,
    },
    CheckIn {
        caller: u8,
        token: u8,
    },
    Extend {
        caller: u8,
        token: u8,
        dry_run: bool,
    },
    DeleteLicense {
        license: u8,
        right_source: bool,
    },
    Read {
        caller: u8,
        license: u8,
        op: u8,
    },
    ListLicenses {
        sku: Option<u8>,
        max: Option<u8>,
    },
    CreateGrant {
        license: u8,
        to: u8,
        token: u8,
    },
    GrantChange {
        grant: u8,
        action: u8,
        caller: u8,
    },
    CreateEntitlement {
        connector: u8,
        vms: Vec<u8>,
    },
    DeleteEntitlement {
        connector: u8,
        vms: Vec<u8>,
    },
    ListVmEntitlements {
        connector: u8,
        max: u8,
    },
    CreateConnector {
        env: u8,
        kind: u8,
    },
    UpdateConnector {
        connector: u8,
        fqdn: bool,
    },
    DeleteConnector {
        connector: u8,
    },
    /// A body of arbitrary bytes (placeholders substituted) for an operation of either service.
    Raw {
        evs: bool,
        op: u8,
        caller: u8,
        body: Vec<u8>,
    },
    /// Sends an earlier request again, byte for byte (idempotent replays, SPEC 3.4).
    Replay {
        back: u8,
    },
    Advance {
        choice: u8,
    },
    AddVm {
        vm: u8,
        windows: bool,
    },
    RemoveVm {
        vm: u8,
    },
    SetGuestOs {
        vm: u8,
        windows: bool,
    },
    ConnectorHealth {
        connector: u8,
        health: u8,
    },
    SeedMarketplace {
        sku: u8,
        max: u8,
    },
    Reset,
}

/// A request as sent, and the reply it got.
#[derive(Clone, Debug)]
struct Sent {
    service: Service,
    caller: Caller,
    op: &'static str,
    body: Vec<u8>,
    reply: Option<Value>,
}

fn at<T: Clone>(items: &[T], i: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[usize::from(i) % items.len()].clone())
}

/// What a step turns into against the current state: a request, or an event.
enum Action {
    Request(Sent),
    Event(Event),
}

fn lm_step(caller: Caller, op: &'static str, body: Value) -> Action {
    Action::Request(Sent {
        service: Service::LicenseManager,
        caller,
        op,
        body: body.to_string().into_bytes(),
        reply: None,
    })
}

fn evs_step(op: &'static str, body: Value) -> Action {
    Action::Request(Sent {
        service: Service::Evs,
        caller: evs_caller(0),
        op,
        body: body.to_string().into_bytes(),
        reply: None,
    })
}

fn connectors(w: &World) -> Vec<String> {
    let mut cs: Vec<(u64, String)> = w
        .evs()
        .partition(EVS_ACCOUNT, "us-east-1")
        .map(|p| p.connectors.values().map(|c| (c.seq, c.id.clone())).collect())
        .unwrap_or_default();
    cs.sort();
    cs.into_iter().map(|(_, id)| id).collect()
}

fn connector_env(w: &World, id: &str) -> String {
    w.evs()
        .partition(EVS_ACCOUNT, "us-east-1")
        .and_then(|p| p.connectors.get(id))
        .map_or_else(|| ENVIRONMENTS[0].to_string(), |c| c.environment_id.clone())
}

fn vm_list(vms: &[u8]) -> Vec<String> {
    // Up to five VMs; duplicates stay in, as the shape check must refuse them (SPEC 4.2).
    vms.iter()
        .take(5)
        .map(|&v| vm_id(usize::from(v) % (VM_COUNT + 1)))
        .collect()
}

const NO_LICENSE: &str = "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000";
const NO_GRANT: &str = "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000";
const NO_TOKEN: &str = "00000000000000000000000000000000";

fn concretize(w: &World, op: &Op, history: &[Sent]) -> Option<Action> {
    let lm = w.lm();
    let license = |i: u8| at(lm.licenses(), i).map_or_else(|| NO_LICENSE.to_string(), |l| l.arn.clone());
    let latest = |arn: &str| {
        lm.license_by_arn(arn)
            .map_or(1, |id| lm.license(id).versions.len())
    };
    let token = |i: u8| at(lm.tokens(), i).map_or_else(|| NO_TOKEN.to_string(), |t| t.id.clone());
    let quantity = |q: u8| QUANTITIES[usize::from(q) % QUANTITIES.len()];
    let conn = |i: u8| at(&connectors(w), i).unwrap_or_else(|| CONNECTORS[0].to_string());
    Some(match op.clone() {
        Op::CreateLicense {
            sku,
            beneficiary,
            max,
            overage,
            check_in,
            borrow,
            end_minutes,
            token,
        } => {
            let mut b = license_body(
                &format!("c{token}"),
                SKUS[usize::from(sku) % 2],
                i64::from(max % 6),
                overage,
                check_in,
                borrow,
            );
            b["Beneficiary"] = json!(BENEFICIARIES[usize::from(beneficiary) % 2]);
            if let Some(m) = end_minutes {
                let end = w.now_ms() + i64::from(m) * 60_000;
                b["Validity"]["End"] = json!(crate::timefmt::iso_millis(end));
            }
            lm_step(lm_caller(0), "CreateLicense", b)
        }
        Op::CreateLicenseVersion {
            license: l,
            max,
            deactivate,
            reset,
            source,
            token,
        } => {
            let arn = license(l);
            let mut b = license_body(&format!("v{token}"), "", i64::from(max % 6), false, true, true);
            if let Some(o) = b.as_object_mut() {
                o.remove("ProductSKU");
                o.remove("Beneficiary");
            }
            b["Status"] = json!(if deactivate { "DEACTIVATED" } else { "AVAILABLE" });
            b["ResetUsage"] = json!(reset);
            if let Some(right) = source {
                let v = latest(&arn) + usize::from(!right);
                b["SourceVersion"] = json!(v.to_string());
            }
            b["LicenseArn"] = json!(arn);
            lm_step(lm_caller(0), "CreateLicenseVersion", b)
        }
        Op::Checkout {
            caller,
            sku,
            beneficiary,
            quantity: q,
            perpetual,
            token,
        } => {
            let sku = SKUS[usize::from(sku) % SKUS.len()];
            let fingerprint = if sku == "mkt" {
                MARKETPLACE_FINGERPRINT
            } else {
                FINGERPRINT
            };
            let mut b = json!({
                "ProductSKU": sku, "CheckoutType": if perpetual { "PERPETUAL" } else { "PROVISIONAL" },
                "KeyFingerprint": fingerprint, "ClientToken": format!("k{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": quantity(q)}, {"Name": "Premium", "Unit": "None"}],
            });
            if let Some(ben) = beneficiary {
                b["Beneficiary"] = json!(BENEFICIARIES[usize::from(ben) % 2]);
            }
            lm_step(lm_caller(caller % 3), "CheckoutLicense", b)
        }
        Op::Borrow {
            caller,
            license: l,
            quantity: q,
            token,
        } => lm_step(
            lm_caller(caller % 3),
            "CheckoutBorrowLicense",
            json!({
                "LicenseArn": license(l), "DigitalSignatureMethod": "JWT_PS384", "ClientToken": format!("b{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": quantity(q)}],
            }),
        ),
        Op::CheckIn { caller, token: t } => lm_step(
            lm_caller(caller % 3),
            "CheckInLicense",
            json!({"LicenseConsumptionToken": token(t)}),
        ),
        Op::Extend {
            caller,
            token: t,
            dry_run,
        } => lm_step(
            lm_caller(caller % 3),
            "ExtendLicenseConsumption",
            json!({"LicenseConsumptionToken": token(t), "DryRun": dry_run}),
        ),
        Op::DeleteLicense {
            license: l,
            right_source,
        } => {
            let arn = license(l);
            let v = latest(&arn) + usize::from(!right_source);
            lm_step(
                lm_caller(0),
                "DeleteLicense",
                json!({"LicenseArn": arn, "SourceVersion": v.to_string()}),
            )
        }
        Op::Read {
            caller,
            license: l,
            op,
        } => {
            let op = [
                "GetLicense",
                "ListLicenseVersions",
                "GetLicenseUsage",
                "ListReceivedLicenses",
            ][usize::from(op) % 4];
            lm_step(lm_caller(caller % 3), op, json!({"LicenseArn": license(l)}))
        }
        Op::ListLicenses { sku, max } => {
            let mut b = json!({});
            if let Some(s) = sku {
                b["Filters"] = json!([{"Name": "ProductSKU", "Values": [SKUS[usize::from(s) % 2]]}]);
            }
            if let Some(m) = max {
                b["MaxResults"] = json!(1 + m % 3);
            }
            lm_step(lm_caller(0), "ListLicenses", b)
        }
        Op::CreateGrant {
            license: l,
            to,
            token,
        } => lm_step(
            lm_caller(0),
            "CreateGrant",
            json!({
                "ClientToken": format!("g{token}"), "GrantName": "G", "LicenseArn": license(l), "HomeRegion": "us-east-1",
                "Principals": [format!("arn:aws:iam::{}:root", lm_caller(1 + to % 2).account)],
                "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "CheckoutBorrowLicense", "ExtendConsumptionLicense"],
            }),
        ),
        Op::GrantChange {
            grant,
            action,
            caller,
        } => {
            let (arn, version) = at(lm.grants(), grant).map_or_else(
                || (NO_GRANT.to_string(), "1".to_string()),
                |g| (g.arn.clone(), g.versions.len().to_string()),
            );
            let c = lm_caller(caller % 3);
            match action % 6 {
                0 => lm_step(c, "AcceptGrant", json!({"GrantArn": arn})),
                1 => lm_step(c, "RejectGrant", json!({"GrantArn": arn})),
                2 => lm_step(
                    c,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("a{grant}"), "Status": "ACTIVE"}),
                ),
                3 => lm_step(
                    c,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("d{grant}"), "Status": "DISABLED"}),
                ),
                4 => lm_step(c, "DeleteGrant", json!({"GrantArn": arn, "Version": version})),
                _ => lm_step(c, "GetGrant", json!({"GrantArn": arn})),
            }
        }
        Op::CreateEntitlement { connector, vms } => {
            let id = conn(connector);
            let mut b = entitlement_body(&id, &[]);
            b["environmentId"] = json!(connector_env(w, &id));
            b["vmIds"] = json!(vm_list(&vms));
            evs_step("CreateEntitlement", b)
        }
        Op::DeleteEntitlement { connector, vms } => {
            let id = conn(connector);
            let mut b = entitlement_body(&id, &[]);
            b["environmentId"] = json!(connector_env(w, &id));
            b["vmIds"] = json!(vm_list(&vms));
            evs_step("DeleteEntitlement", b)
        }
        Op::ListVmEntitlements { connector, max } => {
            let id = conn(connector);
            evs_step(
                "ListVmEntitlements",
                json!({"environmentId": connector_env(w, &id), "connectorId": id, "entitlementType": "WINDOWS_SERVER", "maxResults": 1 + max % 4}),
            )
        }
        Op::CreateConnector { env, kind } => evs_step(
            "CreateEnvironmentConnector",
            json!({
                "environmentId": ENVIRONMENTS[usize::from(env) % 2], "type": ConnectorType::ALL[usize::from(kind) % ConnectorType::ALL.len()],
                "applianceFqdn": "vc.example.com", "secretIdentifier": "s",
            }),
        ),
        Op::UpdateConnector { connector, fqdn } => {
            let id = conn(connector);
            let mut b = json!({"environmentId": connector_env(w, &id), "connectorId": id});
            if fqdn {
                b["applianceFqdn"] = json!("vc2.example.com");
            } else {
                b["secretIdentifier"] = json!("s2");
            }
            evs_step("UpdateEnvironmentConnector", b)
        }
        Op::DeleteConnector { connector } => {
            let id = conn(connector);
            evs_step(
                "DeleteEnvironmentConnector",
                json!({"environmentId": connector_env(w, &id), "connectorId": id}),
            )
        }
        Op::Raw {
            evs,
            op,
            caller,
            body,
        } => {
            let mut ids = evs_placeholders();
            ids.push(("<license-1>".into(), license(0)));
            ids.push(("<token-1>".into(), token(0)));
            let body = substitute(&body, &ids);
            let (service, op, caller) = if evs {
                (Service::Evs, evs_operation(op), evs_caller(caller))
            } else {
                (Service::LicenseManager, lm_operation(op), lm_caller(caller))
            };
            Action::Request(Sent {
                service,
                caller,
                op,
                body,
                reply: None,
            })
        }
        Op::Replay { back } => {
            let i = history.len().checked_sub(1 + usize::from(back) % 8)?;
            let mut sent = history[i].clone();
            sent.reply = None;
            Action::Request(sent)
        }
        Op::Advance { choice } => Action::Event(Event::advance_seconds(
            ADVANCES[usize::from(choice) % ADVANCES.len()],
        )),
        Op::AddVm { vm, windows } => Action::Event(add_vm_event(
            usize::from(vm) % VM_COUNT,
            if windows {
                GuestOs::WindowsServer
            } else {
                GuestOs::Other
            },
        )),
        Op::RemoveVm { vm } => Action::Event(Event::RemoveVm(vm_ref(usize::from(vm) % VM_COUNT))),
        Op::SetGuestOs { vm, windows } => {
            let r = vm_ref(usize::from(vm) % VM_COUNT);
            Action::Event(Event::SetVmGuestOs(VmGuestOs {
                account: r.account,
                region: r.region,
                environment_id: r.environment_id,
                vm_id: r.vm_id,
                guest_os: if windows {
                    GuestOs::WindowsServer
                } else {
                    GuestOs::Other
                },
            }))
        }
        Op::ConnectorHealth { connector, health } => Action::Event(health_event(
            &conn(connector),
            CheckResult::ALL[usize::from(health) % CheckResult::ALL.len()],
        )),
        Op::SeedMarketplace { sku, max } => Action::Event(marketplace_event(
            SKUS[2 - usize::from(sku) % 2],
            i64::from(max % 4),
        )),
        Op::Reset => Action::Event(Event::Reset),
    })
}

/// Operations whose success a byte-identical resend replays instead of running again (SPEC 3.4).
const IDEMPOTENT: [&str; 6] = [
    "CreateLicense",
    "CreateLicenseVersion",
    "CheckoutLicense",
    "CheckoutBorrowLicense",
    "CreateGrant",
    "CreateGrantVersion",
];

/// The `sequence` target on typed steps: runs each through `World::handle` or `World::apply` on
/// a world with the EVS fixtures, checking after every step the reply shape, that a refused request
/// or event changes nothing, that an idempotent replay changes nothing, and SPEC 3.10 and 4.4.
pub fn run_sequence(ops: &[Op]) -> Result<(), String> {
    let mut world = evs_fixtures();
    let mut history: Vec<Sent> = Vec::new();
    // Requests sent since the last Reset: a reset world draws the same ids again, so an equal
    // reply from before it is a new object, not a replay.
    let mut since_reset = 0;
    for (n, op) in ops.iter().take(MAX_STEPS).enumerate() {
        // Settle first, so that `before` already shows what falls due now.
        world
            .apply(Event::advance_seconds(0))
            .map_err(|e| format!("settling: {e}"))?;
        let before = world.clone();
        let Some(action) = concretize(&world, op, &history) else {
            continue;
        };
        let fail = |what: String| format!("step {n} {op:?}: {what}");
        match action {
            Action::Event(event) => {
                if event == Event::Reset {
                    since_reset = history.len();
                }
                let refused = world.apply(event.clone()).is_err();
                if refused
                    && (lm_digest(&world) != lm_digest(&before) || evs_digest(&world) != evs_digest(&before))
                {
                    return Err(fail("a refused event changed the state".into()));
                }
                check_lm(&world, &before).map_err(|e| fail(format!("SPEC 3.10: {e}")))?;
                check_evs(&world, &before, &Cause::Event(&event))
                    .map_err(|e| fail(format!("SPEC 4.4: {e}")))?;
            }
            Action::Request(mut sent) => {
                let reply = world.handle(&sent.caller, sent.service, sent.op, &sent.body);
                check_reply(sent.service, &reply).map_err(|e| fail(format!("{}: {e}", sent.op)))?;
                let unchanged =
                    || lm_digest(&world) == lm_digest(&before) && evs_digest(&world) == evs_digest(&before);
                if reply.is_error() && !unchanged() {
                    return Err(fail(format!(
                        "refused {} changed the state: {}",
                        sent.op, reply.body
                    )));
                }
                let replayed = !reply.is_error()
                    && IDEMPOTENT.contains(&sent.op)
                    && history[since_reset..].iter().any(|h| {
                        h.op == sent.op
                            && h.caller == sent.caller
                            && h.body == sent.body
                            && h.reply.as_ref() == Some(&reply.body)
                    });
                if replayed && !unchanged() {
                    return Err(fail(format!(
                        "an idempotent replay of {} changed the state",
                        sent.op
                    )));
                }
                check_lm(&world, &before).map_err(|e| fail(format!("SPEC 3.10: {e}")))?;
                check_evs(&world, &before, &Cause::request(sent.service, sent.op))
                    .map_err(|e| fail(format!("SPEC 4.4: {e}")))?;
                sent.reply = Some(reply.body);
                history.push(sent);
            }
        }
    }
    Ok(())
}

/// The `sequence` target on raw bytes: decodes them into steps exactly as `fuzz_target!` with a
/// `Vec<Op>` argument would (`arbitrary_take_rest`), then runs [`run_sequence`]. Bytes that do
/// not decode are no input at all, as for libFuzzer.
pub fn sequence(data: &[u8]) -> Result<(), String> {
    match Vec::<Op>::arbitrary_take_rest(Unstructured::new(data)) {
        Ok(ops) => run_sequence(&ops),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(base: &Base, service: Service, op: &str, caller: &Caller, body: &str) -> Reply {
        let body = substitute(body.as_bytes(), &base.ids);
        base.world.clone().handle(caller, service, op, &body)
    }

    #[test]
    fn placeholders_name_the_seeded_license_manager_resources() {
        let base = lm_base();
        let seller = lm_caller(0);
        let get = send(
            base,
            Service::LicenseManager,
            "GetLicense",
            &seller,
            r#"{"LicenseArn": "<license-1>"}"#,
        );
        assert_eq!(get.status, 200, "{}", get.body);
        let check_in = send(
            base,
            Service::LicenseManager,
            "CheckInLicense",
            &seller,
            r#"{"LicenseConsumptionToken": "<token-1>"}"#,
        );
        assert_eq!(check_in.status, 200, "{}", check_in.body);
        let grant = send(
            base,
            Service::LicenseManager,
            "GetGrant",
            &lm_caller(1),
            r#"{"GrantArn": "<grant-1>"}"#,
        );
        assert_eq!(grant.body["Grant"]["GrantStatus"], "ACTIVE", "{}", grant.body);
    }

    #[test]
    fn the_evs_base_holds_records_in_every_status_a_sync_and_a_delete_reach() {
        let base = evs_base();
        let body = r#"{"environmentId": "<env-1>", "connectorId": "<cnctr-1>", "entitlementType": "WINDOWS_SERVER"}"#;
        let list = send(base, Service::Evs, "ListVmEntitlements", &evs_caller(0), body);
        let statuses: Vec<(String, String)> = list.body["entitlements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["vmId"].as_str().unwrap_or("").into(),
                    e["status"].as_str().unwrap_or("").into(),
                )
            })
            .collect();
        let want = [
            ("vm-1", "CREATED"),
            ("vm-5", "CREATE_FAILED"),
            ("vm-6", "CREATE_FAILED"),
            ("vm-3", "CREATING"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(statuses, want, "{}", list.body);
    }

    #[test]
    fn operation_bytes_reach_the_unimplemented_and_unknown_names() {
        let n = LmRequest::OPERATIONS.len() as u8;
        assert_eq!(lm_operation(0), "CreateLicense");
        assert_eq!(lm_operation(n), "CreateLicenseConfiguration");
        assert_eq!(lm_operation(n + 1), "NoSuchOperation");
        assert_eq!(
            evs_operation(EvsRequest::OPERATIONS.len() as u8),
            "CreateEnvironment"
        );
    }

    #[test]
    fn a_sequence_reaches_a_checkout_and_a_sync() {
        let ops = [
            Op::CreateLicense {
                sku: 0,
                beneficiary: 0,
                max: 2,
                overage: false,
                check_in: true,
                borrow: true,
                end_minutes: None,
                token: 1,
            },
            Op::Checkout {
                caller: 0,
                sku: 0,
                beneficiary: Some(0),
                quantity: 0,
                perpetual: false,
                token: 1,
            },
            Op::Replay { back: 0 },
            Op::CreateEntitlement {
                connector: 0,
                vms: vec![0, 4],
            },
            Op::Advance { choice: 7 },
            Op::DeleteEntitlement {
                connector: 0,
                vms: vec![4],
            },
            Op::CreateEntitlement {
                connector: 0,
                vms: vec![4],
            },
            Op::Reset,
        ];
        run_sequence(&ops).expect("a valid sequence keeps every invariant");
    }
}
