//! The status machine (SPEC 4.3): connector transitions and syncs at every multiple of
//! `sync_interval_seconds` since the epoch, settled in time order before each operation.
//!
//! Settling is O(1) when nothing is due: the next sync boundary and a heap of connector
//! transitions say when the next thing happens. A clock jump over many boundaries runs the
//! boundaries in turn until a sync changes no status; from then on every later boundary before
//! the next transition would only move `lastSyncedAt`, so the last of them runs alone.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::types::{CheckResult, ConnectorState, EntitlementStatus, ErrorDetail};
use super::{ConnectorRecord, Transition, Vm};
use crate::clock::Millis;
use crate::policy::PolicyRule;
use crate::world::World;

/// `errorDetail` of a record whose VM a healthy sync did not find (SPEC 4.3 [P]).
pub const VM_NOT_FOUND: (&str, &str) = ("VM_NOT_FOUND", "The VM was not found in vCenter.");
/// `errorDetail` of a record whose VM does not run Windows Server (SPEC 4.3 [P]).
pub const UNSUPPORTED_GUEST_OS: (&str, &str) =
    ("UNSUPPORTED_GUEST_OS", "The VM does not run Windows Server.");
/// `errorDetail` of a CREATING record that outlived `creating_timeout_seconds` (SPEC 4.3 [P]).
pub const SYNC_TIMEOUT: (&str, &str) = (
    "SYNC_TIMEOUT",
    "The connector was not healthy before the entitlement timed out.",
);

/// What one sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SyncOutcome {
    /// Some record changed status.
    changed: bool,
    /// Some CREATING record waits on an unhealthy connector while a timeout is set, so a later
    /// boundary may still change it.
    timing_out: bool,
}

impl SyncOutcome {
    fn merge(self, other: SyncOutcome) -> SyncOutcome {
        SyncOutcome {
            changed: self.changed || other.changed,
            timing_out: self.timing_out || other.timing_out,
        }
    }
}

/// Which rows of the table a sync follows: every one, but for a named fault.
#[derive(Clone, Copy)]
struct Rows {
    /// unhealthy, CREATED → AT_RISK.
    at_risk: bool,
    /// healthy, CREATED or AT_RISK with the VM removed → ENTITLEMENT_REMOVED.
    vm_removed: bool,
    /// healthy, CREATED or AT_RISK with the VM no longer on Windows → ENTITLEMENT_REMOVED.
    guest_os_changed: bool,
}

/// The first sync boundary at or after `ms`.
fn boundary_at_or_after(ms: Millis, interval_ms: Millis) -> Millis {
    ms.div_euclid(interval_ms)
        .saturating_add(i64::from(ms.rem_euclid(interval_ms) != 0))
        .saturating_mul(interval_ms)
}

impl World {
    /// The first EVS sync boundary after now (SPEC 4.3: every multiple of
    /// `sync_interval_seconds` since the epoch).
    pub fn next_sync_ms(&self) -> Millis {
        let interval_ms = self.policy.sync_interval_seconds.max(1).saturating_mul(1000);
        boundary_at_or_after(self.now_ms().saturating_add(1), interval_ms)
    }
}

/// Runs everything due at or before `now`, in time order; at the same millisecond connector
/// transitions come before syncs (SPEC 2).
pub(crate) fn settle(world: &mut World, now: Millis) {
    let interval_ms = world.policy.sync_interval_seconds.saturating_mul(1000);
    loop {
        let transition = world.evs.transitions.peek().map(|Reverse(t)| t.due_ms);
        // A non-positive interval disables syncs rather than looping forever.
        let sync = (interval_ms > 0).then(|| match world.evs.next_sync_ms {
            Some(at) => at,
            None => *world
                .evs_mut()
                .next_sync_ms
                .insert(boundary_at_or_after(now, interval_ms)),
        });
        let transition = transition.filter(|t| *t <= now);
        let sync = sync.filter(|s| *s <= now);
        match (transition, sync) {
            (Some(t), Some(s)) if t <= s => apply_next_transition(world),
            (Some(_), None) => apply_next_transition(world),
            (_, Some(s)) => sync_from(world, s, now, interval_ms),
            (None, None) => break,
        }
    }
}

