//! Explanations of License Manager refusals (issue #18): which licenses a checkout considered
//! and the first rule that excluded each. The rules themselves are the predicates of
//! `checkout` and `grant` (`who`, `key_and_usable`, `GrantRecord::refusal`); this file only
//! walks the licenses a person would expect to be considered and puts the verdicts into words.

use super::types::*;
use super::{candidate, grant, LicenseId};
use crate::clock::Millis;
use crate::error::AwsError;
use crate::explain::{Candidate, Explanation, Rule, MAX_CANDIDATES};
use crate::timefmt::iso_millis;
use crate::world::{Caller, World};

/// The licenses a checkout of (KeyFingerprint, ProductSKU) considers, newest first: every
/// license that had that pair in some version, and the caller's issued and received licenses
/// of that ProductSKU (a mistyped fingerprint is then named, not silently missing).
fn considered(world: &World, caller: &Caller, fingerprint: &str, sku: &str) -> Vec<LicenseId> {
    let lm = &world.lm;
    let mut ids: Vec<LicenseId> = lm
        .by_product
        .get(super::keys::product_key(&(fingerprint, sku)))
        .cloned()
        .unwrap_or_default();
    let issued = lm.issued_by.get(&caller.account).into_iter().flatten().copied();
    let received = lm
        .grants_by_grantee
        .get(&caller.account)
        .into_iter()
        .flatten()
        .map(|&g| lm.grants[g].license);
    ids.extend(
        issued
            .chain(received)
            .filter(|&id| lm.licenses[id].product_sku == sku),
    );
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids
}

/// Why CheckoutLicense found no candidate (SPEC 3.3): each license considered and the first
/// rule that excluded it.
pub(super) fn no_candidate(world: &World, caller: &Caller, req: &CheckoutLicenseRequest) -> Explanation {
    let now = world.now_ms();
    let ids = considered(world, caller, &req.key_fingerprint, &req.product_sku);
    let mut candidates = Vec::new();
    for &id in ids.iter().take(MAX_CANDIDATES) {
        let verdict = candidate::who(world, caller, req.beneficiary.as_deref(), id)
            .and_then(|()| candidate::key_and_usable(world, req, id, now));
        // A license that passes every rule would have been chosen; none does when this runs.
        if let Err(rule) = verdict {
            candidates.push(candidate(world, caller, req, id, rule, now));
        }
    }
    let who = match &req.beneficiary {
        Some(b) => format!("licenses account {} issued to Beneficiary '{b}'", caller.account),
        None => format!(
            "licenses account {} received through an ACTIVE grant",
            caller.account
        ),
    };
    let mut detail = format!(
        "no candidate among {} license(s) considered for ProductSKU '{}' and KeyFingerprint '{}' \
         (candidates: {who}); now is {}",
        ids.len(),
        req.product_sku,
        req.key_fingerprint,
        iso_millis(now)
    );
    if ids.len() > MAX_CANDIDATES {
        detail.push_str(&format!("; the {MAX_CANDIDATES} newest are listed"));
    }
    Explanation {
        rule: Rule::NoCandidate,
        detail,
        candidates,
    }
}

/// A refusal of the chosen license `id` by `rule` (SPEC 3.4 steps 5-7): the chosen license,
/// then the older candidates that the highest creation sequence left out (no fallback, 3.3).
pub(super) fn chosen(
    world: &World,
    caller: &Caller,
    req: &CheckoutLicenseRequest,
    id: LicenseId,
    rule: Rule,
    detail: String,
) -> Explanation {
    let now = world.now_ms();
    let arn = |id: LicenseId| world.lm.licenses[id].arn.clone();
    let mut candidates = vec![Candidate {
        license: arn(id),
        rule,
        detail: detail.clone(),
    }];
    let older = considered(world, caller, &req.key_fingerprint, &req.product_sku)
        .into_iter()
        .filter(|&other| other < id)
        .filter(|&other| {
            candidate::who(world, caller, req.beneficiary.as_deref(), other)
                .and_then(|()| candidate::key_and_usable(world, req, other, now))
                .is_ok()
        });
    for other in older.take(MAX_CANDIDATES - 1) {
        candidates.push(Candidate {
            license: arn(other),
            rule: Rule::NewerCandidateWins,
            detail: format!(
                "{} is newer and was chosen; an older candidate is never a fallback",
                arn(id)
            ),
        });
    }
    Explanation {
        rule,
        detail: format!("{}: {detail}", arn(id)),
        candidates,
    }
}

/// `e`, a refusal of the chosen license `id` (SPEC 3.4 steps 5-7), with its rule and detail
/// told as `chosen`.
pub(super) fn on_chosen(
    world: &World,
    caller: &Caller,
    req: &CheckoutLicenseRequest,
    id: LicenseId,
    e: AwsError,
) -> AwsError {
    match e.explanation.as_deref() {
        Some(Explanation { rule, detail, .. }) => {
            let why = chosen(world, caller, req, id, *rule, detail.clone());
            e.explained(why)
        }
        None => e,
    }
}

