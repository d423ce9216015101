//! One table-driven test per rule of SPEC section 1 and 3, named after the rule, showing the
//! accepted and the refused side through the model's JSON entry point.

use crate::support::lm::*;
use conform_model::lm::verify_signed_token;
use conform_model::{Event, Policy, Service, World};
use serde_json::{json, Value};

// ---- SPEC 1.2: parsing and shape validation ----

#[test]
fn spec_1_2_protocol_faults_and_shape_errors() {
    let mut w = world();
    let s = seller();
    let cases: &[(&str, &[u8], &str)] = &[
        ("CheckoutLicense", b"not json", "SerializationException"),
        ("CheckoutLicense", b"[1,2]", "SerializationException"),
        ("CheckoutLicense", b"null", "SerializationException"),
        ("GetLicense", br#"{"LicenseArn": 5}"#, "SerializationException"),
        (
            "ListLicenses",
            br#"{"MaxResults": 1.0}"#,
            "SerializationException",
        ),
        (
            "ListLicenses",
            br#"{"MaxResults": 1e2}"#,
            "SerializationException",
        ),
        (
            "ListLicenses",
            br#"{"MaxResults": 4294967296}"#,
            "SerializationException",
        ),
        ("ListLicenses", br#"{"MaxResults": 0}"#, "ValidationException"),
        ("ListLicenses", br#"{"MaxResults": 101}"#, "ValidationException"),
        ("GetLicense", b"", "ValidationException"),
        ("GetLicense", br#"{"LicenseArn": null}"#, "ValidationException"),
        (
            "GetLicense",
            br#"{"LicenseArn": "not-an-arn"}"#,
            "ValidationException",
        ),
        ("ListLicenseVersions", b"{}", "InvalidParameterValueException"),
        ("NoSuchOperation", b"{}", "UnknownOperationException"),
        ("CreateToken", b"{}", "UnknownOperationException"),
        ("ListLicenses", b"", "ok"),
        ("ListLicenses", br#"{"Unknown": 1, "Filters": null}"#, "ok"),
        ("ListLicenses", b"  {}  ", "ok"),
    ];
    for (op, body, want) in cases {
        let r = w.handle(&s, Service::LicenseManager, op, body);
        assert_eq!(
            r.error_type().unwrap_or("ok"),
            *want,
            "{op} {}",
            String::from_utf8_lossy(body)
        );
        if *want != "ok" {
            assert_eq!(r.body["__type"], json!(want));
            assert!(r.status == 400, "{op}: status {}", r.status);
        }
    }
}

#[test]
fn spec_1_2_validation_message_names_every_violation_with_lower_camel_paths() {
    let mut w = world();
    let body = json!({
        "ProductSKU": "x", "CheckoutType": "SOMETIMES", "KeyFingerprint": "f",
        "Entitlements": [{"Name": "Seat", "Unit": "Lots"}], "ClientToken": "has space"
    });
    let r = call(&mut w, &seller(), "CheckoutLicense", &body);
    assert_eq!(r.error_type(), Some("ValidationException"));
    let m = r.body["Message"].as_str().unwrap();
    assert!(m.starts_with("3 validation errors detected: "), "{m}");
    for path in ["'checkoutType'", "'entitlements.1.unit'", "'clientToken'"] {
        assert!(m.contains(path), "{path} missing in {m}");
    }
    let r = call(&mut w, &seller(), "CheckoutLicense", &json!({}));
    let m = r.body["Message"].as_str().unwrap();
    assert!(
        m.contains("Value null at 'productSKU' failed to satisfy constraint: Member must not be null"),
        "{m}"
    );
}

#[test]
fn spec_1_2_unimplemented_modelled_operation_says_so() {
    let mut w = world();
    let r = w.handle(&seller(), Service::LicenseManager, "ListTokens", b"{}");
    assert_eq!(r.error_type(), Some("UnknownOperationException"));
    assert_eq!(r.body["Message"], json!("not implemented by conform"));
    let r = w.handle(&seller(), Service::LicenseManager, "Bogus", b"{}");
    assert_eq!(r.error_type(), Some("UnknownOperationException"));
}

#[test]
fn spec_1_1_error_replies_carry_status_type_and_request_id() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let r = call(
        &mut w,
        &seller(),
        "DeleteLicense",
        &json!({"LicenseArn": arn, "SourceVersion": "9"}),
    );
    assert_eq!((r.status, r.error_type()), (409, Some("ConflictException")));
    assert_eq!(r.request_id.len(), 36);
    let r = call(
        &mut w,
        &Caller2::west(),
        "DeleteLicense",
        &json!({"LicenseArn": arn, "SourceVersion": "1"}),
    );
    assert_eq!((r.status, r.error_type()), (308, Some("RedirectException")));
    assert_eq!(
        r.location.as_deref(),
        Some("https://license-manager.us-east-1.amazonaws.com/")
    );
    assert_eq!(
        r.body["Location"],
        json!("https://license-manager.us-east-1.amazonaws.com/")
    );
}

struct Caller2;
impl Caller2 {
    fn west() -> conform_model::Caller {
        conform_model::Caller::new(SELLER, "us-west-2")
    }
}

// ---- SPEC 3.1: identifiers and formats ----

#[test]
fn spec_3_1_identifiers_and_formats() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let arn_re =
        regex::Regex::new(r"^arn:aws:license-manager::111122223333:license:l-[0-9a-f]{32}$").unwrap();
    assert!(arn_re.is_match(&arn), "{arn}");
    let lic = ok(&mut w, &seller(), "GetLicense", &json!({"LicenseArn": arn}))["License"].clone();
    assert_eq!(lic["Issuer"]["KeyFingerprint"], json!(FINGERPRINT));
    assert_eq!(lic["Version"], json!("1"));
    assert_eq!(lic["Validity"]["Begin"], json!("2025-01-01T00:00:00.000Z"));
    assert_eq!(lic["CreateTime"], json!((w.now_ms() / 1000).to_string()));
    let r = checkout(&mut w, "k", "1");
    let token = r.body["LicenseConsumptionToken"].as_str().unwrap();
    assert!(
        token.len() == 32
            && token
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let issued = r.body["IssuedAt"].as_str().unwrap();
    assert!(
        regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
            .unwrap()
            .is_match(issued),
        "{issued}"
    );
    let r = call(
        &mut w,
        &seller(),
        "GetLicense",
        &json!({"LicenseArn": arn, "Version": "01"}),
    );
    assert_eq!(
        r.error_type(),
        Some("InvalidParameterValueException"),
        "\"01\" is not version 1"
    );
}

// ---- SPEC 3.2: content checks ----

#[test]
fn spec_3_2_create_checks() {
    let base = create_license_body("c");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("valid", base.clone(), "ok"),
        (
            "empty LicenseName",
            with(base.clone(), "LicenseName", json!("")),
            "InvalidParameterValueException",
        ),
        (
            "empty ProductName",
            with(base.clone(), "ProductName", json!("")),
            "InvalidParameterValueException",
        ),
        (
            "empty ProductSKU",
            with(base.clone(), "ProductSKU", json!("")),
            "InvalidParameterValueException",
        ),
        (
            "empty Beneficiary",
            with(base.clone(), "Beneficiary", json!("")),
            "InvalidParameterValueException",
        ),
        (
            "empty Issuer.Name",
            with(base.clone(), "Issuer/Name", json!("")),
            "InvalidParameterValueException",
        ),
        (
            "no entitlements",
            with(base.clone(), "Entitlements", json!([])),
            "InvalidParameterValueException",
        ),
        (
            "duplicate name",
            with(base.clone(), "Entitlements/1/Name", json!("Seat")),
            "InvalidParameterValueException",
        ),
        (
            "None without Value",
            with(base.clone(), "Entitlements/1/Value", Value::Null),
            "InvalidParameterValueException",
        ),
        (
            "None with MaxCount",
            with(base.clone(), "Entitlements/1/MaxCount", json!(1)),
            "InvalidParameterValueException",
        ),
        (
            "counted without MaxCount",
            with(base.clone(), "Entitlements/0/MaxCount", Value::Null),
            "InvalidParameterValueException",
        ),
        (
            "counted negative MaxCount",
            with(base.clone(), "Entitlements/0/MaxCount", json!(-1)),
            "InvalidParameterValueException",
        ),
        (
            "counted MaxCount 0",
            with(base.clone(), "Entitlements/0/MaxCount", json!(0)),
            "ok",
        ),
        (
            "counted with Value",
            with(base.clone(), "Entitlements/0/Value", json!("5")),
            "InvalidParameterValueException",
        ),
        (
            "no configuration",
            with(base.clone(), "ConsumptionConfiguration", json!({})),
            "InvalidParameterValueException",
        ),
        (
            "provisional TTL 0",
            with(
                base.clone(),
                "ConsumptionConfiguration/ProvisionalConfiguration/MaxTimeToLiveInMinutes",
                json!(0),
            ),
            "InvalidParameterValueException",
        ),
        (
            "borrow TTL 0",
            with(
                base.clone(),
                "ConsumptionConfiguration/BorrowConfiguration/MaxTimeToLiveInMinutes",
                json!(0),
            ),
            "InvalidParameterValueException",
        ),
        (
            "borrow only",
            with(
                base.clone(),
                "ConsumptionConfiguration/ProvisionalConfiguration",
                Value::Null,
            ),
            "ok",
        ),
        (
            "End before Begin",
            with(base.clone(), "Validity/End", json!("2024-01-01T00:00:00Z")),
            "InvalidParameterValueException",
        ),
        (
            "End equals Begin",
            with(base.clone(), "Validity/End", json!("2025-01-01T00:00:00Z")),
            "InvalidParameterValueException",
        ),
        ("no End", with(base.clone(), "Validity/End", Value::Null), "ok"),
        (
            "not a real day",
            with(base.clone(), "Validity/Begin", json!("2025-02-30T00:00:00Z")),
            "ValidationException",
        ),
        (
            "bad date pattern",
            with(base.clone(), "Validity/Begin", json!("2025-01-01")),
            "ValidationException",
        ),
        (
            "offset date",
            with(base.clone(), "Validity/Begin", json!("2025-01-01T05:00:00+05:00")),
            "ok",
        ),
        (
            "other home region",
            with(base.clone(), "HomeRegion", json!("eu-west-1")),
            "RedirectException",
        ),
    ];
    for (name, body, want) in cases {
        let mut w = world();
        assert_eq!(
            outcome(&mut w, &seller(), "CreateLicense", &body),
            want,
            "CreateLicense: {name}"
        );
        let mut w = world();
        let arn = create_license(&mut w, create_license_body("base"));
        let mut v = with(body, "LicenseArn", json!(arn));
        for gone in ["ProductSKU", "Beneficiary"] {
            v.as_object_mut().unwrap().remove(gone);
        }
        v["Status"] = json!("AVAILABLE");
        let want_version = match (name, want) {
            ("empty ProductSKU" | "empty Beneficiary", _) => "ok",
            // A HomeRegion other than the license's is refused as a change (SPEC 3.2).
            ("other home region", _) => "ValidationException",
            (_, "InvalidParameterValueException") => "ValidationException",
            (_, w) => w,
        };
        assert_eq!(
            outcome(&mut w, &seller(), "CreateLicenseVersion", &v),
            want_version,
            "CreateLicenseVersion: {name}"
        );
    }
}

#[test]
fn spec_3_2_create_license_echoes_optional_inputs_exactly() {
    let mut w = world();
    let body = with(create_license_body("c"), "LicenseMetadata", json!([]));
    let arn = create_license(&mut w, body);
    let lic = ok(&mut w, &seller(), "GetLicense", &json!({"LicenseArn": arn}))["License"].clone();
    assert_eq!(lic["LicenseMetadata"], json!([]), "[] stays []");
    assert!(
        lic["Entitlements"][1].get("Overage").is_none(),
        "absent stays absent"
    );
    assert!(lic.get("Tags").is_none(), "tags are never shown");
    assert_eq!(lic["Status"], json!("AVAILABLE"));
}

#[test]
fn spec_3_2_create_license_version_order_of_checks() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let v = |t: &str| version_body(&arn, t);
    let west = conform_model::Caller::new(SELLER, "us-west-2");
    let cases: Vec<(&str, conform_model::Caller, Value, &str)> = vec![
        (
            "pending status refused",
            seller(),
            with(v("a"), "Status", json!("SUSPENDED")),
            "ValidationException",
        ),
        (
            "unknown license",
            seller(),
            with(v("b"), "LicenseArn", json!(format!("{}0", &arn[..arn.len() - 1]))),
            "ResourceNotFoundException",
        ),
        ("not the issuer", buyer(), v("c"), "ResourceNotFoundException"),
        ("other region", west, v("d"), "RedirectException"),
        (
            "HomeRegion changed",
            seller(),
            with(v("e"), "HomeRegion", json!("eu-west-1")),
            "ValidationException",
        ),
        (
            "stale SourceVersion",
            seller(),
            with(v("f"), "SourceVersion", json!("2")),
            "ConflictException",
        ),
        (
            "right SourceVersion",
            seller(),
            with(v("g"), "SourceVersion", json!("1")),
            "ok",
        ),
        ("absent SourceVersion applies to latest", seller(), v("h"), "ok"),
    ];
    for (name, caller, body, want) in cases {
        assert_eq!(
            outcome(&mut w, &caller, "CreateLicenseVersion", &body),
            want,
            "{name}"
        );
    }
    let versions = ok(
        &mut w,
        &seller(),
        "ListLicenseVersions",
        &json!({"LicenseArn": arn}),
    );
    let numbers: Vec<&str> = versions["Licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["Version"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1", "2", "3"], "numeric order, +1 per version");
    ok(
        &mut w,
        &seller(),
        "DeleteLicense",
        &json!({"LicenseArn": arn, "SourceVersion": "3"}),
    );
    assert_eq!(
        outcome(&mut w, &seller(), "CreateLicenseVersion", &v("i")),
        "ConflictException",
        "deleted"
    );
}

#[test]
fn spec_3_2_new_version_replaces_mutable_fields_and_keeps_sku_and_beneficiary() {
    let mut w = world();
    let arn = create_license(
        &mut w,
        with(
            create_license_body("c"),
            "LicenseMetadata",
            json!([{"Name": "a", "Value": "b"}]),
        ),
    );
    let body = with(version_body(&arn, "v"), "Issuer/Name", json!("New Name"));
    let r = ok(
        &mut w,
        &seller(),
        "CreateLicenseVersion",
        &with(body, "Status", json!("DEACTIVATED")),
    );
    assert_eq!(
        (r["Version"].clone(), r["Status"].clone()),
        (json!("2"), json!("DEACTIVATED"))
    );
    let lic = ok(&mut w, &seller(), "GetLicense", &json!({"LicenseArn": arn}))["License"].clone();
    assert_eq!(
        lic["Issuer"]["KeyFingerprint"],
        json!("aws:111122223333:New Name:issuer-fingerprint")
    );
    assert_eq!(lic["ProductSKU"], json!("editor-pro"));
    assert_eq!(lic["Beneficiary"], json!("customer-1"));
    assert!(
        lic.get("LicenseMetadata").is_none(),
        "absent LicenseMetadata clears it"
    );
    let old = ok(
        &mut w,
        &seller(),
        "GetLicense",
        &json!({"LicenseArn": arn, "Version": "1"}),
    )["License"]
        .clone();
    assert_eq!(
        old["Issuer"]["Name"],
        json!("Example Corp"),
        "old versions never change"
    );
    assert_eq!(old["Status"], json!("AVAILABLE"));
}

#[test]
fn spec_3_2_effective_status_expired_and_deletion_wins() {
    let mut w = world();
    let end = conform_model::timefmt::iso_millis(w.now_ms() + 3_600_000);
    let arn = create_license(&mut w, with(create_license_body("c"), "Validity/End", json!(end)));
    let status = |w: &mut World| {
        ok(w, &seller(), "GetLicense", &json!({"LicenseArn": arn}))["License"]["Status"].clone()
    };
    assert_eq!(status(&mut w), json!("AVAILABLE"));
    advance(&mut w, 3599);
    assert_eq!(status(&mut w), json!("AVAILABLE"));
    advance(&mut w, 1);
    assert_eq!(status(&mut w), json!("EXPIRED"), "EXPIRED at exactly End");
    let r = ok(
        &mut w,
        &seller(),
        "DeleteLicense",
        &json!({"LicenseArn": arn, "SourceVersion": "1"}),
    );
    assert_eq!(r["Status"], json!("PENDING_DELETE"));
    assert_eq!(
        status(&mut w),
        json!("PENDING_DELETE"),
        "deletion wins over EXPIRED"
    );
    advance(&mut w, 60);
    assert_eq!(status(&mut w), json!("DELETED"));
}

#[test]
fn spec_3_2_access_reads_are_for_issuer_and_grantees_only() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let market = seed_marketplace(&mut w, "mkt", 5);
    let cases = [
        (seller(), arn.as_str(), "ok"),
        (stranger(), arn.as_str(), "InvalidParameterValueException"),
        (buyer(), market.as_str(), "ok"),
        (stranger(), market.as_str(), "InvalidParameterValueException"),
        (seller(), market.as_str(), "InvalidParameterValueException"),
    ];
    for (caller, license, want) in cases {
        for op in ["GetLicense", "ListLicenseVersions", "GetLicenseUsage"] {
            assert_eq!(
                outcome(&mut w, &caller, op, &json!({"LicenseArn": license})),
                want,
                "{op} by {}",
                caller.account
            );
        }
    }
    let listed = ok(&mut w, &buyer(), "ListLicenses", &json!({}));
    assert_eq!(
        listed["Licenses"],
        json!([]),
        "received licenses never show in ListLicenses"
    );
}

