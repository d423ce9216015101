//! The goals: sometimes properties a healthy workload reaches, each on typed facts (a
//! license's status and versions, a token's kind and state, a grant's versions, an entitlement
//! record's status history), never on strings found anywhere in a reply.

use conform_model::evs::types::EntitlementStatus;
use conform_model::lm::types::{GrantStatus, LicenseStatus, Unit};
use conform_model::lm::{TokenKind, TokenState};
use conform_model::World;

use super::{Check, Facts, Observation, Outcome, Property};
use crate::driver::Depth;

macro_rules! goals {
    ($($name:ident, $spec:literal, $check:expr;)+) => {
        pub(super) static PROPERTIES: &[Property] = &[
            $(Property { name: stringify!($name), spec: $spec, check: Check::Sometimes($check) },)+
        ];
    };
}

goals! {
    a_checkout_granted, "SPEC 3.4", |o, _| ok(o, "CheckoutLicense");
    a_perpetual_checkout_granted, "SPEC 3.4", |o, _| ok(o, "CheckoutLicense") && member(o, "CheckoutType") == Some("PERPETUAL".into());
    a_buyer_checkout_through_a_grant, "SPEC 3.9", |o, _| ok(o, "CheckoutLicense") && !by_issuer(o);
    a_marketplace_checkout, "SPEC 3.9", |o, _| ok(o, "CheckoutLicense") && member(o, "KeyFingerprint").is_some_and(|f| f.contains(conform_model::lm::MARKETPLACE_ACCOUNT));
    a_borrow_granted, "SPEC 3.5", |o, _| ok(o, "CheckoutBorrowLicense");
    a_check_in_accepted, "SPEC 3.6", |o, _| ok(o, "CheckInLicense");
    an_extend_accepted, "SPEC 3.6", |o, _| ok(o, "ExtendLicenseConsumption") && member_bool(o, "DryRun") != Some(true);
    a_dry_run_extend, "SPEC 3.6", |o, _| ok(o, "ExtendLicenseConsumption") && member_bool(o, "DryRun") == Some(true);
    a_seat_drawn_down_to_exactly_zero, "SPEC 3.4, 3.7", |o, _| exhausted_license(o.after).is_some();
    a_checkout_refused_at_zero_seats, "SPEC 3.4", |o, _| refused(o, "CheckoutLicense", "NoEntitlementsAllowedException")
        && member(o, "ProductSKU").is_some_and(|sku| exhausted_license(o.after).is_some_and(|l| l == sku));
    three_live_tokens_on_one_license, "SPEC 3.10", |o, _| Depth::of(o.after).live_tokens >= 3;
    a_token_expired, "SPEC 3.6", |o, _| o.after.lm().tokens().iter().any(|t| t.state == TokenState::Expired);
    a_borrow_checked_in_early, "SPEC 3.5, 3.6", |o, _| ok(o, "CheckInLicense") && token_kind(o) == Some(TokenKind::Borrow);
    a_borrow_check_in_refused_early, "SPEC 3.5, 3.6", |o, _| refused_any(o, "CheckInLicense") && token_kind(o) == Some(TokenKind::Borrow);
    a_check_in_refused_as_a_conflict, "SPEC 3.6", |o, _| refused(o, "CheckInLicense", "ConflictException");
    an_idempotent_checkout_replay, "SPEC 3.4", |o, _| o.replay && o.outcome.op() == Some("CheckoutLicense");
    a_client_token_reused_with_other_parameters, "SPEC 3.4", |o, _| token_reused_otherwise(o);
    a_license_at_version_4, "SPEC 3.2", |o, _| Depth::of(o.after).license_versions >= 4;
    a_source_version_conflict, "SPEC 3.2", |o, _| refused(o, "CreateLicenseVersion", "ConflictException") || refused(o, "DeleteLicense", "ConflictException");
    a_license_deactivated, "SPEC 3.2", |o, _| latest_status(o.after, LicenseStatus::Deactivated);
    a_license_expired, "SPEC 3.2", |o, _| latest_status(o.after, LicenseStatus::Expired);
    a_license_deleted, "SPEC 3.2", |o, _| o.after.lm().licenses().iter().any(|l| l.is_deleting());
    a_usage_reset, "SPEC 3.7", |o, _| o.after.lm().licenses().iter().any(|l| l.usage_period > 0);
    a_grant_accepted, "SPEC 3.9", |o, _| ok(o, "AcceptGrant");
    a_grant_rejected, "SPEC 3.9", |o, _| o.after.lm().grants().iter().any(|g| g.status() == GrantStatus::Rejected);
    a_grant_activated, "SPEC 3.9", |o, _| ok(o, "CreateGrantVersion") && member(o, "Status") == Some("ACTIVE".into());
    a_grant_active_then_disabled, "SPEC 3.9", |o, _| o.after.lm().grants().iter().any(|g| {
        let active = g.versions.iter().position(|v| v.status == GrantStatus::Active);
        active.is_some_and(|a| g.versions[a..].iter().any(|v| v.status == GrantStatus::Disabled))
    });
    a_grant_narrowed_once_active, "SPEC 3.9", |o, _| o.after.lm().grants().iter().any(|g| {
        let active = g.versions.iter().position(|v| v.status == GrantStatus::Active);
        active.is_some_and(|a| {
            let ops = g.versions[a].allowed_operations.len();
            g.versions[a..].iter().any(|v| v.allowed_operations.len() < ops)
        })
    });
    a_checkout_at_exactly_validity_end, "SPEC 3.2, 3.3", |o, _| o.outcome.op() == Some("CheckoutLicense")
        && o.after.lm().licenses().iter().any(|l| l.latest().end_ms == Some(o.after.now_ms()));
    a_next_page_read, "SPEC 3.2, 4.2", |o, _| page_token(o) && o.outcome.reply().is_some_and(|r| !r.is_error());
    an_expired_page_token_refused, "SPEC 4.2", |o, _| page_token(o) && refused(o, "ListVmEntitlements", "ValidationException");
    a_malformed_request_refused, "SPEC 1.2", |o, _| o.outcome.reply().and_then(|r| r.error_type()).is_some_and(|t| t == "ValidationException" || t == "SerializationException");
    an_entitlement_created, "SPEC 4.3", |_, f| f.reached(EntitlementStatus::Created);
    an_entitlement_at_risk, "SPEC 4.3", |_, f| f.reached(EntitlementStatus::AtRisk);
    an_entitlement_back_from_at_risk, "SPEC 4.3", |_, f| f.history.values().any(|h| {
        let risk = h.iter().position(|s| *s == EntitlementStatus::AtRisk);
        risk.is_some_and(|r| h[..r].contains(&EntitlementStatus::Created) && h[r..].contains(&EntitlementStatus::Created))
    });
    an_entitlement_removed_with_its_vm, "SPEC 4.3", |o, f| f.newly_removed(o.after).iter().any(|present| !present.0);
    an_entitlement_removed_by_a_guest_os_change, "SPEC 4.3", |o, f| f.newly_removed(o.after).iter().any(|present| present.0 && !present.1);
    an_entitlement_create_failed, "SPEC 4.3", |_, f| f.reached(EntitlementStatus::CreateFailed);
    an_entitlement_deleted, "SPEC 4.2", |_, f| f.reached(EntitlementStatus::Deleted);
    a_connector_deletion_refused_while_entitlements_live, "SPEC 4.1", |o, _| refused_any(o, "DeleteEnvironmentConnector") && live_records(o.after);
    a_connector_update_refused_while_entitlements_live, "SPEC 4.1", |o, _| refused_any(o, "UpdateEnvironmentConnector") && live_records(o.after);
    a_connector_updated, "SPEC 4.1", |o, _| ok(o, "UpdateEnvironmentConnector");
}

