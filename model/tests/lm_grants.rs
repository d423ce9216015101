//! SPEC 3.3 and 3.9: grants, their lifecycle, and what they let a grantee do. Every refusal of a
//! grant operation answers InvalidParameterValueException.

use crate::support::lm::*;
use conform_model::{Caller, Policy, World};
use serde_json::{json, Value};

fn grant_body(arn: &str, token: &str, grantee: &str) -> Value {
    json!({
        "ClientToken": token, "GrantName": "Buyer seats", "LicenseArn": arn,
        "Principals": [format!("arn:aws:iam::{grantee}:root")], "HomeRegion": "us-east-1",
        "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "ExtendConsumptionLicense", "CheckoutBorrowLicense"]
    })
}

/// A license granted to the buyer, accepted and activated; returns (license, grant).
fn active_grant(w: &mut World) -> (String, String) {
    let arn = create_license(w, create_license_body("c"));
    let g = ok(w, &seller(), "CreateGrant", &grant_body(&arn, "g", BUYER))["GrantArn"]
        .as_str()
        .unwrap()
        .to_string();
    ok(w, &buyer(), "AcceptGrant", &json!({"GrantArn": g}));
    ok(
        w,
        &buyer(),
        "CreateGrantVersion",
        &json!({"GrantArn": g, "ClientToken": "on", "Status": "ACTIVE"}),
    );
    (arn, g)
}

fn buyer_checkout(token: &str) -> Value {
    json!({
        "ProductSKU": "editor-pro", "CheckoutType": "PROVISIONAL", "KeyFingerprint": FINGERPRINT,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "ClientToken": token
    })
}

#[test]
fn spec_3_9_create_grant_checks() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let base = grant_body(&arn, "g", BUYER);
    let cases: Vec<(&str, Caller, Value, &str)> = vec![
        (
            "not the issuer",
            buyer(),
            with(base.clone(), "ClientToken", json!("a")),
            "InvalidParameterValueException",
        ),
        (
            "unknown license",
            seller(),
            with(
                with(base.clone(), "ClientToken", json!("b")),
                "LicenseArn",
                json!(format!("{}0", &arn[..arn.len() - 1])),
            ),
            "InvalidParameterValueException",
        ),
        (
            "organization principal",
            seller(),
            with(
                with(base.clone(), "ClientToken", json!("c")),
                "Principals",
                json!(["arn:aws:organizations::111122223333:organization/o-abc"]),
            ),
            "InvalidParameterValueException",
        ),
        (
            "the issuer itself",
            seller(),
            with(
                with(base.clone(), "ClientToken", json!("d")),
                "Principals",
                json!([format!("arn:aws:iam::{SELLER}:root")]),
            ),
            "InvalidParameterValueException",
        ),
        (
            "two principals",
            seller(),
            with(
                with(base.clone(), "ClientToken", json!("e")),
                "Principals",
                json!(["arn:aws:iam::444455556666:root", "arn:aws:iam::777788889999:root"]),
            ),
            "ValidationException",
        ),
        (
            "other home region",
            seller(),
            with(
                with(base.clone(), "ClientToken", json!("f")),
                "HomeRegion",
                json!("eu-west-1"),
            ),
            "InvalidParameterValueException",
        ),
        (
            "delegate with checkout",
            seller(),
            with(
                with(base.clone(), "ClientToken", json!("g")),
                "GrantType",
                json!("DelegateGrant"),
            ),
            "InvalidParameterValueException",
        ),
        ("valid", seller(), base.clone(), "ok"),
    ];
    for (name, caller, body, want) in cases {
        assert_eq!(outcome(&mut w, &caller, "CreateGrant", &body), want, "{name}");
    }
    let r = ok(&mut w, &seller(), "CreateGrant", &base);
    assert_eq!(
        (r["Status"].clone(), r["Version"].clone()),
        (json!("PENDING_ACCEPT"), json!("1")),
        "replayed by ClientToken"
    );
}

