//! A canonical fingerprint of a world's semantic state (issue #16: model checking merges equal
//! states). Two worlds that any further request or event answers alike, up to opaque ids and the
//! passage of time, hash alike:
//!
//! - every opaque id (license and grant ARNs, consumption tokens, connector ids) is replaced by
//!   its creation order among its kind; the world-wide creation sequence, the id streams and the
//!   request ids are not hashed at all;
//! - an instant still to come (a live token's expiry, a deletion due, a validity end, a
//!   connector transition, the next sync, a ClientToken record's end) is hashed relative to now;
//!   an instant already past is hashed as "past", because no rule reads how long ago it was;
//!   the instants EVS records keep (`startedAt`, `stoppedAt`, `lastSyncedAt`) are hashed by
//!   presence and by their order (SPEC 4.4);
//! - fields that only name a creation instant in replies (`CreateTime`, an environment's
//!   `createdAt`) and tags (stored, never shown) are left out.
//!
//! The policy and the faults are not hashed either: a world is compared with worlds under the
//! same ones. [`World::fingerprint`] hashes the live ClientToken records (account, operation,
//! token, time left); [`World::fingerprint_without_client_tokens`] leaves them out, for a
//! workload that never sends a ClientToken twice, where no record can change a later reply.
//!
//! ```
//! use conform_model::{Event, Policy, World};
//!
//! let a = World::new(1, Policy::default());
//! let b = World::new(2, Policy::default());
//! // Other seeds draw other ids; nothing has been created, so the states are equal.
//! assert_eq!(a.fingerprint(), b.fingerprint());
//! let mut c = a.clone();
//! c.apply(Event::advance_seconds(1)).unwrap();
//! // A second later the next sync is a second closer: another state.
//! assert_ne!(a.fingerprint(), c.fingerprint());
//! ```

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::quality::{FixedState, FoldHasher};

use crate::clock::Millis;
use crate::lm::TokenState;
use crate::world::World;

/// The fingerprint's hasher: foldhash's quality variant with a fixed seed, so a state hashes
/// alike in every run and process (SipHash, the standard library's, was a tenth of an explored
/// transition).
const SEED: u64 = 0x636f_6e66_6f72_6d31;

