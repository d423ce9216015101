//! Environments and their VM inventories (SPEC 4.1): the fixtures the control plane seeds, and the
//! GetEnvironment / ListEnvironments read views (state fields only).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::types::*;
use super::{connector, partition_key, EnvironmentRecord, PartitionKey, Vm};
use crate::error::AwsError;
use crate::pagination;
use crate::policy::{EvsAbsentLists, PolicyRule};
use crate::world::{Caller, World};

/// A VM's guest operating system, as far as entitlements care (SPEC 4.1).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuestOs {
    WindowsServer,
    Other,
}

fn created() -> EnvironmentState {
    EnvironmentState::Created
}

fn active() -> ConnectorState {
    ConnectorState::Active
}

fn passed() -> CheckResult {
    CheckResult::Passed
}

/// Seeds an environment; the id is drawn (`env-` + 10) when absent.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentFixture {
    /// The owning account; the default account when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region; the default region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    #[serde(default = "created")]
    pub state: EnvironmentState,
    /// `environmentName`; the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcf_version: Option<VcfVersion>,
}

/// Seeds a connector directly, bypassing CreateEnvironmentConnector (ACTIVE and PASSED unless told).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorFixture {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub environment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    pub connector_type: ConnectorType,
    pub appliance_fqdn: String,
    pub secret_identifier: String,
    #[serde(default = "active")]
    pub state: ConnectorState,
    #[serde(default = "passed")]
    pub health: CheckResult,
}

/// Adds a VM to an environment's vCenter inventory, or brings a removed one back with these facts.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmFixture {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub environment_id: String,
    pub vm_id: String,
    pub name: String,
    pub guest_os: GuestOs,
}

/// Names one VM of an environment (for RemoveVm).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub environment_id: String,
    pub vm_id: String,
}

/// Changes a present VM's guest OS.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmGuestOs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub environment_id: String,
    pub vm_id: String,
    pub guest_os: GuestOs,
}

/// Sets a connector's health (its checks mirror it).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorHealth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub connector_id: String,
    pub health: CheckResult,
}

impl EnvironmentRecord {
    pub fn arn(&self, account: &str, region: &str) -> String {
        format!("arn:aws:evs:{region}:{account}:environment/{}", self.id)
    }

    pub fn view(&self, account: &str, region: &str, form: crate::policy::EvsTimestamps) -> Environment {
        let epoch_seconds = |ms| epoch_time(ms, form);
        Environment {
            environment_id: self.id.clone(),
            environment_state: self.state,
            created_at: epoch_seconds(self.created_ms),
            modified_at: epoch_seconds(self.modified_ms),
            environment_arn: self.arn(account, region),
            environment_name: self.name.clone(),
            vcf_version: self.vcf_version,
            checks: None,
            credentials: None,
        }
    }

    pub fn summary(
        &self,
        account: &str,
        region: &str,
        form: crate::policy::EvsTimestamps,
    ) -> EnvironmentSummary {
        let epoch_seconds = |ms| epoch_time(ms, form);
        EnvironmentSummary {
            environment_id: self.id.clone(),
            environment_name: self.name.clone(),
            vcf_version: self.vcf_version,
            environment_state: self.state,
            created_at: epoch_seconds(self.created_ms),
            modified_at: epoch_seconds(self.modified_ms),
            environment_arn: self.arn(account, region),
        }
    }
}

fn fixture_key(world: &World, account: &Option<String>, region: &Option<String>) -> PartitionKey {
    let caller = world.default_caller();
    (
        account.clone().unwrap_or(caller.account),
        region.clone().unwrap_or(caller.region),
    )
}

