//! Scenario snapshots of EVS request/response transcripts (SPEC 4), ids and times redacted.
//! Each snapshot was read and checked against SPEC 4 before it was accepted.

mod common;

use common::transcript::{settings, Transcript};
use conform_model::events::{ConnectorHealth, VmGuestOs, VmRef};
use conform_model::evs::environment::{ConnectorFixture, EnvironmentFixture, GuestOs, VmFixture};
use conform_model::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use conform_model::{Caller, Event, Policy, World};
use serde_json::{json, Value};

fn caller() -> Caller {
    Caller::new("123456789012", "us-east-1")
}

/// A world, its transcript, and a CREATED environment (id drawn) with Windows VMs vm-1..vm-3
/// and vm-4 running another OS.
struct Scene {
    w: World,
    t: Transcript,
    env: String,
}

impl Scene {
    fn new() -> Scene {
        let mut w = World::new(2026, Policy::default());
        // Start a little after a boundary, so offsets show where syncs fall.
        w.apply(Event::advance_seconds(10)).expect("clock");
        let mut t = Transcript::new(&w);
        let f = EnvironmentFixture {
            account: None,
            region: None,
            environment_id: None,
            state: EnvironmentState::Created,
            name: Some("lab".into()),
            vcf_version: None,
        };
        let env = t.event(&mut w, Event::SeedEvsEnvironment(f))["environmentId"]
            .as_str()
            .expect("an id")
            .to_string();
        let mut s = Scene { w, t, env };
        for (vm, os) in [
            ("vm-1", GuestOs::WindowsServer),
            ("vm-2", GuestOs::WindowsServer),
            ("vm-3", GuestOs::WindowsServer),
            ("vm-4", GuestOs::Other),
        ] {
            s.add_vm(vm, os);
        }
        s
    }

    fn add_vm(&mut self, vm: &str, guest_os: GuestOs) {
        let f = VmFixture {
            account: None,
            region: None,
            environment_id: self.env.clone(),
            vm_id: vm.into(),
            name: format!("host-{vm}"),
            guest_os,
        };
        self.t.event(&mut self.w, Event::AddVm(f));
    }

    fn call(&mut self, op: &str, body: Value) -> Value {
        self.t.call(&mut self.w, &caller(), op, &body).body
    }

    fn raw(&mut self, op: &str, body: &str) {
        self.t.call_raw(&mut self.w, &caller(), op, body.as_bytes());
    }

    fn event(&mut self, e: Event) {
        self.t.event(&mut self.w, e);
    }

    /// CreateEnvironmentConnector for a VCENTER connector; returns its id.
    fn vcenter(&mut self) -> String {
        let body = json!({"environmentId": self.env, "type": "VCENTER",
            "applianceFqdn": "vcenter.lab.example.com", "secretIdentifier": "evs/vcenter", "clientToken": "c-1"});
        let r = self.call("CreateEnvironmentConnector", body);
        r["connector"]["connectorId"].as_str().expect("an id").to_string()
    }

    fn vms(&self, conn: &str, vms: &[&str]) -> Value {
        json!({"environmentId": self.env, "connectorId": conn, "entitlementType": "WINDOWS_SERVER", "vmIds": vms})
    }

    fn list(&mut self, conn: &str) -> Value {
        let body =
            json!({"environmentId": self.env, "connectorId": conn, "entitlementType": "WINDOWS_SERVER"});
        self.call("ListVmEntitlements", body)
    }

    fn health(&mut self, conn: &str, health: CheckResult) {
        let f = ConnectorHealth {
            account: None,
            region: None,
            connector_id: conn.into(),
            health,
        };
        self.event(Event::SetConnectorHealth(f));
    }

    fn advance(&mut self, seconds: i64) {
        self.event(Event::advance_seconds(seconds));
    }

    fn snapshot(&self, name: &str) {
        settings().bind(|| insta::assert_json_snapshot!(name, self.t.render()));
    }
}

