//! License Manager scenarios: the journeys of SPEC 3 that every conformant target must walk the
//! same way.

use conform_model::Service;
use serde_json::{json, Value};

use crate::scenario::Scenario;

pub const FINGERPRINT: &str = "aws:111122223333:Example Corp:issuer-fingerprint";
pub const MARKETPLACE_FINGERPRINT: &str = "aws:294406891311:AWS/Marketplace:issuer-fingerprint";

/// A license of the seller's for `customer-1`: 10 seats that can be checked in, a `None` flag.
pub fn license(token: &str, sku: &str) -> Value {
    json!({
        "LicenseName": "Editor seats",
        "ProductName": "Editor",
        "ProductSKU": sku,
        "Issuer": {"Name": "Example Corp"},
        "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [
            {"Name": "Seat", "Unit": "Count", "MaxCount": 10, "AllowCheckIn": true},
            {"Name": "Premium", "Unit": "None", "Value": "Enabled"}
        ],
        "Beneficiary": "customer-1",
        "ConsumptionConfiguration": {
            "ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60},
            "BorrowConfiguration": {"AllowEarlyCheckIn": false, "MaxTimeToLiveInMinutes": 1440}
        },
        "ClientToken": token
    })
}

/// `value` with `key` set (`Null` removes it).
pub fn set(mut value: Value, key: &str, to: Value) -> Value {
    if let Some(o) = value.as_object_mut() {
        if to.is_null() {
            o.remove(key);
        } else {
            o.insert(key.to_string(), to);
        }
    }
    value
}

/// A new version repeating the default content of `license`.
pub fn version(token: &str, entitlements: Value) -> Value {
    let mut v = license(token, "unused");
    if let Some(o) = v.as_object_mut() {
        o.remove("ProductSKU");
        o.remove("Beneficiary");
        o.insert("LicenseArn".into(), json!("{{license}}"));
        o.insert("Status".into(), json!("AVAILABLE"));
        o.insert("Entitlements".into(), entitlements);
    }
    v
}

pub fn checkout(token: &str, sku: &str, seats: &str, kind: &str) -> Value {
    json!({
        "ProductSKU": sku,
        "CheckoutType": kind,
        "KeyFingerprint": FINGERPRINT,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": seats}],
        "Beneficiary": "customer-1",
        "ClientToken": token
    })
}

fn token(name: &str) -> Value {
    json!({ "LicenseConsumptionToken": format!("{{{{{name}}}}}") })
}

fn usage() -> Value {
    json!({"LicenseArn": "{{license}}"})
}

pub fn all() -> Vec<Scenario> {
    vec![
        isv_lifecycle(),
        marketplace_seats_released_by_expiry(),
        perpetual_drawdown(),
        overage(),
        borrow_early_check_in_refused(),
        source_version_conflict(),
        reset_usage(),
        idempotent_replay(),
        expired_license_refuses_checkout(),
        malformed_requests(),
    ]
}

pub fn isv_lifecycle() -> Scenario {
    Scenario::new(
        "lm_isv_lifecycle",
        "SPEC 3.2-3.7: create, check out, extend, check in, usage, new version, delete",
    )
    .call("seller", "CreateLicense", license("create", "editor-pro"), "ok")
    .capture("license", "/LicenseArn")
    .call("seller", "GetLicense", json!({"LicenseArn": "{{license}}"}), "ok")
    .call(
        "seller",
        "CheckoutLicense",
        set(
            checkout("co-1", "editor-pro", "2", "PROVISIONAL"),
            "NodeId",
            json!("node-1"),
        ),
        "ok",
    )
    .capture("token", "/LicenseConsumptionToken")
    .advance(1800)
    .call("seller", "ExtendLicenseConsumption", token("token"), "ok")
    .call("seller", "GetLicenseUsage", usage(), "ok")
    .call("seller", "CheckInLicense", token("token"), "ok")
    .call("seller", "GetLicenseUsage", usage(), "ok")
    .call(
        "seller",
        "CreateLicenseVersion",
        set(
            version(
                "v2",
                json!([{"Name": "Seat", "Unit": "Count", "MaxCount": 20, "AllowCheckIn": true}]),
            ),
            "SourceVersion",
            json!("1"),
        ),
        "ok",
    )
    .call(
        "seller",
        "ListLicenseVersions",
        json!({"LicenseArn": "{{license}}"}),
        "ok",
    )
    .call(
        "seller",
        "DeleteLicense",
        json!({"LicenseArn": "{{license}}", "SourceVersion": "2"}),
        "ok",
    )
    .advance(60)
    .call("seller", "GetLicense", json!({"LicenseArn": "{{license}}"}), "ok")
}

