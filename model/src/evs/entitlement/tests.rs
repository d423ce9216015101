//! Unit tests of `evs::entitlement`.

use serde_json::json;

use super::super::environment::GuestOs;
use super::super::testkit::*;
use super::super::types::{ConnectorState, ConnectorType, EnvironmentState};
use crate::events::Event;
use crate::policy::Policy;

fn ok() -> (u16, String, String) {
    (200, String::new(), String::new())
}

fn err(status: u16, kind: &str, detail: &str) -> (u16, String, String) {
    (status, kind.to_string(), detail.to_string())
}

#[test]
fn spec_4_2_vm_ids_shape_one_to_hundred_and_no_duplicates() {
    let hundred: Vec<String> = (1..=100).map(|i| format!("vm-{i}")).collect();
    let too_many: Vec<String> = (1..=101).map(|i| format!("vm-{i}")).collect();
    let cases = [
        (json!(["vm-1", "vm-2"]), ok()),
        (json!(hundred), ok()),
        (
            json!(too_many),
            err(400, "ValidationException", "fieldValidationFailed"),
        ),
        (
            json!([]),
            err(400, "ValidationException", "fieldValidationFailed"),
        ),
        (
            json!(["vm-1", "vm-1"]),
            err(400, "ValidationException", "fieldValidationFailed"),
        ),
        (
            json!(["vm-x"]),
            err(400, "ValidationException", "fieldValidationFailed"),
        ),
    ];
    for (vm_ids, expected) in cases {
        let mut w = world();
        let body = json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER", "vmIds": vm_ids});
        let r = call(&mut w, "CreateEntitlement", body.clone());
        assert_eq!(outcome(&r), expected, "{vm_ids}: {}", r.body);
        if r.is_error() {
            assert!(
                w.evs().entitlements().is_empty(),
                "a refused request creates nothing"
            );
        }
    }
    let mut w = world();
    let r = create(&mut w, &["vm-1", "vm-2", "vm-1"]);
    assert_eq!(r.body["fieldList"][0]["name"], "vmIds");
    let r = delete(&mut w, &["vm-1", "vm-1"]);
    assert_eq!(
        r.body["fieldList"][0]["name"], "vmIds",
        "Delete checks duplicates too"
    );
}

#[test]
fn spec_4_2_client_token_is_validated_then_ignored() {
    let mut w = world();
    let mut body = vms_body(ENV, CONN, &["vm-1"]);
    body["clientToken"] = json!("tok-1");
    assert_eq!(outcome(&call(&mut w, "CreateEntitlement", body.clone())), ok());
    // The same token again is not a replay: the VM now has a live record.
    assert_eq!(
        outcome(&call(&mut w, "CreateEntitlement", body.clone())),
        err(400, "ValidationException", "other")
    );
    body["clientToken"] = json!("has space");
    assert_eq!(
        outcome(&call(&mut w, "CreateEntitlement", body)),
        err(400, "ValidationException", "fieldValidationFailed")
    );
}

#[test]
fn spec_4_2_existence_environment_then_connector() {
    let mut w = world();
    seed_env(&mut w, "env-bbbbbbbbbb", EnvironmentState::Created);
    seed_connector(
        &mut w,
        "env-bbbbbbbbbb",
        "cnctr-bbbbbbbbbb",
        ConnectorType::Vcenter,
        ConnectorState::Active,
    );
    seed_env(&mut w, "env-dddddddddd", EnvironmentState::Deleted);
    seed_connector(
        &mut w,
        ENV,
        "cnctr-dddddddddd",
        ConnectorType::SddcManager,
        ConnectorState::Deleted,
    );
    let cases = [
        ("env-zzzzzzzzzz", CONN, "environment"),
        ("env-dddddddddd", CONN, "environment"),
        (ENV, "cnctr-zzzzzzzzzz", "connector"),
        (ENV, "cnctr-bbbbbbbbbb", "connector"),
        (ENV, "cnctr-dddddddddd", "connector"),
        ("env-zzzzzzzzzz", "cnctr-zzzzzzzzzz", "environment"),
    ];
    for op in ["CreateEntitlement", "DeleteEntitlement", "ListVmEntitlements"] {
        for (env, conn, kind) in cases {
            let r = call(&mut w, op, vms_body(env, conn, &["vm-1"]));
            assert_eq!(
                outcome(&r),
                err(404, "ResourceNotFoundException", kind),
                "{op} {env} {conn}"
            );
        }
    }
    // Another region of the same account sees none of it.
    let other = crate::world::Caller::new("123456789012", "eu-west-1");
    let body = vms_body(ENV, CONN, &["vm-1"]);
    let r = w.handle(
        &other,
        crate::Service::Evs,
        "CreateEntitlement",
        body.to_string().as_bytes(),
    );
    assert_eq!(outcome(&r), err(404, "ResourceNotFoundException", "environment"));
}