#[test]
fn spec_4_3_full_lifecycle() {
    let mut s = Scene::new();
    let conn = s.vcenter();
    s.call("ListEnvironmentConnectors", json!({"environmentId": s.env}));
    let body = s.vms(&conn, &["vm-1"]);
    s.call("CreateEntitlement", body);
    s.list(&conn);
    s.advance(290); // the boundary at t0+290s: CREATING → CREATED
    s.list(&conn);
    s.health(&conn, CheckResult::Failed);
    s.advance(300); // unhealthy: CREATED → AT_RISK, lastSyncedAt unchanged
    s.list(&conn);
    s.health(&conn, CheckResult::Passed);
    s.advance(300); // healthy again: AT_RISK → CREATED
    s.list(&conn);
    let f = VmRef {
        account: None,
        region: None,
        environment_id: s.env.clone(),
        vm_id: "vm-1".into(),
    };
    s.event(Event::RemoveVm(f));
    s.advance(300); // VM gone: CREATED → ENTITLEMENT_REMOVED
    s.list(&conn);
    s.snapshot("evs_full_lifecycle");
}

#[test]
fn spec_4_3_create_failed_for_unknown_and_non_windows_vms() {
    let mut s = Scene::new();
    let conn = s.vcenter();
    let body = s.vms(&conn, &["vm-99", "vm-4", "vm-2"]);
    s.call("CreateEntitlement", body);
    s.advance(290);
    s.list(&conn);
    s.snapshot("evs_create_failed");
}

#[test]
fn spec_4_2_delete_and_recreate_after_a_terminal_state() {
    let mut s = Scene::new();
    let conn = s.vcenter();
    let body = s.vms(&conn, &["vm-3"]);
    s.call("CreateEntitlement", body.clone());
    s.advance(290);
    let f = VmGuestOs {
        account: None,
        region: None,
        environment_id: s.env.clone(),
        vm_id: "vm-3".into(),
        guest_os: GuestOs::Other,
    };
    s.event(Event::SetVmGuestOs(f));
    s.advance(300); // no longer Windows: ENTITLEMENT_REMOVED
    s.call("DeleteEntitlement", body.clone()); // DELETED, stoppedAt kept
    s.list(&conn); // DELETED is hidden
    s.call("DeleteEntitlement", body.clone()); // returned as it is
    s.call("CreateEntitlement", body.clone()); // replaces the terminal record
    s.list(&conn);
    s.snapshot("evs_delete_and_recreate");
}

#[test]
fn spec_4_1_connector_cannot_be_deleted_while_entitlements_are_live() {
    let mut s = Scene::new();
    let conn = s.vcenter();
    let body = s.vms(&conn, &["vm-1", "vm-2"]);
    s.call("CreateEntitlement", body.clone());
    let target = json!({"environmentId": s.env, "connectorId": conn});
    s.call("DeleteEnvironmentConnector", target.clone()); // CREATING blocks
    s.advance(290);
    s.call("DeleteEnvironmentConnector", target.clone()); // CREATED blocks
    s.call(
        "UpdateEnvironmentConnector",
        json!({"environmentId": s.env, "connectorId": conn, "applianceFqdn": "vc2.lab.example.com"}),
    );
    s.call("DeleteEntitlement", body);
    s.call("DeleteEnvironmentConnector", target.clone());
    s.call("ListEnvironmentConnectors", json!({"environmentId": s.env}));
    s.call("DeleteEnvironmentConnector", target);
    s.snapshot("evs_connector_delete_blocked");
}

#[test]
fn spec_4_2_pagination_over_250_vms() {
    let mut s = Scene::new();
    s.t = Transcript::new(&s.w).compact_lists(3);
    let conn = s.vcenter();
    let all: Vec<String> = (1000..1250).map(|i| format!("vm-{i}")).collect();
    for chunk in all.chunks(100) {
        let ids: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let body = s.vms(&conn, &ids);
        s.call("CreateEntitlement", body);
    }
    let mut body = json!({"environmentId": s.env, "connectorId": conn, "entitlementType": "WINDOWS_SERVER", "maxResults": 100});
    loop {
        let r = s.call("ListVmEntitlements", body.clone());
        match r.get("nextToken") {
            Some(token) => body["nextToken"] = token.clone(),
            None => break,
        }
    }
    s.snapshot("evs_pagination_250");
}