/// `prefix` followed by exactly `n` ASCII alphanumerics (the service model's id patterns).
fn is_id(value: &str, prefix: &str, n: usize) -> bool {
    value
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == n && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `vm-` followed by digits, 4..1024 characters (the service model's `VmId`).
fn is_vm_id(value: &str) -> bool {
    value.len() <= 1024
        && value
            .strip_prefix("vm-")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn is_environment_name(value: &str) -> bool {
    (1..=100).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn seed_environment(world: &mut World, f: EnvironmentFixture) -> Result<Value, AwsError> {
    let key = fixture_key(world, &f.account, &f.region);
    if let Some(id) = &f.environment_id {
        if !is_id(id, "env-", 10) {
            return Err(AwsError::validation(format!("'{id}' is not an environment id")));
        }
        if world
            .evs
            .partitions
            .get(&key)
            .is_some_and(|p| p.environments.contains_key(id))
        {
            return Err(AwsError::validation(format!(
                "the environment {id} already exists"
            )));
        }
    }
    if let Some(name) = f.name.as_deref().filter(|n| !is_environment_name(n)) {
        return Err(AwsError::validation(format!(
            "'{name}' is not an environment name"
        )));
    }
    let id = f
        .environment_id
        .unwrap_or_else(|| format!("env-{}", world.ids.alnum(10)));
    let seq = world.next_seq();
    let now = world.now_ms();
    let record = EnvironmentRecord {
        name: f.name.unwrap_or_else(|| id.clone()),
        id: id.clone(),
        seq,
        state: f.state,
        vcf_version: f.vcf_version,
        created_ms: now,
        modified_ms: now,
        vms: BTreeMap::new(),
    };
    world
        .evs_mut()
        .partitions
        .entry(key)
        .or_default()
        .environments
        .insert(id.clone(), record);
    Ok(json!({ "environmentId": id }))
}

fn environment_mut<'a>(
    world: &'a mut World,
    key: &PartitionKey,
    environment_id: &str,
) -> Result<&'a mut EnvironmentRecord, AwsError> {
    world
        .evs_mut()
        .partitions
        .get_mut(key)
        .and_then(|p| p.environments.get_mut(environment_id))
        .ok_or_else(|| AwsError::evs_not_found("environment", environment_id))
}

pub(crate) fn seed_connector(world: &mut World, f: ConnectorFixture) -> Result<Value, AwsError> {
    let key = fixture_key(world, &f.account, &f.region);
    environment_mut(world, &key, &f.environment_id)?;
    if let Some(id) = &f.connector_id {
        if !is_id(id, "cnctr-", 10) {
            return Err(AwsError::validation(format!("'{id}' is not a connector id")));
        }
        if world
            .evs
            .partitions
            .get(&key)
            .is_some_and(|p| p.connectors.contains_key(id))
        {
            return Err(AwsError::validation(format!("the connector {id} already exists")));
        }
    }
    if connector::type_taken(world, &key, &f.environment_id, f.connector_type) {
        return Err(AwsError::validation(format!(
            "the environment {} already has a {} connector",
            f.environment_id, f.connector_type
        )));
    }
    let new = connector::NewConnector {
        key: key.clone(),
        environment_id: f.environment_id,
        kind: f.connector_type,
        fqdn: f.appliance_fqdn,
        secret: f.secret_identifier,
    };
    let id = connector::insert(world, new, f.connector_id);
    let now = world.now_ms();
    if let Some(c) = world
        .evs_mut()
        .partitions
        .get_mut(&key)
        .and_then(|p| p.connectors.get_mut(&id))
    {
        c.state = f.state;
        connector::set_health(c, f.health, now);
    }
    Ok(json!({ "connectorId": id }))
}

pub(crate) fn add_vm(world: &mut World, f: VmFixture) -> Result<Value, AwsError> {
    if !is_vm_id(&f.vm_id) {
        return Err(AwsError::validation(format!("'{}' is not a VM id", f.vm_id)));
    }
    if !(1..=1024).contains(&f.name.chars().count()) {
        return Err(AwsError::validation("a VM name has 1 to 1024 characters"));
    }
    let key = fixture_key(world, &f.account, &f.region);
    let environment = environment_mut(world, &key, &f.environment_id)?;
    let vm = Vm {
        name: f.name,
        guest_os: f.guest_os,
        present: true,
    };
    environment.vms.insert(f.vm_id.clone(), vm);
    Ok(json!({ "vmId": f.vm_id }))
}

fn present_vm<'a>(
    world: &'a mut World,
    key: &PartitionKey,
    environment_id: &str,
    vm_id: &str,
) -> Result<&'a mut Vm, AwsError> {
    environment_mut(world, key, environment_id)?
        .vms
        .get_mut(vm_id)
        .filter(|vm| vm.present)
        .ok_or_else(|| AwsError::evs_not_found("vm", vm_id))
}