#[test]
fn spec_3_2_list_licenses_filters() {
    let mut w = world();
    let a = create_license(&mut w, create_license_body("a"));
    let b = create_license(
        &mut w,
        with(create_license_body("b"), "ProductSKU", json!("other-sku")),
    );
    let c = create_license(
        &mut w,
        with(create_license_body("c"), "Beneficiary", json!("customer-2")),
    );
    ok(
        &mut w,
        &seller(),
        "DeleteLicense",
        &json!({"LicenseArn": c, "SourceVersion": "1"}),
    );
    let listed = |w: &mut World, body: Value| -> Result<Vec<String>, String> {
        let r = call(w, &seller(), "ListLicenses", &body);
        match r.error_type() {
            Some(e) => Err(e.to_string()),
            None => Ok(r.body["Licenses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["LicenseArn"].as_str().unwrap().to_string())
                .collect()),
        }
    };
    let f = |name: &str, values: Value| json!({"Filters": [{"Name": name, "Values": values}]});
    let ipve = Err("InvalidParameterValueException".to_string());
    type Listed = Result<Vec<String>, String>;
    let cases: Vec<(&str, Value, Listed)> = vec![
        (
            "all, creation order, deleted included",
            json!({}),
            Ok(vec![a.clone(), b.clone(), c.clone()]),
        ),
        (
            "empty filter list",
            json!({"Filters": []}),
            Ok(vec![a.clone(), b.clone(), c.clone()]),
        ),
        (
            "ProductSKU",
            f("ProductSKU", json!(["other-sku"])),
            Ok(vec![b.clone()]),
        ),
        (
            "Beneficiary",
            f("Beneficiary", json!(["customer-2"])),
            Ok(vec![c.clone()]),
        ),
        (
            "Fingerprint",
            f("Fingerprint", json!([FINGERPRINT])),
            Ok(vec![a.clone(), b.clone(), c.clone()]),
        ),
        (
            "Status is effective",
            f("Status", json!(["PENDING_DELETE"])),
            Ok(vec![c.clone()]),
        ),
        (
            "case-sensitive",
            f("ProductSKU", json!(["EDITOR-PRO"])),
            Ok(vec![]),
        ),
        (
            "AND",
            json!({"Filters": [{"Name": "ProductSKU", "Values": ["other-sku"]}, {"Name": "Beneficiary", "Values": ["customer-2"]}]}),
            Ok(vec![]),
        ),
        (
            "AND matching",
            json!({"Filters": [{"Name": "ProductSKU", "Values": ["editor-pro"]}, {"Name": "Beneficiary", "Values": ["customer-2"]}]}),
            Ok(vec![c.clone()]),
        ),
        ("unknown name", f("IssuerName", json!(["x"])), ipve.clone()),
        ("two values", f("ProductSKU", json!(["a", "b"])), ipve.clone()),
        ("no values", f("ProductSKU", json!([])), ipve.clone()),
        (
            "repeated name",
            json!({"Filters": [{"Name": "ProductSKU", "Values": ["a"]}, {"Name": "ProductSKU", "Values": ["b"]}]}),
            ipve.clone(),
        ),
        (
            "LicenseArns as a set",
            json!({"LicenseArns": [b.clone(), "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000"]}),
            Ok(vec![b.clone()]),
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(listed(&mut w, body), want, "{name}");
    }
}

#[test]
fn spec_3_2_pagination() {
    let mut w = world();
    let arns: Vec<String> = (0..5)
        .map(|i| create_license(&mut w, create_license_body(&format!("c{i}"))))
        .collect();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    for size in [2, 1, 5] {
        let mut body = json!({"MaxResults": size});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let r = ok(&mut w, &seller(), "ListLicenses", &body);
        seen.extend(
            r["Licenses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["LicenseArn"].as_str().unwrap().to_string()),
        );
        pages += 1;
        token = r.get("NextToken").and_then(|t| t.as_str()).map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        (seen, pages),
        (arns.clone(), 3),
        "MaxResults may change between pages; the last has no token"
    );
    let first = ok(&mut w, &seller(), "ListLicenses", &json!({"MaxResults": 1}));
    let t = first["NextToken"].clone();
    let foreign = json!({"MaxResults": 1, "NextToken": t, "Filters": [{"Name": "ProductSKU", "Values": ["editor-pro"]}]});
    assert_eq!(
        outcome(&mut w, &seller(), "ListLicenses", &foreign),
        "InvalidParameterValueException"
    );
    let forged = json!({"NextToken": "00000000000000010000000000000000ffffffffffffffff"});
    assert_eq!(
        outcome(&mut w, &seller(), "ListLicenses", &forged),
        "InvalidParameterValueException"
    );
    advance(&mut w, 10 * 86_400);
    assert_eq!(
        outcome(&mut w, &seller(), "ListLicenses", &json!({"NextToken": t})),
        "ok",
        "tokens never expire"
    );
}

#[test]
fn spec_3_2_delete_license() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let west = conform_model::Caller::new(SELLER, "us-west-2");
    let del = |v: &str| json!({"LicenseArn": arn, "SourceVersion": v});
    assert_eq!(
        outcome(&mut w, &stranger(), "DeleteLicense", &del("1")),
        "InvalidParameterValueException"
    );
    assert_eq!(
        outcome(&mut w, &west, "DeleteLicense", &del("1")),
        "RedirectException"
    );
    assert_eq!(
        outcome(&mut w, &seller(), "DeleteLicense", &del("2")),
        "ConflictException"
    );
    let token = checkout(&mut w, "k", "2").body["LicenseConsumptionToken"].clone();
    let r = ok(&mut w, &seller(), "DeleteLicense", &del("1"));
    let expected_date = conform_model::timefmt::iso_millis(w.now_ms() + 60_000);
    assert_eq!(
        r,
        json!({"Status": "PENDING_DELETE", "DeletionDate": expected_date})
    );
    assert_eq!(
        outcome(&mut w, &seller(), "DeleteLicense", &del("1")),
        "InvalidParameterValueException",
        "PENDING_DELETE"
    );
    let extend = json!({"LicenseConsumptionToken": token});
    assert_eq!(
        outcome(&mut w, &seller(), "ExtendLicenseConsumption", &extend),
        "InvalidParameterValueException"
    );
    assert_eq!(
        outcome(&mut w, &seller(), "CheckInLicense", &extend),
        "ok",
        "live tokens survive deletion"
    );
    assert_eq!(
        outcome(&mut w, &seller(), "GetLicense", &json!({"LicenseArn": arn})),
        "ok",
        "data stays readable"
    );
    assert_eq!(
        checkout(&mut w, "k2", "1").error_type(),
        Some("NoEntitlementsAllowedException")
    );
}

// ---- SPEC 3.3 and 3.4: who may check out, CheckoutLicense ----

#[test]
fn spec_3_3_candidate_selection() {
    let mut w = world();
    create_license(&mut w, create_license_body("c"));
    let cases: Vec<(&str, conform_model::Caller, Value, &str)> = vec![
        (
            "own license by Beneficiary",
            seller(),
            checkout_body("a", "1"),
            "ok",
        ),
        (
            "Beneficiary differs",
            seller(),
            with(checkout_body("b", "1"), "Beneficiary", json!("customer-9")),
            "NoEntitlementsAllowedException",
        ),
        (
            "fingerprint differs",
            seller(),
            with(
                checkout_body("c", "1"),
                "KeyFingerprint",
                json!("aws:111122223333:Other:issuer-fingerprint"),
            ),
            "NoEntitlementsAllowedException",
        ),
        (
            "SKU differs",
            seller(),
            with(checkout_body("d", "1"), "ProductSKU", json!("nope")),
            "NoEntitlementsAllowedException",
        ),
        (
            "another account's license",
            stranger(),
            checkout_body("e", "1"),
            "NoEntitlementsAllowedException",
        ),
        (
            "no Beneficiary and no grant",
            seller(),
            with(checkout_body("f", "1"), "Beneficiary", Value::Null),
            "NoEntitlementsAllowedException",
        ),
    ];
    for (name, caller, body, want) in cases {
        assert_eq!(outcome(&mut w, &caller, "CheckoutLicense", &body), want, "{name}");
    }
}

#[test]
fn spec_3_3_newest_candidate_wins_without_fallback() {
    let mut w = world();
    let old = create_license(&mut w, create_license_body("old"));
    let new = create_license(
        &mut w,
        with(create_license_body("new"), "Entitlements/0/MaxCount", json!(1)),
    );
    let r = checkout(&mut w, "a", "1");
    assert_eq!(r.body["LicenseArn"], json!(new));
    assert_eq!(
        checkout(&mut w, "b", "1").error_type(),
        Some("NoEntitlementsAllowedException"),
        "no fallback to the older license"
    );
    let deactivate = with(version_body(&new, "v"), "Status", json!("DEACTIVATED"));
    ok(
        &mut w,
        &seller(),
        "CreateLicenseVersion",
        &with(deactivate, "Entitlements/0/MaxCount", json!(1)),
    );
    assert_eq!(
        checkout(&mut w, "c", "1").body["LicenseArn"],
        json!(old),
        "a DEACTIVATED license is no candidate"
    );
}

#[test]
fn spec_3_3_marketplace_license_checked_out_by_buyer_without_beneficiary() {
    let mut w = world();
    let arn = seed_marketplace(&mut w, "mkt-sku", 2);
    let body = json!({
        "ProductSKU": "mkt-sku", "CheckoutType": "PROVISIONAL", "KeyFingerprint": MARKETPLACE_FINGERPRINT,
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "2"}], "ClientToken": "m1"
    });
    let r = ok(&mut w, &buyer(), "CheckoutLicense", &body);
    assert_eq!(r["LicenseArn"], json!(arn));
    assert_eq!(
        outcome(
            &mut w,
            &stranger(),
            "CheckoutLicense",
            &with(body.clone(), "ClientToken", json!("m2"))
        ),
        "NoEntitlementsAllowedException"
    );
    let lic = ok(&mut w, &buyer(), "GetLicense", &json!({"LicenseArn": arn}))["License"].clone();
    assert_eq!(lic["Beneficiary"], json!(format!("arn:aws:iam::{BUYER}:root")));
    assert_eq!(lic["Issuer"]["Name"], json!("AWS/Marketplace"));
    assert_eq!(
        lic["ConsumptionConfiguration"]["ProvisionalConfiguration"]["MaxTimeToLiveInMinutes"],
        json!(60)
    );
}