#[test]
fn spec_3_9_lifecycle_accept_activate_disable_delete() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let g = ok(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g", BUYER))["GrantArn"]
        .as_str()
        .unwrap()
        .to_string();
    let arn_only = json!({"GrantArn": g});
    let version = |t: &str, status: &str| json!({"GrantArn": g, "ClientToken": t, "Status": status});
    type Step<'a> = (
        &'a str,
        Caller,
        &'a str,
        Value,
        &'a str,
        Option<(&'a str, &'a str)>,
    );
    let steps: Vec<Step> = vec![
        (
            "issuer cannot accept",
            seller(),
            "AcceptGrant",
            arn_only.clone(),
            "InvalidParameterValueException",
            None,
        ),
        (
            "stranger cannot see it",
            stranger(),
            "GetGrant",
            arn_only.clone(),
            "InvalidParameterValueException",
            None,
        ),
        (
            "grantee reads it",
            buyer(),
            "GetGrant",
            arn_only.clone(),
            "ok",
            None,
        ),
        (
            "not accepted yet: no activation",
            buyer(),
            "CreateGrantVersion",
            version("a", "ACTIVE"),
            "InvalidParameterValueException",
            None,
        ),
        (
            "accept",
            buyer(),
            "AcceptGrant",
            arn_only.clone(),
            "ok",
            Some(("DISABLED", "2")),
        ),
        (
            "accept twice",
            buyer(),
            "AcceptGrant",
            arn_only.clone(),
            "InvalidParameterValueException",
            None,
        ),
        (
            "issuer cannot set Status",
            seller(),
            "CreateGrantVersion",
            version("b", "ACTIVE"),
            "InvalidParameterValueException",
            None,
        ),
        (
            "grantee activates",
            buyer(),
            "CreateGrantVersion",
            version("c", "ACTIVE"),
            "ok",
            Some(("ACTIVE", "3")),
        ),
        (
            "grantee cannot rename",
            buyer(),
            "CreateGrantVersion",
            json!({"GrantArn": g, "ClientToken": "d", "GrantName": "x"}),
            "InvalidParameterValueException",
            None,
        ),
        (
            "grantee cannot set PENDING_ACCEPT",
            buyer(),
            "CreateGrantVersion",
            version("e", "PENDING_ACCEPT"),
            "InvalidParameterValueException",
            None,
        ),
        (
            "stale SourceVersion",
            buyer(),
            "CreateGrantVersion",
            json!({"GrantArn": g, "ClientToken": "f", "Status": "DISABLED", "SourceVersion": "2"}),
            "InvalidParameterValueException",
            None,
        ),
        (
            "grantee disables",
            buyer(),
            "CreateGrantVersion",
            json!({"GrantArn": g, "ClientToken": "g", "Status": "DISABLED", "SourceVersion": "3"}),
            "ok",
            Some(("DISABLED", "4")),
        ),
        (
            "issuer renames",
            seller(),
            "CreateGrantVersion",
            json!({"GrantArn": g, "ClientToken": "h", "GrantName": "Renamed"}),
            "ok",
            Some(("DISABLED", "5")),
        ),
        (
            "grantee cannot delete",
            buyer(),
            "DeleteGrant",
            json!({"GrantArn": g, "Version": "5"}),
            "InvalidParameterValueException",
            None,
        ),
        (
            "delete needs the current Version",
            seller(),
            "DeleteGrant",
            json!({"GrantArn": g, "Version": "4"}),
            "InvalidParameterValueException",
            None,
        ),
        (
            "issuer deletes",
            seller(),
            "DeleteGrant",
            json!({"GrantArn": g, "Version": "5"}),
            "ok",
            Some(("DELETED", "6")),
        ),
        (
            "deleted twice",
            seller(),
            "DeleteGrant",
            json!({"GrantArn": g, "Version": "6"}),
            "InvalidParameterValueException",
            None,
        ),
        (
            "no reactivation after delete",
            buyer(),
            "CreateGrantVersion",
            version("i", "ACTIVE"),
            "InvalidParameterValueException",
            None,
        ),
    ];
    for (name, caller, op, body, want, after) in steps {
        let r = call(&mut w, &caller, op, &body);
        assert_eq!(r.error_type().unwrap_or("ok"), want, "{name}: {}", r.body);
        if let Some((status, v)) = after {
            assert_eq!(
                (r.body["Status"].as_str(), r.body["Version"].as_str()),
                (Some(status), Some(v)),
                "{name}"
            );
        }
    }
    let v1 = ok(
        &mut w,
        &seller(),
        "GetGrant",
        &json!({"GrantArn": g, "Version": "1"}),
    )["Grant"]
        .clone();
    assert_eq!(
        v1["GrantStatus"],
        json!("PENDING_ACCEPT"),
        "old versions stay readable"
    );
    assert_eq!(
        v1["GrantType"],
        json!("BuyerGrant"),
        "GrantType defaults to BuyerGrant"
    );
    assert_eq!(v1["ParentArn"], json!(arn));
    assert_eq!(
        v1["GranteePrincipalArn"],
        json!(format!("arn:aws:iam::{BUYER}:root"))
    );
}

