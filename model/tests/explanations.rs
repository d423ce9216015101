//! Issue #18: every refusal reason of SPEC 3.3-3.6 and 4.2 carries the model's explanation:
//! the rule that refused (with its SPEC section) and, for a candidate choice, each license
//! considered with the first rule that excluded it. The AWS reply itself is unchanged.

use conform_model::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use conform_model::explain::Rule;
use conform_model::{Policy, Reply, Service, World};
use serde_json::{json, Value};

use crate::support::evs::{seed_connector, seed_environment, seed_environment_and_connector, CONN, ENV};
use crate::support::lm::*;

/// The reply's explanation rule and the rules of its candidates, asserting it is a refusal.
fn why(r: &Reply) -> (Rule, Vec<Rule>) {
    assert!(r.is_error(), "expected a refusal, got {}", r.body);
    let e = r.explanation.as_ref().expect("every error reply is explained");
    assert!(!e.detail.is_empty(), "{e:?}");
    (e.rule, e.candidates.iter().map(|c| c.rule).collect())
}

fn no_candidate_because(r: &Reply, rule: Rule) {
    assert_eq!(
        r.error_type(),
        Some("NoEntitlementsAllowedException"),
        "{}",
        r.body
    );
    assert_eq!(why(r), (Rule::NoCandidate, vec![rule]), "{:?}", r.explanation);
}

fn refused_because(r: &Reply, error: &str, rule: Rule) {
    assert_eq!(r.error_type(), Some(error), "{}", r.body);
    assert_eq!(why(r).0, rule, "{:?}", r.explanation);
}

fn seller_checkout(w: &mut World, body: Value) -> Reply {
    call(w, &seller(), "CheckoutLicense", &body)
}

fn buyer_checkout(w: &mut World) -> Reply {
    let body = with(checkout_body("b", "1"), "Beneficiary", Value::Null);
    call(w, &buyer(), "CheckoutLicense", &body)
}

/// A grant of `arn` to the buyer allowing `ops`, accepted, then set to `status` by the buyer.
fn grant_to_buyer(w: &mut World, arn: &str, ops: &[&str], status: Option<&str>) -> String {
    let g = ok(
        w,
        &seller(),
        "CreateGrant",
        &json!({"ClientToken": "g", "GrantName": "g", "LicenseArn": arn,
            "Principals": [format!("arn:aws:iam::{BUYER}:root")], "HomeRegion": "us-east-1",
            "AllowedOperations": ops}),
    )["GrantArn"]
        .as_str()
        .expect("grant arn")
        .to_string();
    ok(w, &buyer(), "AcceptGrant", &json!({"GrantArn": g}));
    if let Some(status) = status {
        let body = json!({"ClientToken": "v", "GrantArn": g, "Status": status});
        ok(w, &buyer(), "CreateGrantVersion", &body);
    }
    g
}

#[test]
fn spec_3_3_each_candidate_names_the_first_rule_that_excluded_it() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    let stranger_body = checkout_body("c", "1");
    no_candidate_because(
        &call(&mut w, &stranger(), "CheckoutLicense", &stranger_body),
        Rule::NotIssuer,
    );
    let other = with(checkout_body("c", "1"), "Beneficiary", json!("customer-2"));
    no_candidate_because(&seller_checkout(&mut w, other), Rule::BeneficiaryDiffers);
    let own = with(checkout_body("c", "1"), "Beneficiary", Value::Null);
    no_candidate_because(&seller_checkout(&mut w, own), Rule::OwnLicenseNeedsBeneficiary);
    let typo = with(
        checkout_body("c", "1"),
        "KeyFingerprint",
        json!("aws:111122223333:Example:issuer-fingerprint"),
    );
    no_candidate_because(&seller_checkout(&mut w, typo), Rule::KeyFingerprint);
    no_candidate_because(&buyer_checkout(&mut w), Rule::NoGrant);

    let e = seller_checkout(&mut w, checkout_body("c2", "1"));
    assert_eq!(e.status, 200, "the license itself is a candidate: {}", e.body);
    let r = call(&mut w, &stranger(), "CheckoutLicense", &stranger_body);
    let explanation = r.explanation.as_ref().expect("explained");
    assert_eq!(
        explanation.candidates[0].license, arn,
        "the candidate is named by its ARN"
    );
    assert!(explanation.detail.contains(STRANGER), "{}", explanation.detail);
}