#[test]
fn spec_3_4_quantity_grammar() {
    let cases: &[(Value, &str)] = &[
        (json!("1"), "ok"),
        (json!("10"), "ok"),
        (json!("0"), "InvalidParameterValueException"),
        (json!("01"), "InvalidParameterValueException"),
        (json!("-1"), "InvalidParameterValueException"),
        (json!("1.5"), "InvalidParameterValueException"),
        (json!(" 1"), "InvalidParameterValueException"),
        (json!(""), "InvalidParameterValueException"),
        (json!("9223372036854775808"), "InvalidParameterValueException"),
        (Value::Null, "InvalidParameterValueException"),
    ];
    for (value, want) in cases {
        let mut w = world();
        create_license(&mut w, create_license_body("c"));
        let body = with(checkout_body("k", "1"), "Entitlements/0/Value", value.clone());
        assert_eq!(
            outcome(&mut w, &seller(), "CheckoutLicense", &body),
            *want,
            "Value {value}"
        );
    }
    let mut w = world();
    create_license(&mut w, create_license_body("c"));
    let none_ignores_value = json!([{"Name": "Premium", "Unit": "None", "Value": "garbage"}]);
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CheckoutLicense",
            &with(checkout_body("n", "1"), "Entitlements", none_ignores_value)
        ),
        "ok"
    );
    let twice = json!([{"Name": "Seat", "Unit": "Count", "Value": "1"}, {"Name": "Seat", "Unit": "Count", "Value": "2"}]);
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CheckoutLicense",
            &with(checkout_body("t", "1"), "Entitlements", twice)
        ),
        "InvalidParameterValueException"
    );
}