impl World {
    /// The world's semantic state as one number, ClientToken records included (module docs).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint_with(true)
    }

    /// The fingerprint without the ClientToken records: for a workload that never reuses a
    /// ClientToken, so that no record can answer any later request.
    pub fn fingerprint_without_client_tokens(&self) -> u64 {
        self.fingerprint_with(false)
    }

    fn fingerprint_with(&self, client_tokens: bool) -> u64 {
        let now = self.now_ms();
        let mut h = FixedState::with_seed(SEED).build_hasher();
        self.hash_lm(now, &mut h);
        self.hash_evs(now, &mut h);
        if client_tokens {
            let mut records: Vec<_> = self
                .idempotency
                .entries()
                .filter(|e| e.expires_ms > now)
                .map(|e| (e.account, e.op, e.token, e.expires_ms - now))
                .collect();
            records.sort_unstable();
            records.hash(&mut h);
        }
        h.finish()
    }

    fn hash_lm(&self, now: Millis, h: &mut FoldHasher<'static>) {
        let lm = &self.lm;
        lm.licenses.len().hash(h);
        for l in &lm.licenses {
            (&l.issuer_account, &l.home_region, &l.product_sku, &l.beneficiary).hash(h);
            l.versions.len().hash(h);
            for v in &l.versions {
                (v.version, &v.license_name, &v.product_name, v.status).hash(h);
                (&v.issuer.name, &v.issuer.sign_key, &v.key_fingerprint).hash(h);
                (ahead(v.begin_ms, now), v.end_ms.map(|t| ahead(t, now))).hash(h);
                v.entitlements.len().hash(h);
                for e in &v.entitlements {
                    (
                        &e.name,
                        e.unit,
                        &e.value,
                        e.max_count,
                        e.overage,
                        e.allow_check_in,
                    )
                        .hash(h);
                }
                let c = &v.consumption_configuration;
                c.renew_type.hash(h);
                c.provisional_configuration
                    .as_ref()
                    .map(|p| p.max_time_to_live_in_minutes)
                    .hash(h);
                c.borrow_configuration
                    .as_ref()
                    .map(|b| (b.allow_early_check_in, b.max_time_to_live_in_minutes))
                    .hash(h);
                v.license_metadata
                    .as_ref()
                    .map(|m| m.iter().map(|x| (&x.name, &x.value)).collect::<Vec<_>>())
                    .hash(h);
            }
            l.deletion_ms.map(|t| ahead(t, now)).hash(h);
            l.in_use.hash(h);
        }
        lm.tokens.len().hash(h);
        for t in &lm.tokens {
            let current = t.period == lm.licenses[t.license].usage_period;
            (&t.account, t.license, t.kind as u8, t.state as u8, current).hash(h);
            t.held.hash(h);
            for item in &t.items {
                (&item.name, item.unit, &item.value).hash(h);
            }
            // Only a live token's expiry is read again (expiry, extension, check-in).
            if t.state == TokenState::Live {
                ahead(t.expires_ms, now).hash(h);
            }
        }
        lm.grants.len().hash(h);
        for g in &lm.grants {
            (
                g.license,
                &g.owner_account,
                &g.grantee_account,
                &g.home_region,
                g.grant_type,
            )
                .hash(h);
            g.versions.len().hash(h);
            for v in &g.versions {
                (&v.name, v.status, &v.status_reason, &v.allowed_operations).hash(h);
                v.options
                    .as_ref()
                    .map(|o| (o.activation_override_behavior, o.desired_status))
                    .hash(h);
            }
        }
    }

    fn hash_evs(&self, now: Millis, h: &mut FoldHasher<'static>) {
        let evs = &self.evs;
        evs.next_sync_ms.map(|t| ahead(t, now)).hash(h);
        // Connectors in creation order, each named by that order.
        let mut order: Vec<(u64, &str)> = evs
            .partitions
            .values()
            .flat_map(|p| p.connectors.values().map(|c| (c.seq, c.id.as_str())))
            .collect();
        order.sort_unstable();
        let rank: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, (_, id))| (*id, i)).collect();
        evs.partitions.len().hash(h);
        for (key, p) in &evs.partitions {
            key.hash(h);
            p.environments.len().hash(h);
            for (id, e) in &p.environments {
                (id, &e.name, e.state, e.vcf_version).hash(h);
                for (vm_id, vm) in &e.vms {
                    (vm_id, &vm.name, vm.guest_os as u8, vm.present).hash(h);
                }
            }
            let mut connectors: Vec<_> = p.connectors.values().collect();
            connectors.sort_unstable_by_key(|c| c.seq);
            connectors.len().hash(h);
            for c in connectors {
                rank.get(c.id.as_str()).hash(h);
                (&c.environment_id, c.kind, &c.fqdn, &c.secret, c.state, c.health).hash(h);
                (c.checked_ms.is_some(), c.impaired_since_ms.is_some()).hash(h);
                c.pending.map(|(t, s)| (ahead(t, now), s)).hash(h);
                c.records.len().hash(h);
                // `records` is keyed by creation sequence: iteration is creation order.
                for r in c.records.values() {
                    (&r.vm_id, r.kind, &r.vm_name, r.status).hash(h);
                    let order = match (r.started_ms, r.stopped_ms) {
                        (Some(a), Some(b)) => Some(b >= a),
                        _ => None,
                    };
                    (
                        r.last_synced_ms.is_some(),
                        r.started_ms.is_some(),
                        r.stopped_ms.is_some(),
                        order,
                    )
                        .hash(h);
                    r.error
                        .as_ref()
                        .map(|e| (&e.error_code, &e.error_message))
                        .hash(h);
                }
            }
        }
    }
}

/// An instant as a rule reads it: how far ahead of now, or `None` once it is due (SPEC 2: an
/// event due at T has happened when `now >= T`).
fn ahead(t: Millis, now: Millis) -> Option<Millis> {
    (t > now).then(|| t - now)
}

#[cfg(test)]
mod tests {
    use crate::{Caller, Event, Policy, Service, World};

    const SELLER: &str = "111122223333";

