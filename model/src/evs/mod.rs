//! Amazon EVS Windows Server entitlements (SPEC 4): environments, connectors, entitlement records
//! and the sync that moves their statuses.
//!
//! State is partitioned by account and region (SPEC 1.3). Each family has its file; this module
//! holds the state they share, the lookups every operation starts with (SPEC 4.2 existence), the
//! page tokens, and the one dispatch from a typed request to its family.

mod connector;
mod entitlement;
pub mod environment;
mod sync;
pub mod types;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::clock::Millis;
use crate::error::{AwsError, EvsReason};
use crate::explain::Rule;
use crate::lm::Operation;
use crate::pagination;
use crate::policy::PolicyRule;
use crate::service::Service;
use crate::world::{Caller, World};

pub use environment::{
    ConnectorFixture, ConnectorHealth, EnvironmentFixture, GuestOs, VmFixture, VmGuestOs, VmRef,
};
use types::*;

/// (account, region): the partition EVS state lives in.
pub type PartitionKey = (String, String);

/// A VM of an environment's vCenter inventory (a fixture).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vm {
    pub name: String,
    pub guest_os: GuestOs,
    /// Removed VMs stay known so that their records can be explained; syncs treat them as absent.
    pub present: bool,
}

impl Vm {
    pub fn runs_windows_server(&self) -> bool {
        self.guest_os == GuestOs::WindowsServer
    }
}

/// A seeded environment and its VM inventory.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvironmentRecord {
    pub id: String,
    pub seq: u64,
    pub name: String,
    pub state: EnvironmentState,
    pub vcf_version: Option<VcfVersion>,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    pub vms: BTreeMap<String, Vm>,
}

/// The record for (environment, connector, type, VM) (SPEC 4.1): it has no id of its own.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntitlementRecord {
    pub seq: u64,
    pub vm_id: String,
    pub kind: EntitlementType,
    pub vm_name: Option<String>,
    pub status: EntitlementStatus,
    pub created_ms: Millis,
    pub last_synced_ms: Option<Millis>,
    pub started_ms: Option<Millis>,
    pub stopped_ms: Option<Millis>,
    pub error: Option<ErrorDetail>,
}

/// An environment connector with the entitlement records made through it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConnectorRecord {
    pub id: String,
    pub seq: u64,
    pub environment_id: String,
    pub kind: ConnectorType,
    pub fqdn: String,
    pub secret: String,
    pub state: ConnectorState,
    pub health: CheckResult,
    pub created_ms: Millis,
    pub modified_ms: Millis,
    /// When the health was last set (activation or a health event): `lastCheckAttempt`.
    pub checked_ms: Option<Millis>,
    /// When the health turned FAILED; cleared when it stops being FAILED.
    pub impaired_since_ms: Option<Millis>,
    /// The state transition in flight and when it completes.
    pub pending: Option<(Millis, ConnectorState)>,
    /// Current records by creation sequence.
    pub records: BTreeMap<u64, EntitlementRecord>,
    /// (type, VM) → the sequence of its current record.
    pub by_vm: BTreeMap<(EntitlementType, String), u64>,
}

impl ConnectorRecord {
    /// ACTIVE with health PASSED (SPEC 4.1).
    pub fn is_healthy(&self) -> bool {
        self.state == ConnectorState::Active && self.health == CheckResult::Passed
    }

    pub fn has_live_entitlements(&self) -> bool {
        self.records.values().any(|r| r.status.is_live())
    }

    pub fn record(&self, kind: EntitlementType, vm_id: &str) -> Option<&EntitlementRecord> {
        let seq = self.by_vm.get(&(kind, vm_id.to_string()))?;
        self.records.get(seq)
    }

    /// The wire view of one of this connector's records.
    pub fn view(&self, r: &EntitlementRecord, form: crate::policy::EvsTimestamps) -> VmEntitlement {
        let epoch_seconds = |ms| epoch_time(ms, form);
        VmEntitlement {
            vm_id: r.vm_id.clone(),
            environment_id: self.environment_id.clone(),
            connector_id: self.id.clone(),
            vm_name: r.vm_name.clone(),
            r#type: r.kind,
            status: r.status,
            last_synced_at: r.last_synced_ms.map(epoch_seconds),
            started_at: r.started_ms.map(epoch_seconds),
            stopped_at: r.stopped_ms.map(epoch_seconds),
            error_detail: r.error.clone(),
        }
    }
}