#[test]
fn spec_3_4_matching_and_reply() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let items = json!([
        {"Name": "Premium", "Unit": "None"},
        {"Name": "Nope", "Unit": "Count", "Value": "1"},
        {"Name": "Seat", "Unit": "Count", "Value": "3"},
        {"Name": "seat", "Unit": "Count", "Value": "1"},
        {"Name": "Seat", "Unit": "Bytes", "Value": "1"}
    ]);
    let body = with(
        with(checkout_body("k", "1"), "Entitlements", items),
        "NodeId",
        json!("node-7"),
    );
    let now = w.now_ms();
    let r = ok(&mut w, &seller(), "CheckoutLicense", &body);
    assert_eq!(
        r["EntitlementsAllowed"],
        json!([
            {"Name": "Premium", "Value": "Enabled", "Unit": "None"},
            {"Name": "Seat", "Value": "3", "Unit": "Count"}
        ]),
        "request order, exact Name and Unit, unmatched dropped"
    );
    assert_eq!(r["CheckoutType"], json!("PROVISIONAL"));
    assert_eq!(r["NodeId"], json!("node-7"));
    assert_eq!(r["LicenseArn"], json!(arn));
    assert_eq!(
        r["IssuedAt"],
        json!(conform_model::timefmt::iso_seconds_no_zone(now))
    );
    assert_eq!(
        r["Expiration"],
        json!(conform_model::timefmt::iso_seconds_no_zone(now + 3_600_000))
    );
    assert!(r.get("SignedToken").is_none(), "no SignKey, no SignedToken");
    assert_eq!(seat_usage(&mut w, &arn), "3");
    let unmatched = with(
        checkout_body("u", "1"),
        "Entitlements",
        json!([{"Name": "Nope", "Unit": "Count", "Value": "1"}]),
    );
    assert_eq!(
        outcome(&mut w, &seller(), "CheckoutLicense", &unmatched),
        "NoEntitlementsAllowedException"
    );
    let empty = with(checkout_body("e", "1"), "Entitlements", json!([]));
    assert_eq!(
        outcome(&mut w, &seller(), "CheckoutLicense", &empty),
        "NoEntitlementsAllowedException"
    );
}

