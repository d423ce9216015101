//! Grant scenarios (SPEC 3.3, 3.9): how buyers really receive and use licenses.

use serde_json::{json, Value};

use super::lm::{license, FINGERPRINT};
use crate::scenario::Scenario;

const BUYER_ROOT: &str = "arn:aws:iam::444455556666:root";

fn grant(token: &str, license: &str) -> Value {
    json!({
        "ClientToken": token, "GrantName": "Buyer seats", "LicenseArn": license,
        "Principals": [BUYER_ROOT], "HomeRegion": "us-east-1",
        "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "ExtendConsumptionLicense"]
    })
}

fn buyer_checkout(token: &str, sku: &str) -> Value {
    json!({
        "ProductSKU": sku, "CheckoutType": "PROVISIONAL", "KeyFingerprint": FINGERPRINT,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "ClientToken": token
    })
}

pub fn all() -> Vec<Scenario> {
    vec![
        grant_lifecycle(),
        grant_narrowed_while_checked_out(),
        newest_granted_license_wins(),
    ]
}

pub fn grant_lifecycle() -> Scenario {
    Scenario::new(
        "grant_lifecycle",
        "SPEC 3.9: create, accept, activate, disable, delete a grant; every refusal is IPVE",
    )
    .call("seller", "CreateLicense", license("create", "shared"), "ok")
    .capture("license", "/LicenseArn")
    .call("seller", "CreateGrant", grant("g1", "{{license}}"), "ok")
    .capture("grant", "/GrantArn")
    .call("buyer", "ListReceivedLicenses", json!({}), "ok")
    .call(
        "buyer",
        "CheckoutLicense",
        buyer_checkout("c1", "shared"),
        "NoEntitlementsAllowedException",
    )
    .call(
        "seller",
        "AcceptGrant",
        json!({"GrantArn": "{{grant}}"}),
        "InvalidParameterValueException",
    )
    .call("buyer", "AcceptGrant", json!({"GrantArn": "{{grant}}"}), "ok")
    .call(
        "buyer",
        "CreateGrantVersion",
        json!({"GrantArn": "{{grant}}", "ClientToken": "on", "Status": "ACTIVE", "SourceVersion": "2"}),
        "ok",
    )
    .call("buyer", "GetGrant", json!({"GrantArn": "{{grant}}"}), "ok")
    .call("buyer", "CheckoutLicense", buyer_checkout("c2", "shared"), "ok")
    .call(
        "stranger",
        "GetGrant",
        json!({"GrantArn": "{{grant}}"}),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CreateGrantVersion",
        json!({"GrantArn": "{{grant}}", "ClientToken": "x", "Status": "DISABLED"}),
        "InvalidParameterValueException",
    )
    .call(
        "buyer",
        "CreateGrantVersion",
        json!({"GrantArn": "{{grant}}", "ClientToken": "off", "Status": "DISABLED"}),
        "ok",
    )
    .call(
        "buyer",
        "CheckoutLicense",
        buyer_checkout("c3", "shared"),
        "NoEntitlementsAllowedException",
    )
    .call("seller", "ListDistributedGrants", json!({}), "ok")
    .call(
        "seller",
        "DeleteGrant",
        json!({"GrantArn": "{{grant}}", "Version": "3"}),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "DeleteGrant",
        json!({"GrantArn": "{{grant}}", "Version": "4"}),
        "ok",
    )
    .call("buyer", "ListReceivedGrants", json!({}), "ok")
    .call("buyer", "ListReceivedLicenses", json!({}), "ok")
    .call(
        "buyer",
        "GetLicense",
        json!({"LicenseArn": "{{license}}"}),
        "InvalidParameterValueException",
    )
    .call(
        "seller",
        "CreateGrant",
        to_stranger(grant("g2", "{{license}}")),
        "ok",
    )
    .capture("grant2", "/GrantArn")
    .call("stranger", "RejectGrant", json!({"GrantArn": "{{grant2}}"}), "ok")
    .call(
        "stranger",
        "AcceptGrant",
        json!({"GrantArn": "{{grant2}}"}),
        "InvalidParameterValueException",
    )
    .call(
        "stranger",
        "GetLicense",
        json!({"LicenseArn": "{{license}}"}),
        "InvalidParameterValueException",
    )
}

fn to_stranger(mut grant: Value) -> Value {
    grant["Principals"] = json!(["arn:aws:iam::777788889999:root"]);
    grant
}

pub fn grant_narrowed_while_checked_out() -> Scenario {
    Scenario::new("grant_narrowed_while_checked_out", "SPEC 3.3, 3.6: the seller stops a grant allowing checkout; the buyer is refused, its live token still checks in")
        .call("seller", "CreateLicense", license("create", "seats"), "ok")
        .capture("license", "/LicenseArn")
        .call("seller", "CreateGrant", grant("g1", "{{license}}"), "ok")
        .capture("grant", "/GrantArn")
        .call("buyer", "AcceptGrant", json!({"GrantArn": "{{grant}}"}), "ok")
        .call("buyer", "CreateGrantVersion", json!({"GrantArn": "{{grant}}", "ClientToken": "on", "Status": "ACTIVE"}), "ok")
        .call("buyer", "CheckoutLicense", buyer_checkout("c1", "seats"), "ok")
        .capture("token", "/LicenseConsumptionToken")
        .call("seller", "CreateGrantVersion", json!({"GrantArn": "{{grant}}", "ClientToken": "narrow", "AllowedOperations": ["CheckInLicense"]}), "ok")
        .call("buyer", "CheckoutLicense", buyer_checkout("c2", "seats"), "NoEntitlementsAllowedException")
        .call("buyer", "GetLicenseUsage", json!({"LicenseArn": "{{license}}"}), "ok")
        .call("buyer", "CheckInLicense", json!({"LicenseConsumptionToken": "{{token}}"}), "ok")
        .call("seller", "GetLicenseUsage", json!({"LicenseArn": "{{license}}"}), "ok")
}

pub fn newest_granted_license_wins() -> Scenario {
    let activate = |s: Scenario, grant: &'static str, token: &'static str| {
        s.call("buyer", "AcceptGrant", json!({ "GrantArn": grant }), "ok")
            .call(
                "buyer",
                "CreateGrantVersion",
                json!({"GrantArn": grant, "ClientToken": token, "Status": "ACTIVE"}),
                "ok",
            )
    };
    let s = Scenario::new(
        "grant_newest_license_wins",
        "SPEC 3.3: two received licenses with the same SKU and fingerprint: the newest is used",
    )
    .call("seller", "CreateLicense", license("old", "dup"), "ok")
    .capture("old", "/LicenseArn")
    .call("seller", "CreateLicense", license("new", "dup"), "ok")
    .capture("new", "/LicenseArn")
    .call("seller", "CreateGrant", grant("g-old", "{{old}}"), "ok")
    .capture("grant_old", "/GrantArn")
    .call("seller", "CreateGrant", grant("g-new", "{{new}}"), "ok")
    .capture("grant_new", "/GrantArn");
    let s = activate(s, "{{grant_old}}", "on-old");
    let s = s.call("buyer", "CheckoutLicense", buyer_checkout("c1", "dup"), "ok");
    activate(s, "{{grant_new}}", "on-new").call("buyer", "CheckoutLicense", buyer_checkout("c2", "dup"), "ok")
}