/// One account-and-region's EVS state.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    pub environments: BTreeMap<String, EnvironmentRecord>,
    pub connectors: BTreeMap<String, ConnectorRecord>,
}

/// A connector transition due at `due_ms` (stale when the connector's `pending` differs).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub(crate) struct Transition {
    pub due_ms: Millis,
    pub connector_seq: u64,
    pub key: PartitionKey,
    pub connector_id: String,
}

/// The EVS state of a world.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Evs {
    pub(crate) partitions: BTreeMap<PartitionKey, Partition>,
    pub(crate) transitions: BinaryHeap<Reverse<Transition>>,
    /// The next sync boundary not yet processed; `None` until the first settle.
    pub(crate) next_sync_ms: Option<Millis>,
}

impl Evs {
    pub fn partition(&self, account: &str, region: &str) -> Option<&Partition> {
        self.partitions.get(&(account.to_string(), region.to_string()))
    }

    pub fn partitions(&self) -> impl Iterator<Item = (&PartitionKey, &Partition)> {
        self.partitions.iter()
    }

    /// Every record of every partition (DELETED ones included), with its creation sequence.
    pub fn entitlements(&self) -> Vec<(u64, VmEntitlement)> {
        let mut out: Vec<(u64, VmEntitlement)> = self
            .partitions
            .values()
            .flat_map(|p| p.connectors.values())
            .flat_map(|c| {
                c.records
                    .values()
                    .map(move |r| (r.seq, c.view(r, crate::policy::EvsTimestamps::Integer)))
            })
            .collect();
        out.sort_by_key(|(seq, _)| *seq);
        out
    }

    /// Each record's creation sequence and status, as [`Evs::entitlements`] shows them, without
    /// building the views; in no particular order.
    pub fn statuses(&self) -> impl Iterator<Item = (u64, EntitlementStatus)> + '_ {
        self.partitions
            .values()
            .flat_map(|p| p.connectors.values())
            .flat_map(|c| c.records.values().map(|r| (r.seq, r.status)))
    }
}

pub(crate) fn partition_key(caller: &Caller) -> PartitionKey {
    (caller.account.clone(), caller.region.clone())
}

/// Runs every connector transition and sync due at or before `now` (SPEC 2, 4.3).
pub(crate) fn settle(world: &mut World, now: Millis) {
    sync::settle(world, now);
}

/// The environment a connector or entitlement operation names: unknown, DELETED or in another
/// partition → ResourceNotFound `environment` (SPEC 4.1, 4.2).
pub(crate) fn live_environment<'a>(
    world: &'a World,
    caller: &Caller,
    environment_id: &str,
) -> Result<&'a EnvironmentRecord, AwsError> {
    world
        .evs
        .partitions
        .get(&partition_key(caller))
        .and_then(|p| p.environments.get(environment_id))
        .filter(|e| e.state != EnvironmentState::Deleted)
        .ok_or_else(|| {
            AwsError::evs_not_found("environment", environment_id).because(
                Rule::EnvironmentNotFound,
                format!(
                    "no environment {environment_id} in account {} region {} (or it is DELETED)",
                    caller.account, caller.region
                ),
            )
        })
}

/// The connector an operation names: unknown, of another environment, or DELETED →
/// ResourceNotFound `connector` (SPEC 4.1, 4.2).
pub(crate) fn live_connector<'a>(
    world: &'a World,
    caller: &Caller,
    environment_id: &str,
    connector_id: &str,
) -> Result<&'a ConnectorRecord, AwsError> {
    world
        .evs
        .partitions
        .get(&partition_key(caller))
        .and_then(|p| p.connectors.get(connector_id))
        .filter(|c| c.environment_id == environment_id && c.state != ConnectorState::Deleted)
        .ok_or_else(|| {
            AwsError::evs_not_found("connector", connector_id).because(
                Rule::ConnectorNotFound,
                format!("no connector {connector_id} in environment {environment_id} (or it is DELETED)"),
            )
        })
}