#[test]
fn spec_3_4_needs_provisional_configuration() {
    let mut w = world();
    create_license(
        &mut w,
        with(
            create_license_body("c"),
            "ConsumptionConfiguration/ProvisionalConfiguration",
            Value::Null,
        ),
    );
    assert_eq!(
        checkout(&mut w, "k", "1").error_type(),
        Some("NoEntitlementsAllowedException")
    );
}

#[test]
fn spec_3_4_capacity_all_or_nothing_and_overage() {
    let mut w = world();
    let base = with(
        create_license_body("c"),
        "Entitlements",
        json!([
            {"Name": "Seat", "Unit": "Count", "MaxCount": 3},
            {"Name": "Core", "Unit": "Count", "MaxCount": 1, "Overage": true}
        ]),
    );
    let arn = create_license(&mut w, base);
    let both = |t: &str, seats: &str, cores: &str| {
        with(
            checkout_body(t, "1"),
            "Entitlements",
            json!([
                {"Name": "Seat", "Unit": "Count", "Value": seats}, {"Name": "Core", "Unit": "Count", "Value": cores}
            ]),
        )
    };
    assert_eq!(
        outcome(&mut w, &seller(), "CheckoutLicense", &both("a", "3", "5")),
        "ok",
        "overage goes past MaxCount"
    );
    assert_eq!(
        outcome(&mut w, &seller(), "CheckoutLicense", &both("b", "1", "1")),
        "NoEntitlementsAllowedException"
    );
    let u = usage(&mut w, &seller(), &arn);
    assert_eq!(
        (u[0]["ConsumedValue"].clone(), u[1]["ConsumedValue"].clone()),
        (json!("3"), json!("5")),
        "nothing taken by the refusal"
    );
    let mut w2 = world();
    let arn2 = create_license(
        &mut w2,
        with(
            create_license_body("c"),
            "Entitlements",
            json!([{"Name": "Core", "Unit": "Count", "MaxCount": 1, "Overage": true}]),
        ),
    );
    let huge_core = with(
        checkout_body("h", "1"),
        "Entitlements",
        json!([{"Name": "Core", "Unit": "Count", "Value": "9223372036854775807"}]),
    );
    assert_eq!(outcome(&mut w2, &seller(), "CheckoutLicense", &huge_core), "ok");
    let one_more = with(huge_core, "ClientToken", json!("h2"));
    let one_more = with(one_more, "Entitlements/0/Value", json!("1"));
    assert_eq!(
        outcome(&mut w2, &seller(), "CheckoutLicense", &one_more),
        "InvalidParameterValueException",
        "in use past i64::MAX"
    );
    assert_eq!(
        usage(&mut w2, &seller(), &arn2)[0]["ConsumedValue"],
        json!("9223372036854775807")
    );
}