#[test]
fn spec_4_2_state_rules_for_create_delete_and_list() {
    // (environment state, connector type, connector state, create, delete/list)
    let cases = [
        (
            EnvironmentState::Created,
            ConnectorType::Vcenter,
            ConnectorState::Active,
            true,
            true,
        ),
        (
            EnvironmentState::Creating,
            ConnectorType::Vcenter,
            ConnectorState::Active,
            false,
            false,
        ),
        (
            EnvironmentState::Deleting,
            ConnectorType::Vcenter,
            ConnectorState::Active,
            false,
            false,
        ),
        (
            EnvironmentState::Created,
            ConnectorType::SddcManager,
            ConnectorState::Active,
            false,
            false,
        ),
        (
            EnvironmentState::Created,
            ConnectorType::Vcenter,
            ConnectorState::UpdateFailed,
            false,
            true,
        ),
        (
            EnvironmentState::Created,
            ConnectorType::Vcenter,
            ConnectorState::CreateFailed,
            false,
            true,
        ),
        (
            EnvironmentState::Created,
            ConnectorType::Vcenter,
            ConnectorState::Deleting,
            false,
            true,
        ),
    ];
    for (env_state, kind, state, create_ok, others_ok) in cases {
        let mut w = crate::World::new(1, Policy::default());
        seed_env(&mut w, ENV, env_state);
        seed_connector(&mut w, ENV, CONN, kind, state);
        let expect = |ok_side: bool| {
            if ok_side {
                ok()
            } else {
                err(400, "ValidationException", "other")
            }
        };
        assert_eq!(
            outcome(&create(&mut w, &["vm-1"])),
            expect(create_ok),
            "create {env_state} {kind} {state}"
        );
        assert_eq!(
            outcome(&list(&mut w)),
            expect(others_ok),
            "list {env_state} {kind} {state}"
        );
        // Delete of a VM without a record: the state rule answers first when it refuses.
        let r = delete(&mut w, &["vm-9"]);
        let expected = if others_ok {
            err(404, "ResourceNotFoundException", "entitlement")
        } else {
            expect(false)
        };
        assert_eq!(outcome(&r), expected, "delete {env_state} {kind} {state}");
    }
}

#[test]
fn spec_4_2_create_refuses_live_records_all_or_nothing() {
    let mut w = world();
    assert_eq!(outcome(&create(&mut w, &["vm-2"])), ok());
    let before = w.evs().entitlements();
    let r = create(&mut w, &["vm-1", "vm-2", "vm-3"]);
    assert_eq!(outcome(&r), err(400, "ValidationException", "other"));
    assert_eq!(
        r.body["fieldList"][0]["name"], "vmIds.2",
        "names the live VM by position"
    );
    assert_eq!(w.evs().entitlements(), before, "nothing created");
    next_sync(&mut w);
    set_health(&mut w, crate::evs::types::CheckResult::Failed);
    next_sync(&mut w);
    assert_eq!(statuses(&mut w), vec![("vm-2".into(), "AT_RISK".into())]);
    let r = create(&mut w, &["vm-3", "vm-2"]);
    assert_eq!(r.body["fieldList"][0]["name"], "vmIds.2", "AT_RISK is live");
}

#[test]
fn spec_4_2_create_returns_creating_records_in_request_order_with_vm_name_iff_present() {
    let mut w = world();
    let r = create(&mut w, &["vm-3", "vm-77", "vm-1"]);
    let got: Vec<(String, String, bool)> = r.body["entitlements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["vmId"].as_str().unwrap().into(),
                e["status"].as_str().unwrap().into(),
                e.get("vmName").is_some(),
            )
        })
        .collect();
    let expected = [
        ("vm-3", "CREATING", true),
        ("vm-77", "CREATING", false),
        ("vm-1", "CREATING", true),
    ];
    let expected: Vec<(String, String, bool)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), *c))
        .collect();
    assert_eq!(got, expected);
    let e = &r.body["entitlements"][0];
    assert_eq!(
        (
            e["environmentId"].as_str(),
            e["connectorId"].as_str(),
            e["type"].as_str()
        ),
        (Some(ENV), Some(CONN), Some("WINDOWS_SERVER"))
    );
    assert!(e.get("startedAt").is_none() && e.get("lastSyncedAt").is_none());
}

#[test]
fn spec_4_2_create_replaces_a_terminal_record() {
    let mut w = world();
    create(&mut w, &["vm-5", "vm-1"]);
    next_sync(&mut w);
    assert_eq!(
        statuses(&mut w),
        vec![
            ("vm-5".into(), "CREATE_FAILED".into()),
            ("vm-1".into(), "CREATED".into())
        ]
    );
    add_vm(&mut w, "vm-5", GuestOs::WindowsServer);
    let r = create(&mut w, &["vm-5"]);
    assert_eq!(outcome(&r), ok());
    let e = &r.body["entitlements"][0];
    assert_eq!(e["status"], "CREATING");
    assert!(
        e.get("errorDetail").is_none() && e.get("lastSyncedAt").is_none(),
        "{e}"
    );
    // The replacing record takes a new creation sequence: it lists last.
    assert_eq!(
        statuses(&mut w),
        vec![
            ("vm-1".into(), "CREATED".into()),
            ("vm-5".into(), "CREATING".into())
        ]
    );
    assert_eq!(w.evs().entitlements().len(), 2, "one current record per VM");
}

