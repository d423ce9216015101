//! Every single-switch alternative the model offers (`Policy::alternatives`) is really
//! implemented: for each one a scenario whose last reply differs from the default policy's, and
//! whose default reply names the switch's rule. The SPEC section of each rule is in
//! docs/policies.md; the table below names the switch it shows.

use crate::support::evs::{seed_environment_and_connector, CONN, ENV};
use crate::support::lm::*;
use conform_model::evs::environment::{EnvironmentFixture, GuestOs, VmFixture};
use conform_model::evs::types::{CheckResult, EnvironmentState};
use conform_model::{Event, Policy, PolicyRule, Reply, Service, World};
use serde_json::{json, Value};

type Scenario = fn(&mut World) -> Reply;

fn lm_license(w: &mut World) -> String {
    create_license(w, create_license_body("c"))
}

fn grant(w: &mut World, arn: &str, ops: Value) -> Value {
    let body = json!({
        "ClientToken": "g", "GrantName": "G", "LicenseArn": arn, "HomeRegion": "us-east-1",
        "Principals": [format!("arn:aws:iam::{BUYER}:root")], "AllowedOperations": ops,
    });
    ok(w, &seller(), "CreateGrant", &body)["GrantArn"].clone()
}

fn perpetual(w: &mut World) -> Reply {
    lm_license(w);
    let body = with(checkout_body("k", "1"), "CheckoutType", json!("PERPETUAL"));
    call(w, &seller(), "CheckoutLicense", &body)
}

fn token_of(r: &Reply) -> Value {
    r.body["LicenseConsumptionToken"].clone()
}