#[test]
fn spec_3_4_idempotency() {
    let mut w = world();
    let arn = create_license(
        &mut w,
        with(create_license_body("c"), "Entitlements/0/MaxCount", json!(1)),
    );
    let first = checkout(&mut w, "same", "1");
    assert_eq!(first.status, 200);
    let replay = checkout(&mut w, "same", "1");
    assert_eq!(replay.body, first.body, "replayed verbatim");
    assert_ne!(replay.request_id, first.request_id, "with a new RequestId");
    assert_eq!(seat_usage(&mut w, &arn), "1", "a replay draws nothing");
    advance(&mut w, 7200);
    assert_eq!(
        checkout(&mut w, "same", "1").body,
        first.body,
        "whatever the state is now"
    );
    let different = with(checkout_body("same", "1"), "NodeId", json!("n"));
    assert_eq!(
        outcome(&mut w, &seller(), "CheckoutLicense", &different),
        "InvalidParameterValueException"
    );
    assert_eq!(
        checkout(&mut w, "other", "1").status,
        200,
        "other token, new checkout"
    );
    assert_eq!(
        checkout(&mut w, "refused", "1").error_type(),
        Some("NoEntitlementsAllowedException")
    );
    advance(&mut w, 3600);
    assert_eq!(
        checkout(&mut w, "refused", "1").status,
        200,
        "refusals are not recorded"
    );
    advance(&mut w, 86_400);
    let after_window = checkout(&mut w, "same", "1");
    assert_ne!(
        after_window.body, first.body,
        "the record lasts idempotency_window_seconds"
    );
    let mut w = world();
    let body = create_license_body("c");
    let a = ok(&mut w, &seller(), "CreateLicense", &body);
    let b = ok(&mut w, &seller(), "CreateLicense", &body);
    assert_eq!(a, b);
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CreateLicense",
            &with(body.clone(), "LicenseName", json!("x"))
        ),
        "InvalidParameterValueException"
    );
    assert_eq!(
        outcome(&mut w, &buyer(), "CreateLicense", &body),
        "ok",
        "the key includes the account"
    );
    let arn = a["LicenseArn"].as_str().unwrap().to_string();
    let v = version_body(&arn, "v");
    ok(&mut w, &seller(), "CreateLicenseVersion", &v);
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CreateLicenseVersion",
            &with(v, "LicenseName", json!("y"))
        ),
        "ValidationException",
        "CreateLicenseVersion does not list IPVE"
    );
}

#[test]
fn spec_3_4_provisional_units_return_on_expiry_perpetual_never() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    checkout(&mut w, "p", "2");
    let perpetual = with(checkout_body("q", "3"), "CheckoutType", json!("PERPETUAL"));
    let r = ok(&mut w, &seller(), "CheckoutLicense", &perpetual);
    assert_eq!(r["CheckoutType"], json!("PERPETUAL"));
    assert_eq!(seat_usage(&mut w, &arn), "5");
    advance(&mut w, 3599);
    assert_eq!(seat_usage(&mut w, &arn), "5");
    advance(&mut w, 1);
    assert_eq!(
        seat_usage(&mut w, &arn),
        "3",
        "the provisional units come back at exactly the expiry"
    );
    advance(&mut w, 10 * 86_400);
    assert_eq!(
        seat_usage(&mut w, &arn),
        "3",
        "perpetual units stay for the usage period"
    );
}

// ---- SPEC 3.5: CheckoutBorrowLicense ----

#[test]
fn spec_3_5_borrow_checks() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let no_borrow = create_license(
        &mut w,
        with(
            with(
                create_license_body("nb"),
                "ConsumptionConfiguration/BorrowConfiguration",
                Value::Null,
            ),
            "ProductSKU",
            json!("nb"),
        ),
    );
    let market = seed_marketplace(&mut w, "mkt", 3);
    let b = |t: &str| borrow_body(&arn, t);
    let unknown = format!("{}0", &arn[..arn.len() - 1]);
    let cases: Vec<(&str, conform_model::Caller, Value, &str)> = vec![
        (
            "bad signature method",
            seller(),
            with(b("a"), "DigitalSignatureMethod", json!("RS256")),
            "UnsupportedDigitalSignatureMethodException",
        ),
        (
            "unknown license",
            seller(),
            with(b("b"), "LicenseArn", json!(unknown)),
            "ResourceNotFoundException",
        ),
        ("no relationship", stranger(), b("c"), "ResourceNotFoundException"),
        (
            "received without CheckoutBorrowLicense... allowed by marketplace grant, no borrow config",
            buyer(),
            borrow_body(&market, "d"),
            "NoEntitlementsAllowedException",
        ),
        (
            "no BorrowConfiguration",
            seller(),
            borrow_body(&no_borrow, "e"),
            "NoEntitlementsAllowedException",
        ),
        (
            "missing entitlement",
            seller(),
            with(b("f"), "Entitlements/0/Name", json!("Nope")),
            "EntitlementNotAllowedException",
        ),
        (
            "empty request",
            seller(),
            with(b("g"), "Entitlements", json!([])),
            "NoEntitlementsAllowedException",
        ),
        (
            "bad quantity",
            seller(),
            with(b("h"), "Entitlements/0/Value", json!("0")),
            "InvalidParameterValueException",
        ),
        (
            "over capacity",
            seller(),
            with(b("i"), "Entitlements/0/Value", json!("11")),
            "NoEntitlementsAllowedException",
        ),
        (
            "None entitlement may be borrowed",
            seller(),
            with(
                b("j"),
                "Entitlements",
                json!([{"Name": "Premium", "Unit": "None"}]),
            ),
            "ok",
        ),
        ("valid", seller(), b("k"), "ok"),
    ];
    for (name, caller, body, want) in cases {
        assert_eq!(
            outcome(&mut w, &caller, "CheckoutBorrowLicense", &body),
            want,
            "{name}"
        );
    }
}