#[test]
fn spec_3_3_a_grant_that_is_not_active_or_lacks_the_operation_excludes_the_license() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    grant_to_buyer(&mut w, &arn, &["CheckoutLicense"], None);
    no_candidate_because(&buyer_checkout(&mut w), Rule::GrantNotActive);

    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    grant_to_buyer(&mut w, &arn, &["CheckInLicense"], Some("ACTIVE"));
    no_candidate_because(&buyer_checkout(&mut w), Rule::GrantLacksOperation);
}

#[test]
fn spec_3_3_status_and_the_validity_window_exclude_a_license() {
    let mut w = world();
    let body = with(
        create_license_body("l"),
        "Validity/Begin",
        json!("2026-06-01T00:00:00Z"),
    );
    create_license(&mut w, body);
    no_candidate_because(
        &seller_checkout(&mut w, checkout_body("c", "1")),
        Rule::NotYetValid,
    );
    let r = seller_checkout(&mut w, checkout_body("c", "1"));
    let detail = &r.explanation.as_ref().expect("explained").candidates[0].detail;
    assert!(
        detail.contains("2026-06-01") && detail.contains("2026-01-01"),
        "{detail}"
    );

    let mut w = world();
    create_license(&mut w, create_license_body("l"));
    advance(&mut w, 366 * 86_400);
    no_candidate_because(
        &seller_checkout(&mut w, checkout_body("c", "1")),
        Rule::ValidityEnded,
    );

    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    let version = with(version_body(&arn, "v"), "Status", json!("DEACTIVATED"));
    ok(&mut w, &seller(), "CreateLicenseVersion", &version);
    no_candidate_because(&seller_checkout(&mut w, checkout_body("c", "1")), Rule::Status);
}

#[test]
fn spec_3_3_the_newest_candidate_wins_and_older_ones_are_named_as_no_fallback() {
    let mut w = world();
    let older = create_license(&mut w, create_license_body("a"));
    let newer_body = with(
        create_license_body("b"),
        "ConsumptionConfiguration/ProvisionalConfiguration",
        Value::Null,
    );
    let newer = create_license(&mut w, newer_body);
    let r = seller_checkout(&mut w, checkout_body("c", "1"));
    assert_eq!(
        why(&r),
        (
            Rule::NoProvisionalConfiguration,
            vec![Rule::NoProvisionalConfiguration, Rule::NewerCandidateWins]
        )
    );
    let e = r.explanation.as_ref().expect("explained");
    assert_eq!(
        (e.candidates[0].license.as_str(), e.candidates[1].license.as_str()),
        (newer.as_str(), older.as_str())
    );
}

#[test]
fn spec_3_4_every_checkout_step_names_its_rule() {
    let nae = "NoEntitlementsAllowedException";
    let ipve = "InvalidParameterValueException";
    let mut w = world();
    create_license(&mut w, create_license_body("l"));
    refused_because(
        &seller_checkout(&mut w, checkout_body("c", "0")),
        ipve,
        Rule::QuantityGrammar,
    );
    let seat = json!({"Name": "Seat", "Unit": "Count", "Value": "1"});
    let twice = with(checkout_body("c", "1"), "Entitlements", json!([seat, seat]));
    refused_because(&seller_checkout(&mut w, twice), ipve, Rule::DuplicateItem);
    let unit = with(checkout_body("c", "1"), "Entitlements/0/Unit", json!("None"));
    refused_because(&seller_checkout(&mut w, unit), nae, Rule::UnitMismatch);
    let missing = with(checkout_body("c", "1"), "Entitlements/0/Name", json!("Other"));
    refused_because(&seller_checkout(&mut w, missing), nae, Rule::NoEntitlementMatched);
    let r = seller_checkout(&mut w, checkout_body("c", "11"));
    refused_because(&r, nae, Rule::Capacity);
    let detail = &r.explanation.as_ref().expect("explained").detail;
    assert!(
        detail.contains("in use 0") && detail.contains("MaxCount 10"),
        "{detail}"
    );
    assert_eq!(seller_checkout(&mut w, checkout_body("c", "1")).status, 200);
    let reused = seller_checkout(&mut w, checkout_body("c", "2"));
    refused_because(&reused, ipve, Rule::IdempotencyMismatch);

    let mut w = world();
    let body = with(
        create_license_body("l"),
        "ConsumptionConfiguration/ProvisionalConfiguration",
        Value::Null,
    );
    create_license(&mut w, body);
    refused_because(
        &seller_checkout(&mut w, checkout_body("c", "1")),
        nae,
        Rule::NoProvisionalConfiguration,
    );

    let mut w = world();
    let body = with(create_license_body("l"), "Entitlements/0/Overage", json!(true));
    create_license(&mut w, body);
    let max = i64::MAX.to_string();
    assert_eq!(seller_checkout(&mut w, checkout_body("a", &max)).status, 200);
    refused_because(
        &seller_checkout(&mut w, checkout_body("b", "1")),
        ipve,
        Rule::UsageOverflow,
    );
}

