//! The invariants of SPEC 3.10 (License Manager) and 4.4 (EVS) as checks over two worlds: the
//! one before a step and the one after it. The harness's auditor (`conform_harness::audit`) names
//! them as always properties, checked by its property tests, the fuzz targets and every campaign,
//! so the rules exist once.
//!
//! The checks read the stored fields through the public read accessors and recompute what they
//! need themselves. They deliberately call none of the model's own predicates (effective status,
//! grant permissions, "is live"), so that a bug in one of those shows up here instead of being
//! repeated by the check.
//!
//! ```
//! use conform_model::invariants::{check_evs, check_lm, Cause};
//! use conform_model::{Caller, Policy, Service, World};
//!
//! let mut world = World::new(1, Policy::default());
//! let before = world.clone();
//! let caller = Caller::new("111122223333", "us-east-1");
//! let reply = world.handle(&caller, Service::LicenseManager, "ListLicenses", b"{}");
//! assert_eq!(reply.status, 200);
//! check_lm(&world, &before).unwrap();
//! check_evs(&world, &before, &Cause::request(Service::LicenseManager, "ListLicenses")).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::Millis;
use crate::events::Event;
use crate::evs::types::{EntitlementStatus, EntitlementType};
use crate::evs::EntitlementRecord;
use crate::lm::types::{LicenseStatus, Unit};
use crate::lm::{TokenKind, TokenState};
use crate::service::Service;
use crate::world::World;

mod same;
pub use same::same_state;