#[test]
fn spec_3_5_and_3_8_borrow_reply_and_signed_token() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let body = with(
        with(borrow_body(&arn, "b"), "NodeId", json!("n1")),
        "CheckoutMetadata",
        json!([{"Name": "host", "Value": "h1"}]),
    );
    let now = w.now_ms();
    let r = ok(&mut w, &seller(), "CheckoutBorrowLicense", &body);
    assert_eq!(
        r["Expiration"],
        json!(conform_model::timefmt::iso_seconds_no_zone(now + 1440 * 60_000))
    );
    assert_eq!(r["CheckoutMetadata"], json!([{"Name": "host", "Value": "h1"}]));
    assert_eq!(r["NodeId"], json!("n1"));
    let (header, claims) =
        verify_signed_token(r["SignedToken"].as_str().unwrap()).expect("verifies with the shipped key");
    assert_eq!(header, json!({"alg": "PS384", "typ": "JWT"}));
    let keys: Vec<&String> = claims.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "licenseArn",
            "licenseConsumptionToken",
            "entitlementsAllowed",
            "nodeId",
            "issuedAt",
            "expiration",
            "checkoutMetadata"
        ]
    );
    assert_eq!(claims["checkoutMetadata"], json!({"host": "h1"}));
    assert_eq!(claims["licenseConsumptionToken"], r["LicenseConsumptionToken"]);
}

#[test]
fn spec_3_8_omitted_signatures_keep_header_claims_and_every_later_reply() {
    // Two worlds of one seed, one omitting signatures: the same requests, including a reset,
    // get the same replies but for the signature segment, and leave the same state.
    let mut signed = world();
    let mut omitted = world();
    omitted.set_signatures(conform_model::lm::Signatures::Omitted);
    let arn = create_license(&mut signed, create_license_body("c"));
    assert_eq!(create_license(&mut omitted, create_license_body("c")), arn);
    let mut tokens = 0;
    for (round, step) in ["b1", "b2", "reset", "b3"].into_iter().enumerate() {
        if step == "reset" {
            for w in [&mut signed, &mut omitted] {
                w.apply(Event::Reset).expect("resets");
                create_license(w, create_license_body("c"));
            }
            continue;
        }
        let body = borrow_body(&arn, step);
        let a = ok(&mut signed, &seller(), "CheckoutBorrowLicense", &body);
        let b = ok(&mut omitted, &seller(), "CheckoutBorrowLicense", &body);
        let (sa, sb) = (
            a["SignedToken"].as_str().unwrap(),
            b["SignedToken"].as_str().unwrap(),
        );
        verify_signed_token(sa).expect("the signed world's token verifies");
        assert!(
            verify_signed_token(sb).is_err(),
            "round {round}: no signature to verify"
        );
        let ((head_a, sig_a), (head_b, sig_b)) = (sa.rsplit_once('.').unwrap(), sb.rsplit_once('.').unwrap());
        assert_eq!(head_a, head_b, "round {round}: same header and claims");
        assert_eq!(sig_a.len(), sig_b.len(), "round {round}: a signature's length");
        let strip = |mut v: Value| {
            v.as_object_mut().unwrap().remove("SignedToken");
            v
        };
        assert_eq!(strip(a), strip(b), "round {round}");
        tokens += 1;
    }
    assert_eq!(tokens, 3);
    assert!(conform_model::invariants::same_state(&signed, &omitted));
    assert_eq!(
        signed.counters(),
        omitted.counters(),
        "the salt stream moved alike"
    );
}

#[test]
fn spec_3_8_signed_token_on_checkout_only_with_sign_key() {
    let mut w = world();
    create_license(
        &mut w,
        with(
            create_license_body("c"),
            "Issuer/SignKey",
            json!("arn:aws:kms:us-east-1:111122223333:key/k"),
        ),
    );
    let r = checkout(&mut w, "k", "1");
    let (_, claims) = verify_signed_token(r.body["SignedToken"].as_str().unwrap()).unwrap();
    assert!(claims.get("checkoutMetadata").is_none());
    assert!(claims.get("nodeId").is_none(), "absent claims are omitted");
    let mut never = World::new(
        7,
        Policy {
            signed_token_on_checkout: conform_model::policy::SignedTokenOnCheckout::Never,
            ..Policy::default()
        },
    );
    create_license(
        &mut never,
        with(create_license_body("c"), "Issuer/SignKey", json!("k")),
    );
    assert!(checkout(&mut never, "k", "1").body.get("SignedToken").is_none());
}

// ---- SPEC 3.6: CheckInLicense, ExtendLicenseConsumption ----