pub fn marketplace_seats_released_by_expiry() -> Scenario {
    let seat = |t: &str| {
        json!({
            "ProductSKU": "mkt-seats", "CheckoutType": "PROVISIONAL", "KeyFingerprint": MARKETPLACE_FINGERPRINT,
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "ClientToken": t
        })
    };
    Scenario::new(
        "lm_marketplace_floating_seats",
        "SPEC 3.3, 3.4: a buyer's floating seats run out, then come back by expiry",
    )
    .event(json!({
        "event": "seed_marketplace_license", "buyer_account": "444455556666", "product_sku": "mkt-seats",
        "entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 2, "AllowCheckIn": true}]
    }))
    .capture("license", "/LicenseArn")
    .call("buyer", "CheckoutLicense", seat("s1"), "ok")
    .call("buyer", "CheckoutLicense", seat("s2"), "ok")
    .call(
        "buyer",
        "CheckoutLicense",
        seat("s3"),
        "NoEntitlementsAllowedException",
    )
    .call("buyer", "GetLicenseUsage", usage(), "ok")
    .advance(3600)
    .call("buyer", "GetLicenseUsage", usage(), "ok")
    .call("buyer", "CheckoutLicense", seat("s4"), "ok")
    .call(
        "stranger",
        "CheckoutLicense",
        seat("s5"),
        "NoEntitlementsAllowedException",
    )
}

pub fn perpetual_drawdown() -> Scenario {
    let lic = set(
        license("create", "meter"),
        "Entitlements",
        json!([{"Name": "Seat", "Unit": "Count", "MaxCount": 5}]),
    );
    Scenario::new(
        "lm_perpetual_drawdown",
        "SPEC 3.4, 3.6: PERPETUAL checkouts draw the entitlement down to zero",
    )
    .call("seller", "CreateLicense", lic, "ok")
    .capture("license", "/LicenseArn")
    .call(
        "seller",
        "CheckoutLicense",
        checkout("p1", "meter", "3", "PERPETUAL"),
        "ok",
    )
    .capture("token", "/LicenseConsumptionToken")
    .call(
        "seller",
        "CheckoutLicense",
        checkout("p2", "meter", "2", "PERPETUAL"),
        "ok",
    )
    .call("seller", "GetLicenseUsage", usage(), "ok")
    .call(
        "seller",
        "CheckoutLicense",
        checkout("p3", "meter", "1", "PERPETUAL"),
        "NoEntitlementsAllowedException",
    )
    .call("seller", "CheckInLicense", token("token"), "ConflictException")
    .call(
        "seller",
        "ExtendLicenseConsumption",
        token("token"),
        "InvalidParameterValueException",
    )
    .advance(86_400)
    .call("seller", "GetLicenseUsage", usage(), "ok")
}

pub fn overage() -> Scenario {
    let lic = set(
        license("create", "burst"),
        "Entitlements",
        json!([{"Name": "Seat", "Unit": "Count", "MaxCount": 2, "Overage": true, "AllowCheckIn": true}]),
    );
    Scenario::new("lm_overage", "SPEC 3.4: with Overage, checkouts go past MaxCount")
        .call("seller", "CreateLicense", lic, "ok")
        .capture("license", "/LicenseArn")
        .call(
            "seller",
            "CheckoutLicense",
            checkout("o1", "burst", "2", "PROVISIONAL"),
            "ok",
        )
        .call(
            "seller",
            "CheckoutLicense",
            checkout("o2", "burst", "3", "PROVISIONAL"),
            "ok",
        )
        .call("seller", "GetLicenseUsage", usage(), "ok")
}

