//! Entitlement records (SPEC 4.2): CreateEntitlement, DeleteEntitlement and ListVmEntitlements,
//! checked in the order shape → existence → state, all or nothing, replies in request order.

use std::collections::BTreeSet;

use serde_json::json;

use super::types::*;
use super::{
    after_token, connector_mut, live_connector, live_environment, next_token, page_size, state_refusal,
    EntitlementRecord,
};
use crate::error::{AwsError, EvsReason, FieldViolation};
use crate::pagination;
use crate::policy::{EvsDuplicateVmIds, EvsErrorDetail, PolicyRule};
use crate::world::{Caller, World};

/// What the operation needs of the connector (SPEC 4.2 state rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// CreateEntitlement: VCENTER and ACTIVE.
    Active,
    /// DeleteEntitlement and ListVmEntitlements: VCENTER in any non-DELETED state.
    AnyState,
}

/// Duplicate `vmIds` are a shape violation named `vmIds` (SPEC 4.2 [P]), or, under
/// `evs_duplicate_vm_ids=dedupe`, dropped (the first occurrence kept).
fn reject_duplicates(world: &mut World, vm_ids: &mut Vec<String>) -> Result<(), AwsError> {
    let mut seen = BTreeSet::new();
    if vm_ids.iter().all(|v| seen.insert(v.clone())) {
        return Ok(());
    }
    world.rely(PolicyRule::EvsDuplicateVmIds);
    if world.policy.evs_duplicate_vm_ids == EvsDuplicateVmIds::Dedupe {
        let mut kept = BTreeSet::new();
        vm_ids.retain(|v| kept.insert(v.clone()));
        return Ok(());
    }
    let shown = json!(vm_ids).to_string();
    let message = format!(
        "Value '{shown}' at 'vmIds' failed to satisfy constraint: Member must not contain duplicates"
    );
    let mut error = AwsError::evs_validation(
        EvsReason::FieldValidationFailed,
        format!("1 validation error detected: {message}"),
    );
    error.detail.field_list = vec![FieldViolation {
        name: "vmIds".to_string(),
        message,
    }];
    Err(error)
}

/// Existence, then state (SPEC 4.2): the environment, then the connector, then their states.
fn check_target(
    world: &mut World,
    caller: &Caller,
    environment_id: &str,
    connector_id: &str,
    need: Need,
) -> Result<(), AwsError> {
    let environment_state = live_environment(world, caller, environment_id)?.state;
    let connector = live_connector(world, caller, environment_id, connector_id)?;
    let (kind, state) = (connector.kind, connector.state);
    if environment_state != EnvironmentState::Created {
        let message = format!("The environment {environment_id} is {environment_state}; it must be CREATED.");
        return Err(state_refusal(world, message));
    }
    if kind != ConnectorType::Vcenter {
        let message =
            format!("The connector {connector_id} is of type {kind}; entitlements need a VCENTER connector.");
        return Err(state_refusal(world, message));
    }
    if need == Need::Active && state != ConnectorState::Active {
        let message = format!("The connector {connector_id} is {state}; it must be ACTIVE.");
        return Err(state_refusal(world, message));
    }
    Ok(())
}

pub(crate) fn create_entitlement(
    world: &mut World,
    caller: &Caller,
    mut req: CreateEntitlementRequest,
) -> Result<CreateEntitlementResponse, AwsError> {
    reject_duplicates(world, &mut req.vm_ids)?;
    check_target(
        world,
        caller,
        &req.environment_id,
        &req.connector_id,
        Need::Active,
    )?;
    world.rely(PolicyRule::EvsAllOrNothing);
    refuse_live_records(world, caller, &req)?;
    let environment = live_environment(world, caller, &req.environment_id)?;
    // vmName is taken from the inventory now, and only for a VM present in it (SPEC 4.2).
    let names: Vec<Option<String>> = req
        .vm_ids
        .iter()
        .map(|id| {
            environment
                .vms
                .get(id)
                .filter(|vm| vm.present)
                .map(|vm| vm.name.clone())
        })
        .collect();
    let seqs: Vec<u64> = req.vm_ids.iter().map(|_| world.next_seq()).collect();
    let now = world.now_ms();
    let form = world.policy.evs_timestamps;
    let connector = connector_mut(world, caller, &req.connector_id)?;
    let mut entitlements = Vec::with_capacity(req.vm_ids.len());
    for ((vm_id, vm_name), seq) in req.vm_ids.into_iter().zip(names).zip(seqs) {
        let record = EntitlementRecord {
            seq,
            vm_id: vm_id.clone(),
            kind: req.entitlement_type,
            vm_name,
            status: EntitlementStatus::Creating,
            created_ms: now,
            last_synced_ms: None,
            started_ms: None,
            stopped_ms: None,
            error: None,
        };
        entitlements.push(connector.view(&record, form));
        // A terminal record is replaced by the new one (SPEC 4.2).
        if let Some(old) = connector.by_vm.insert((req.entitlement_type, vm_id), seq) {
            connector.records.remove(&old);
        }
        connector.records.insert(seq, record);
    }
    world.rely(PolicyRule::EvsTimestamps);
    Ok(CreateEntitlementResponse { entitlements })
}