#[test]
fn spec_4_2_delete_first_missing_vm_is_not_found_and_nothing_is_deleted() {
    let mut w = world();
    create(&mut w, &["vm-1", "vm-2"]);
    let r = delete(&mut w, &["vm-1", "vm-9", "vm-8"]);
    assert_eq!(outcome(&r), err(404, "ResourceNotFoundException", "entitlement"));
    assert_eq!(r.body["resourceId"], "vm-9");
    assert_eq!(statuses(&mut w).len(), 2, "nothing deleted");
    let r = delete(&mut w, &["vm-2", "vm-1"]);
    assert_eq!(outcome(&r), ok());
    assert_eq!(r.body["entitlements"][0]["vmId"], "vm-2", "request order");
    assert!(statuses(&mut w).is_empty(), "DELETED records are hidden");
}

#[test]
fn spec_4_2_delete_sets_stopped_at_only_where_absent_and_returns_deleted_as_they_are() {
    let mut w = world();
    create(&mut w, &["vm-1", "vm-2"]);
    next_sync(&mut w);
    let removed = crate::evs::environment::VmRef {
        account: None,
        region: None,
        environment_id: ENV.into(),
        vm_id: "vm-2".into(),
    };
    w.apply(Event::RemoveVm(removed)).unwrap();
    next_sync(&mut w);
    let listed = list(&mut w);
    let removed_at = listed.body["entitlements"][1]["stoppedAt"].clone();
    assert_eq!(listed.body["entitlements"][1]["status"], "ENTITLEMENT_REMOVED");
    w.apply(Event::advance_seconds(10)).unwrap();
    let first = delete(&mut w, &["vm-1", "vm-2"]);
    let now_s = w.now_ms() / 1000;
    assert_eq!(first.body["entitlements"][0]["stoppedAt"], json!(now_s));
    assert_eq!(
        first.body["entitlements"][1]["stoppedAt"], removed_at,
        "kept where present"
    );
    assert!(
        first.body["entitlements"][0].get("startedAt").is_some(),
        "other fields stay"
    );
    w.apply(Event::advance_seconds(10)).unwrap();
    let again = delete(&mut w, &["vm-1", "vm-2"]);
    assert_eq!(again.body, first.body, "DELETED records are returned as they are");
}

#[test]
fn spec_4_2_list_orders_by_creation_sequence_and_hides_deleted_by_policy() {
    for list_deleted in [false, true] {
        let mut w = world_with(Policy {
            list_deleted,
            ..Policy::default()
        });
        create(&mut w, &["vm-3"]);
        create(&mut w, &["vm-1", "vm-2"]);
        delete(&mut w, &["vm-1"]);
        let got: Vec<String> = statuses(&mut w)
            .into_iter()
            .map(|(v, s)| format!("{v}:{s}"))
            .collect();
        let expected = if list_deleted {
            vec!["vm-3:CREATING", "vm-1:DELETED", "vm-2:CREATING"]
        } else {
            vec!["vm-3:CREATING", "vm-2:CREATING"]
        };
        assert_eq!(got, expected, "list_deleted={list_deleted}");
    }
}

#[test]
fn spec_4_2_page_tokens_are_bound_to_the_query_and_expire_after_24_hours() {
    let mut w = world();
    create(&mut w, &["vm-1", "vm-2", "vm-3"]);
    let body = json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER", "maxResults": 2});
    let first = call(&mut w, "ListVmEntitlements", body.clone());
    let token = first.body["nextToken"].as_str().unwrap().to_string();
    let mut next = body.clone();
    next["nextToken"] = json!(token);
    let second = call(&mut w, "ListVmEntitlements", next.clone());
    assert_eq!(second.body["entitlements"][0]["vmId"], "vm-3");
    assert!(
        second.body.get("nextToken").is_none(),
        "the last page has no token"
    );
    let mut forged = next.clone();
    let flipped = if token.ends_with('0') { '1' } else { '0' };
    forged["nextToken"] = json!(format!("{}{flipped}", &token[..47]));
    let r = call(&mut w, "ListVmEntitlements", forged);
    assert_eq!(outcome(&r), err(400, "ValidationException", "other"));
    assert!(r.body["message"].as_str().unwrap().contains("InvalidToken"));
    w.apply(Event::advance_seconds(24 * 3600 - 1)).unwrap();
    assert_eq!(outcome(&call(&mut w, "ListVmEntitlements", next.clone())), ok());
    w.apply(Event::advance_seconds(1)).unwrap();
    let r = call(&mut w, "ListVmEntitlements", next);
    assert_eq!(
        outcome(&r),
        err(400, "ValidationException", "other"),
        "expired at 24 h"
    );
    assert!(r.body["message"].as_str().unwrap().contains("InvalidToken"));
}
