//! Amazon EVS scenarios: the entitlement journeys of SPEC 4, driven through environment events
//! (fixtures, VM inventory, connector health, the clock) and EVS calls, so they run against any
//! target with a control plane.

use conform_model::Service;
use serde_json::{json, Value};

use crate::scenario::{caller, Scenario};

/// The account every EVS scenario speaks as; its fixtures are seeded into the same account.
const WHO: &str = "buyer";

/// `fixture` (an event's JSON) with the caller's account and region, so the seeded resources are
/// the caller's whatever default account the target's policy has.
fn owned(mut fixture: Value) -> Value {
    let who = caller(WHO);
    fixture["account"] = json!(who.account);
    fixture["region"] = json!(who.region);
    fixture
}

/// A CREATED environment `{{env}}` with Windows Server VMs vm-1..vm-3 and vm-4 running another
/// OS, and a VCENTER connector `{{conn}}` made through CreateEnvironmentConnector.
///
/// The clock first moves 10 s past the start (a sync boundary), so a later `advance(290)` lands
/// on the next boundary and the offsets in the transcript show where syncs fall.
fn scene(name: &'static str, about: &'static str) -> Scenario {
    let mut s = Scenario::new(name, about)
        .advance(10)
        .event(owned(
            json!({"event": "seed_evs_environment", "state": "CREATED", "name": "lab"}),
        ))
        .capture("env", "/environmentId");
    for (vm, os) in [
        ("vm-1", "windows_server"),
        ("vm-2", "windows_server"),
        ("vm-3", "windows_server"),
        ("vm-4", "other"),
    ] {
        s = s.event(owned(json!({
            "event": "add_vm", "environment_id": "{{env}}", "vm_id": vm,
            "name": format!("host-{vm}"), "guest_os": os
        })));
    }
    s.evs(
        WHO,
        "CreateEnvironmentConnector",
        json!({
            "environmentId": "{{env}}", "type": "VCENTER", "applianceFqdn": "vcenter.lab.example.com",
            "secretIdentifier": "evs/vcenter", "clientToken": "c-1"
        }),
        "ok",
    )
    .capture("conn", "/connector/connectorId")
}

/// A Create/DeleteEntitlement body for `vms` of `{{env}}` through `connector`.
fn vms(connector: &str, vms: &[&str]) -> Value {
    json!({"environmentId": "{{env}}", "connectorId": connector, "entitlementType": "WINDOWS_SERVER", "vmIds": vms})
}

/// ListVmEntitlements of `{{env}}` and `{{conn}}`.
fn list() -> Value {
    json!({"environmentId": "{{env}}", "connectorId": "{{conn}}", "entitlementType": "WINDOWS_SERVER"})
}

fn health(result: &str) -> Value {
    owned(json!({"event": "set_connector_health", "connector_id": "{{conn}}", "health": result}))
}

pub fn all() -> Vec<Scenario> {
    vec![
        full_lifecycle(),
        create_failed(),
        delete_and_recreate(),
        connector_delete_blocked(),
        pagination_250(),
        malformed_requests(),
        environment_views_and_connector_update(),
    ]
}

/// SPEC 4.1: the read views of a seeded environment, and a connector update through UPDATING.
pub fn environment_views_and_connector_update() -> Scenario {
    scene("evs_environment_views_and_connector_update", "SPEC 4.1: GetEnvironment, ListEnvironments, connector update")
        .evs(WHO, "GetEnvironment", json!({"environmentId": "{{env}}"}), "ok")
        .evs(WHO, "ListEnvironments", json!({}), "ok")
        .evs(WHO, "ListEnvironmentConnectors", json!({"environmentId": "{{env}}"}), "ok")
        .evs(WHO, "UpdateEnvironmentConnector", json!({"environmentId": "{{env}}", "connectorId": "{{conn}}"}), "ValidationException")
        .evs(WHO, "UpdateEnvironmentConnector", json!({"environmentId": "{{env}}", "connectorId": "{{conn}}", "secretIdentifier": "evs/vcenter-rotated"}), "ok")
        .advance(1)
        .evs(WHO, "ListEnvironmentConnectors", json!({"environmentId": "{{env}}"}), "ok")
        .evs(WHO, "GetEnvironment", json!({"environmentId": "env-0000000000"}), "ResourceNotFoundException")
}

