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
use crate::explain::Rule;
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
    Err(error.because_message(Rule::DuplicateVmIds))
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
        return Err(state_refusal(world, message).because_message(Rule::EnvironmentState));
    }
    if kind != ConnectorType::Vcenter {
        let message =
            format!("The connector {connector_id} is of type {kind}; entitlements need a VCENTER connector.");
        return Err(state_refusal(world, message).because_message(Rule::ConnectorType));
    }
    if need == Need::Active && state != ConnectorState::Active {
        let message = format!("The connector {connector_id} is {state}; it must be ACTIVE.");
        return Err(state_refusal(world, message).because_message(Rule::ConnectorState));
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
    Err(error.because_message(Rule::VmEntitled))
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
        let e = AwsError::evs_not_found("entitlement", missing);
        return Err(e.because(
            Rule::NoRecord,
            format!("the VM {missing} has no entitlement record"),
        ));
    }
    let now = world.now_ms();
    let form = world.policy.evs_timestamps;
    let keep_stopped = !fault!(world, StoppedAtOverwritten);
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
            match record.stopped_ms {
                Some(_) if keep_stopped => {}
                _ => record.stopped_ms = Some(now),
            }
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
    let max = page_size(req.max_results) + usize::from(fault!(world, EvsPageOneTooLong));
    let (entitlements, last) = pagination::page(items, after, max);
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
mod tests;