pub(crate) fn remove_vm(world: &mut World, f: VmRef) -> Result<Value, AwsError> {
    let key = fixture_key(world, &f.account, &f.region);
    present_vm(world, &key, &f.environment_id, &f.vm_id)?.present = false;
    Ok(json!({ "vmId": f.vm_id }))
}

pub(crate) fn set_vm_guest_os(world: &mut World, f: VmGuestOs) -> Result<Value, AwsError> {
    let key = fixture_key(world, &f.account, &f.region);
    present_vm(world, &key, &f.environment_id, &f.vm_id)?.guest_os = f.guest_os;
    Ok(json!({ "vmId": f.vm_id }))
}

pub(crate) fn set_connector_health(world: &mut World, f: ConnectorHealth) -> Result<Value, AwsError> {
    let key = fixture_key(world, &f.account, &f.region);
    let now = world.now_ms();
    let c = world
        .evs_mut()
        .partitions
        .get_mut(&key)
        .and_then(|p| p.connectors.get_mut(&f.connector_id))
        .filter(|c| c.state != ConnectorState::Deleted)
        .ok_or_else(|| AwsError::evs_not_found("connector", &f.connector_id))?;
    connector::set_health(c, f.health, now);
    Ok(json!({ "connectorId": f.connector_id }))
}

pub(crate) fn get_environment(
    world: &mut World,
    caller: &Caller,
    req: GetEnvironmentRequest,
) -> Result<GetEnvironmentResponse, AwsError> {
    // A read view: DELETED environments stay readable (policy `evs_deleted_environments_visible`).
    world.rely(PolicyRule::EvsDeletedEnvironments);
    let visible = world.policy.evs_deleted_environments_visible;
    let environment = world
        .evs
        .partitions
        .get(&partition_key(caller))
        .and_then(|p| p.environments.get(&req.environment_id))
        .filter(|e| visible || e.state != EnvironmentState::Deleted)
        .ok_or_else(|| AwsError::evs_not_found("environment", &req.environment_id))?;
    let mut environment = environment.view(&caller.account, &caller.region, world.policy.evs_timestamps);
    world.rely(PolicyRule::EvsTimestamps);
    world.rely(PolicyRule::EvsAbsentLists);
    if world.policy.evs_absent_lists == EvsAbsentLists::Empty {
        environment.checks = Some(Vec::new());
        environment.credentials = Some(Vec::new());
    }
    Ok(GetEnvironmentResponse { environment })
}

pub(crate) fn list_environments(
    world: &mut World,
    caller: &Caller,
    req: ListEnvironmentsRequest,
) -> Result<ListEnvironmentsResponse, AwsError> {
    // An empty filter means the same as an absent one (SPEC 1.1).
    let states = req.state.unwrap_or_default();
    let mut parts = vec!["ListEnvironments", &caller.account, &caller.region];
    let mut sorted: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    parts.extend(sorted);
    let query = pagination::query_hash(&parts);
    let after = super::after_token(world, req.next_token.as_deref(), query)?;
    world.rely(PolicyRule::EvsDeletedEnvironments);
    let visible = world.policy.evs_deleted_environments_visible;
    let mut environments: Vec<&EnvironmentRecord> = world
        .evs
        .partitions
        .get(&partition_key(caller))
        .map(|p| p.environments.values().collect())
        .unwrap_or_default();
    environments.retain(|e| states.is_empty() || states.contains(&e.state));
    environments.retain(|e| visible || e.state != EnvironmentState::Deleted);
    environments.sort_by_key(|e| e.seq);
    let items = environments.into_iter().map(|e| {
        (
            e.seq,
            e.summary(&caller.account, &caller.region, world.policy.evs_timestamps),
        )
    });
    let (environment_summaries, last) = pagination::page(items, after, super::page_size(req.max_results));
    let next_token = super::next_token(world, query, last);
    world.rely(PolicyRule::EvsTimestamps);
    Ok(ListEnvironmentsResponse {
        next_token,
        environment_summaries,
    })
}

#[cfg(test)]
mod tests;