#[test]
fn spec_3_5_every_borrow_refusal_names_its_rule() {
    let nae = "NoEntitlementsAllowedException";
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    let bad = with(borrow_body(&arn, "b"), "DigitalSignatureMethod", json!("RS256"));
    refused_because(
        &borrow(&mut w, &seller(), &bad),
        "UnsupportedDigitalSignatureMethodException",
        Rule::SignatureMethod,
    );
    let r = borrow(&mut w, &stranger(), &borrow_body(&arn, "b"));
    refused_because(&r, "ResourceNotFoundException", Rule::LicenseNotVisible);
    let none = with(borrow_body(&arn, "b"), "Entitlements", json!([]));
    refused_because(&borrow(&mut w, &seller(), &none), nae, Rule::NothingRequested);
    let missing = with(borrow_body(&arn, "b"), "Entitlements/0/Name", json!("Other"));
    refused_because(
        &borrow(&mut w, &seller(), &missing),
        "EntitlementNotAllowedException",
        Rule::BorrowEntitlementMissing,
    );
    let many = with(borrow_body(&arn, "b"), "Entitlements/0/Value", json!("11"));
    refused_because(&borrow(&mut w, &seller(), &many), nae, Rule::Capacity);
    grant_to_buyer(&mut w, &arn, &["CheckoutBorrowLicense"], None);
    let r = borrow(&mut w, &buyer(), &borrow_body(&arn, "b"));
    assert_eq!(why(&r), (Rule::GrantNotActive, vec![Rule::GrantNotActive]));

    let mut w = world();
    let body = with(
        create_license_body("l"),
        "ConsumptionConfiguration/BorrowConfiguration",
        Value::Null,
    );
    let arn = create_license(&mut w, body);
    refused_because(
        &borrow(&mut w, &seller(), &borrow_body(&arn, "b")),
        nae,
        Rule::NoBorrowConfiguration,
    );

    let mut w = world();
    let body = with(
        create_license_body("l"),
        "Validity/Begin",
        json!("2026-06-01T00:00:00Z"),
    );
    let arn = create_license(&mut w, body);
    refused_because(
        &borrow(&mut w, &seller(), &borrow_body(&arn, "b")),
        nae,
        Rule::NotYetValid,
    );
}

fn borrow(w: &mut World, caller: &conform_model::Caller, body: &Value) -> Reply {
    call(w, caller, "CheckoutBorrowLicense", body)
}

fn token_of(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["LicenseConsumptionToken"]
        .as_str()
        .expect("token")
        .to_string()
}

fn check_in(w: &mut World, caller: &conform_model::Caller, token: &str) -> Reply {
    call(
        w,
        caller,
        "CheckInLicense",
        &json!({"LicenseConsumptionToken": token}),
    )
}

fn extend(w: &mut World, token: &str) -> Reply {
    call(
        w,
        &seller(),
        "ExtendLicenseConsumption",
        &json!({"LicenseConsumptionToken": token}),
    )
}