#[test]
fn spec_3_6_check_in_order() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    // AllowCheckIn false on the counted entitlement of SKU "n".
    create_license(
        &mut w,
        with(
            with(
                create_license_body("n"),
                "Entitlements/0/AllowCheckIn",
                json!(false),
            ),
            "ProductSKU",
            json!("n"),
        ),
    );
    let tok = |r: &conform_model::Reply| r.body["LicenseConsumptionToken"].as_str().unwrap().to_string();
    let provisional = tok(&checkout(&mut w, "p", "1"));
    let perpetual = tok(&call(
        &mut w,
        &seller(),
        "CheckoutLicense",
        &with(checkout_body("q", "1"), "CheckoutType", json!("PERPETUAL")),
    ));
    let blocked = tok(&call(
        &mut w,
        &seller(),
        "CheckoutLicense",
        &with(checkout_body("r", "1"), "ProductSKU", json!("n")),
    ));
    let none_only = tok(&call(
        &mut w,
        &seller(),
        "CheckoutLicense",
        &with(
            with(checkout_body("s", "1"), "ProductSKU", json!("n")),
            "Entitlements",
            json!([{"Name": "Premium", "Unit": "None"}]),
        ),
    ));
    let early = create_license(
        &mut w,
        with(
            with(
                create_license_body("e"),
                "ConsumptionConfiguration/BorrowConfiguration/AllowEarlyCheckIn",
                json!(false),
            ),
            "ProductSKU",
            json!("e"),
        ),
    );
    let borrowed = tok(&call(
        &mut w,
        &seller(),
        "CheckoutBorrowLicense",
        &borrow_body(&early, "b"),
    ));
    let ci = |t: &str| json!({"LicenseConsumptionToken": t, "Beneficiary": "ignored"});
    let cases: Vec<(&str, conform_model::Caller, Value, &str)> = vec![
        (
            "foreign token",
            stranger(),
            ci(&provisional),
            "ResourceNotFoundException",
        ),
        (
            "unknown token",
            seller(),
            ci("0123456789abcdef0123456789abcdef"),
            "ResourceNotFoundException",
        ),
        ("PERPETUAL", seller(), ci(&perpetual), "ConflictException"),
        ("AllowCheckIn false", seller(), ci(&blocked), "ConflictException"),
        ("None entitlements never block", seller(), ci(&none_only), "ok"),
        ("early borrow", seller(), ci(&borrowed), "ConflictException"),
        ("provisional", seller(), ci(&provisional), "ok"),
        (
            "already checked in",
            seller(),
            ci(&provisional),
            "ResourceNotFoundException",
        ),
    ];
    for (name, caller, body, want) in cases {
        assert_eq!(outcome(&mut w, &caller, "CheckInLicense", &body), want, "{name}");
    }
    assert_eq!(seat_usage(&mut w, &arn), "1", "only the perpetual seat is in use");
    let expired = tok(&checkout(&mut w, "x", "1"));
    advance(&mut w, 3600);
    assert_eq!(
        outcome(&mut w, &seller(), "CheckInLicense", &ci(&expired)),
        "ResourceNotFoundException",
        "expired"
    );
}

#[test]
fn spec_3_6_extend() {
    let mut w = world();
    create_license(&mut w, create_license_body("c"));
    let r = checkout(&mut w, "p", "1");
    let token = r.body["LicenseConsumptionToken"].as_str().unwrap().to_string();
    advance(&mut w, 1800);
    let now = w.now_ms();
    let ext = |dry: bool| json!({"LicenseConsumptionToken": token, "DryRun": dry});
    let dry = ok(&mut w, &seller(), "ExtendLicenseConsumption", &ext(true));
    assert_eq!(
        dry["Expiration"], r.body["Expiration"],
        "DryRun answers the unchanged Expiration"
    );
    let done = ok(&mut w, &seller(), "ExtendLicenseConsumption", &ext(false));
    assert_eq!(
        done["Expiration"],
        json!(conform_model::timefmt::iso_seconds_no_zone(now + 3_600_000)),
        "extend_from=now"
    );
    assert_eq!(done["LicenseConsumptionToken"], json!(token));
    advance(&mut w, 3599);
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": token})
        ),
        "ok",
        "still live after the old expiry"
    );
    assert_eq!(
        outcome(&mut w, &seller(), "ExtendLicenseConsumption", &ext(false)),
        "ResourceNotFoundException",
        "ended"
    );
    let perpetual = call(
        &mut w,
        &seller(),
        "CheckoutLicense",
        &with(checkout_body("q", "1"), "CheckoutType", json!("PERPETUAL")),
    );
    let pt = perpetual.body["LicenseConsumptionToken"].clone();
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": pt})
        ),
        "InvalidParameterValueException"
    );
    assert_eq!(
        outcome(
            &mut w,
            &stranger(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": pt})
        ),
        "ResourceNotFoundException"
    );
}

// ---- SPEC 3.7: usage ----

#[test]
fn spec_3_7_usage_and_reset() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    let t = checkout(&mut w, "p", "4").body["LicenseConsumptionToken"].clone();
    assert_eq!(
        usage(&mut w, &seller(), &arn),
        json!([
            {"Name": "Seat", "ConsumedValue": "4", "MaxCount": "10", "Unit": "Count"},
            {"Name": "Premium", "ConsumedValue": "0", "Unit": "None"}
        ])
    );
    let reset = with(version_body(&arn, "v"), "ResetUsage", json!(true));
    ok(&mut w, &seller(), "CreateLicenseVersion", &reset);
    assert_eq!(seat_usage(&mut w, &arn), "0", "a new usage period");
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": t})
        ),
        "ok",
        "older tokens can still be extended"
    );
    assert_eq!(
        outcome(
            &mut w,
            &seller(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": t})
        ),
        "ok"
    );
    assert_eq!(seat_usage(&mut w, &arn), "0", "older tokens never count again");
    checkout(&mut w, "q", "10");
    assert_eq!(seat_usage(&mut w, &arn), "10");
}

#[test]
fn spec_3_7_limits_come_from_the_latest_version() {
    let mut w = world();
    let arn = create_license(&mut w, create_license_body("c"));
    checkout(&mut w, "p", "5");
    let lower = with(version_body(&arn, "v"), "Entitlements/0/MaxCount", json!(3));
    ok(&mut w, &seller(), "CreateLicenseVersion", &lower);
    assert_eq!(
        seat_usage(&mut w, &arn),
        "5",
        "usage may exceed a lowered MaxCount"
    );
    assert_eq!(
        checkout(&mut w, "q", "1").error_type(),
        Some("NoEntitlementsAllowedException")
    );
    let removed = with(
        version_body(&arn, "w"),
        "Entitlements",
        json!([{"Name": "Premium", "Unit": "None", "Value": "Enabled"}]),
    );
    ok(&mut w, &seller(), "CreateLicenseVersion", &removed);
    assert_eq!(
        usage(&mut w, &seller(), &arn),
        json!([{"Name": "Premium", "ConsumedValue": "0", "Unit": "None"}])
    );
}

// ---- SPEC 2: determinism ----

#[test]
fn spec_2_same_seed_same_requests_same_bytes() {
    let run = || {
        let mut w = world();
        let mut out = Vec::new();
        create_license(
            &mut w,
            with(create_license_body("c"), "Issuer/SignKey", json!("k")),
        );
        for i in 0..3 {
            let r = checkout(&mut w, &format!("t{i}"), "1");
            out.push((r.status, r.request_id.clone(), r.body.to_string()));
        }
        w.apply(Event::advance_seconds(10)).unwrap();
        out
    };
    assert_eq!(run(), run());
}