/// What moved a world from its `before` state to the state being checked.
#[derive(Clone, Copy, Debug)]
pub enum Cause<'a> {
    /// A request of `service`'s `operation`, whatever its reply.
    Request { service: Service, operation: &'a str },
    /// An environment event (SPEC 2).
    Event(&'a Event),
}

impl<'a> Cause<'a> {
    pub fn request(service: Service, operation: &'a str) -> Self {
        Cause::Request { service, operation }
    }

    fn is_evs(&self, op: &str) -> bool {
        matches!(self, Cause::Request { service: Service::Evs, operation } if *operation == op)
    }
}

/// SPEC 3.10: usage against MaxCount, usage recomputed from the tokens, versions without gaps and
/// never rewritten, units granted only from AVAILABLE licenses within Validity, token states.
///
/// Tables `world` shares with `before` (a clone's, unchanged since) are checked only for what
/// the clock alone can break, a live token past its expiry: the rest held for `before`, as the
/// previous check established (a chain of checks from an empty world, as for [`check_evs`]).
pub fn check_lm(world: &World, before: &World) -> Result<(), String> {
    let now = world.now_ms();
    let lm = world.lm();
    let unchanged = std::sync::Arc::ptr_eq(&world.lm, &before.lm);
    let licenses = if unchanged { &[][..] } else { lm.licenses() };
    for (i, l) in licenses.iter().enumerate() {
        for (n, v) in l.versions.iter().enumerate() {
            if v.version as usize != n + 1 {
                return Err(format!("{}: versions have a gap at {n}", l.arn));
            }
        }
        // After a Reset the table starts again, so only a license with the same ARN is the same.
        let old = before.lm().licenses().get(i).filter(|o| o.arn == l.arn);
        if let Some(old) = old {
            if l.versions.len() < old.versions.len() || old.versions[..] != l.versions[..old.versions.len()] {
                return Err(format!("{}: a stored version changed or vanished", l.arn));
            }
        }
        // SPEC 3.7: PERPETUAL tokens of the current period count for good; PROVISIONAL and borrow
        // tokens while live.
        let mut recomputed: BTreeMap<(String, Unit), i128> = BTreeMap::new();
        for t in lm
            .tokens()
            .iter()
            .filter(|t| t.license == i && t.period == l.usage_period)
        {
            let counts = match t.kind {
                TokenKind::Perpetual => true,
                TokenKind::Provisional | TokenKind::Borrow => t.state == TokenState::Live,
            };
            if counts {
                for (name, unit, q) in &t.held {
                    *recomputed.entry((name.clone(), *unit)).or_insert(0) += q;
                }
            }
        }
        for (key, in_use) in &l.in_use {
            if *in_use < 0 {
                return Err(format!("{}: in use of {key:?} is negative ({in_use})", l.arn));
            }
        }
        let Some(latest) = l.versions.last() else {
            return Err(format!("{}: a license without versions", l.arn));
        };
        for e in latest.entitlements.iter().filter(|e| e.unit != Unit::None) {
            let key = (e.name.clone(), e.unit);
            let in_use = l.in_use.get(&key).copied().unwrap_or(0);
            let want = recomputed.get(&key).copied().unwrap_or(0);
            if in_use != want {
                return Err(format!(
                    "{}: {} in use {in_use} but the tokens hold {want}",
                    l.arn, e.name
                ));
            }
            let max = i128::from(e.max_count.unwrap_or(0));
            if e.overage != Some(true) && in_use > max {
                // Allowed only as the remainder of a lowered MaxCount: never growing.
                let prev = old
                    .filter(|p| p.usage_period == l.usage_period)
                    .map(|p| p.in_use.get(&key).copied().unwrap_or(0));
                if prev.is_none_or(|p| in_use > p) {
                    return Err(format!(
                        "{}: {} in use {in_use} over MaxCount {max} and growing",
                        l.arn, e.name
                    ));
                }
            }
        }
    }
    for (n, t) in lm.tokens().iter().enumerate() {
        match (t.kind, t.state) {
            (TokenKind::Perpetual, TokenState::Live) => {}
            (TokenKind::Perpetual, s) => return Err(format!("PERPETUAL token {} is {s:?}", t.id)),
            (_, TokenState::Live) if now >= t.expires_ms => {
                return Err(format!("token {} is live past its expiry", t.id))
            }
            _ => {}
        }
        if unchanged {
            continue;
        }
        let old = before.lm().tokens().get(n).filter(|o| o.id == t.id);
        match old {
            // A token that stopped being live never comes back (SPEC 3.10).
            Some(o) if o.state != TokenState::Live && t.state != o.state => {
                return Err(format!("token {} went from {:?} to {:?}", t.id, o.state, t.state));
            }
            Some(_) => {}
            // A new token: the units came from an AVAILABLE license within Validity.
            None => granted_from_available(world, t.license, now)
                .map_err(|why| format!("token {} issued from {why}", t.id))?,
        }
    }
    Ok(())
}

/// The license a new token draws on must be effectively AVAILABLE and within its latest version's
/// Validity at `now` (SPEC 3.2, 3.3), recomputed from the stored fields.
fn granted_from_available(world: &World, license: usize, now: Millis) -> Result<(), String> {
    let Some(l) = world.lm().licenses().get(license) else {
        return Err(format!("an unknown license #{license}"));
    };
    let Some(v) = l.versions.last() else {
        return Err(format!("{} without versions", l.arn));
    };
    if l.deletion_ms.is_some() {
        return Err(format!("{}, which is being deleted", l.arn));
    }
    if v.status != LicenseStatus::Available {
        return Err(format!("{}, which is {:?}", l.arn, v.status));
    }
    if now < v.begin_ms || v.end_ms.is_some_and(|end| now >= end) {
        return Err(format!("{}, outside its Validity", l.arn));
    }
    Ok(())
}

/// Where an entitlement record lives: (account, region, environment, connector), then its own key.
type RecordKey = (String, String, String, String, EntitlementType, String);

/// Every current entitlement record by creation sequence, with the key SPEC 4.4 says is unique.
fn records(world: &World) -> Result<BTreeMap<u64, (RecordKey, &EntitlementRecord)>, String> {
    let mut out = BTreeMap::new();
    for ((account, region), p) in world.evs().partitions() {
        for c in p.connectors.values() {
            for (seq, r) in &c.records {
                if *seq != r.seq {
                    return Err(format!(
                        "record {} of {} filed under sequence {seq}",
                        r.vm_id, c.id
                    ));
                }
                let key = (
                    account.clone(),
                    region.clone(),
                    c.environment_id.clone(),
                    c.id.clone(),
                    r.kind,
                    r.vm_id.clone(),
                );
                if out.insert(r.seq, (key, r)).is_some() {
                    return Err(format!("two records share creation sequence {}", r.seq));
                }
            }
        }
    }
    Ok(out)
}

fn terminal(s: EntitlementStatus) -> bool {
    matches!(
        s,
        EntitlementStatus::Deleted | EntitlementStatus::EntitlementRemoved | EntitlementStatus::CreateFailed
    )
}

/// SPEC 4.4: one current record per (environment, connector, type, VM); `startedAt` iff the record
/// reached CREATED, `stoppedAt` iff DELETED or ENTITLEMENT_REMOVED, `stoppedAt >= startedAt`; and
/// terminal records change only through DeleteEntitlement (to DELETED) or a replacing
/// CreateEntitlement.
///
/// "Reached CREATED" is told from the states: CREATED, AT_RISK and ENTITLEMENT_REMOVED all come
/// after CREATED (SPEC 4.3), and a record that had `startedAt` before this step had reached it, as
/// the previous check established. So a chain of checks from an empty world covers every record.
///
/// EVS tables `world` shares with `before` (a clone's, unchanged since) held for `before`.
pub fn check_evs(world: &World, before: &World, cause: &Cause<'_>) -> Result<(), String> {
    if std::sync::Arc::ptr_eq(&world.evs, &before.evs) {
        return Ok(());
    }
    let after = records(world)?;
    let old = records(before)?;
    let mut keys = BTreeSet::new();
    for (seq, (key, r)) in &after {
        if !keys.insert(key) {
            return Err(format!("two current records for {key:?}"));
        }
        let had_started = old.get(seq).is_some_and(|(_, o)| o.started_ms.is_some());
        let reached = had_started
            || matches!(
                r.status,
                EntitlementStatus::Created
                    | EntitlementStatus::AtRisk
                    | EntitlementStatus::EntitlementRemoved
            );
        if r.started_ms.is_some() != reached {
            return Err(format!(
                "startedAt must be set iff the record reached CREATED: {r:?}"
            ));
        }
        let stopped = matches!(
            r.status,
            EntitlementStatus::Deleted | EntitlementStatus::EntitlementRemoved
        );
        if r.stopped_ms.is_some() != stopped {
            return Err(format!(
                "stoppedAt must be set iff DELETED or ENTITLEMENT_REMOVED: {r:?}"
            ));
        }
        if let (Some(start), Some(stop)) = (r.started_ms, r.stopped_ms) {
            if stop < start {
                return Err(format!("stoppedAt before startedAt: {r:?}"));
            }
        }
    }
    if matches!(cause, Cause::Event(Event::Reset)) {
        // Reset forgets every resource (SPEC 2): nothing of before has to survive it.
        return Ok(());
    }
    for (seq, (key, o)) in old.iter().filter(|(_, (_, o))| terminal(o.status)) {
        match after.get(seq) {
            Some((_, n)) if n == o => {}
            Some((_, n)) if cause.is_evs("DeleteEntitlement") => {
                // DELETED, stoppedAt set where absent; every other field as it was.
                let mut expected = (*o).clone();
                expected.status = EntitlementStatus::Deleted;
                expected.stopped_ms = o.stopped_ms.or(n.stopped_ms);
                if **n != expected {
                    return Err(format!("DeleteEntitlement changed terminal {o:?} into {n:?}"));
                }
            }
            None if cause.is_evs("CreateEntitlement") => {
                // Replaced: a newer record now stands for the same key.
                let replaced = after.values().any(|(k, n)| k == key && n.seq > *seq);
                if !replaced {
                    return Err(format!("terminal record {o:?} vanished without a replacement"));
                }
            }
            n => {
                return Err(format!(
                    "terminal record {o:?} changed to {:?} by {cause:?}",
                    n.map(|(_, r)| r)
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::world::Caller;

    /// A world with a license, a live PROVISIONAL checkout, and a CREATED EVS record.
    fn world() -> World {
        let mut w = World::new(3, Policy::default());
        let seller = Caller::new("111122223333", "us-east-1");
        let create = br#"{"LicenseName": "L", "ProductName": "P", "ProductSKU": "s", "Issuer": {"Name": "I"},
            "HomeRegion": "us-east-1", "Validity": {"Begin": "2025-01-01T00:00:00Z"}, "Beneficiary": "b",
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 2}],
            "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}}, "ClientToken": "c"}"#;
        assert_eq!(
            w.handle(&seller, Service::LicenseManager, "CreateLicense", create)
                .status,
            200
        );
        let checkout = br#"{"ProductSKU": "s", "CheckoutType": "PROVISIONAL", "KeyFingerprint": "aws:111122223333:I:issuer-fingerprint",
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}], "Beneficiary": "b", "ClientToken": "k"}"#;
        let r = w.handle(&seller, Service::LicenseManager, "CheckoutLicense", checkout);
        assert_eq!(r.status, 200, "{}", r.body);
        w
    }

    #[test]
    fn check_lm_accepts_the_model_and_catches_usage_that_disagrees_with_the_tokens() {
        let w = world();
        check_lm(&w, &w.detached()).expect("the model keeps SPEC 3.10");
        let mut bad = w.clone();
        for v in bad.lm_mut().licenses[0].in_use.values_mut() {
            *v += 1;
        }
        assert!(check_lm(&bad, &w).unwrap_err().contains("tokens hold"));
    }

    #[test]
    fn a_shared_table_is_still_checked_for_a_token_live_past_its_expiry() {
        let w = world();
        // A clone whose clock passed the token's hour without settling: the tables are shared.
        let mut later = w.clone();
        later.clock.advance_by(60 * 60 * 1000);
        assert!(std::sync::Arc::ptr_eq(&later.lm, &w.lm));
        assert!(check_lm(&later, &w).unwrap_err().contains("live past its expiry"));
        // A shared table that changed nothing the clock can break passes without a look.
        assert!(check_lm(&w.clone(), &w).is_ok());
        assert!(same_state(&w.clone(), &w));
    }

    #[test]
    fn check_lm_catches_a_rewritten_version_and_a_revived_token() {
        let w = world();
        let mut bad = w.clone();
        std::sync::Arc::make_mut(&mut bad.lm_mut().licenses[0].versions[0]).license_name = "changed".into();
        assert!(check_lm(&bad, &w).is_err());
        let mut expired = w.clone();
        expired.lm_mut().tokens[0].state = TokenState::CheckedIn;
        expired.lm_mut().licenses[0].in_use.clear();
        assert!(check_lm(&w, &expired).unwrap_err().contains("went from"));
    }

    /// A CREATED environment with a healthy VCENTER connector and two VMs, one not Windows,
    /// both entitled and synced: a CREATED and a CREATE_FAILED record.
    fn evs_world() -> World {
        use crate::events::{ConnectorFixture, EnvironmentFixture, GuestOs, VmFixture};
        use crate::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
        let mut w = World::new(7, Policy::default());
        let (env, conn) = ("env-aaaaaaaaaa", "cnctr-aaaaaaaaaa");
        let mut events = vec![
            Event::SeedEvsEnvironment(EnvironmentFixture {
                account: None,
                region: None,
                environment_id: Some(env.into()),
                state: EnvironmentState::Created,
                name: None,
                vcf_version: None,
            }),
            Event::SeedEvsConnector(ConnectorFixture {
                account: None,
                region: None,
                environment_id: env.into(),
                connector_id: Some(conn.into()),
                connector_type: ConnectorType::Vcenter,
                appliance_fqdn: "vc.example.com".into(),
                secret_identifier: "secret".into(),
                state: ConnectorState::Active,
                health: CheckResult::Passed,
            }),
        ];
        for (vm, guest_os) in [("vm-1", GuestOs::WindowsServer), ("vm-2", GuestOs::Other)] {
            events.push(Event::AddVm(VmFixture {
                account: None,
                region: None,
                environment_id: env.into(),
                vm_id: vm.into(),
                name: vm.into(),
                guest_os,
            }));
        }
        for event in events {
            w.apply(event).expect("a fixed fixture");
        }
        let body = format!(
            r#"{{"environmentId": "{env}", "connectorId": "{conn}", "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-1", "vm-2"]}}"#
        );
        let caller = w.default_caller();
        let r = w.handle(&caller, Service::Evs, "CreateEntitlement", body.as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
        w.apply(Event::advance_seconds(300))
            .expect("the clock moves forward");
        w
    }

    fn records(w: &mut World) -> Vec<&mut EntitlementRecord> {
        w.evs_mut()
            .partitions
            .values_mut()
            .flat_map(|p| p.connectors.values_mut())
            .flat_map(|c| c.records.values_mut())
            .collect()
    }

    #[test]
    fn check_evs_catches_a_missing_started_at_and_a_changed_terminal_record() {
        // Records in CREATED and CREATE_FAILED.
        let before = evs_world();
        let step = Event::advance_seconds(0);
        check_evs(&before, &before.detached(), &Cause::Event(&step)).expect("the model keeps SPEC 4.4");
        let mut unstarted = before.clone();
        for r in records(&mut unstarted) {
            if r.status == EntitlementStatus::Created {
                r.started_ms = None;
            }
        }
        assert!(check_evs(&unstarted, &before, &Cause::Event(&step))
            .unwrap_err()
            .contains("startedAt"));
        let mut touched = before.clone();
        for r in records(&mut touched) {
            if r.status == EntitlementStatus::CreateFailed {
                r.error = None;
            }
        }
        assert!(check_evs(&touched, &before, &Cause::Event(&step))
            .unwrap_err()
            .contains("terminal"));
    }

    #[test]
    fn same_state_tells_every_changed_table() {
        let w = world();
        assert!(same_state(&w, &w.clone()));
        let mut token = w.clone();
        token.lm_mut().tokens[0].expires_ms += 1;
        assert!(!same_state(&token, &w));
        let mut license = w.clone();
        license.lm_mut().licenses[0].tags = Some(Vec::new());
        assert!(!same_state(&license, &w));
        let e = evs_world();
        assert!(same_state(&e, &e.clone()));
        let mut record = e.clone();
        if let Some(r) = records(&mut record).into_iter().next() {
            r.last_synced_ms = r.last_synced_ms.map_or(Some(1), |t| Some(t + 1));
        }
        assert!(!same_state(&record, &e));
        let mut connector = e.clone();
        for c in connector
            .evs_mut()
            .partitions
            .values_mut()
            .flat_map(|p| p.connectors.values_mut())
        {
            c.secret.push('x');
        }
        assert!(!same_state(&connector, &e));
        // The same world after a request that changes nothing but reads.
        let mut read = e.clone();
        let caller = read.default_caller();
        read.handle(&caller, Service::Evs, "ListEnvironments", b"{}");
        assert!(same_state(&read, &e));
    }
}