#[test]
fn spec_3_6_every_check_in_and_extend_refusal_names_its_rule() {
    let (rnf, conflict, ipve) = (
        "ResourceNotFoundException",
        "ConflictException",
        "InvalidParameterValueException",
    );
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    refused_because(&check_in(&mut w, &seller(), "nope"), rnf, Rule::TokenUnknown);
    refused_because(&extend(&mut w, "nope"), rnf, Rule::TokenUnknown);
    let token = token_of(&seller_checkout(&mut w, checkout_body("a", "1")));
    refused_because(&check_in(&mut w, &stranger(), &token), rnf, Rule::TokenForeign);
    assert_eq!(check_in(&mut w, &seller(), &token).status, 200);
    refused_because(&check_in(&mut w, &seller(), &token), rnf, Rule::TokenEnded);
    refused_because(&extend(&mut w, &token), rnf, Rule::TokenEnded);
    let perpetual = with(checkout_body("p", "1"), "CheckoutType", json!("PERPETUAL"));
    let token = token_of(&seller_checkout(&mut w, perpetual));
    refused_because(
        &check_in(&mut w, &seller(), &token),
        conflict,
        Rule::PerpetualCheckIn,
    );
    refused_because(&extend(&mut w, &token), ipve, Rule::NotProvisional);
    let token = token_of(&seller_checkout(&mut w, checkout_body("b", "1")));
    let latest =
        ok(&mut w, &seller(), "GetLicense", &json!({"LicenseArn": arn}))["License"]["Version"].clone();
    ok(
        &mut w,
        &seller(),
        "DeleteLicense",
        &json!({"LicenseArn": arn, "SourceVersion": latest}),
    );
    refused_because(&extend(&mut w, &token), ipve, Rule::ExtendUnavailable);

    let mut w = world();
    let body = with(
        create_license_body("l"),
        "Entitlements/0/AllowCheckIn",
        json!(false),
    );
    create_license(&mut w, body);
    let token = token_of(&seller_checkout(&mut w, checkout_body("a", "1")));
    refused_because(
        &check_in(&mut w, &seller(), &token),
        conflict,
        Rule::CheckInNotAllowed,
    );

    let mut w = world();
    let early = "ConsumptionConfiguration/BorrowConfiguration/AllowEarlyCheckIn";
    let arn = create_license(&mut w, with(create_license_body("l"), early, json!(false)));
    let token = token_of(&call(
        &mut w,
        &seller(),
        "CheckoutBorrowLicense",
        &borrow_body(&arn, "b"),
    ));
    refused_because(&check_in(&mut w, &seller(), &token), conflict, Rule::EarlyCheckIn);
}

#[test]
fn spec_3_6_recheck_grant_on_token_ops_names_the_grant() {
    let policy = Policy {
        recheck_grant_on_token_ops: true,
        ..Policy::default()
    };
    let mut w = World::new(7, policy);
    let arn = create_license(&mut w, create_license_body("l"));
    let g = grant_to_buyer(&mut w, &arn, &["CheckoutLicense"], Some("ACTIVE"));
    let token = token_of(&buyer_checkout(&mut w));
    let body = json!({"ClientToken": "off", "GrantArn": g, "Status": "DISABLED"});
    ok(&mut w, &buyer(), "CreateGrantVersion", &body);
    refused_because(
        &check_in(&mut w, &buyer(), &token),
        "ConflictException",
        Rule::GrantRecheck,
    );
}

fn evs(w: &mut World, op: &str, env: &str, conn: &str, vms: &[&str]) -> Reply {
    let body =
        json!({"environmentId": env, "connectorId": conn, "entitlementType": "WINDOWS_SERVER", "vmIds": vms});
    w.handle(&default_caller(), Service::Evs, op, body.to_string().as_bytes())
}

fn default_caller() -> conform_model::Caller {
    World::new(1, Policy::default()).default_caller()
}