#[test]
fn spec_3_9_reject_is_final() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let g = ok(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g", BUYER))["GrantArn"].clone();
    assert_eq!(
        ok(&mut w, &buyer(), "RejectGrant", &json!({"GrantArn": g}))["Status"],
        json!("REJECTED")
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "AcceptGrant", &json!({"GrantArn": g})),
        "InvalidParameterValueException"
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "GetLicense", &json!({"LicenseArn": arn})),
        "InvalidParameterValueException",
        "a REJECTED grant shows nothing"
    );
}

#[test]
fn spec_3_9_accept_to_policy() {
    let mut w = World::new(
        7,
        Policy {
            accept_to: conform_model::policy::AcceptTo::Active,
            ..Policy::default()
        },
    );
    let arn = create_license(&mut w, create_license_body("c"));
    let g = ok(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g", BUYER))["GrantArn"].clone();
    let r = w.handle(
        &buyer(),
        conform_model::Service::LicenseManager,
        "AcceptGrant",
        json!({"GrantArn": g}).to_string().as_bytes(),
    );
    assert_eq!(r.body["Status"], json!("ACTIVE"));
    assert!(
        r.policies.contains(&conform_model::PolicyRule::AcceptTo),
        "the reply names the rule it relied on"
    );
}

#[test]
fn spec_3_3_grantee_checks_out_only_through_an_active_grant_listing_the_operation() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let g = ok(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g", BUYER))["GrantArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        outcome(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("a")),
        "NoEntitlementsAllowedException",
        "PENDING_ACCEPT"
    );
    ok(&mut w, &buyer(), "AcceptGrant", &json!({"GrantArn": g}));
    assert_eq!(
        outcome(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("b")),
        "NoEntitlementsAllowedException",
        "DISABLED"
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "GetLicense", &json!({"LicenseArn": arn})),
        "ok",
        "but readable"
    );
    ok(
        &mut w,
        &buyer(),
        "CreateGrantVersion",
        &json!({"GrantArn": g, "ClientToken": "on", "Status": "ACTIVE"}),
    );
    let r = ok(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("c"));
    let token = r["LicenseConsumptionToken"].clone();
    assert_eq!(
        outcome(&mut w, &stranger(), "CheckoutLicense", &buyer_checkout("d")),
        "NoEntitlementsAllowedException"
    );
    ok(
        &mut w,
        &seller(),
        "CreateGrantVersion",
        &json!({"GrantArn": g, "ClientToken": "narrow", "AllowedOperations": ["CheckInLicense"]}),
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("e")),
        "NoEntitlementsAllowedException",
        "no longer listed"
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "CheckoutBorrowLicense", &borrow_body(&arn, "f")),
        "NoEntitlementsAllowedException"
    );
    assert_eq!(
        outcome(
            &mut w,
            &buyer(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": token})
        ),
        "ok",
        "grants are not re-checked on token operations"
    );
    assert_eq!(
        outcome(
            &mut w,
            &stranger(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": token})
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        outcome(
            &mut w,
            &buyer(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": token})
        ),
        "ok"
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "GetLicenseUsage", &json!({"LicenseArn": arn})),
        "ok",
        "an ACTIVE grantee reads usage"
    );
}

#[test]
fn spec_3_6_recheck_grant_on_token_ops_policy() {
    let mut w = World::new(
        7,
        Policy {
            recheck_grant_on_token_ops: true,
            ..Policy::default()
        },
    );
    let (_, g) = active_grant(&mut w);
    let token =
        ok(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("a"))["LicenseConsumptionToken"].clone();
    ok(
        &mut w,
        &buyer(),
        "CreateGrantVersion",
        &json!({"GrantArn": g, "ClientToken": "off", "Status": "DISABLED"}),
    );
    let t = json!({"LicenseConsumptionToken": token});
    assert_eq!(
        outcome(&mut w, &buyer(), "ExtendLicenseConsumption", &t),
        "InvalidParameterValueException"
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "CheckInLicense", &t),
        "ConflictException"
    );
}

#[test]
fn spec_3_3_newest_received_license_wins() {
    let mut w = world();
    let (old, _) = active_grant(&mut w);
    let newer = create_license(&mut w, create_license_body("c2"));
    let g2 = ok(&mut w, &seller(), "CreateGrant", &grant_body(&newer, "g2", BUYER))["GrantArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        ok(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("a"))["LicenseArn"],
        json!(old),
        "the newer one is not ACTIVE yet"
    );
    ok(&mut w, &buyer(), "AcceptGrant", &json!({"GrantArn": g2}));
    ok(
        &mut w,
        &buyer(),
        "CreateGrantVersion",
        &json!({"GrantArn": g2, "ClientToken": "on2", "Status": "ACTIVE"}),
    );
    assert_eq!(
        ok(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("b"))["LicenseArn"],
        json!(newer)
    );
}

#[test]
fn spec_3_9_list_received_licenses_and_grants() {
    let mut w = world();
    let (arn, g) = active_grant(&mut w);
    let market = seed_marketplace(&mut w, "mkt", 3);
    let other = create_license(
        &mut w,
        with(create_license_body("o"), "ProductSKU", json!("other")),
    );
    let g_other = ok(&mut w, &seller(), "CreateGrant", &grant_body(&other, "go", BUYER))["GrantArn"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &mut w,
        &seller(),
        "DeleteGrant",
        &json!({"GrantArn": g_other, "Version": "1"}),
    );
    let received = ok(&mut w, &buyer(), "ListReceivedLicenses", &json!({}));
    let arns: Vec<&str> = received["Licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["LicenseArn"].as_str().unwrap())
        .collect();
    assert_eq!(
        arns,
        [arn.as_str(), market.as_str()],
        "non-DELETED grants only, Marketplace included, creation order"
    );
    assert_eq!(
        received["Licenses"][0]["ReceivedMetadata"],
        json!({
            "ReceivedStatus": "ACTIVE",
            "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "ExtendConsumptionLicense", "CheckoutBorrowLicense"],
            "GrantType": "BuyerGrant"
        })
    );
    let by_issuer = ok(
        &mut w,
        &buyer(),
        "ListReceivedLicenses",
        &json!({"Filters": [{"Name": "IssuerName", "Values": ["AWS/Marketplace"]}]}),
    );
    assert_eq!(by_issuer["Licenses"].as_array().unwrap().len(), 1);
    assert_eq!(
        outcome(
            &mut w,
            &buyer(),
            "ListReceivedLicenses",
            &json!({"Filters": [{"Name": "GrantStatus", "Values": ["ACTIVE"]}]})
        ),
        "InvalidParameterValueException"
    );
    let distributed = ok(&mut w, &seller(), "ListDistributedGrants", &json!({}));
    assert_eq!(
        distributed["Grants"].as_array().unwrap().len(),
        2,
        "the seller's two grants"
    );
    let active = ok(
        &mut w,
        &seller(),
        "ListDistributedGrants",
        &json!({"Filters": [{"Name": "GrantStatus", "Values": ["ACTIVE"]}]}),
    );
    assert_eq!(active["Grants"][0]["GrantArn"], json!(g));
    let received_grants = ok(
        &mut w,
        &buyer(),
        "ListReceivedGrants",
        &json!({"Filters": [{"Name": "GranterAccountId", "Values": ["294406891311"]}]}),
    );
    assert_eq!(
        received_grants["Grants"].as_array().unwrap().len(),
        1,
        "the Marketplace grant"
    );
    assert_eq!(
        ok(&mut w, &stranger(), "ListReceivedGrants", &json!({}))["Grants"],
        json!([])
    );
}

#[test]
fn spec_3_9_at_most_2000_grants_per_license() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    for i in 0..2000 {
        let grantee = format!("{:012}", 100_000_000_000u64 + i);
        ok(
            &mut w,
            &seller(),
            "CreateGrant",
            &grant_body(&arn, &format!("g{i}"), &grantee),
        );
    }
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CreateGrant",
            &grant_body(&arn, "last", STRANGER)
        ),
        "ResourceLimitExceededException"
    );
}