/// The connector an operation already found through `live_connector`, for writing.
pub(crate) fn connector_mut<'a>(
    world: &'a mut World,
    caller: &Caller,
    connector_id: &str,
) -> Result<&'a mut ConnectorRecord, AwsError> {
    world
        .evs_mut()
        .partitions
        .get_mut(&partition_key(caller))
        .and_then(|p| p.connectors.get_mut(connector_id))
        .ok_or_else(|| AwsError::evs_not_found("connector", connector_id))
}

/// A refusal by a state rule: ValidationException reason `other` (SPEC 4.2 [P]).
pub(crate) fn state_refusal(world: &mut World, message: impl Into<String>) -> AwsError {
    world.rely(PolicyRule::EvsState);
    AwsError::evs_validation(EvsReason::Other, message)
}

/// How long an EVS page token stays valid, in simulated time (SPEC 4.2 [D]).
pub const PAGE_TOKEN_TTL_MS: Millis = 24 * 3600 * 1000;

/// Page size: `maxResults` 1..100, default 100 (SPEC 3.2 [P], shared by 4.2).
pub(crate) fn page_size(max_results: Option<i32>) -> usize {
    max_results.map_or(100, |m| m.clamp(1, 100) as usize)
}

/// Reads a `nextToken` for `query`: forged, foreign or expired → ValidationException reason
/// `other` with `InvalidToken` in the message (SPEC 4.2).
pub(crate) fn after_token(
    world: &mut World,
    token: Option<&str>,
    query: u64,
) -> Result<Option<u64>, AwsError> {
    let Some(token) = token else {
        return Ok(None);
    };
    world.rely(PolicyRule::Pagination);
    let now = world.now_ms();
    match pagination::decode(world.seed, query, token) {
        Some(t) if now.saturating_sub(t.issued_ms) < PAGE_TOKEN_TTL_MS => Ok(Some(t.last_seq)),
        Some(_) => Err(
            AwsError::evs_validation(EvsReason::Other, "InvalidToken: the nextToken has expired")
                .because_message(Rule::PageToken),
        ),
        None => Err(AwsError::evs_validation(
            EvsReason::Other,
            "InvalidToken: the nextToken is not valid for this request",
        )
        .because_message(Rule::PageToken)),
    }
}

/// Issues the token that follows the item with sequence `last`.
pub(crate) fn next_token(world: &World, query: u64, last: Option<u64>) -> Option<String> {
    last.map(|l| pagination::encode(world.seed, query, l, world.now_ms()))
}

macro_rules! evs_requests {
    ($($op:ident($req:ty) -> $reply:ty => $handler:path),+ $(,)?) => {
        /// A typed EVS request of an operation conform implements.
        #[derive(Clone, Debug, PartialEq)]
        pub enum EvsRequest {
            $($op($req)),+
        }

        impl EvsRequest {
            /// Every operation conform implements, by name.
            pub const OPERATIONS: &'static [&'static str] = &[$(stringify!($op)),+];

            pub fn operation(&self) -> &'static str {
                match self { $(EvsRequest::$op(_) => stringify!($op)),+ }
            }

            /// Builds the typed request from a decoded body; `Ok(None)` for a modelled operation
            /// conform does not implement.
            pub fn from_body(operation: &str, body: Value) -> Result<Option<EvsRequest>, AwsError> {
                match operation {
                    $(stringify!($op) => typed(body).map(|r| Some(EvsRequest::$op(r))),)+
                    _ => Ok(None),
                }
            }

            /// The request as a JSON body.
            pub fn to_body(&self) -> Value {
                match self { $(EvsRequest::$op(r) => to_value(r)),+ }
            }
        }

        pub(crate) fn execute(world: &mut World, caller: &Caller, req: EvsRequest) -> Result<Value, AwsError> {
            if !matches!(req, EvsRequest::GetEnvironment(_) | EvsRequest::ListEnvironments(_)) {
                rely_connector_timing(world);
            }
            match req { $(EvsRequest::$op(r) => $handler(world, caller, r).map(|reply| to_value(&reply))),+ }
        }

        $(
            impl Operation for $req {
                type Reply = $reply;
                const NAME: &'static str = stringify!($op);

                fn run(self, world: &mut World, caller: &Caller) -> Result<Self::Reply, AwsError> {
                    $handler(world, caller, self)
                }
            }

            impl From<$req> for EvsRequest {
                fn from(r: $req) -> EvsRequest {
                    EvsRequest::$op(r)
                }
            }
        )+
    };
}