pub fn full_lifecycle() -> Scenario {
    scene(
        "evs_full_lifecycle",
        "SPEC 4.3: CREATING -> CREATED -> AT_RISK -> CREATED -> ENTITLEMENT_REMOVED",
    )
    .evs(
        WHO,
        "ListEnvironmentConnectors",
        json!({"environmentId": "{{env}}"}),
        "ok",
    )
    .evs(WHO, "CreateEntitlement", vms("{{conn}}", &["vm-1"]), "ok")
    .evs(WHO, "ListVmEntitlements", list(), "ok")
    // The boundary at t0+300s: CREATING -> CREATED.
    .advance(290)
    .evs(WHO, "ListVmEntitlements", list(), "ok")
    // Unhealthy at the sync: CREATED -> AT_RISK, lastSyncedAt unchanged.
    .event(health("FAILED"))
    .advance(300)
    .evs(WHO, "ListVmEntitlements", list(), "ok")
    // Healthy again: AT_RISK -> CREATED.
    .event(health("PASSED"))
    .advance(300)
    .evs(WHO, "ListVmEntitlements", list(), "ok")
    // The VM is gone: CREATED -> ENTITLEMENT_REMOVED.
    .event(owned(
        json!({"event": "remove_vm", "environment_id": "{{env}}", "vm_id": "vm-1"}),
    ))
    .advance(300)
    .evs(WHO, "ListVmEntitlements", list(), "ok")
}

pub fn create_failed() -> Scenario {
    scene(
        "evs_create_failed",
        "SPEC 4.3: CREATE_FAILED for an unknown VM and a non-Windows VM, CREATED for the other",
    )
    .evs(
        WHO,
        "CreateEntitlement",
        vms("{{conn}}", &["vm-99", "vm-4", "vm-2"]),
        "ok",
    )
    .advance(290)
    .evs(WHO, "ListVmEntitlements", list(), "ok")
}

pub fn delete_and_recreate() -> Scenario {
    let body = vms("{{conn}}", &["vm-3"]);
    scene(
        "evs_delete_and_recreate",
        "SPEC 4.2: delete a terminal record, then a new CreateEntitlement replaces it",
    )
    .evs(WHO, "CreateEntitlement", body.clone(), "ok")
    .advance(290)
    .event(owned(json!({
        "event": "set_vm_guest_os", "environment_id": "{{env}}", "vm_id": "vm-3", "guest_os": "other"
    })))
    // No longer Windows Server: ENTITLEMENT_REMOVED.
    .advance(300)
    // DELETED, stoppedAt kept from the removal.
    .evs(WHO, "DeleteEntitlement", body.clone(), "ok")
    // DELETED records are hidden.
    .evs(WHO, "ListVmEntitlements", list(), "ok")
    // A DELETED record is returned as it is.
    .evs(WHO, "DeleteEntitlement", body.clone(), "ok")
    // Replaces the terminal record: timestamps cleared, CREATING again.
    .evs(WHO, "CreateEntitlement", body, "ok")
    .evs(WHO, "ListVmEntitlements", list(), "ok")
}

pub fn connector_delete_blocked() -> Scenario {
    let body = vms("{{conn}}", &["vm-1", "vm-2"]);
    let connector = json!({"environmentId": "{{env}}", "connectorId": "{{conn}}"});
    scene(
        "evs_connector_delete_blocked",
        "SPEC 4.1: a connector cannot be deleted or re-pointed while entitlements are live",
    )
    .evs(WHO, "CreateEntitlement", body.clone(), "ok")
    // CREATING records block the delete.
    .evs(
        WHO,
        "DeleteEnvironmentConnector",
        connector.clone(),
        "ValidationException",
    )
    .advance(290)
    // So do CREATED ones, and they forbid changing the FQDN.
    .evs(
        WHO,
        "DeleteEnvironmentConnector",
        connector.clone(),
        "ValidationException",
    )
    .evs(
        WHO,
        "UpdateEnvironmentConnector",
        json!({"environmentId": "{{env}}", "connectorId": "{{conn}}", "applianceFqdn": "vc2.lab.example.com"}),
        "ValidationException",
    )
    .evs(WHO, "DeleteEntitlement", body, "ok")
    .evs(WHO, "DeleteEnvironmentConnector", connector.clone(), "ok")
    // DELETED connectors are not listed, and naming one is ResourceNotFound.
    .evs(
        WHO,
        "ListEnvironmentConnectors",
        json!({"environmentId": "{{env}}"}),
        "ok",
    )
    .evs(
        WHO,
        "DeleteEnvironmentConnector",
        connector,
        "ResourceNotFoundException",
    )
}