#[test]
fn spec_3_9_delegate_grant_shows_but_never_checks_out() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let body = with(
        with(grant_body(&arn, "d", BUYER), "GrantType", json!("DelegateGrant")),
        "AllowedOperations",
        json!(["ListReceivedLicenses"]),
    );
    let g = ok(&mut w, &seller(), "CreateGrant", &body)["GrantArn"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&mut w, &buyer(), "AcceptGrant", &json!({"GrantArn": g}));
    ok(
        &mut w,
        &buyer(),
        "CreateGrantVersion",
        &json!({"GrantArn": g, "ClientToken": "on", "Status": "ACTIVE"}),
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "CheckoutLicense", &buyer_checkout("a")),
        "NoEntitlementsAllowedException"
    );
    assert_eq!(
        ok(&mut w, &buyer(), "ListReceivedLicenses", &json!({}))["Licenses"][0]["ReceivedMetadata"]
            ["GrantType"],
        json!("DelegateGrant")
    );
}

/// SPEC 3.9 `grant_on_deleting_license=refuse`: a license in PENDING_DELETE or DELETED accepts no
/// new grant (IPVE); under `allow` it does; existing grants are untouched.
#[test]
fn spec_3_9_create_grant_on_a_deleting_license_policy() {
    for (policy, expected) in [
        (
            conform_model::policy::GrantOnDeletingLicense::Refuse,
            "InvalidParameterValueException",
        ),
        (conform_model::policy::GrantOnDeletingLicense::Allow, "ok"),
    ] {
        let mut w = World::new(
            7,
            Policy {
                grant_on_deleting_license: policy,
                ..Policy::default()
            },
        );
        let arn = create_license(&mut w, create_license_body("c"));
        let g = ok(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g0", BUYER))["GrantArn"].clone();
        ok(
            &mut w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "1"}),
        );
        assert_eq!(
            outcome(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g1", BUYER)),
            expected,
            "PENDING_DELETE"
        );
        advance(&mut w, 61);
        assert_eq!(
            outcome(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g2", BUYER)),
            expected,
            "DELETED"
        );
        let kept = ok(&mut w, &seller(), "GetGrant", &json!({"GrantArn": g}));
        assert_eq!(
            kept["Grant"]["GrantStatus"],
            json!("PENDING_ACCEPT"),
            "existing grants are untouched"
        );
        let r = call(&mut w, &seller(), "CreateGrant", &grant_body(&arn, "g3", BUYER));
        assert!(r
            .policies
            .contains(&conform_model::PolicyRule::GrantOnDeletingLicense));
    }
}

/// SPEC 3.9: AllowedOperations are stored and returned in the order given, duplicates dropped
/// (the first occurrence kept).
#[test]
fn spec_3_9_allowed_operations_keep_their_order_without_duplicates() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let body = with(
        grant_body(&arn, "g", BUYER),
        "AllowedOperations",
        json!([
            "ExtendConsumptionLicense",
            "CheckoutLicense",
            "ExtendConsumptionLicense",
            "CheckInLicense",
            "CheckoutLicense"
        ]),
    );
    let g = ok(&mut w, &seller(), "CreateGrant", &body)["GrantArn"].clone();
    let shown = ok(&mut w, &seller(), "GetGrant", &json!({"GrantArn": g}));
    assert_eq!(
        shown["Grant"]["GrantedOperations"],
        json!(["ExtendConsumptionLicense", "CheckoutLicense", "CheckInLicense"])
    );
}

/// SPEC 3.9 `marketplace_grant`: the seeded grant is `Marketplace subscription`, a BuyerGrant,
/// ACTIVE, with exactly the five documented operations in order.
#[test]
fn spec_3_9_seeded_marketplace_grant() {
    let mut w = world();
    seed_marketplace(&mut w, "mkt", 3);
    let listed = ok(&mut w, &buyer(), "ListReceivedGrants", &json!({}));
    let g = &listed["Grants"][0];
    assert_eq!(g["GrantName"], json!("Marketplace subscription"));
    assert_eq!(g["GrantType"], json!("BuyerGrant"));
    assert_eq!(g["GrantStatus"], json!("ACTIVE"));
    assert_eq!(
        g["GrantedOperations"],
        json!([
            "CheckoutLicense",
            "CheckInLicense",
            "CheckoutBorrowLicense",
            "ExtendConsumptionLicense",
            "ListPurchasedLicenses"
        ])
    );
}