pub fn borrow_early_check_in_refused() -> Scenario {
    let borrow = json!({
        "LicenseArn": "{{license}}", "DigitalSignatureMethod": "JWT_PS384", "NodeId": "laptop-1",
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}],
        "CheckoutMetadata": [{"Name": "user", "Value": "alice"}], "ClientToken": "b1"
    });
    Scenario::new(
        "lm_borrow_early_check_in",
        "SPEC 3.5, 3.6: a borrow cannot come back early without AllowEarlyCheckIn",
    )
    .call("seller", "CreateLicense", license("create", "offline"), "ok")
    .capture("license", "/LicenseArn")
    .call("seller", "CheckoutBorrowLicense", borrow, "ok")
    .capture("token", "/LicenseConsumptionToken")
    .call("seller", "CheckInLicense", token("token"), "ConflictException")
    .call(
        "seller",
        "ExtendLicenseConsumption",
        token("token"),
        "InvalidParameterValueException",
    )
    .call("seller", "GetLicenseUsage", usage(), "ok")
    .advance(86_400)
    .call(
        "seller",
        "CheckInLicense",
        token("token"),
        "ResourceNotFoundException",
    )
    .call("seller", "GetLicenseUsage", usage(), "ok")
}

pub fn source_version_conflict() -> Scenario {
    let seats = json!([{"Name": "Seat", "Unit": "Count", "MaxCount": 10, "AllowCheckIn": true}]);
    Scenario::new(
        "lm_source_version_conflict",
        "SPEC 3.2: SourceVersion must name the latest version",
    )
    .call("seller", "CreateLicense", license("create", "versioned"), "ok")
    .capture("license", "/LicenseArn")
    .call(
        "seller",
        "CreateLicenseVersion",
        set(version("v2", seats.clone()), "SourceVersion", json!("1")),
        "ok",
    )
    .call(
        "seller",
        "CreateLicenseVersion",
        set(version("v3", seats), "SourceVersion", json!("1")),
        "ConflictException",
    )
    .call(
        "seller",
        "DeleteLicense",
        json!({"LicenseArn": "{{license}}", "SourceVersion": "1"}),
        "ConflictException",
    )
    .call(
        "seller",
        "DeleteLicense",
        json!({"LicenseArn": "{{license}}", "SourceVersion": "2"}),
        "ok",
    )
    .call(
        "seller",
        "DeleteLicense",
        json!({"LicenseArn": "{{license}}", "SourceVersion": "2"}),
        "InvalidParameterValueException",
    )
}

pub fn reset_usage() -> Scenario {
    let seats = json!([{"Name": "Seat", "Unit": "Count", "MaxCount": 10, "AllowCheckIn": true}]);
    Scenario::new("lm_reset_usage", "SPEC 3.7: ResetUsage starts a new usage period")
        .call("seller", "CreateLicense", license("create", "periodic"), "ok")
        .capture("license", "/LicenseArn")
        .call(
            "seller",
            "CheckoutLicense",
            checkout("r1", "periodic", "6", "PERPETUAL"),
            "ok",
        )
        .call(
            "seller",
            "CheckoutLicense",
            checkout("r2", "periodic", "4", "PROVISIONAL"),
            "ok",
        )
        .capture("token", "/LicenseConsumptionToken")
        .call(
            "seller",
            "CheckoutLicense",
            checkout("r3", "periodic", "1", "PROVISIONAL"),
            "NoEntitlementsAllowedException",
        )
        .call(
            "seller",
            "CreateLicenseVersion",
            set(version("v2", seats), "ResetUsage", json!(true)),
            "ok",
        )
        .call("seller", "GetLicenseUsage", usage(), "ok")
        .call("seller", "CheckInLicense", token("token"), "ok")
        .call("seller", "GetLicenseUsage", usage(), "ok")
        .call(
            "seller",
            "CheckoutLicense",
            checkout("r4", "periodic", "10", "PROVISIONAL"),
            "ok",
        )
}

pub fn idempotent_replay() -> Scenario {
    let lic = set(
        license("create", "once"),
        "Entitlements",
        json!([{"Name": "Seat", "Unit": "Count", "MaxCount": 1, "AllowCheckIn": true}]),
    );
    Scenario::new(
        "lm_idempotent_replay",
        "SPEC 3.4: a ClientToken replays its reply; other parameters are refused",
    )
    .call("seller", "CreateLicense", lic.clone(), "ok")
    .capture("license", "/LicenseArn")
    .call("seller", "CreateLicense", lic.clone(), "ok")
    .call(
        "seller",
        "CreateLicense",
        set(lic, "LicenseName", json!("Other")),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        checkout("same", "once", "1", "PROVISIONAL"),
        "ok",
    )
    .call(
        "seller",
        "CheckoutLicense",
        checkout("same", "once", "1", "PROVISIONAL"),
        "ok",
    )
    .call("seller", "GetLicenseUsage", usage(), "ok")
    .call(
        "seller",
        "CheckoutLicense",
        checkout("same", "once", "1", "PERPETUAL"),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        checkout("new", "once", "1", "PROVISIONAL"),
        "NoEntitlementsAllowedException",
    )
}

