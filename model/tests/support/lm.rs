//! License Manager fixtures: a world, callers, and request bodies with sensible defaults that a
//! test overrides member by member.

use conform_model::{Caller, Event, Policy, Reply, Service, World};
use serde_json::{json, Value};

pub const SELLER: &str = "111122223333";
pub const BUYER: &str = "444455556666";
pub const STRANGER: &str = "777788889999";
pub const FINGERPRINT: &str = "aws:111122223333:Example Corp:issuer-fingerprint";
pub const MARKETPLACE_FINGERPRINT: &str = "aws:294406891311:AWS/Marketplace:issuer-fingerprint";

pub fn world() -> World {
    World::new(7, Policy::default())
}

pub fn seller() -> Caller {
    Caller::new(SELLER, "us-east-1")
}

pub fn buyer() -> Caller {
    Caller::new(BUYER, "us-east-1")
}

pub fn stranger() -> Caller {
    Caller::new(STRANGER, "us-east-1")
}

/// Sets `path` (slash-separated, e.g. `Entitlements/0/MaxCount`) in `body`; `Value::Null` removes it.
pub fn with(mut body: Value, path: &str, value: Value) -> Value {
    let parts: Vec<&str> = path.split('/').collect();
    let (last, parents) = parts.split_last().expect("non-empty path");
    let mut node = &mut body;
    for p in parents {
        node = match p.parse::<usize>() {
            Ok(i) => &mut node[i],
            Err(_) => &mut node[*p],
        };
    }
    match (last.parse::<usize>(), value) {
        (Ok(i), v) => node[i] = v,
        (Err(_), Value::Null) => {
            node.as_object_mut().expect("object").remove(*last);
        }
        (Err(_), v) => node[*last] = v,
    }
    body
}

pub fn create_license_body(token: &str) -> Value {
    json!({
        "LicenseName": "Editor seats",
        "ProductName": "Editor",
        "ProductSKU": "editor-pro",
        "Issuer": {"Name": "Example Corp"},
        "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z", "End": "2027-01-01T00:00:00Z"},
        "Entitlements": [
            {"Name": "Seat", "Unit": "Count", "MaxCount": 10, "AllowCheckIn": true},
            {"Name": "Premium", "Unit": "None", "Value": "Enabled"}
        ],
        "Beneficiary": "customer-1",
        "ConsumptionConfiguration": {
            "ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60},
            "BorrowConfiguration": {"AllowEarlyCheckIn": true, "MaxTimeToLiveInMinutes": 1440}
        },
        "ClientToken": token
    })
}

/// A CreateLicenseVersion body that repeats the default license content.
pub fn version_body(arn: &str, token: &str) -> Value {
    let mut b = create_license_body(token);
    let o = b.as_object_mut().expect("object");
    o.remove("ProductSKU");
    o.remove("Beneficiary");
    o.insert("LicenseArn".into(), json!(arn));
    o.insert("Status".into(), json!("AVAILABLE"));
    b
}

pub fn checkout_body(token: &str, seats: &str) -> Value {
    json!({
        "ProductSKU": "editor-pro",
        "CheckoutType": "PROVISIONAL",
        "KeyFingerprint": FINGERPRINT,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": seats}],
        "Beneficiary": "customer-1",
        "ClientToken": token
    })
}

pub fn borrow_body(arn: &str, token: &str) -> Value {
    json!({
        "LicenseArn": arn,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
        "DigitalSignatureMethod": "JWT_PS384",
        "ClientToken": token
    })
}

pub fn call(world: &mut World, caller: &Caller, op: &str, body: &Value) -> Reply {
    world.handle(caller, Service::LicenseManager, op, body.to_string().as_bytes())
}

/// Calls and asserts success, returning the reply body.
pub fn ok(world: &mut World, caller: &Caller, op: &str, body: &Value) -> Value {
    let r = call(world, caller, op, body);
    assert_eq!(r.status, 200, "{op} failed: {}", r.body);
    r.body
}

/// Calls and returns the error type, or "ok".
pub fn outcome(world: &mut World, caller: &Caller, op: &str, body: &Value) -> String {
    let r = call(world, caller, op, body);
    r.error_type().unwrap_or("ok").to_string()
}

/// Creates the default license as the seller and returns its ARN.
pub fn create_license(world: &mut World, body: Value) -> String {
    let r = ok(world, &seller(), "CreateLicense", &body);
    r["LicenseArn"].as_str().expect("arn").to_string()
}

pub fn checkout(world: &mut World, token: &str, seats: &str) -> Reply {
    call(world, &seller(), "CheckoutLicense", &checkout_body(token, seats))
}

pub fn usage(world: &mut World, caller: &Caller, arn: &str) -> Value {
    ok(world, caller, "GetLicenseUsage", &json!({"LicenseArn": arn}))["LicenseUsage"]["EntitlementUsages"]
        .clone()
}

pub fn seat_usage(world: &mut World, arn: &str) -> String {
    usage(world, &seller(), arn)[0]["ConsumedValue"]
        .as_str()
        .expect("consumed")
        .to_string()
}

pub fn advance(world: &mut World, seconds: i64) {
    world
        .apply(Event::advance_seconds(seconds))
        .expect("clock advances");
}

pub fn seed_marketplace(world: &mut World, sku: &str, max: i64) -> String {
    let ev: Event = serde_json::from_value(json!({
        "event": "seed_marketplace_license",
        "buyer_account": BUYER,
        "product_sku": sku,
        "entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": max, "AllowCheckIn": true}]
    }))
    .expect("event");
    world.apply(ev).expect("seeded")["LicenseArn"]
        .as_str()
        .expect("arn")
        .to_string()
}