#[test]
fn spec_4_2_malformed_and_refused_requests() {
    let mut s = Scene::new();
    let conn = s.vcenter();
    let too_many: Vec<String> = (1..=101).map(|i| format!("vm-{i}")).collect();
    let many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let mut t = Transcript::new(&s.w).compact_lists(3);
    std::mem::swap(&mut s.t, &mut t);
    let body = s.vms(&conn, &many);
    s.call("CreateEntitlement", body);
    let body = s.vms(&conn, &["vm-1", "vm-2", "vm-1"]);
    s.call("CreateEntitlement", body);
    let body = s.vms(&conn, &["vm-1", "host-2"]);
    s.call("CreateEntitlement", body);
    s.call(
        "CreateEntitlement",
        json!({"environmentId": "env-1", "connectorId": "cnctr-2", "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-1"]}),
    );
    s.call(
        "CreateEntitlement",
        json!({"environmentId": s.env, "connectorId": conn, "entitlementType": "WINDOWS", "vmIds": ["vm-1"]}),
    );
    s.raw("CreateEntitlement", "{\"vmIds\": [");
    // A connector that is not VCENTER.
    let sddc = ConnectorFixture {
        account: None,
        region: None,
        environment_id: s.env.clone(),
        connector_id: Some("cnctr-sddc000001".into()),
        connector_type: ConnectorType::SddcManager,
        appliance_fqdn: "sddc.lab.example.com".into(),
        secret_identifier: "evs/sddc".into(),
        state: ConnectorState::Active,
        health: CheckResult::Passed,
    };
    s.event(Event::SeedEvsConnector(sddc));
    let body = s.vms("cnctr-sddc000001", &["vm-1"]);
    s.call("CreateEntitlement", body);
    // A VCENTER connector that is not ACTIVE (its last update failed).
    let f = EnvironmentFixture {
        account: None,
        region: None,
        environment_id: Some("env-updating01".into()),
        state: EnvironmentState::Created,
        name: None,
        vcf_version: None,
    };
    s.event(Event::SeedEvsEnvironment(f));
    let c = ConnectorFixture {
        account: None,
        region: None,
        environment_id: "env-updating01".into(),
        connector_id: Some("cnctr-updating01".into()),
        connector_type: ConnectorType::Vcenter,
        appliance_fqdn: "vc.updating.example.com".into(),
        secret_identifier: "evs/vc".into(),
        state: ConnectorState::UpdateFailed,
        health: CheckResult::Passed,
    };
    s.event(Event::SeedEvsConnector(c));
    s.call(
        "CreateEntitlement",
        json!({"environmentId": "env-updating01", "connectorId": "cnctr-updating01", "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-1"]}),
    );
    // An environment that is not CREATED.
    let f = EnvironmentFixture {
        account: None,
        region: None,
        environment_id: Some("env-creating01".into()),
        state: EnvironmentState::Creating,
        name: None,
        vcf_version: None,
    };
    s.event(Event::SeedEvsEnvironment(f));
    let c = ConnectorFixture {
        account: None,
        region: None,
        environment_id: "env-creating01".into(),
        connector_id: Some("cnctr-creating01".into()),
        connector_type: ConnectorType::Vcenter,
        appliance_fqdn: "vc.creating.example.com".into(),
        secret_identifier: "evs/vc".into(),
        state: ConnectorState::Active,
        health: CheckResult::Passed,
    };
    s.event(Event::SeedEvsConnector(c));
    s.call(
        "CreateEntitlement",
        json!({"environmentId": "env-creating01", "connectorId": "cnctr-creating01", "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-1"]}),
    );
    // Unknown environment, unknown connector, a connector of another environment.
    let body = json!({"environmentId": "env-zzzzzzzzzz", "connectorId": conn, "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-1"]});
    s.call("CreateEntitlement", body);
    let body = s.vms("cnctr-zzzzzzzzzz", &["vm-1"]);
    s.call("DeleteEntitlement", body);
    let body = s.vms("cnctr-creating01", &["vm-1"]);
    s.call("DeleteEntitlement", body);
    // A forged nextToken, and a token from another query.
    let mut body = json!({"environmentId": s.env, "connectorId": conn, "entitlementType": "WINDOWS_SERVER", "nextToken": "0000000000000001000000000000000000000000deadbeef"});
    s.call("ListVmEntitlements", body.clone());
    body["nextToken"] = json!("not-a-token");
    s.call("ListVmEntitlements", body);
    // UpdateEnvironmentConnector with both members.
    s.call(
        "UpdateEnvironmentConnector",
        json!({"environmentId": s.env, "connectorId": conn, "applianceFqdn": "a.example.com", "secretIdentifier": "b"}),
    );
    s.snapshot("evs_malformed_requests");
}
