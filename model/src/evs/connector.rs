//! Environment connectors (SPEC 4.1): Create, Update, Delete and ListEnvironmentConnectors, the
//! connector's wire view, and its health.

use std::collections::BTreeMap;

use super::types::*;
use super::{
    after_token, live_connector, live_environment, next_token, page_size, partition_key, state_refusal, sync,
    ConnectorRecord, PartitionKey,
};
use crate::clock::Millis;
use crate::error::AwsError;
use crate::pagination;
use crate::policy::{EvsConnectorDelete, EvsFqdnChange, PolicyRule};
use crate::world::{Caller, World};

impl ConnectorRecord {
    /// The wire view: checks mirror the health (SPEC 4.1).
    pub fn connector_view(&self, form: crate::policy::EvsTimestamps) -> Connector {
        let epoch_seconds = |ms| epoch_time(ms, form);
        let checks = self
            .kind
            .checks()
            .iter()
            .map(|&check| ConnectorCheck {
                r#type: check,
                result: self.health,
                last_check_attempt: self.checked_ms.map(epoch_seconds),
                impaired_since: self.impaired_since_ms.map(epoch_seconds),
            })
            .collect();
        Connector {
            environment_id: self.environment_id.clone(),
            connector_id: self.id.clone(),
            r#type: self.kind,
            appliance_fqdn: self.fqdn.clone(),
            secret_arn: self.secret.clone(),
            state: self.state,
            status: self.health,
            checks,
            created_at: epoch_seconds(self.created_ms),
            modified_at: epoch_seconds(self.modified_ms),
        }
    }
}

/// Sets a connector's health at `now`: `impairedSince` is set when it turns FAILED and cleared
/// when it stops being FAILED (SPEC 4.1).
pub(crate) fn set_health(connector: &mut ConnectorRecord, health: CheckResult, now: Millis) {
    if health == CheckResult::Failed {
        if connector.health != CheckResult::Failed {
            connector.impaired_since_ms = Some(now);
        }
    } else {
        connector.impaired_since_ms = None;
    }
    connector.health = health;
    connector.checked_ms = Some(now);
}

/// A new connector record in CREATING with health UNKNOWN.
pub(crate) struct NewConnector {
    pub key: PartitionKey,
    pub environment_id: String,
    pub kind: ConnectorType,
    pub fqdn: String,
    pub secret: String,
}

/// One non-DELETED connector per type per environment (SPEC 4.1).
pub(crate) fn type_taken(
    world: &World,
    key: &PartitionKey,
    environment_id: &str,
    kind: ConnectorType,
) -> bool {
    world.evs.partitions.get(key).is_some_and(|p| {
        p.connectors.values().any(|c| {
            c.environment_id == environment_id && c.kind == kind && c.state != ConnectorState::Deleted
        })
    })
}

/// Inserts a connector (ids drawn here, after every check passed) and returns its id.
pub(crate) fn insert(world: &mut World, new: NewConnector, id: Option<String>) -> String {
    let id = id.unwrap_or_else(|| format!("cnctr-{}", world.ids.alnum(10)));
    let seq = world.next_seq();
    let now = world.now_ms();
    let record = ConnectorRecord {
        id: id.clone(),
        seq,
        environment_id: new.environment_id,
        kind: new.kind,
        fqdn: new.fqdn,
        secret: new.secret,
        state: ConnectorState::Creating,
        health: CheckResult::Unknown,
        created_ms: now,
        modified_ms: now,
        checked_ms: None,
        impaired_since_ms: None,
        pending: None,
        records: BTreeMap::new(),
        by_vm: BTreeMap::new(),
    };
    world
        .evs_mut()
        .partitions
        .entry(new.key)
        .or_default()
        .connectors
        .insert(id.clone(), record);
    id
}

fn view_of(world: &World, caller: &Caller, connector_id: &str) -> Result<Connector, AwsError> {
    world
        .evs
        .partitions
        .get(&partition_key(caller))
        .and_then(|p| p.connectors.get(connector_id))
        .map(|c| c.connector_view(world.policy.evs_timestamps))
        .ok_or_else(|| AwsError::evs_not_found("connector", connector_id))
}

fn after_seconds(now: Millis, seconds: i64) -> Millis {
    now.saturating_add(seconds.max(0).saturating_mul(1000))
}

pub(crate) fn create_environment_connector(
    world: &mut World,
    caller: &Caller,
    req: CreateEnvironmentConnectorRequest,
) -> Result<CreateEnvironmentConnectorResponse, AwsError> {
    live_environment(world, caller, &req.environment_id)?;
    let key = partition_key(caller);
    if type_taken(world, &key, &req.environment_id, req.r#type) {
        let message = format!(
            "The environment {} already has a {} connector.",
            req.environment_id, req.r#type
        );
        return Err(state_refusal(world, message));
    }
    let new = NewConnector {
        key: key.clone(),
        environment_id: req.environment_id,
        kind: req.r#type,
        fqdn: req.appliance_fqdn,
        secret: req.secret_identifier,
    };
    let id = insert(world, new, None);
    let due = after_seconds(world.now_ms(), world.policy.connector_activation_seconds);
    sync::schedule(world, key, &id, due, ConnectorState::Active);
    world.rely(PolicyRule::EvsTimestamps);
    Ok(CreateEnvironmentConnectorResponse {
        connector: view_of(world, caller, &id)?,
    })
}

