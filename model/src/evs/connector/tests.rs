//! Unit tests of `evs::connector`.

use serde_json::{json, Value};

use super::super::testkit::*;
use super::super::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use crate::events::Event;
use crate::policy::Policy;

fn bare(policy: Policy) -> crate::World {
    let mut w = crate::World::new(3, policy);
    seed_env(&mut w, ENV, EnvironmentState::Created);
    w
}

fn create_body(kind: &str) -> Value {
    json!({"environmentId": ENV, "type": kind, "applianceFqdn": "vc.example.com", "secretIdentifier": "s1"})
}

fn listed(w: &mut crate::World) -> Vec<(String, String)> {
    let r = call(w, "ListEnvironmentConnectors", json!({"environmentId": ENV}));
    r.body["connectors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["type"].as_str().unwrap().into(),
                c["state"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn spec_4_1_create_answers_creating_unknown_then_active_passed() {
    for activation in [0, 60] {
        let mut w = bare(Policy {
            connector_activation_seconds: activation,
            ..Policy::default()
        });
        let r = call(&mut w, "CreateEnvironmentConnector", create_body("VCENTER"));
        let c = &r.body["connector"];
        assert_eq!(
            (c["state"].as_str(), c["status"].as_str()),
            (Some("CREATING"), Some("UNKNOWN"))
        );
        let id = c["connectorId"].as_str().unwrap();
        assert!(id.starts_with("cnctr-") && id.len() == 16, "{id}");
        assert_eq!(c["secretArn"], "s1", "secretArn echoes secretIdentifier");
        let checks: Vec<&str> = c["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            checks,
            ["VCENTER_REACHABILITY", "VCENTER_VM_SYNC", "VCENTER_VM_EVENT"]
        );
        if activation > 0 {
            assert_eq!(listed(&mut w), vec![("VCENTER".into(), "CREATING".into())]);
            w.apply(Event::advance_seconds(activation)).unwrap();
        }
        assert_eq!(
            listed(&mut w),
            vec![("VCENTER".into(), "ACTIVE".into())],
            "activation={activation}"
        );
        let r = call(&mut w, "ListEnvironmentConnectors", json!({"environmentId": ENV}));
        assert_eq!(r.body["connectors"][0]["status"], "PASSED");
        assert_eq!(r.body["connectors"][0]["checks"][1]["result"], "PASSED");
    }
}

#[test]
fn spec_4_1_one_non_deleted_connector_per_type_per_environment() {
    let mut w = bare(Policy::default());
    let first = call(&mut w, "CreateEnvironmentConnector", create_body("VCENTER"));
    let id = first.body["connector"]["connectorId"].clone();
    let cases = [
        (
            "VCENTER",
            (400, "ValidationException".to_string(), "other".to_string()),
        ),
        ("SDDC_MANAGER", (200, String::new(), String::new())),
    ];
    for (kind, expected) in cases {
        assert_eq!(
            outcome(&call(&mut w, "CreateEnvironmentConnector", create_body(kind))),
            expected,
            "{kind}"
        );
    }
    call(
        &mut w,
        "DeleteEnvironmentConnector",
        json!({"environmentId": ENV, "connectorId": id}),
    );
    let again = call(&mut w, "CreateEnvironmentConnector", create_body("VCENTER"));
    assert_eq!(again.status, 200, "a DELETED connector frees its type");
    let missing = json!({"environmentId": "env-zzzzzzzzzz", "type": "VCENTER", "applianceFqdn": "a", "secretIdentifier": "s"});
    let r = call(&mut w, "CreateEnvironmentConnector", missing);
    assert_eq!(r.body["resourceType"], "environment");
}

#[test]
fn spec_4_1_update_needs_exactly_one_member_and_active_or_update_failed() {
    let cases = [
        (
            ConnectorState::Active,
            json!({"applianceFqdn": "vc2.example.com"}),
            200,
            "",
        ),
        (
            ConnectorState::UpdateFailed,
            json!({"secretIdentifier": "s2"}),
            200,
            "",
        ),
        (ConnectorState::Active, json!({}), 400, "other"),
        (
            ConnectorState::Active,
            json!({"applianceFqdn": "a", "secretIdentifier": "b"}),
            400,
            "other",
        ),
        (
            ConnectorState::Creating,
            json!({"secretIdentifier": "s2"}),
            400,
            "other",
        ),
        (
            ConnectorState::CreateFailed,
            json!({"secretIdentifier": "s2"}),
            400,
            "other",
        ),
        (
            ConnectorState::Updating,
            json!({"secretIdentifier": "s2"}),
            400,
            "other",
        ),
        (
            ConnectorState::Deleting,
            json!({"secretIdentifier": "s2"}),
            400,
            "other",
        ),
    ];
    for (state, members, status, reason) in cases {
        let mut w = bare(Policy::default());
        seed_connector(&mut w, ENV, CONN, ConnectorType::Vcenter, state);
        let mut body = members.clone();
        body["environmentId"] = json!(ENV);
        body["connectorId"] = json!(CONN);
        let r = call(&mut w, "UpdateEnvironmentConnector", body);
        assert_eq!(
            (r.status, r.body["reason"].as_str().unwrap_or("")),
            (status, reason),
            "{state} {members}"
        );
        if status == 200 {
            assert_eq!(r.body["connector"]["state"], "UPDATING");
            assert_eq!(
                listed(&mut w),
                vec![("VCENTER".into(), "ACTIVE".into())],
                "ACTIVE after 0 s"
            );
        }
    }
}

#[test]
fn spec_4_1_fqdn_cannot_change_while_live_entitlements_exist() {
    let mut w = world();
    create(&mut w, &["vm-1"]);
    let body = |m: Value| {
        let mut b = m;
        b["environmentId"] = json!(ENV);
        b["connectorId"] = json!(CONN);
        b
    };
    let r = call(
        &mut w,
        "UpdateEnvironmentConnector",
        body(json!({"applianceFqdn": "other.example.com"})),
    );
    assert_eq!(outcome(&r), (400, "ValidationException".into(), "other".into()));
    let same = call(
        &mut w,
        "UpdateEnvironmentConnector",
        body(json!({"applianceFqdn": "vc.example.com"})),
    );
    assert_eq!(same.status, 200, "the same FQDN is no change");
    let secret = call(
        &mut w,
        "UpdateEnvironmentConnector",
        body(json!({"secretIdentifier": "rotated"})),
    );
    assert_eq!(secret.body["connector"]["secretArn"], "rotated");
    delete(&mut w, &["vm-1"]);
    let r = call(
        &mut w,
        "UpdateEnvironmentConnector",
        body(json!({"applianceFqdn": "other.example.com"})),
    );
    assert_eq!(r.status, 200, "allowed once no entitlement is live");
}

#[test]
fn spec_4_1_delete_refused_while_entitlements_are_live_then_deleted_and_hidden() {
    let mut w = world();
    create(&mut w, &["vm-1", "vm-9"]);
    let body = json!({"environmentId": ENV, "connectorId": CONN});
    let r = call(&mut w, "DeleteEnvironmentConnector", body.clone());
    assert_eq!(
        outcome(&r),
        (400, "ValidationException".into(), "other".into()),
        "CREATING blocks"
    );
    next_sync(&mut w);
    // vm-1 CREATED still blocks; vm-9 CREATE_FAILED does not.
    assert_eq!(
        call(&mut w, "DeleteEnvironmentConnector", body.clone()).status,
        400
    );
    delete(&mut w, &["vm-1"]);
    let r = call(&mut w, "DeleteEnvironmentConnector", body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["connector"]["state"], "DELETING");
    assert_eq!(r.body["environmentSummary"]["environmentId"], ENV);
    assert!(listed(&mut w).is_empty(), "DELETED connectors are not listed");
    let r = call(&mut w, "DeleteEnvironmentConnector", body);
    assert_eq!(r.body["resourceType"], "connector");
    assert_eq!(list(&mut w).body["resourceType"], "connector");
}

#[test]
fn spec_4_1_checks_mirror_health_and_impaired_since_is_set_when_it_turns_failed() {
    let mut w = world();
    w.apply(Event::advance_seconds(5)).unwrap();
    set_health(&mut w, CheckResult::Failed);
    let failed_at = w.now_ms() / 1000;
    w.apply(Event::advance_seconds(5)).unwrap();
    set_health(&mut w, CheckResult::Failed);
    let r = call(&mut w, "ListEnvironmentConnectors", json!({"environmentId": ENV}));
    let c = &r.body["connectors"][0];
    assert_eq!(c["status"], "FAILED");
    for check in c["checks"].as_array().unwrap() {
        assert_eq!(check["result"], "FAILED");
        assert_eq!(
            check["impairedSince"],
            json!(failed_at),
            "kept while it stays FAILED"
        );
    }
    set_health(&mut w, CheckResult::Unknown);
    let r = call(&mut w, "ListEnvironmentConnectors", json!({"environmentId": ENV}));
    assert!(r.body["connectors"][0]["checks"][0]
        .get("impairedSince")
        .is_none());
}

/// SPEC 4.1: `lastCheckAttempt` is the instant the health was last set: at seeding, at
/// activation, at a health event; never defaulted to anything else.
#[test]
fn spec_4_1_last_check_attempt_is_when_the_health_was_last_set() {
    let attempts = |w: &mut crate::World| -> Vec<Value> {
        let r = call(w, "ListEnvironmentConnectors", json!({"environmentId": ENV}));
        r.body["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["checks"][0]["lastCheckAttempt"].clone())
            .collect()
    };
    let mut w = world();
    let seeded_at = w.now_ms() / 1000;
    w.apply(Event::advance_seconds(7)).unwrap();
    assert_eq!(attempts(&mut w), vec![json!(seeded_at)], "seeding sets it");
    set_health(&mut w, CheckResult::Passed);
    let event_at = w.now_ms() / 1000;
    w.apply(Event::advance_seconds(7)).unwrap();
    assert_eq!(attempts(&mut w), vec![json!(event_at)], "a health event sets it");
    let created = call(&mut w, "CreateEnvironmentConnector", create_body("SDDC_MANAGER"));
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(
        created.body["connector"]["checks"]
            .as_array()
            .is_none_or(|cs| cs.iter().all(|c| c.get("lastCheckAttempt").is_none())),
        "not set before the first health: {}",
        created.body
    );
    let activated_at = w.now_ms() / 1000;
    w.apply(Event::advance_seconds(7)).unwrap();
    assert_eq!(
        attempts(&mut w),
        vec![json!(event_at), json!(activated_at)],
        "activation sets it"
    );
}

#[test]
fn spec_4_1_connector_operations_need_a_non_deleted_environment_whatever_its_state() {
    for (state, found) in [
        (EnvironmentState::Creating, true),
        (EnvironmentState::CreateFailed, true),
        (EnvironmentState::Deleted, false),
    ] {
        let mut w = crate::World::new(1, Policy::default());
        seed_env(&mut w, ENV, state);
        let r = call(&mut w, "CreateEnvironmentConnector", create_body("VCENTER"));
        assert_eq!(r.status == 200, found, "{state}");
        let r = call(&mut w, "ListEnvironmentConnectors", json!({"environmentId": ENV}));
        assert_eq!(r.status == 200, found, "{state}");
    }
}