/// A refusal of one license by a candidate rule (borrows, SPEC 3.5): that license alone.
pub(super) fn license(world: &World, caller: &Caller, id: LicenseId, rule: Rule) -> Explanation {
    let now = world.now_ms();
    let c = candidate_in(world, caller, id, rule, now, None);
    Explanation {
        rule,
        detail: format!("{}: {}", c.license, c.detail),
        candidates: vec![c],
    }
}

fn candidate(
    world: &World,
    caller: &Caller,
    req: &CheckoutLicenseRequest,
    id: LicenseId,
    rule: Rule,
    now: Millis,
) -> Candidate {
    candidate_in(world, caller, id, rule, now, Some(req))
}

/// One license's verdict in words.
fn candidate_in(
    world: &World,
    caller: &Caller,
    id: LicenseId,
    rule: Rule,
    now: Millis,
    req: Option<&CheckoutLicenseRequest>,
) -> Candidate {
    let r = &world.lm.licenses[id];
    let v = r.latest();
    let grant = grant::grants_of(world, &caller.account, id).next();
    let grant_name = grant.map(|g| g.arn.rsplit(':').next().unwrap_or(&g.arn).to_string());
    let detail = match rule {
        Rule::NotIssuer => format!(
            "issued by account {}, not the caller's account {} (a request with Beneficiary checks \
             out the caller's own licenses)",
            r.issuer_account, caller.account
        ),
        Rule::BeneficiaryDiffers => format!(
            "its Beneficiary is '{}', the request names '{}'",
            r.beneficiary,
            req.and_then(|q| q.beneficiary.as_deref()).unwrap_or_default()
        ),
        Rule::OwnLicenseNeedsBeneficiary => format!(
            "account {} issued it; checking out one's own license needs Beneficiary '{}' \
             (without Beneficiary only licenses received through a grant are candidates)",
            caller.account, r.beneficiary
        ),
        Rule::NoGrant => format!(
            "issued by account {}; account {} holds no grant on it",
            r.issuer_account, caller.account
        ),
        Rule::GrantNotActive => format!(
            "grant {} is {}, not ACTIVE (AcceptGrant leaves it DISABLED; the grantee activates it \
             with CreateGrantVersion)",
            grant_name.unwrap_or_default(),
            grant.map(|g| g.status().to_string()).unwrap_or_default()
        ),
        Rule::GrantDelegate => format!(
            "grant {} is a DelegateGrant, which never enables checkout",
            grant_name.unwrap_or_default()
        ),
        Rule::GrantLacksOperation => {
            let ops: Vec<String> = grant
                .map(|g| {
                    g.current()
                        .allowed_operations
                        .iter()
                        .map(ToString::to_string)
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "grant {} allows only [{}]",
                grant_name.unwrap_or_default(),
                ops.join(", ")
            )
        }
        Rule::KeyFingerprint => format!(
            "its latest KeyFingerprint is '{}', the request names '{}'",
            v.key_fingerprint,
            req.map(|q| q.key_fingerprint.as_str()).unwrap_or_default()
        ),
        Rule::Status => format!("its effective status is {}", r.effective_status(v, now)),
        Rule::NotYetValid => format!(
            "Validity.Begin {} is after now {} (the simulator's clock; see --start-time)",
            iso_millis(v.begin_ms),
            iso_millis(now)
        ),
        Rule::ValidityEnded => format!(
            "Validity.End {} is not after now {}",
            v.end_ms.map(iso_millis).unwrap_or_default(),
            iso_millis(now)
        ),
        Rule::NoBorrowConfiguration => "it has no BorrowConfiguration".to_string(),
        other => other.name().to_string(),
    };
    Candidate {
        license: r.arn.clone(),
        rule,
        detail,
    }
}

/// Why no requested item matched (SPEC 3.4 step 6): a unit mismatch when some item's Name is
/// in the license with another Unit, else missing entitlements.
pub(super) fn unmatched<'a>(
    world: &World,
    id: LicenseId,
    items: impl Iterator<Item = &'a EntitlementData>,
) -> (Rule, String) {
    let entitlements = &world.lm.licenses[id].latest().entitlements;
    let mut unit = false;
    let words: Vec<String> = items
        .map(|i| {
            let units: Vec<String> = entitlements
                .iter()
                .filter(|e| e.name == i.name)
                .map(|e| e.unit.to_string())
                .collect();
            if units.is_empty() {
                format!("'{}' is not an entitlement of the license", i.name)
            } else {
                unit = true;
                format!(
                    "'{}' requested as {}, the license has it as {}",
                    i.name,
                    i.unit,
                    units.join(", ")
                )
            }
        })
        .collect();
    if words.is_empty() {
        return (
            Rule::NoEntitlementMatched,
            "no entitlements were requested".to_string(),
        );
    }
    let rule = if unit {
        Rule::UnitMismatch
    } else {
        Rule::NoEntitlementMatched
    };
    (
        rule,
        format!("no requested item matches (Name and Unit): {}", words.join("; ")),
    )
}