/// Runs the sync at boundary `at`, then skips quiet boundaries (see the module comment).
fn sync_from(world: &mut World, at: Millis, now: Millis, interval_ms: Millis) {
    let outcome = sync_all(world, at);
    let mut next = at.saturating_add(interval_ms);
    if !outcome.changed && !outcome.timing_out {
        // Boundaries strictly before the next transition: one at the same instant must follow it.
        let horizon = match world.evs.transitions.peek() {
            Some(Reverse(t)) => now.min(t.due_ms.saturating_sub(1)),
            None => now,
        };
        let last = horizon.div_euclid(interval_ms).saturating_mul(interval_ms);
        if last >= next {
            sync_all(world, last);
            next = last.saturating_add(interval_ms);
        }
    }
    if world.evs.next_sync_ms != Some(next) {
        world.evs_mut().next_sync_ms = Some(next);
    }
}

/// One sync of every connector of every partition at boundary `at`.
fn sync_all(world: &mut World, at: Millis) -> SyncOutcome {
    let timeout_ms = world
        .policy
        .creating_timeout_seconds
        .map(|s| s.saturating_mul(1000));
    let mut outcome = SyncOutcome::default();
    let mut failures = false;
    let rows = Rows {
        at_risk: !fault!(world, AtRiskNeverReached),
        vm_removed: !fault!(world, RemovedVmEntitlementKept),
        guest_os_changed: !fault!(world, GuestOsChangeIgnored),
    };
    for partition in world.evs_mut().partitions.values_mut() {
        for connector in partition.connectors.values_mut() {
            if connector.records.is_empty() {
                continue;
            }
            let vms = partition
                .environments
                .get(&connector.environment_id)
                .map(|e| &e.vms);
            let (o, failed) = sync_connector(connector, vms, at, timeout_ms, rows);
            outcome = outcome.merge(o);
            failures |= failed;
        }
    }
    if outcome.changed {
        world.rely(PolicyRule::SyncInterval);
    }
    if failures {
        world.rely(PolicyRule::EvsErrors);
    }
    outcome
}

/// One connector's part of a sync (the table of SPEC 4.3). Returns the outcome and whether a
/// record became CREATE_FAILED.
fn sync_connector(
    connector: &mut ConnectorRecord,
    vms: Option<&BTreeMap<String, Vm>>,
    at: Millis,
    timeout_ms: Option<Millis>,
    rows: Rows,
) -> (SyncOutcome, bool) {
    let healthy = connector.is_healthy();
    let mut outcome = SyncOutcome::default();
    let mut failed = false;
    for record in connector.records.values_mut().filter(|r| r.status.is_live()) {
        let before = record.status;
        if healthy {
            let vm = vms.and_then(|v| v.get(&record.vm_id)).filter(|vm| vm.present);
            sync_healthy(record, vm, at, rows);
        } else if before == EntitlementStatus::Created {
            if rows.at_risk {
                record.status = EntitlementStatus::AtRisk;
            }
        } else if before == EntitlementStatus::Creating {
            match timeout_ms {
                Some(t) if record.created_ms.saturating_add(t) <= at => {
                    fail(record, SYNC_TIMEOUT);
                }
                Some(_) => outcome.timing_out = true,
                None => {}
            }
        }
        outcome.changed |= record.status != before;
        failed |= record.status == EntitlementStatus::CreateFailed;
    }
    (outcome, failed)
}