#[test]
fn spec_4_2_every_entitlement_refusal_names_its_rule() {
    let (validation, rnf) = ("ValidationException", "ResourceNotFoundException");
    let mut w = World::new(1, Policy::default());
    seed_environment_and_connector(&mut w, CheckResult::Passed);
    let create = "CreateEntitlement";
    refused_because(
        &evs(&mut w, create, ENV, CONN, &["vm-1", "vm-1"]),
        validation,
        Rule::DuplicateVmIds,
    );
    refused_because(
        &evs(&mut w, create, "env-bbbbbbbbbb", CONN, &["vm-1"]),
        rnf,
        Rule::EnvironmentNotFound,
    );
    refused_because(
        &evs(&mut w, create, ENV, "cnctr-bbbbbbbbbb", &["vm-1"]),
        rnf,
        Rule::ConnectorNotFound,
    );
    assert_eq!(evs(&mut w, create, ENV, CONN, &["vm-1"]).status, 200);
    refused_because(
        &evs(&mut w, create, ENV, CONN, &["vm-1"]),
        validation,
        Rule::VmEntitled,
    );
    refused_because(
        &evs(&mut w, "DeleteEntitlement", ENV, CONN, &["vm-9"]),
        rnf,
        Rule::NoRecord,
    );
    let body = json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER",
        "nextToken": "forged"});
    let r = w.handle(
        &default_caller(),
        Service::Evs,
        "ListVmEntitlements",
        body.to_string().as_bytes(),
    );
    refused_because(&r, validation, Rule::PageToken);

    seed_connector(
        &mut w,
        "cnctr-cccccccccc",
        ConnectorType::SddcManager,
        ConnectorState::Active,
        CheckResult::Passed,
    );
    let r = evs(&mut w, create, ENV, "cnctr-cccccccccc", &["vm-2"]);
    refused_because(&r, validation, Rule::ConnectorType);
    let mut w = World::new(1, Policy::default());
    seed_environment(&mut w, EnvironmentState::Creating);
    seed_connector(
        &mut w,
        CONN,
        ConnectorType::Vcenter,
        ConnectorState::Active,
        CheckResult::Passed,
    );
    refused_because(
        &evs(&mut w, create, ENV, CONN, &["vm-1"]),
        validation,
        Rule::EnvironmentState,
    );
}

#[test]
fn a_successful_reply_has_no_explanation_and_a_shape_fault_names_spec_1_2() {
    let mut w = world();
    create_license(&mut w, create_license_body("l"));
    assert_eq!(seller_checkout(&mut w, checkout_body("c", "1")).explanation, None);
    let r = call(&mut w, &seller(), "CheckoutLicense", &json!({}));
    assert_eq!(why(&r).0, Rule::Shape);
    assert_eq!(Rule::Shape.section(), "1.2");
}

#[test]
fn spec_4_2_create_needs_an_active_connector() {
    let mut w = World::new(1, Policy::default());
    seed_environment(&mut w, EnvironmentState::Created);
    seed_connector(
        &mut w,
        CONN,
        ConnectorType::Vcenter,
        ConnectorState::UpdateFailed,
        CheckResult::Passed,
    );
    let r = evs(&mut w, "CreateEntitlement", ENV, CONN, &["vm-1"]);
    refused_because(&r, "ValidationException", Rule::ConnectorState);
}

#[test]
fn spec_3_9_grant_refusals_name_their_rule_under_the_grant_refusal_policy() {
    let ipve = "InvalidParameterValueException";
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("l"));
    let to_self = json!({"ClientToken": "s", "GrantName": "g", "LicenseArn": arn,
        "Principals": [format!("arn:aws:iam::{SELLER}:root")], "HomeRegion": "us-east-1",
        "AllowedOperations": ["CheckoutLicense"]});
    refused_because(
        &call(&mut w, &seller(), "CreateGrant", &to_self),
        ipve,
        Rule::GrantPrincipal,
    );
    let g = grant_to_buyer(&mut w, &arn, &["CheckoutLicense"], None);
    let accept = json!({"GrantArn": g});
    refused_because(
        &call(&mut w, &seller(), "AcceptGrant", &accept),
        ipve,
        Rule::GrantRole,
    );
    refused_because(
        &call(&mut w, &buyer(), "AcceptGrant", &accept),
        ipve,
        Rule::GrantState,
    );
    refused_because(
        &call(&mut w, &stranger(), "GetGrant", &accept),
        ipve,
        Rule::GrantUnknown,
    );
    let delete = json!({"GrantArn": g, "Version": "9"});
    refused_because(
        &call(&mut w, &seller(), "DeleteGrant", &delete),
        ipve,
        Rule::GrantVersion,
    );
}