    fn license(w: &mut World, token: &str, max: i64) -> String {
        let body = serde_json::json!({
            "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "sku",
            "Issuer": {"Name": "Example"}, "HomeRegion": "us-east-1",
            "Validity": {"Begin": "2020-01-01T00:00:00Z"},
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": max, "AllowCheckIn": true}],
            "Beneficiary": "b", "ClientToken": token,
            "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
        });
        let r = w.handle(
            &Caller::new(SELLER, "us-east-1"),
            Service::LicenseManager,
            "CreateLicense",
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["LicenseArn"].as_str().unwrap_or_default().to_string()
    }

    fn checkout(w: &mut World, token: &str, qty: u32) -> serde_json::Value {
        let body = serde_json::json!({
            "ProductSKU": "sku", "CheckoutType": "PROVISIONAL", "Beneficiary": "b",
            "KeyFingerprint": format!("aws:{SELLER}:Example:issuer-fingerprint"), "ClientToken": token,
            "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty.to_string()}],
        });
        w.handle(
            &Caller::new(SELLER, "us-east-1"),
            Service::LicenseManager,
            "CheckoutLicense",
            body.to_string().as_bytes(),
        )
        .body
    }

    /// A license of two seats and one of them checked out (ClientToken `k1`).
    fn one_checkout() -> World {
        let mut w = World::new(1, Policy::default());
        license(&mut w, "c", 2);
        checkout(&mut w, "k1", 1);
        w
    }

    fn check_in(w: &mut World, token: &serde_json::Value) {
        let body = serde_json::json!({"LicenseConsumptionToken": token["LicenseConsumptionToken"]});
        let r = w.handle(
            &Caller::new(SELLER, "us-east-1"),
            Service::LicenseManager,
            "CheckInLicense",
            body.to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    #[test]
    fn paths_to_the_same_state_merge_whatever_ids_they_drew() {
        // Path A: seed 1, check out two seats and return one of them.
        let mut a = World::new(1, Policy::default());
        license(&mut a, "c", 2);
        let first = checkout(&mut a, "k1", 1);
        checkout(&mut a, "k2", 1);
        check_in(&mut a, &first);
        // Path B: seed 2 (other ARNs and tokens), a refused request first (no state change),
        // the same two checkouts and the same return.
        let mut b = World::new(2, Policy::default());
        license(&mut b, "c", 2);
        let refused = checkout(&mut b, "k0", 3);
        assert_eq!(refused["__type"], "NoEntitlementsAllowedException");
        let first = checkout(&mut b, "k1", 1);
        checkout(&mut b, "k2", 1);
        check_in(&mut b, &first);
        assert_ne!(a.lm.licenses[0].arn, b.lm.licenses[0].arn);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(
            a.fingerprint_without_client_tokens(),
            b.fingerprint_without_client_tokens()
        );
    }

    #[test]
    fn a_semantic_difference_changes_it() {
        let mut base = World::new(1, Policy::default());
        license(&mut base, "c", 2);
        let fp = base.fingerprint_without_client_tokens();
        // One more seat in use.
        let mut used = base.clone();
        checkout(&mut used, "k1", 1);
        assert_ne!(used.fingerprint_without_client_tokens(), fp);
        // The same seat taken and returned: usage equal, but the ended token remains known.
        let mut returned = used.clone();
        let t = checkout(&mut returned, "k2", 1);
        check_in(&mut returned, &t);
        assert_ne!(
            returned.fingerprint_without_client_tokens(),
            used.fingerprint_without_client_tokens()
        );
        // Another MaxCount.
        let mut other = World::new(1, Policy::default());
        license(&mut other, "c", 3);
        assert_ne!(other.fingerprint_without_client_tokens(), fp);
        // The ClientToken record counts only in the full fingerprint.
        let mut recorded = World::new(1, Policy::default());
        license(&mut recorded, "d", 2);
        assert_eq!(recorded.fingerprint_without_client_tokens(), fp);
        assert_ne!(recorded.fingerprint(), base.fingerprint());
    }

    #[test]
    fn a_detached_world_is_the_same_state_and_shares_no_table() {
        let mut a = World::new(1, Policy::default());
        license(&mut a, "c", 2);
        let first = checkout(&mut a, "k1", 1);
        let d = a.detached();
        assert_eq!(d.fingerprint(), a.fingerprint());
        assert!(!std::sync::Arc::ptr_eq(&d.evs, &a.evs));
        assert!(!std::sync::Arc::ptr_eq(&d.lm, &a.lm));
        assert!(!std::sync::Arc::ptr_eq(
            &d.lm.licenses[0].versions[0],
            &a.lm.licenses[0].versions[0]
        ));
        // Its ClientToken records are its own copies, and still replay (SPEC 3.4).
        let (mut a, mut d) = (a, d);
        let replayed = checkout(&mut d, "k1", 1);
        assert_eq!(replayed, first);
        assert_eq!(checkout(&mut a, "k1", 1), first);
        assert_eq!(d.fingerprint(), a.fingerprint());
    }

    #[test]
    fn a_clone_shares_the_license_manager_until_a_change_of_it() {
        let a = one_checkout();
        // A clock move with no token due, and a refused checkout, change no LM table.
        let mut b = a.clone();
        b.apply(Event::advance_seconds(60)).unwrap();
        checkout(&mut b, "k2", 5);
        assert!(std::sync::Arc::ptr_eq(&a.lm, &b.lm));
        // A granted checkout does, on its own copy.
        checkout(&mut b, "k3", 1);
        assert!(!std::sync::Arc::ptr_eq(&a.lm, &b.lm));
        assert_eq!(a.lm.tokens.len() + 1, b.lm.tokens.len());
    }

    #[test]
    fn times_count_relative_to_now_and_past_instants_merge() {
        let a = one_checkout();
        // A minute later the token has a minute less to live: another state.
        let mut later = a.clone();
        later.apply(Event::advance_seconds(60)).unwrap();
        assert_ne!(later.fingerprint(), a.fingerprint());
        // Past its expiry (and past the ClientToken windows and a sync boundary's phase), two
        // worlds that waited different times beyond it are the same state.
        let (mut x, mut y) = (a.clone(), a.clone());
        x.apply(Event::advance_seconds(2 * 86_400)).unwrap();
        y.apply(Event::advance_seconds(3 * 86_400)).unwrap();
        assert_eq!(x.fingerprint(), y.fingerprint());
    }
}