/// A healthy connector's verdict on one live record.
fn sync_healthy(record: &mut super::EntitlementRecord, vm: Option<&Vm>, at: Millis, rows: Rows) {
    record.last_synced_ms = Some(at);
    let windows = vm.is_some_and(Vm::runs_windows_server);
    match record.status {
        EntitlementStatus::Creating => match vm {
            Some(_) if windows => {
                record.status = EntitlementStatus::Created;
                record.started_ms = Some(at);
            }
            Some(_) => fail(record, UNSUPPORTED_GUEST_OS),
            None => fail(record, VM_NOT_FOUND),
        },
        EntitlementStatus::Created | EntitlementStatus::AtRisk if !windows => {
            let removes = if vm.is_some() {
                rows.guest_os_changed
            } else {
                rows.vm_removed
            };
            if removes {
                record.status = EntitlementStatus::EntitlementRemoved;
                record.stopped_ms = Some(at);
            }
        }
        EntitlementStatus::AtRisk => record.status = EntitlementStatus::Created,
        EntitlementStatus::Created
        | EntitlementStatus::Deleted
        | EntitlementStatus::EntitlementRemoved
        | EntitlementStatus::CreateFailed => {}
    }
}

fn fail(record: &mut super::EntitlementRecord, (code, message): (&str, &str)) {
    record.status = EntitlementStatus::CreateFailed;
    record.error = Some(ErrorDetail {
        error_code: code.to_string(),
        error_message: message.to_string(),
    });
}

/// Completes the earliest connector transition (skipping stale heap entries).
fn apply_next_transition(world: &mut World) {
    let Some(Reverse(t)) = world.evs_mut().transitions.pop() else {
        return;
    };
    let Some(connector) = world
        .evs_mut()
        .partitions
        .get_mut(&t.key)
        .and_then(|p| p.connectors.get_mut(&t.connector_id))
    else {
        return;
    };
    let Some((due, to)) = connector.pending.filter(|(due, _)| *due == t.due_ms) else {
        return;
    };
    let from = connector.state;
    connector.pending = None;
    connector.state = to;
    connector.modified_ms = due;
    if from == ConnectorState::Creating && to == ConnectorState::Active {
        // An activation is the connector's first passing check (SPEC 4.1: ACTIVE, health PASSED).
        super::connector::set_health(connector, CheckResult::Passed, due);
    }
}

/// Schedules a connector's next state at `due_ms`, replacing any transition in flight.
pub(crate) fn schedule(
    world: &mut World,
    key: super::PartitionKey,
    connector_id: &str,
    due_ms: Millis,
    to: ConnectorState,
) {
    let Some(connector) = world
        .evs_mut()
        .partitions
        .get_mut(&key)
        .and_then(|p| p.connectors.get_mut(connector_id))
    else {
        return;
    };
    connector.pending = Some((due_ms, to));
    let connector_seq = connector.seq;
    world.evs_mut().transitions.push(Reverse(Transition {
        due_ms,
        connector_seq,
        key,
        connector_id: connector_id.to_string(),
    }));
}

#[cfg(test)]
mod tests {
    use super::super::environment::{GuestOs, VmGuestOs, VmRef};
    use super::super::testkit::*;
    use super::super::types::CheckResult;
    use super::*;
    use crate::events::Event;
    use crate::policy::Policy;

    fn remove_vm(w: &mut World, vm: &str) {
        let f = VmRef {
            account: None,
            region: None,
            environment_id: ENV.into(),
            vm_id: vm.into(),
        };
        w.apply(Event::RemoveVm(f)).unwrap();
    }

    fn set_os(w: &mut World, vm: &str, guest_os: GuestOs) {
        let f = VmGuestOs {
            account: None,
            region: None,
            environment_id: ENV.into(),
            vm_id: vm.into(),
            guest_os,
        };
        w.apply(Event::SetVmGuestOs(f)).unwrap();
    }