pub fn pagination_250() -> Scenario {
    let ids: Vec<String> = (1000..1250).map(|i| format!("vm-{i}")).collect();
    let mut s = scene(
        "evs_pagination_250",
        "SPEC 4.2: 250 entitlements listed in three pages of maxResults 100",
    );
    // CreateEntitlement takes at most 100 VMs per call.
    for chunk in ids.chunks(100) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        s = s.evs(WHO, "CreateEntitlement", vms("{{conn}}", &chunk), "ok");
    }
    let page = |token: Option<&str>| {
        let mut body = list();
        body["maxResults"] = json!(100);
        if let Some(t) = token {
            body["nextToken"] = json!(t);
        }
        body
    };
    // A missing nextToken leaves the placeholder unreplaced, which the target refuses as a bad
    // token: the step then fails its "ok".
    s.evs(WHO, "ListVmEntitlements", page(None), "ok")
        .capture("page2", "/nextToken")
        .evs(WHO, "ListVmEntitlements", page(Some("{{page2}}")), "ok")
        .capture("page3", "/nextToken")
        .evs(WHO, "ListVmEntitlements", page(Some("{{page3}}")), "ok")
}

pub fn malformed_requests() -> Scenario {
    let too_many: Vec<String> = (1..=101).map(|i| format!("vm-{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let on = |env: &str, connector: &str| json!({"environmentId": env, "connectorId": connector, "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-1"]});
    // (environment, id, type, FQDN, secret, state) of a connector seeded past its API.
    let seed_connector = |c: [&str; 6]| {
        owned(json!({
            "event": "seed_evs_connector", "environment_id": c[0], "connector_id": c[1],
            "connector_type": c[2], "appliance_fqdn": c[3], "secret_identifier": c[4],
            "state": c[5], "health": "PASSED"
        }))
    };
    let invalid = "ValidationException";
    let missing = "ResourceNotFoundException";
    scene(
        "evs_malformed_requests",
        "SPEC 4.1, 4.2: each kind of bad or refused EVS request gets its typed error",
    )
    .evs(WHO, "CreateEntitlement", vms("{{conn}}", &too_many), invalid)
    .evs(
        WHO,
        "CreateEntitlement",
        vms("{{conn}}", &["vm-1", "vm-2", "vm-1"]),
        invalid,
    )
    .evs(
        WHO,
        "CreateEntitlement",
        vms("{{conn}}", &["vm-1", "host-2"]),
        invalid,
    )
    .evs(WHO, "CreateEntitlement", on("env-1", "cnctr-2"), invalid)
    .evs(
        WHO,
        "CreateEntitlement",
        json!({"environmentId": "{{env}}", "connectorId": "{{conn}}", "entitlementType": "WINDOWS", "vmIds": ["vm-1"]}),
        invalid,
    )
    .raw(
        WHO,
        Service::Evs,
        "CreateEntitlement",
        b"{\"vmIds\": [",
        invalid,
    )
    // A connector that is not VCENTER.
    .event(seed_connector([
        "{{env}}",
        "cnctr-sddc000001",
        "SDDC_MANAGER",
        "sddc.lab.example.com",
        "evs/sddc",
        "ACTIVE",
    ]))
    .evs(
        WHO,
        "CreateEntitlement",
        on("{{env}}", "cnctr-sddc000001"),
        invalid,
    )
    // A VCENTER connector that is not ACTIVE (its last update failed).
    .event(owned(json!({
        "event": "seed_evs_environment", "environment_id": "env-updating01", "state": "CREATED"
    })))
    .event(seed_connector([
        "env-updating01",
        "cnctr-updating01",
        "VCENTER",
        "vc.updating.example.com",
        "evs/vc",
        "UPDATE_FAILED",
    ]))
    .evs(
        WHO,
        "CreateEntitlement",
        on("env-updating01", "cnctr-updating01"),
        invalid,
    )
    // An environment that is not CREATED.
    .event(owned(json!({
        "event": "seed_evs_environment", "environment_id": "env-creating01", "state": "CREATING"
    })))
    .event(seed_connector([
        "env-creating01",
        "cnctr-creating01",
        "VCENTER",
        "vc.creating.example.com",
        "evs/vc",
        "ACTIVE",
    ]))
    .evs(
        WHO,
        "CreateEntitlement",
        on("env-creating01", "cnctr-creating01"),
        invalid,
    )
    // An unknown environment, an unknown connector, a connector of another environment.
    .evs(
        WHO,
        "CreateEntitlement",
        on("env-zzzzzzzzzz", "{{conn}}"),
        missing,
    )
    .evs(
        WHO,
        "DeleteEntitlement",
        vms("cnctr-zzzzzzzzzz", &["vm-1"]),
        missing,
    )
    .evs(
        WHO,
        "DeleteEntitlement",
        vms("cnctr-creating01", &["vm-1"]),
        missing,
    )
    // A forged nextToken in the token format, and one that is no token at all.
    .evs(
        WHO,
        "ListVmEntitlements",
        json!({
            "environmentId": "{{env}}", "connectorId": "{{conn}}", "entitlementType": "WINDOWS_SERVER",
            "nextToken": "0000000000000001000000000000000000000000deadbeef"
        }),
        invalid,
    )
    .evs(
        WHO,
        "ListVmEntitlements",
        json!({
            "environmentId": "{{env}}", "connectorId": "{{conn}}", "entitlementType": "WINDOWS_SERVER",
            "nextToken": "not-a-token"
        }),
        invalid,
    )
    // UpdateEnvironmentConnector needs exactly one of the two members.
    .evs(
        WHO,
        "UpdateEnvironmentConnector",
        json!({
            "environmentId": "{{env}}", "connectorId": "{{conn}}",
            "applianceFqdn": "a.example.com", "secretIdentifier": "b"
        }),
        invalid,
    )
}

#[cfg(test)]
mod tests {
    //! What each scenario is for, checked on the model's replies; the snapshots show the rest.

    use super::*;
    use crate::scenario::{run, ScenarioRun};
    use crate::target::ModelTarget;
    use conform_model::Policy;

    fn on_model(s: &Scenario) -> ScenarioRun {
        let run = run(&mut ModelTarget::new(1, Policy::default()), s)
            .expect("the model never fails as infrastructure");
        assert!(run.failures.is_empty(), "{}: {:#?}", s.name, run.failures);
        run
    }

    /// The replies of every `op` call, in order.
    fn replies<'a>(run: &'a ScenarioRun, op: &str) -> Vec<&'a Value> {
        run.records
            .iter()
            .filter(|r| r.op == op)
            .map(|r| &r.response.body)
            .collect()
    }

    fn statuses(reply: &Value) -> Vec<(String, String)> {
        reply["entitlements"]
            .as_array()
            .expect("a list of entitlements")
            .iter()
            .map(|e| {
                (
                    e["vmId"].as_str().unwrap().to_string(),
                    e["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn spec_4_3_the_lifecycle_walks_every_live_status() {
        let run = on_model(&full_lifecycle());
        let walk: Vec<String> = replies(&run, "ListVmEntitlements")
            .into_iter()
            .map(|r| match statuses(r).as_slice() {
                [(vm, status)] if vm == "vm-1" => status.clone(),
                other => panic!("one record for vm-1 expected, got {other:?}"),
            })
            .collect();
        assert_eq!(
            walk,
            ["CREATING", "CREATED", "AT_RISK", "CREATED", "ENTITLEMENT_REMOVED"]
        );
    }

    #[test]
    fn spec_4_3_unknown_and_non_windows_vms_fail_to_create() {
        let run = on_model(&create_failed());
        let list = replies(&run, "ListVmEntitlements");
        let last = list.last().expect("a list");
        let codes: Vec<&str> = last["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["errorDetail"]["errorCode"].as_str().unwrap_or("-"))
            .collect();
        assert_eq!(
            statuses(last),
            [
                ("vm-99", "CREATE_FAILED"),
                ("vm-4", "CREATE_FAILED"),
                ("vm-2", "CREATED")
            ]
            .map(|(v, s)| (v.to_string(), s.to_string()))
        );
        assert_eq!(codes, ["VM_NOT_FOUND", "UNSUPPORTED_GUEST_OS", "-"]);
    }

    #[test]
    fn spec_4_2_three_pages_hold_the_250_records_once_in_creation_order() {
        let run = on_model(&pagination_250());
        let pages = replies(&run, "ListVmEntitlements");
        let sizes: Vec<usize> = pages.iter().map(|p| statuses(p).len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(pages[2].get("nextToken").is_none(), "the last page ends the list");
        let listed: Vec<String> = pages.iter().flat_map(|p| statuses(p)).map(|(vm, _)| vm).collect();
        let created: Vec<String> = (1000..1250).map(|i| format!("vm-{i}")).collect();
        assert_eq!(listed, created);
    }

    #[test]
    fn spec_4_2_every_malformed_request_is_refused() {
        let run = on_model(&malformed_requests());
        let refused = run
            .records
            .iter()
            .filter(|r| r.service.is_some() && r.response.error_type.is_some())
            .count();
        // Every EVS call after the scene's CreateEnvironmentConnector is a refusal.
        let calls = run.records.iter().filter(|r| r.service.is_some()).count();
        assert_eq!(refused, calls - 1);
        assert!(refused >= 15, "only {refused} refusals");
    }
}