fn ok(o: &Observation, op: &str) -> bool {
    matches!(&o.outcome, Outcome::Call { op: x, reply, .. } if *x == op && !reply.is_error())
}

fn refused_any(o: &Observation, op: &str) -> bool {
    matches!(&o.outcome, Outcome::Call { op: x, reply, .. } if *x == op && reply.is_error())
}

fn refused(o: &Observation, op: &str, error: &str) -> bool {
    refused_any(o, op) && o.outcome.reply().and_then(|r| r.error_type()) == Some(error)
}

/// Whether the request asks for a next page.
fn page_token(o: &Observation) -> bool {
    member(o, "NextToken")
        .or_else(|| member(o, "nextToken"))
        .is_some()
}

fn member(o: &Observation, name: &str) -> Option<String> {
    o.request()?.get(name)?.as_str().map(str::to_string)
}

fn member_bool(o: &Observation, name: &str) -> Option<bool> {
    o.request()?.get(name)?.as_bool()
}

/// Whether a successful checkout drew from a license its caller issued.
fn by_issuer(o: &Observation) -> bool {
    let Outcome::Call { caller, reply, .. } = &o.outcome else {
        return false;
    };
    let lm = o.after.lm();
    reply.body["LicenseArn"]
        .as_str()
        .and_then(|arn| lm.license_by_arn(arn))
        .is_none_or(|id| lm.license(id).issuer_account == caller.account)
}