    fn entitlement(w: &mut World, vm: &str) -> serde_json::Value {
        let r = list(w);
        r.body["entitlements"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["vmId"] == vm).cloned())
            .unwrap_or_default()
    }

    /// Brings vm's record to `status` through the table's own rows.
    fn reach(w: &mut World, vm: &str, status: &str) {
        create(w, &[vm]);
        if status == "CREATING" {
            return;
        }
        next_sync(w);
        if status == "AT_RISK" {
            set_health(w, CheckResult::Failed);
            next_sync(w);
            set_health(w, CheckResult::Passed);
        }
        assert_eq!(entitlement(w, vm)["status"], status);
    }

    #[test]
    fn spec_4_3_status_table() {
        type Setup = fn(&mut World);
        let healthy: Setup = |_| {};
        let unhealthy: Setup = |w| set_health(w, CheckResult::Failed);
        let unknown: Setup = |w| set_health(w, CheckResult::Unknown);
        let removed: Setup = |w| remove_vm(w, "vm-1");
        let linux: Setup = |w| set_os(w, "vm-1", GuestOs::Other);
        // (from, connector, vm change, becomes, errorCode)
        let rows: [(&str, Setup, Setup, &str, Option<&str>); 12] = [
            ("CREATED", unhealthy, healthy, "AT_RISK", None),
            ("CREATED", unknown, healthy, "AT_RISK", None),
            ("CREATING", unhealthy, healthy, "CREATING", None),
            ("AT_RISK", unhealthy, removed, "AT_RISK", None),
            ("CREATING", healthy, healthy, "CREATED", None),
            (
                "CREATING",
                healthy,
                removed,
                "CREATE_FAILED",
                Some("VM_NOT_FOUND"),
            ),
            (
                "CREATING",
                healthy,
                linux,
                "CREATE_FAILED",
                Some("UNSUPPORTED_GUEST_OS"),
            ),
            ("CREATED", healthy, removed, "ENTITLEMENT_REMOVED", None),
            ("CREATED", healthy, linux, "ENTITLEMENT_REMOVED", None),
            ("AT_RISK", healthy, removed, "ENTITLEMENT_REMOVED", None),
            ("AT_RISK", healthy, healthy, "CREATED", None),
            ("CREATED", healthy, healthy, "CREATED", None),
        ];
        for (from, connector, vm, to, code) in rows {
            let mut w = world();
            reach(&mut w, "vm-1", from);
            let before = entitlement(&mut w, "vm-1");
            connector(&mut w);
            vm(&mut w);
            next_sync(&mut w);
            let sync_s = serde_json::json!(w.now_ms() / 1000);
            let after = entitlement(&mut w, "vm-1");
            assert_eq!(after["status"], to, "{from} → {to}: {after}");
            assert_eq!(after["errorDetail"]["errorCode"].as_str(), code, "{from} → {to}");
            let healthy_sync =
                w.evs().partition("123456789012", "us-east-1").unwrap().connectors[CONN].is_healthy();
            let expected_synced = if healthy_sync {
                sync_s.clone()
            } else {
                before["lastSyncedAt"].clone()
            };
            assert_eq!(
                after["lastSyncedAt"], expected_synced,
                "{from} → {to}: lastSyncedAt"
            );
            if from == "CREATING" && to == "CREATED" {
                assert_eq!(after["startedAt"], sync_s);
            }
            if to == "ENTITLEMENT_REMOVED" {
                assert_eq!(after["stoppedAt"], sync_s);
            }
        }
    }

    #[test]
    fn spec_4_3_error_detail_stays_after_delete_until_replaced() {
        let mut w = world_with(Policy {
            list_deleted: true,
            ..Policy::default()
        });
        create(&mut w, &["vm-8"]);
        next_sync(&mut w);
        delete(&mut w, &["vm-8"]);
        let e = entitlement(&mut w, "vm-8");
        assert_eq!(
            (e["status"].as_str(), e["errorDetail"]["errorCode"].as_str()),
            (Some("DELETED"), Some("VM_NOT_FOUND"))
        );
        create(&mut w, &["vm-8"]);
        assert!(entitlement(&mut w, "vm-8").get("errorDetail").is_none());
    }

    #[test]
    fn spec_4_3_a_record_created_at_a_boundary_waits_for_the_next() {
        let mut w = world();
        next_sync(&mut w);
        create(&mut w, &["vm-1"]);
        assert_eq!(
            entitlement(&mut w, "vm-1")["status"],
            "CREATING",
            "the sync at this instant ran before"
        );
        w.apply(Event::advance_seconds(299)).unwrap();
        assert_eq!(entitlement(&mut w, "vm-1")["status"], "CREATING");
        w.apply(Event::advance_seconds(1)).unwrap();
        assert_eq!(
            entitlement(&mut w, "vm-1")["status"],
            "CREATED",
            "an operation at exactly T sees it done"
        );
    }

    #[test]
    fn spec_4_3_a_clock_jump_behaves_as_each_boundary_in_turn() {
        let setup = |w: &mut World| {
            create(w, &["vm-1", "vm-2", "vm-9"]);
            set_os(w, "vm-2", GuestOs::Other);
        };
        let mut stepped = world();
        setup(&mut stepped);
        for _ in 0..20 {
            stepped.apply(Event::advance_seconds(300)).unwrap();
        }
        let mut jumped = world();
        setup(&mut jumped);
        jumped.apply(Event::advance_seconds(6000)).unwrap();
        assert_eq!(stepped.evs().entitlements(), jumped.evs().entitlements());
        let e = entitlement(&mut jumped, "vm-1");
        assert_eq!(
            e["lastSyncedAt"],
            serde_json::json!(jumped.now_ms() / 1000),
            "the last boundary synced"
        );
        assert_ne!(e["startedAt"], e["lastSyncedAt"], "started at the first boundary");
    }

    #[test]
    fn spec_4_3_a_long_jump_skips_quiet_boundaries_and_still_lands_on_the_last() {
        let mut w = world();
        create(&mut w, &["vm-1"]);
        let ten_years = 10 * 365 * 86_400;
        w.apply(Event::advance_seconds(ten_years)).unwrap();
        let interval = 300_000;
        let last = w.now_ms() / interval * interval;
        assert_eq!(
            entitlement(&mut w, "vm-1")["lastSyncedAt"],
            serde_json::json!(last / 1000)
        );
        assert_eq!(
            w.evs.next_sync_ms,
            Some(last + interval),
            "the next due instant is kept"
        );
    }

    #[test]
    fn spec_2_transitions_settle_before_a_sync_at_the_same_instant() {
        // The update completes exactly at the next boundary: the sync there sees ACTIVE.
        let mut w = world_with(Policy {
            connector_update_seconds: 300,
            ..Policy::default()
        });
        next_sync(&mut w);
        create(&mut w, &["vm-1"]);
        let body = serde_json::json!({"environmentId": ENV, "connectorId": CONN, "secretIdentifier": "s"});
        assert_eq!(call(&mut w, "UpdateEnvironmentConnector", body).status, 200);
        assert_eq!(
            create(&mut w, &["vm-2"]).body["reason"],
            "other",
            "UPDATING is not ACTIVE"
        );
        w.apply(Event::advance_seconds(300)).unwrap();
        assert_eq!(entitlement(&mut w, "vm-1")["status"], "CREATED");
    }

    #[test]
    fn spec_4_3_creating_timeout_policy() {
        for (timeout, expected) in [(None, "CREATING"), (Some(600), "CREATE_FAILED")] {
            let mut w = world_with(Policy {
                creating_timeout_seconds: timeout,
                ..Policy::default()
            });
            create(&mut w, &["vm-1"]);
            set_health(&mut w, CheckResult::Failed);
            w.apply(Event::advance_seconds(3600)).unwrap();
            let e = entitlement(&mut w, "vm-1");
            assert_eq!(e["status"], expected, "timeout {timeout:?}");
            if timeout.is_some() {
                assert_eq!(e["errorDetail"]["errorCode"], "SYNC_TIMEOUT");
            }
        }
    }

    #[test]
    fn spec_4_3_boundaries_are_multiples_of_the_interval_since_the_epoch() {
        assert_eq!(boundary_at_or_after(0, 300), 0);
        assert_eq!(boundary_at_or_after(1, 300), 300);
        assert_eq!(boundary_at_or_after(300, 300), 300);
        assert_eq!(boundary_at_or_after(301, 300), 600);
    }
}