pub fn expired_license_refuses_checkout() -> Scenario {
    let mut lic = license("create", "trial");
    lic["Validity"] = json!({"Begin": "2025-01-01T00:00:00Z", "End": "{{t0+3600s}}"});
    Scenario::new(
        "lm_expired_license",
        "SPEC 3.2, 3.3: at Validity.End the license is EXPIRED and refuses checkout",
    )
    .call("seller", "CreateLicense", lic, "ok")
    .capture("license", "/LicenseArn")
    .call(
        "seller",
        "CheckoutLicense",
        checkout("e1", "trial", "1", "PROVISIONAL"),
        "ok",
    )
    .capture("token", "/LicenseConsumptionToken")
    .advance(3600)
    .call("seller", "GetLicense", json!({"LicenseArn": "{{license}}"}), "ok")
    .call(
        "seller",
        "CheckoutLicense",
        checkout("e2", "trial", "1", "PROVISIONAL"),
        "NoEntitlementsAllowedException",
    )
    .call(
        "seller",
        "ListLicenses",
        json!({"Filters": [{"Name": "Status", "Values": ["EXPIRED"]}]}),
        "ok",
    )
}

pub fn malformed_requests() -> Scenario {
    let lm = Service::LicenseManager;
    let ok_checkout = checkout("m", "editor-pro", "1", "PROVISIONAL");
    Scenario::new(
        "lm_malformed_requests",
        "SPEC 1.2: each kind of bad input gets its typed error",
    )
    .call("seller", "CreateLicense", license("create", "editor-pro"), "ok")
    .capture("license", "/LicenseArn")
    .raw(
        "seller",
        lm,
        "CheckoutLicense",
        b"{not json",
        "SerializationException",
    )
    .raw("seller", lm, "CheckoutLicense", b"[]", "SerializationException")
    .raw(
        "seller",
        lm,
        "GetLicense",
        br#"{"LicenseArn": 42}"#,
        "SerializationException",
    )
    .raw(
        "seller",
        lm,
        "ListLicenses",
        br#"{"MaxResults": 1.0}"#,
        "SerializationException",
    )
    .raw(
        "seller",
        lm,
        "NoSuchOperation",
        b"{}",
        "UnknownOperationException",
    )
    .raw("seller", lm, "CreateToken", b"{}", "UnknownOperationException")
    .call("seller", "GetLicense", json!({}), "ValidationException")
    .call(
        "seller",
        "GetLicense",
        json!({"LicenseArn": "license-1"}),
        "ValidationException",
    )
    .call(
        "seller",
        "ListLicenses",
        json!({"MaxResults": 101}),
        "ValidationException",
    )
    .call(
        "seller",
        "ListLicenseVersions",
        json!({"LicenseArn": "nope"}),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        set(ok_checkout.clone(), "CheckoutType", json!("FOREVER")),
        "ValidationException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        set(ok_checkout.clone(), "ClientToken", json!("two words")),
        "ValidationException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        set(ok_checkout.clone(), "ClientToken", json!("x".repeat(2049))),
        "ValidationException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        set(
            ok_checkout.clone(),
            "Entitlements",
            json!([{"Name": "Seat", "Unit": "Seats", "Value": "1"}]),
        ),
        "ValidationException",
    )
    .call(
        "seller",
        "CheckoutLicense",
        set(
            ok_checkout.clone(),
            "Entitlements",
            json!([{"Name": "Seat", "Unit": "Count", "Value": "0"}]),
        ),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CreateLicense",
        set(
            license("bad-date", "x"),
            "Validity",
            json!({"Begin": "2025-13-01T00:00:00Z"}),
        ),
        "ValidationException",
    )
    .call(
        "seller",
        "CreateLicense",
        set(license("no-ents", "x"), "Entitlements", json!([])),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CheckoutBorrowLicense",
        json!({
            "LicenseArn": "{{license}}", "DigitalSignatureMethod": "RS256", "ClientToken": "b",
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}]
        }),
        "UnsupportedDigitalSignatureMethodException",
    )
    .call(
        "seller",
        "ListLicenses",
        json!({"NextToken": "forged"}),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "GetLicenseUsage",
        json!({"LicenseArn": "{{license}}"}),
        "ok",
    )
}