pub(crate) fn update_environment_connector(
    world: &mut World,
    caller: &Caller,
    req: UpdateEnvironmentConnectorRequest,
) -> Result<UpdateEnvironmentConnectorResponse, AwsError> {
    // Exactly one of the two [D]: a rule on the request alone, so it answers before existence.
    if req.appliance_fqdn.is_some() == req.secret_identifier.is_some() {
        return Err(state_refusal(
            world,
            "Exactly one of applianceFqdn and secretIdentifier must be given.",
        ));
    }
    live_environment(world, caller, &req.environment_id)?;
    let connector = live_connector(world, caller, &req.environment_id, &req.connector_id)?;
    if !matches!(
        connector.state,
        ConnectorState::Active | ConnectorState::UpdateFailed
    ) {
        let message = format!(
            "The connector is {}; it can be updated only when ACTIVE or UPDATE_FAILED.",
            connector.state
        );
        return Err(state_refusal(world, message));
    }
    let fqdn_changes = req.appliance_fqdn.as_ref().is_some_and(|f| *f != connector.fqdn);
    let guarded = fqdn_changes && connector.has_live_entitlements() && !fault!(world, FqdnChangeUnguarded);
    if guarded {
        world.rely(PolicyRule::EvsFqdnChange);
    }
    if guarded && world.policy.evs_fqdn_change == EvsFqdnChange::Refuse {
        return Err(state_refusal(
            world,
            "The applianceFqdn cannot change while the connector has live entitlements.",
        ));
    }
    let now = world.now_ms();
    let connector = super::connector_mut(world, caller, &req.connector_id)?;
    if let Some(fqdn) = req.appliance_fqdn {
        connector.fqdn = fqdn;
    }
    if let Some(secret) = req.secret_identifier {
        connector.secret = secret;
    }
    connector.state = ConnectorState::Updating;
    connector.modified_ms = now;
    let due = after_seconds(now, world.policy.connector_update_seconds);
    sync::schedule(
        world,
        partition_key(caller),
        &req.connector_id,
        due,
        ConnectorState::Active,
    );
    world.rely(PolicyRule::EvsTimestamps);
    Ok(UpdateEnvironmentConnectorResponse {
        connector: view_of(world, caller, &req.connector_id)?,
    })
}

pub(crate) fn delete_environment_connector(
    world: &mut World,
    caller: &Caller,
    req: DeleteEnvironmentConnectorRequest,
) -> Result<DeleteEnvironmentConnectorResponse, AwsError> {
    let environment = live_environment(world, caller, &req.environment_id)?;
    let summary = environment.summary(&caller.account, &caller.region, world.policy.evs_timestamps);
    let connector = live_connector(world, caller, &req.environment_id, &req.connector_id)?;
    if connector.state == ConnectorState::Deleting {
        world.rely(PolicyRule::EvsConnectorDelete);
        return Err(state_refusal(world, "The connector is already being deleted."));
    }
    let refuse_any = world.policy.evs_connector_delete == EvsConnectorDelete::RefuseAny;
    let at_risk_blocks = !fault!(world, AtRiskConnectorDeletable);
    let blocking = connector.records.values().any(|r| {
        (r.status.is_live() && (at_risk_blocks || r.status != EntitlementStatus::AtRisk))
            || (refuse_any && r.status != EntitlementStatus::Deleted)
    });
    world.rely(PolicyRule::EvsConnectorDelete);
    if blocking {
        return Err(state_refusal(
            world,
            "The connector has entitlements in CREATING, CREATED or AT_RISK; delete them first.",
        ));
    }
    let now = world.now_ms();
    let connector = super::connector_mut(world, caller, &req.connector_id)?;
    connector.state = ConnectorState::Deleting;
    connector.modified_ms = now;
    let due = after_seconds(now, world.policy.connector_deletion_seconds);
    sync::schedule(
        world,
        partition_key(caller),
        &req.connector_id,
        due,
        ConnectorState::Deleted,
    );
    world.rely(PolicyRule::EvsTimestamps);
    Ok(DeleteEnvironmentConnectorResponse {
        connector: view_of(world, caller, &req.connector_id)?,
        environment_summary: summary,
    })
}

pub(crate) fn list_environment_connectors(
    world: &mut World,
    caller: &Caller,
    req: ListEnvironmentConnectorsRequest,
) -> Result<ListEnvironmentConnectorsResponse, AwsError> {
    live_environment(world, caller, &req.environment_id)?;
    let query = pagination::query_hash(&[
        "ListEnvironmentConnectors",
        &caller.account,
        &caller.region,
        &req.environment_id,
    ]);
    let after = after_token(world, req.next_token.as_deref(), query)?;
    let mut connectors: Vec<&ConnectorRecord> = world
        .evs
        .partitions
        .get(&partition_key(caller))
        .map(|p| {
            p.connectors
                .values()
                .filter(|c| c.environment_id == req.environment_id && c.state != ConnectorState::Deleted)
                .collect()
        })
        .unwrap_or_default();
    connectors.sort_by_key(|c| c.seq);
    let form = world.policy.evs_timestamps;
    let items = connectors.into_iter().map(|c| (c.seq, c.connector_view(form)));
    let (connectors, last) = pagination::page(items, after, page_size(req.max_results));
    let next_token = next_token(world, query, last);
    world.rely(PolicyRule::EvsTimestamps);
    Ok(ListEnvironmentConnectorsResponse {
        next_token,
        connectors,
    })
}

#[cfg(test)]
mod tests;