/// The SKU of a license whose counted entitlement is in use up to its MaxCount, without overage.
fn exhausted_license(w: &World) -> Option<String> {
    w.lm().licenses().iter().find_map(|l| {
        let full = l.latest().entitlements.iter().any(|e| {
            e.unit != Unit::None
                && e.overage != Some(true)
                && e.max_count
                    .is_some_and(|m| m > 0 && l.in_use(&e.name, e.unit) == i128::from(m))
        });
        full.then(|| l.product_sku.clone())
    })
}

/// The kind of the token a check-in or extend named.
fn token_kind(o: &Observation) -> Option<TokenKind> {
    let id = member(o, "LicenseConsumptionToken")?;
    o.after.lm().tokens().iter().find(|t| t.id == id).map(|t| t.kind)
}

fn latest_status(w: &World, status: LicenseStatus) -> bool {
    let now = w.now_ms();
    w.lm()
        .licenses()
        .iter()
        .any(|l| l.effective_status(l.latest(), now) == status)
}

/// A request whose ClientToken an earlier request of the same operation and account used with
/// another body.
fn token_reused_otherwise(o: &Observation) -> bool {
    let Outcome::Call { caller, op, body, .. } = &o.outcome else {
        return false;
    };
    // The earlier requests it could be, before this one's body is read at all.
    let mut earlier = o.history.iter().filter(|h| {
        h.op == *op && h.account == caller.account && h.client_token.is_some() && h.body != *body
    });
    let Some(first) = earlier.next() else {
        return false;
    };
    let Some(mine) = o.client_token() else {
        return false;
    };
    std::iter::once(first)
        .chain(earlier)
        .any(|h| h.client_token.as_deref() == Some(mine.as_str()))
}

fn live_records(w: &World) -> bool {
    w.evs().statuses().any(|(_, status)| status.is_live())
}

impl Facts {
    fn reached(&self, status: EntitlementStatus) -> bool {
        self.after.values().any(|s| *s == status)
    }

    /// Records that became ENTITLEMENT_REMOVED in this step: for each, whether its VM is still
    /// present and whether it still runs Windows Server.
    fn newly_removed(&self, w: &World) -> Vec<(bool, bool)> {
        let newly = |seq: &u64| {
            self.after.get(seq) == Some(&EntitlementStatus::EntitlementRemoved)
                && self.before.get(seq) != Some(&EntitlementStatus::EntitlementRemoved)
        };
        if !self.after.keys().any(newly) {
            return Vec::new();
        }
        w.evs()
            .entitlements()
            .iter()
            .filter(|(seq, _)| newly(seq))
            .map(|(_, r)| {
                let vm = w
                    .evs()
                    .partitions()
                    .find_map(|(_, p)| p.environments.get(&r.environment_id)?.vms.get(&r.vm_id));
                vm.map_or((false, false), |v| (v.present, v.runs_windows_server()))
            })
            .collect()
    }
}
