//! The seeded worlds the request targets send into, and the fixtures and bodies the sequence
//! target builds its steps from.

use std::sync::OnceLock;

use conform_model::events::{
    ConnectorFixture, ConnectorHealth, EnvironmentFixture, GuestOs, VmFixture, VmRef,
};
use conform_model::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use conform_model::{Caller, Event, Policy, Service, World};
use serde_json::{json, Value};

use super::{evs_caller, lm_caller, BUYER, CONNECTORS, ENVIRONMENTS, FINGERPRINT, VM_COUNT};

/// A seeded world and the placeholder table for it.
pub(super) struct Base {
    pub(super) world: World,
    pub(super) ids: Vec<(String, String)>,
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

pub(super) fn license_body(
    token: &str,
    sku: &str,
    max: i64,
    overage: bool,
    check_in: bool,
    borrow: bool,
) -> Value {
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

pub(super) fn marketplace_event(sku: &str, max: i64) -> Event {
    Event::marketplace(
        BUYER,
        sku,
        vec![conform_model::lm::types::Entitlement {
            name: "Seat".into(),
            unit: conform_model::lm::types::Unit::Count,
            value: None,
            max_count: Some(max),
            overage: None,
            allow_check_in: Some(true),
        }],
    )
}

/// The License Manager world of [`lm_request`]: the seller's license with a PROVISIONAL, a borrow
/// and a PERPETUAL token, an ACTIVE grant of it to the buyer, and a Marketplace license.
pub(super) fn lm_base() -> &'static Base {
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

pub(super) fn evs_placeholders() -> Vec<(String, String)> {
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

pub(super) fn vm_id(i: usize) -> String {
    format!("vm-{}", i + 1)
}

/// EVS fixtures only, no records: two CREATED environments; in the first a healthy VCENTER
/// connector, an SDDC_MANAGER one and VMs vm-1..vm-6 (vm-5 not Windows, vm-6 removed); in the
/// second a VCENTER connector whose health FAILED.
pub(super) fn evs_fixtures() -> World {
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

pub(super) fn add_vm_event(i: usize, guest_os: GuestOs) -> Event {
    Event::AddVm(VmFixture {
        account: None,
        region: None,
        environment_id: ENVIRONMENTS[0].into(),
        vm_id: vm_id(i),
        name: format!("host-{}", i + 1),
        guest_os,
    })
}

pub(super) fn vm_ref(i: usize) -> VmRef {
    VmRef {
        account: None,
        region: None,
        environment_id: ENVIRONMENTS[0].into(),
        vm_id: vm_id(i),
    }
}

pub(super) fn health_event(connector: &str, health: CheckResult) -> Event {
    Event::SetConnectorHealth(ConnectorHealth {
        account: None,
        region: None,
        connector_id: connector.into(),
        health,
    })
}

pub(super) fn entitlement_body(connector: &str, vms: &[usize]) -> Value {
    let vms: Vec<String> = vms.iter().map(|&i| vm_id(i)).collect();
    json!({"environmentId": ENVIRONMENTS[0], "connectorId": connector, "entitlementType": "WINDOWS_SERVER", "vmIds": vms})
}

/// The EVS world of [`evs_request`]: the fixtures plus records of the healthy connector in every
/// status a sync and a delete produce: CREATED (vm-1), DELETED (vm-2), CREATE_FAILED (vm-5, vm-6)
/// and CREATING (vm-3).
pub(super) fn evs_base() -> &'static Base {
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

#[cfg(test)]
mod tests {
    use conform_model::Reply;

    use super::*;
    use crate::fuzz::substitute;

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
}