evs_requests! {
    CreateEntitlement(CreateEntitlementRequest) -> CreateEntitlementResponse
        => entitlement::create_entitlement,
    DeleteEntitlement(DeleteEntitlementRequest) -> DeleteEntitlementResponse
        => entitlement::delete_entitlement,
    ListVmEntitlements(ListVmEntitlementsRequest) -> ListVmEntitlementsResponse
        => entitlement::list_vm_entitlements,
    CreateEnvironmentConnector(CreateEnvironmentConnectorRequest) -> CreateEnvironmentConnectorResponse
        => connector::create_environment_connector,
    UpdateEnvironmentConnector(UpdateEnvironmentConnectorRequest) -> UpdateEnvironmentConnectorResponse
        => connector::update_environment_connector,
    DeleteEnvironmentConnector(DeleteEnvironmentConnectorRequest) -> DeleteEnvironmentConnectorResponse
        => connector::delete_environment_connector,
    ListEnvironmentConnectors(ListEnvironmentConnectorsRequest) -> ListEnvironmentConnectorsResponse
        => connector::list_environment_connectors,
    GetEnvironment(GetEnvironmentRequest) -> GetEnvironmentResponse => environment::get_environment,
    ListEnvironments(ListEnvironmentsRequest) -> ListEnvironmentsResponse => environment::list_environments,
}