/// Any VM whose record is CREATING, CREATED or AT_RISK refuses the whole request, naming every
/// such VM in request order (SPEC 4.2).
fn refuse_live_records(
    world: &mut World,
    caller: &Caller,
    req: &CreateEntitlementRequest,
) -> Result<(), AwsError> {
    let connector = live_connector(world, caller, &req.environment_id, &req.connector_id)?;
    let field_list: Vec<FieldViolation> = req
        .vm_ids
        .iter()
        .enumerate()
        .filter_map(|(i, vm_id)| {
            let record = connector.record(req.entitlement_type, vm_id)?;
            record.status.is_live().then(|| FieldViolation {
                name: format!("vmIds.{}", i + 1),
                message: format!(
                    "The VM {vm_id} already has an entitlement in status {}.",
                    record.status
                ),
            })
        })
        .collect();
    if field_list.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = field_list.iter().map(|f| f.message.as_str()).collect();
    let mut error = state_refusal(world, names.join(" "));
    error.detail.field_list = field_list;
    Err(error)
}

pub(crate) fn delete_entitlement(
    world: &mut World,
    caller: &Caller,
    mut req: DeleteEntitlementRequest,
) -> Result<DeleteEntitlementResponse, AwsError> {
    reject_duplicates(world, &mut req.vm_ids)?;
    check_target(
        world,
        caller,
        &req.environment_id,
        &req.connector_id,
        Need::AnyState,
    )?;
    world.rely(PolicyRule::EvsAllOrNothing);
    let connector = live_connector(world, caller, &req.environment_id, &req.connector_id)?;
    if let Some(missing) = req
        .vm_ids
        .iter()
        .find(|vm_id| connector.record(req.entitlement_type, vm_id).is_none())
    {
        return Err(AwsError::evs_not_found("entitlement", missing));
    }
    let now = world.now_ms();
    let form = world.policy.evs_timestamps;
    let connector = connector_mut(world, caller, &req.connector_id)?;
    let mut entitlements = Vec::with_capacity(req.vm_ids.len());
    for vm_id in &req.vm_ids {
        let Some(seq) = connector
            .by_vm
            .get(&(req.entitlement_type, vm_id.clone()))
            .copied()
        else {
            continue;
        };
        let Some(record) = connector.records.get_mut(&seq) else {
            continue;
        };
        if record.status != EntitlementStatus::Deleted {
            record.status = EntitlementStatus::Deleted;
            record.stopped_ms.get_or_insert(now);
        }
        let record = record.clone();
        entitlements.push(connector.view(&record, form));
    }
    world.rely(PolicyRule::EvsTimestamps);
    let entitlements = error_details_shown(world, entitlements);
    Ok(DeleteEntitlementResponse { entitlements })
}

pub(crate) fn list_vm_entitlements(
    world: &mut World,
    caller: &Caller,
    req: ListVmEntitlementsRequest,
) -> Result<ListVmEntitlementsResponse, AwsError> {
    check_target(
        world,
        caller,
        &req.environment_id,
        &req.connector_id,
        Need::AnyState,
    )?;
    let query = pagination::query_hash(&[
        "ListVmEntitlements",
        &caller.account,
        &caller.region,
        &req.environment_id,
        &req.connector_id,
        req.entitlement_type.as_str(),
    ]);
    let after = after_token(world, req.next_token.as_deref(), query)?;
    world.rely(PolicyRule::ListDeleted);
    let show_deleted = world.policy.list_deleted || fault!(world, DeletedEntitlementsListed);
    let form = world.policy.evs_timestamps;
    let connector = live_connector(world, caller, &req.environment_id, &req.connector_id)?;
    let items = connector
        .records
        .values()
        .filter(|r| r.kind == req.entitlement_type)
        .filter(|r| show_deleted || r.status != EntitlementStatus::Deleted)
        .map(|r| (r.seq, connector.view(r, form)));
    let (entitlements, last) = pagination::page(items, after, page_size(req.max_results));
    let next_token = next_token(world, query, last);
    world.rely(PolicyRule::EvsTimestamps);
    let entitlements = error_details_shown(world, entitlements);
    Ok(ListVmEntitlementsResponse {
        next_token,
        entitlements,
    })
}

/// Records as the `evs_error_detail` policy shows them: conform's codes, or no `errorDetail`.
fn error_details_shown(world: &mut World, mut records: Vec<VmEntitlement>) -> Vec<VmEntitlement> {
    world.rely(PolicyRule::EvsErrors);
    if world.policy.evs_error_detail == EvsErrorDetail::Absent {
        for r in &mut records {
            r.error_detail = None;
        }
    }
    records
}

#[cfg(test)]
mod tests {
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
}
