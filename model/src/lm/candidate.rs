//! Who may check out (SPEC 3.3): the candidate licenses of a CheckoutLicense and the one it
//! draws on. Each condition is a predicate that names the rule it fails, so a refusal can say
//! which rule excluded each license (`why`) from these same predicates.

use super::grant;
use super::types::*;
use super::why;
use super::LicenseId;
use crate::clock::Millis;
use crate::error::AwsError;
use crate::explain::Rule;
use crate::policy::PolicyRule;
use crate::world::{Caller, World};

/// Whether a license can grant units now (SPEC 3.3): within Validity and effectively
/// AVAILABLE; else the first condition it fails, as the rule an explanation names.
pub(super) fn usable(world: &World, id: LicenseId, now: Millis) -> Result<(), Rule> {
    let r = &world.lm.licenses[id];
    let v = r.latest();
    // The instant End and the status are judged at (one millisecond early under the fault).
    let at = now - i64::from(fault!(world, ValidityEndInclusive));
    let status_of = if fault!(world, FirstVersionStatus) {
        &r.versions[0]
    } else {
        v
    };
    let status = if fault!(world, DeletedLicenseChecksOut) && r.is_deleting() {
        v.status
    } else {
        r.effective_status(status_of, at)
    };
    if v.begin_ms > now {
        Err(Rule::NotYetValid)
    } else if v.end_ms.is_some_and(|end| at >= end) {
        Err(Rule::ValidityEnded)
    } else if status != LicenseStatus::Available {
        Err(Rule::Status)
    } else {
        Ok(())
    }
}

/// SPEC 3.3, who may check out: with Beneficiary, the caller's own licenses issued to it;
/// without, licenses received through a grant allowing CheckoutLicense.
pub(super) fn who(
    world: &World,
    caller: &Caller,
    beneficiary: Option<&str>,
    id: LicenseId,
) -> Result<(), Rule> {
    let r = &world.lm.licenses[id];
    match beneficiary {
        Some(_) if r.issuer_account != caller.account => Err(Rule::NotIssuer),
        Some(b) if r.beneficiary != b => Err(Rule::BeneficiaryDiffers),
        Some(_) => Ok(()),
        None => {
            let mut first = None;
            for g in grant::grants_of(world, &caller.account, id) {
                match g.refusal(AllowedOperation::CheckoutLicense) {
                    Ok(()) => return Ok(()),
                    Err(rule) => {
                        first.get_or_insert(rule);
                    }
                }
            }
            let own = r.issuer_account == caller.account;
            Err(first.unwrap_or(if own {
                Rule::OwnLicenseNeedsBeneficiary
            } else {
                Rule::NoGrant
            }))
        }
    }
}

/// SPEC 3.3: the same KeyFingerprint and ProductSKU, then `usable`.
pub(super) fn key_and_usable(
    world: &World,
    req: &CheckoutLicenseRequest,
    id: LicenseId,
    now: Millis,
) -> Result<(), Rule> {
    let r = &world.lm.licenses[id];
    if r.product_sku != req.product_sku || r.latest().key_fingerprint != req.key_fingerprint {
        return Err(Rule::KeyFingerprint);
    }
    usable(world, id, now)
}

/// SPEC 3.3: the one license a CheckoutLicense draws on.
pub(super) fn candidate(
    world: &mut World,
    caller: &Caller,
    req: &CheckoutLicenseRequest,
) -> Result<LicenseId, AwsError> {
    world.rely(PolicyRule::Beneficiary);
    world.rely(PolicyRule::FingerprintFollowsIssuerName);
    let now = world.now_ms();
    let key = (req.key_fingerprint.as_str(), req.product_sku.as_str());
    let chosen = match &req.beneficiary {
        Some(beneficiary) => world
            .lm
            .by_product
            .get(super::keys::product_key(&key))
            .and_then(|ids| {
                ids.iter()
                    .copied()
                    .filter(|&id| {
                        who(world, caller, Some(beneficiary), id).is_ok()
                            && key_and_usable(world, req, id, now).is_ok()
                    })
                    .max()
            }),
        None => grant::received_allowing(world, &caller.account, AllowedOperation::CheckoutLicense)
            .into_iter()
            .filter(|&id| key_and_usable(world, req, id, now).is_ok())
            .max(),
    };
    chosen.ok_or_else(|| AwsError::no_entitlements().explained(why::no_candidate(world, caller, req)))
}