fn typed<T: DeserializeOwned>(body: Value) -> Result<T, AwsError> {
    // The body already passed the service model's checks, so this only fails if a typed request
    // disagrees with the model; answer it as a parse fault rather than panic.
    serde_json::from_value(body).map_err(|e| Service::Evs.parse_fault(e.to_string()))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Whether conform implements this EVS operation (SPEC 5).
pub(crate) fn implements(operation: &str) -> bool {
    EvsRequest::OPERATIONS.contains(&operation)
}

/// Connector and entitlement operations see states the timing switches shaped: connector
/// transitions, syncs and the CREATING timeout (SPEC 4.1, 4.3).
fn rely_connector_timing(world: &mut World) {
    for rule in [
        PolicyRule::ConnectorActivation,
        PolicyRule::ConnectorUpdate,
        PolicyRule::ConnectorDeletion,
        PolicyRule::SyncInterval,
        PolicyRule::CreatingTimeout,
        PolicyRule::EvsErrors,
    ] {
        world.rely(rule);
    }
}

impl World {
    /// Runs a typed EVS request (after shape validation) and renders its reply body.
    pub fn execute_evs(&mut self, caller: &Caller, req: EvsRequest) -> Result<Value, AwsError> {
        self.relied.clear();
        self.settle();
        execute(self, caller, req)
    }

    /// The EVS state, for invariant checks and reports.
    pub fn evs(&self) -> &Evs {
        &self.evs
    }
}

/// Shared fixtures of the EVS unit tests.
#[cfg(test)]
pub(crate) mod testkit {
    use serde_json::{json, Value};

    use super::environment::{ConnectorFixture, EnvironmentFixture, GuestOs, VmFixture};
    use super::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
    use crate::events::Event;
    use crate::policy::Policy;
    use crate::service::Service;
    use crate::world::{Caller, Reply, World};

    pub const ENV: &str = "env-aaaaaaaaaa";
    pub const CONN: &str = "cnctr-aaaaaaaaaa";

    pub fn caller() -> Caller {
        Caller::new("123456789012", "us-east-1")
    }

    pub fn call(w: &mut World, op: &str, body: Value) -> Reply {
        w.handle(&caller(), Service::Evs, op, body.to_string().as_bytes())
    }

    pub fn seed_env(w: &mut World, id: &str, state: EnvironmentState) {
        let f = EnvironmentFixture {
            account: None,
            region: None,
            environment_id: Some(id.into()),
            state,
            name: None,
            vcf_version: None,
        };
        w.apply(Event::SeedEvsEnvironment(f)).expect("environment seeds");
    }

    pub fn seed_connector(w: &mut World, env: &str, id: &str, kind: ConnectorType, state: ConnectorState) {
        let f = ConnectorFixture {
            account: None,
            region: None,
            environment_id: env.into(),
            connector_id: Some(id.into()),
            connector_type: kind,
            appliance_fqdn: "vc.example.com".into(),
            secret_identifier: "secret".into(),
            state,
            health: CheckResult::Passed,
        };
        w.apply(Event::SeedEvsConnector(f)).expect("connector seeds");
    }

    pub fn add_vm(w: &mut World, vm: &str, os: GuestOs) {
        let f = VmFixture {
            account: None,
            region: None,
            environment_id: ENV.into(),
            vm_id: vm.into(),
            name: format!("name-{vm}"),
            guest_os: os,
        };
        w.apply(Event::AddVm(f)).expect("vm adds");
    }

    /// A CREATED environment with an ACTIVE, healthy VCENTER connector and Windows VMs vm-1..vm-3.
    pub fn world() -> World {
        world_with(Policy::default())
    }

    pub fn world_with(policy: Policy) -> World {
        let mut w = World::new(7, policy);
        seed_env(&mut w, ENV, EnvironmentState::Created);
        seed_connector(&mut w, ENV, CONN, ConnectorType::Vcenter, ConnectorState::Active);
        for vm in ["vm-1", "vm-2", "vm-3"] {
            add_vm(&mut w, vm, GuestOs::WindowsServer);
        }
        w
    }

    pub fn vms_body(env: &str, conn: &str, vms: &[&str]) -> Value {
        json!({"environmentId": env, "connectorId": conn, "entitlementType": "WINDOWS_SERVER", "vmIds": vms})
    }

    pub fn create(w: &mut World, vms: &[&str]) -> Reply {
        call(w, "CreateEntitlement", vms_body(ENV, CONN, vms))
    }

    pub fn delete(w: &mut World, vms: &[&str]) -> Reply {
        call(w, "DeleteEntitlement", vms_body(ENV, CONN, vms))
    }

    pub fn list(w: &mut World) -> Reply {
        let body = json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER"});
        call(w, "ListVmEntitlements", body)
    }

    /// The statuses ListVmEntitlements shows, as (vmId, status).
    pub fn statuses(w: &mut World) -> Vec<(String, String)> {
        let r = list(w);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["entitlements"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["vmId"].as_str().unwrap_or_default().to_string(),
                    e["status"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub fn set_health(w: &mut World, health: CheckResult) {
        let f = super::environment::ConnectorHealth {
            account: None,
            region: None,
            connector_id: CONN.into(),
            health,
        };
        w.apply(Event::SetConnectorHealth(f)).expect("health sets");
    }

    /// Advances to the next sync boundary (the default interval is 300 s).
    pub fn next_sync(w: &mut World) {
        let interval = w.policy().sync_interval_seconds * 1000;
        let to = (w.now_ms() / interval + 1) * interval;
        w.apply(Event::AdvanceClock {
            seconds: 0,
            millis: to - w.now_ms(),
        })
        .expect("clock advances");
    }

    /// The error shape and `reason` of a reply, for table rows.
    pub fn outcome(r: &Reply) -> (u16, String, String) {
        (
            r.status,
            r.error_type().unwrap_or("").to_string(),
            r.body["reason"]
                .as_str()
                .or(r.body["resourceType"].as_str())
                .unwrap_or("")
                .to_string(),
        )
    }
}