const LM: &[(&str, Scenario)] = &[
    ("http_status=not_found_404", |w| {
        call(
            w,
            &seller(),
            "CreateLicenseVersion",
            &version_body(
                "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000",
                "v",
            ),
        )
    }),
    ("lm_error_type=qualified", |w| {
        call(
            w,
            &seller(),
            "GetLicense",
            &json!({"LicenseArn": "arn:aws:license-manager::111122223333:license:l-0"}),
        )
    }),
    ("modelled_errors_only=false", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "CreateLicenseVersion",
            &with(version_body(&arn, "v"), "LicenseName", json!("")),
        )
    }),
    ("deletion_date_format=iso_seconds", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "1"}),
        )
    }),
    ("deletion_date_format=seconds", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "1"}),
        )
    }),
    ("extend_time_format=iso_millis", |w| {
        lm_license(w);
        let t = token_of(&checkout(w, "k", "1"));
        call(
            w,
            &seller(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("extend_time_format=iso_seconds", |w| {
        lm_license(w);
        let t = token_of(&checkout(w, "k", "1"));
        call(
            w,
            &seller(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("invalid_date_error=ipve", |w| {
        call(
            w,
            &seller(),
            "CreateLicense",
            &with(
                create_license_body("c"),
                "Validity/Begin",
                json!("2025-02-30T00:00:00Z"),
            ),
        )
    }),
    ("create_checks=none", |w| {
        call(
            w,
            &seller(),
            "CreateLicense",
            &with(create_license_body("c"), "LicenseName", json!("")),
        )
    }),
    ("create_license_order=region_first", |w| {
        let body = with(
            with(create_license_body("c"), "LicenseName", json!("")),
            "HomeRegion",
            json!("eu-west-1"),
        );
        call(w, &seller(), "CreateLicense", &body)
    }),
    ("version_status=any", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "CreateLicenseVersion",
            &with(version_body(&arn, "v"), "Status", json!("EXPIRED")),
        )
    }),
    ("home_region_change=ignore", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "CreateLicenseVersion",
            &with(version_body(&arn, "v"), "HomeRegion", json!("eu-west-1")),
        )
    }),
    ("version_on_deleting_license=validation", |w| {
        let arn = lm_license(w);
        ok(
            w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "1"}),
        );
        call(w, &seller(), "CreateLicenseVersion", &version_body(&arn, "v"))
    }),
    ("source_version_mismatch=validation", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "2"}),
        )
    }),
    ("fingerprint_follows_issuer_name=false", |w| {
        let arn = lm_license(w);
        ok(
            w,
            &seller(),
            "CreateLicenseVersion",
            &with(version_body(&arn, "v"), "Issuer/Name", json!("Other Corp")),
        );
        call(w, &seller(), "GetLicense", &json!({"LicenseArn": arn}))
    }),
    ("list_versions_order=descending", |w| {
        let arn = lm_license(w);
        ok(w, &seller(), "CreateLicenseVersion", &version_body(&arn, "v"));
        call(w, &seller(), "ListLicenseVersions", &json!({"LicenseArn": arn}))
    }),
    ("access=access_denied", |w| {
        let arn = lm_license(w);
        call(w, &stranger(), "GetLicense", &json!({"LicenseArn": arn}))
    }),
    ("list_licenses_order=descending", |w| {
        lm_license(w);
        create_license(w, create_license_body("d"));
        call(w, &seller(), "ListLicenses", &json!({}))
    }),
    ("filter_error=validation", |w| {
        call(
            w,
            &seller(),
            "ListLicenses",
            &json!({"Filters": [{"Name": "Color", "Values": ["red"]}]}),
        )
    }),
    ("deletion_delay_seconds=0", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "1"}),
        )
    }),
    ("bad_next_token_error=validation", |w| {
        call(w, &seller(), "ListLicenses", &json!({"NextToken": "forged"}))
    }),
    ("checkout_order=candidate_first", |w| {
        call(w, &seller(), "CheckoutLicense", &checkout_body("k", "x"))
    }),
    ("checkout_refusal_error=ipve", |w| {
        lm_license(w);
        checkout(w, "k", "11")
    }),
    ("perpetual_expiration=absent", perpetual),
    ("idempotency_window_seconds=600", |w| {
        lm_license(w);
        checkout(w, "k", "1");
        advance(w, 700);
        checkout(w, "k", "1")
    }),
    ("borrow_unknown_error=ipve", |w| {
        call(
            w,
            &seller(),
            "CheckoutBorrowLicense",
            &borrow_body("arn:aws:license-manager::111122223333:license:l-0", "b"),
        )
    }),
    ("borrow_refusal_error=entitlement_not_allowed", |w| {
        let arn = lm_license(w);
        ok(
            w,
            &seller(),
            "CreateLicenseVersion",
            &with(version_body(&arn, "v"), "Status", json!("DEACTIVATED")),
        );
        call(w, &seller(), "CheckoutBorrowLicense", &borrow_body(&arn, "b"))
    }),
    ("borrow_missing_entitlement_error=no_entitlements_allowed", |w| {
        let arn = lm_license(w);
        call(
            w,
            &seller(),
            "CheckoutBorrowLicense",
            &with(borrow_body(&arn, "b"), "Entitlements/0/Name", json!("Gold")),
        )
    }),
    ("token_foreign_error=access_denied", |w| {
        lm_license(w);
        let t = token_of(&checkout(w, "k", "1"));
        call(
            w,
            &stranger(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("recheck_grant_on_token_ops=true", |w| {
        let arn = lm_license(w);
        let g = grant(w, &arn, json!(["CheckoutLicense", "CheckInLicense"]));
        ok(w, &buyer(), "AcceptGrant", &json!({"GrantArn": g}));
        ok(
            w,
            &buyer(),
            "CreateGrantVersion",
            &json!({"GrantArn": g, "ClientToken": "on", "Status": "ACTIVE"}),
        );
        let body = with(checkout_body("k", "1"), "Beneficiary", Value::Null);
        let t = ok(w, &buyer(), "CheckoutLicense", &body)["LicenseConsumptionToken"].clone();
        ok(
            w,
            &buyer(),
            "CreateGrantVersion",
            &json!({"GrantArn": g, "ClientToken": "off", "Status": "DISABLED"}),
        );
        call(
            w,
            &buyer(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("check_in_ended_error=conflict", |w| {
        lm_license(w);
        let t = token_of(&checkout(w, "k", "1"));
        ok(
            w,
            &seller(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": t}),
        );
        call(
            w,
            &seller(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("check_in_refused_error=ipve", |w| {
        let t = token_of(&perpetual(w));
        call(
            w,
            &seller(),
            "CheckInLicense",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("extend_from=expiration", |w| {
        lm_license(w);
        let t = token_of(&checkout(w, "k", "1"));
        call(
            w,
            &seller(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("extend_refused_error=validation", |w| {
        let t = token_of(&perpetual(w));
        call(
            w,
            &seller(),
            "ExtendLicenseConsumption",
            &json!({"LicenseConsumptionToken": t}),
        )
    }),
    ("none_consumed_value=absent", |w| {
        let arn = lm_license(w);
        call(w, &seller(), "GetLicenseUsage", &json!({"LicenseArn": arn}))
    }),
    ("signed_token_on_checkout=always", |w| {
        lm_license(w);
        checkout(w, "k", "1")
    }),
    ("signed_token_on_checkout=never", |w| {
        let body = with(
            create_license_body("c"),
            "Issuer/SignKey",
            json!("arn:aws:kms:us-east-1:111122223333:key/k"),
        );
        create_license(w, body);
        checkout(w, "k", "1")
    }),
    ("grant_refusal_error=validation", |w| {
        call(
            w,
            &seller(),
            "GetGrant",
            &json!({"GrantArn": "arn:aws:license-manager::111122223333:grant:g-0"}),
        )
    }),
    ("grant_on_deleting_license=allow", |w| {
        let arn = lm_license(w);
        ok(
            w,
            &seller(),
            "DeleteLicense",
            &json!({"LicenseArn": arn, "SourceVersion": "1"}),
        );
        let body = json!({
            "ClientToken": "g", "GrantName": "G", "LicenseArn": arn, "HomeRegion": "us-east-1",
            "Principals": [format!("arn:aws:iam::{BUYER}:root")], "AllowedOperations": ["CheckoutLicense"],
        });
        call(w, &seller(), "CreateGrant", &body)
    }),
    ("allowed_operations_order=sorted", |w| {
        let arn = lm_license(w);
        let g = grant(w, &arn, json!(["ExtendConsumptionLicense", "CheckoutLicense"]));
        call(w, &seller(), "GetGrant", &json!({"GrantArn": g}))
    }),
    ("accept_to=ACTIVE", |w| {
        let arn = lm_license(w);
        let g = grant(w, &arn, json!(["CheckoutLicense"]));
        call(w, &buyer(), "AcceptGrant", &json!({"GrantArn": g}))
    }),
    ("marketplace_ttl_minutes=1440", |w| {
        let arn = seed_marketplace(w, "mkt", 3);
        call(w, &buyer(), "GetLicense", &json!({"LicenseArn": arn}))
    }),
    ("marketplace_grant=without_borrow", |w| {
        seed_marketplace(w, "mkt", 3);
        call(w, &buyer(), "ListReceivedGrants", &json!({}))
    }),
];

fn evs_world(w: &mut World, health: CheckResult) {
    seed_environment_and_connector(w, health);
    for (i, os) in [GuestOs::WindowsServer, GuestOs::Other].into_iter().enumerate() {
        let vm = VmFixture {
            account: None,
            region: None,
            environment_id: ENV.into(),
            vm_id: format!("vm-{i}"),
            name: format!("host-{i}"),
            guest_os: os,
        };
        w.apply(Event::AddVm(vm)).expect("vm");
    }
}

fn evs(w: &mut World, op: &str, body: Value) -> Reply {
    let caller = conform_model::Caller::new("123456789012", "us-east-1");
    w.handle(&caller, Service::Evs, op, body.to_string().as_bytes())
}

fn entitle(w: &mut World, op: &str, vms: &[&str]) -> Reply {
    evs(
        w,
        op,
        json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER", "vmIds": vms}),
    )
}

fn list(w: &mut World) -> Reply {
    evs(
        w,
        "ListVmEntitlements",
        json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER"}),
    )
}

fn synced(w: &mut World, seconds: i64) -> Reply {
    evs_world(w, CheckResult::Passed);
    entitle(w, "CreateEntitlement", &["vm-0", "vm-1"]);
    advance(w, seconds);
    list(w)
}

const EVS: &[(&str, Scenario)] = &[
    ("evs_error_type=bare", |w| {
        evs(w, "GetEnvironment", json!({"environmentId": "env-bbbbbbbbbb"}))
    }),
    ("evs_timestamps=fractional", |w| {
        advance(w, 1);
        w.apply(Event::AdvanceClock {
            seconds: 0,
            millis: 250,
        })
        .expect("clock");
        evs_world(w, CheckResult::Passed);
        evs(w, "GetEnvironment", json!({"environmentId": ENV}))
    }),
    ("evs_absent_lists=empty", |w| {
        evs_world(w, CheckResult::Passed);
        evs(w, "GetEnvironment", json!({"environmentId": ENV}))
    }),
    ("connector_activation_seconds=60", |w| {
        evs_world(w, CheckResult::Passed);
        evs(
            w,
            "CreateEnvironmentConnector",
            json!({"environmentId": ENV, "type": "SDDC_MANAGER", "applianceFqdn": "m.example.com", "secretIdentifier": "s"}),
        );
        evs(w, "ListEnvironmentConnectors", json!({"environmentId": ENV}))
    }),
    ("connector_update_seconds=60", |w| {
        evs_world(w, CheckResult::Passed);
        evs(
            w,
            "UpdateEnvironmentConnector",
            json!({"environmentId": ENV, "connectorId": CONN, "secretIdentifier": "s2"}),
        );
        evs(w, "ListEnvironmentConnectors", json!({"environmentId": ENV}))
    }),
    ("connector_deletion_seconds=60", |w| {
        evs_world(w, CheckResult::Passed);
        evs(
            w,
            "DeleteEnvironmentConnector",
            json!({"environmentId": ENV, "connectorId": CONN}),
        );
        evs(w, "ListEnvironmentConnectors", json!({"environmentId": ENV}))
    }),
    ("evs_fqdn_change=allow", |w| {
        evs_world(w, CheckResult::Passed);
        entitle(w, "CreateEntitlement", &["vm-0"]);
        evs(
            w,
            "UpdateEnvironmentConnector",
            json!({"environmentId": ENV, "connectorId": CONN, "applianceFqdn": "vc2.example.com"}),
        )
    }),
    ("evs_connector_delete=refuse_any", |w| {
        synced(w, 300);
        entitle(w, "DeleteEntitlement", &["vm-0"]);
        evs(
            w,
            "DeleteEnvironmentConnector",
            json!({"environmentId": ENV, "connectorId": CONN}),
        )
    }),
    ("evs_duplicate_vm_ids=dedupe", |w| {
        evs_world(w, CheckResult::Passed);
        entitle(w, "CreateEntitlement", &["vm-0", "vm-0"])
    }),
    ("list_deleted=true", |w| {
        evs_world(w, CheckResult::Passed);
        entitle(w, "CreateEntitlement", &["vm-0"]);
        entitle(w, "DeleteEntitlement", &["vm-0"]);
        list(w)
    }),
    ("sync_interval_seconds=60", |w| synced(w, 60)),
    ("creating_timeout_seconds=3600", |w| {
        evs_world(w, CheckResult::Failed);
        entitle(w, "CreateEntitlement", &["vm-0"]);
        advance(w, 7200);
        list(w)
    }),
    ("evs_error_detail=absent", |w| synced(w, 300)),
    ("evs_deleted_environments_visible=false", |w| {
        let env = EnvironmentFixture {
            account: None,
            region: None,
            environment_id: Some(ENV.into()),
            state: EnvironmentState::Deleted,
            name: None,
            vcf_version: None,
        };
        w.apply(Event::SeedEvsEnvironment(env)).expect("seeds");
        evs(w, "GetEnvironment", json!({"environmentId": ENV}))
    }),
];

fn observed(r: &Reply) -> (u16, Option<&'static str>, String) {
    (r.status, r.error_type(), r.body.to_string())
}

/// Every alternative of `Policy::alternatives` is shown to change a reply that names its rule.
#[test]
fn every_alternative_changes_a_reply_that_names_its_switch() {
    let base = Policy::default();
    let mut missing = Vec::new();
    for (name, policy) in base.alternatives() {
        let Some((_, scenario)) = LM.iter().chain(EVS).find(|(n, _)| *n == name) else {
            missing.push(name);
            continue;
        };
        let member = name.split_once('=').map(|(m, _)| m).unwrap_or_default();
        let rule = PolicyRule::ALL
            .iter()
            .copied()
            .find(|r| r.switch() == member)
            .expect("a rule per switch");
        let default = scenario(&mut World::new(7, base.clone()));
        let flipped = scenario(&mut World::new(7, policy));
        assert_ne!(
            observed(&default),
            observed(&flipped),
            "{name} changes nothing: {}",
            default.body
        );
        assert!(
            default.policies.contains(&rule),
            "{name}: the reply does not name {rule:?}: {:?}",
            default.policies
        );
    }
    assert!(missing.is_empty(), "alternatives without a scenario: {missing:?}");
}
