//! Checkouts and their tokens (SPEC 3.3-3.6): CheckoutLicense, CheckoutBorrowLicense,
//! CheckInLicense, ExtendLicenseConsumption.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use super::grant;
use super::license::{idempotent, idempotent_with};
use super::signing;
use super::types::*;
use super::{LicenseId, Token, TokenId, TokenKind, TokenState};
use crate::clock::Millis;
use crate::error::{AwsError, ErrorCode};
use crate::policy::{
    CheckoutOrder, ExtendFrom, PerpetualExpiration, PolicyRule, RefusalError, SignedTokenOnCheckout,
};
use crate::timefmt;
use crate::world::{Caller, World};

const MINUTE_MS: Millis = 60_000;

/// Counted units a token holds: (Name, Unit, quantity).
type Held = (String, Unit, i128);

/// A requested item after the quantity grammar: its counted quantity (0 for `None`).
struct Wanted<'a> {
    item: &'a EntitlementData,
    quantity: i128,
}

/// SPEC 3.4 step 3: counted units need a positive decimal within i64; (Name, Unit) pairs are unique.
fn quantity_grammar(items: &[EntitlementData]) -> Result<Vec<Wanted<'_>>, AwsError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !seen.insert((item.name.as_str(), item.unit)) {
            return Err(AwsError::ipve(format!(
                "Entitlement '{}' with unit {} is requested twice",
                item.name, item.unit
            )));
        }
        let quantity = if item.unit.is_counted() {
            parse_quantity(item)?
        } else {
            0
        };
        out.push(Wanted { item, quantity });
    }
    Ok(out)
}

fn parse_quantity(item: &EntitlementData) -> Result<i128, AwsError> {
    let value = item.value.as_deref().unwrap_or_default();
    let well_formed =
        !value.is_empty() && !value.starts_with('0') && value.bytes().all(|b| b.is_ascii_digit());
    match value.parse::<i64>() {
        Ok(q) if well_formed => Ok(i128::from(q)),
        _ => Err(AwsError::ipve(format!(
            "Entitlement '{}' needs a Value that is a positive whole number, not '{value}'",
            item.name
        ))),
    }
}

/// Whether a license can grant units now: effectively AVAILABLE and within Validity.
fn grantable(world: &World, id: LicenseId, now: Millis) -> bool {
    let r = &world.lm.licenses[id];
    let v = r.latest();
    let status = if fault!(world, DeletedLicenseChecksOut) && r.is_deleting() {
        v.status
    } else {
        r.effective_status(v, now)
    };
    status == LicenseStatus::Available && v.begin_ms <= now && v.end_ms.is_none_or(|end| now < end)
}

/// SPEC 3.3: the one license a CheckoutLicense draws on.
fn candidate(
    world: &mut World,
    caller: &Caller,
    req: &CheckoutLicenseRequest,
) -> Result<LicenseId, AwsError> {
    world.rely(PolicyRule::Beneficiary);
    world.rely(PolicyRule::FingerprintFollowsIssuerName);
    let now = world.now_ms();
    let key = (req.key_fingerprint.as_str(), req.product_sku.as_str());
    let matches_key = |world: &World, id: LicenseId| {
        let r = &world.lm.licenses[id];
        r.product_sku == req.product_sku && r.latest().key_fingerprint == req.key_fingerprint
    };
    let chosen = match &req.beneficiary {
        Some(beneficiary) => world
            .lm
            .by_product
            .get(super::keys::product_key(&key))
            .and_then(|ids| {
                ids.iter()
                    .copied()
                    .filter(|&id| {
                        let r = &world.lm.licenses[id];
                        r.issuer_account == caller.account
                            && r.beneficiary == *beneficiary
                            && matches_key(world, id)
                            && grantable(world, id, now)
                    })
                    .max()
            }),
        None => grant::received_allowing(world, &caller.account, AllowedOperation::CheckoutLicense)
            .into_iter()
            .filter(|&id| matches_key(world, id) && grantable(world, id, now))
            .max(),
    };
    chosen.ok_or_else(AwsError::no_entitlements)
}

/// SPEC 3.4 steps 6-7: match items to the license's entitlements and check capacity, all or
/// nothing. Returns the allowed items (request order) and the counted units to hold.
fn match_and_reserve(
    world: &World,
    id: LicenseId,
    wanted: &[Wanted],
    refusal: RefusalError,
) -> Result<(Vec<EntitlementData>, Vec<Held>), AwsError> {
    let refuse = || AwsError::refusal(refusal, "No Entitlements Allowed");
    let record = &world.lm.licenses[id];
    let entitlements = &record.latest().entitlements;
    let mut allowed = Vec::new();
    let mut held = Vec::new();
    for w in wanted {
        let Some(e) = entitlements
            .iter()
            .find(|e| e.name == w.item.name && e.unit == w.item.unit)
        else {
            continue;
        };
        if w.item.unit.is_counted() {
            let in_use = record.in_use(&e.name, e.unit);
            let total = in_use + w.quantity;
            if total > i128::from(i64::MAX) {
                return Err(AwsError::ipve(format!("Usage of '{}' would overflow", e.name)));
            }
            let max = i128::from(e.max_count.unwrap_or(0));
            let max = if fault!(world, CapacityOffByOne) {
                max + 1
            } else {
                max
            };
            let overage = e.overage == Some(true) && !fault!(world, OverageIgnored);
            if total > max && !overage {
                return Err(refuse());
            }
            held.push((e.name.clone(), e.unit, w.quantity));
            allowed.push(EntitlementData {
                name: e.name.clone(),
                value: w.item.value.clone(),
                unit: e.unit,
            });
        } else {
            allowed.push(EntitlementData {
                name: e.name.clone(),
                value: e.value.clone(),
                unit: e.unit,
            });
        }
    }
    if allowed.is_empty() {
        return Err(refuse());
    }
    Ok((allowed, held))
}

/// Issues a token holding `held` units on license `id`.
fn issue_token(
    world: &mut World,
    caller: &Caller,
    id: LicenseId,
    kind: TokenKind,
    items: Vec<EntitlementData>,
    held: Vec<Held>,
    expires_ms: Millis,
) -> (TokenId, String) {
    let token_id = world.ids.hex32();
    let seq = world.next_seq();
    let record = &mut world.lm.licenses[id];
    for (name, unit, qty) in &held {
        // Same as `entry(..).or_insert(0) += qty`, without an owned key unless it is new.
        match record
            .in_use
            .get_mut(super::keys::in_use_key(&(name.as_str(), *unit)))
        {
            Some(v) => *v += qty,
            None => {
                record.in_use.insert((name.clone(), *unit), *qty);
            }
        }
    }
    let period = record.usage_period;
    let index = world.lm.tokens.len();
    world.lm.tokens.push(Token {
        id: token_id.clone(),
        seq,
        account: caller.account.clone(),
        license: id,
        kind,
        held,
        items,
        period,
        expires_ms,
        state: TokenState::Live,
    });
    world.lm.token_by_id.insert(token_id.clone(), index);
    if kind != TokenKind::Perpetual {
        world.lm.expiries.push(Reverse((expires_ms, index)));
    }
    (index, token_id)
}

pub(crate) fn checkout_license(
    world: &mut World,
    caller: &Caller,
    req: CheckoutLicenseRequest,
) -> Result<CheckoutLicenseResponse, AwsError> {
    // The canonical request is the request with its ClientToken cleared: moved, not cloned.
    let mut canonical = req;
    let client_token = std::mem::take(&mut canonical.client_token);
    idempotent_with(
        world,
        caller,
        "CheckoutLicense",
        &client_token,
        canonical,
        |world, req| {
            world.rely(PolicyRule::CheckoutOrder);
            world.rely(PolicyRule::CheckoutRefusalError);
            let refusal = world.policy.checkout_refusal_error;
            let documented = world.policy.checkout_order == CheckoutOrder::Documented;
            let early = if documented {
                Some(quantity_grammar(&req.entitlements)?)
            } else {
                None
            };
            let id = candidate(world, caller, req)?;
            world.rely_license(id);
            let now = world.now_ms();
            let record = &world.lm.licenses[id];
            let Some(provisional) = record
                .latest()
                .consumption_configuration
                .provisional_configuration
                .clone()
            else {
                return Err(AwsError::refusal(refusal, "No Entitlements Allowed"));
            };
            let wanted = match early {
                Some(wanted) => wanted,
                None => quantity_grammar(&req.entitlements)?,
            };
            let (allowed, held) = match_and_reserve(world, id, &wanted, refusal)?;
            let expires_ms =
                now.saturating_add(i64::from(provisional.max_time_to_live_in_minutes) * MINUTE_MS);
            let kind = match req.checkout_type {
                CheckoutType::Provisional => TokenKind::Provisional,
                CheckoutType::Perpetual => TokenKind::Perpetual,
            };
            let (_, token) = issue_token(world, caller, id, kind, allowed.clone(), held, expires_ms);
            world.rely(PolicyRule::SignedTokenOnCheckout);
            let record = &world.lm.licenses[id];
            let sign = match world.policy.signed_token_on_checkout {
                SignedTokenOnCheckout::WhenSignKey => record.latest().issuer.sign_key.is_some(),
                SignedTokenOnCheckout::Always => true,
                SignedTokenOnCheckout::Never => false,
            };
            let license_arn = record.arn.clone();
            let issued_at = timefmt::iso_seconds_no_zone(now);
            let perpetual = req.checkout_type == CheckoutType::Perpetual;
            if perpetual {
                world.rely(PolicyRule::PerpetualExpiration);
            }
            let expiration = (!perpetual || world.policy.perpetual_expiration == PerpetualExpiration::Ttl)
                .then(|| timefmt::iso_seconds_no_zone(expires_ms));
            let signed_token = sign.then(|| {
                signing::sign(
                    world.ids.salts(),
                    &signing::Claims {
                        license_arn: &license_arn,
                        token: &token,
                        entitlements: &allowed,
                        node_id: req.node_id.as_deref(),
                        issued_at: &issued_at,
                        expiration: expiration.as_deref(),
                        checkout_metadata: None,
                    },
                )
            });
            Ok(CheckoutLicenseResponse {
                checkout_type: req.checkout_type,
                license_consumption_token: token,
                entitlements_allowed: allowed,
                signed_token,
                node_id: req.node_id.clone(),
                issued_at,
                expiration,
                license_arn,
            })
        },
    )
}

pub(crate) fn checkout_borrow_license(
    world: &mut World,
    caller: &Caller,
    req: CheckoutBorrowLicenseRequest,
) -> Result<CheckoutBorrowLicenseResponse, AwsError> {
    if req.digital_signature_method != "JWT_PS384" {
        return Err(AwsError::new(
            ErrorCode::UnsupportedDigitalSignatureMethod,
            format!(
                "Digital signature method '{}' is not supported",
                req.digital_signature_method
            ),
        ));
    }
    let canonical = CheckoutBorrowLicenseRequest {
        client_token: String::new(),
        ..req.clone()
    };
    let client_token = req.client_token.clone();
    idempotent(
        world,
        caller,
        "CheckoutBorrowLicense",
        &client_token,
        canonical,
        |world| {
            world.rely(PolicyRule::CheckoutOrder);
            world.rely(PolicyRule::BorrowRefusalError);
            world.rely(PolicyRule::BorrowMissingEntitlementError);
            let refusal = world.policy.borrow_refusal_error;
            let id = borrowable(world, caller, &req.license_arn)?;
            let now = world.now_ms();
            let record = &world.lm.licenses[id];
            let Some(borrow) = record
                .latest()
                .consumption_configuration
                .borrow_configuration
                .clone()
            else {
                return Err(AwsError::no_entitlements());
            };
            if !grantable(world, id, now) {
                return Err(AwsError::refusal(refusal, "No Entitlements Allowed"));
            }
            if req.entitlements.is_empty() {
                return Err(AwsError::no_entitlements());
            }
            let entitlements = &record.latest().entitlements;
            if let Some(missing) = req
                .entitlements
                .iter()
                .find(|i| !entitlements.iter().any(|e| e.name == i.name && e.unit == i.unit))
            {
                return Err(AwsError::refusal(
                    world.policy.borrow_missing_entitlement_error,
                    format!(
                        "Entitlement '{}' with unit {} is not in the license",
                        missing.name, missing.unit
                    ),
                ));
            }
            let wanted = quantity_grammar(&req.entitlements)?;
            let (allowed, held) = match_and_reserve(world, id, &wanted, refusal)?;
            let expires_ms = now.saturating_add(i64::from(borrow.max_time_to_live_in_minutes) * MINUTE_MS);
            let (_, token) = issue_token(
                world,
                caller,
                id,
                TokenKind::Borrow,
                allowed.clone(),
                held,
                expires_ms,
            );
            let license_arn = world.lm.licenses[id].arn.clone();
            let issued_at = timefmt::iso_seconds_no_zone(now);
            let expiration = timefmt::iso_seconds_no_zone(expires_ms);
            let signed_token = signing::sign(
                world.ids.salts(),
                &signing::Claims {
                    license_arn: &license_arn,
                    token: &token,
                    entitlements: &allowed,
                    node_id: req.node_id.as_deref(),
                    issued_at: &issued_at,
                    expiration: Some(&expiration),
                    checkout_metadata: req.checkout_metadata.as_deref(),
                },
            );
            Ok(CheckoutBorrowLicenseResponse {
                license_arn,
                license_consumption_token: token,
                entitlements_allowed: allowed,
                node_id: req.node_id.clone(),
                signed_token,
                issued_at,
                expiration,
                checkout_metadata: req.checkout_metadata.clone(),
            })
        },
    )
}

/// SPEC 3.5 visibility: issued by the caller, or received and allowing CheckoutBorrowLicense.
fn borrowable(world: &mut World, caller: &Caller, arn: &str) -> Result<LicenseId, AwsError> {
    world.rely(PolicyRule::BorrowUnknownError);
    let unknown = AwsError::refusal(
        world.policy.borrow_unknown_error,
        format!("License {arn} not found"),
    );
    let id = world
        .lm
        .license_by_arn(arn)
        .filter(|&id| super::license::can_read(world, caller, id))
        .ok_or(unknown)?;
    world.rely_license(id);
    let issued = world.lm.licenses[id].issuer_account == caller.account;
    let allowed = grant::grants_of(world, &caller.account, id)
        .any(|g| g.allows(AllowedOperation::CheckoutBorrowLicense));
    if issued || allowed {
        Ok(id)
    } else {
        Err(AwsError::no_entitlements())
    }
}

/// SPEC 3.6 `recheck_grant_on_token_ops`: when on, a grantee's token operation needs its grant
/// to be ACTIVE and to list `operation` still.
fn grant_still_allows(world: &mut World, caller: &Caller, t: TokenId, operation: AllowedOperation) -> bool {
    world.rely(PolicyRule::RecheckGrantOnTokenOps);
    let license = world.lm.tokens[t].license;
    !world.policy.recheck_grant_on_token_ops
        || world.lm.licenses[license].issuer_account == caller.account
        || grant::grants_of(world, &caller.account, license).any(|g| g.allows(operation))
}

/// A token of the caller's: an unknown token answers `unknown`, another account's the
/// `token_foreign_error` policy (SPEC 3.6).
fn own_token(
    world: &mut World,
    caller: &Caller,
    token: &str,
    unknown: RefusalError,
) -> Result<TokenId, AwsError> {
    world.rely(PolicyRule::TokenForeignError);
    let message = || format!("License consumption token {token} not found");
    let t = world
        .lm
        .token_by_id
        .get(token)
        .copied()
        .ok_or_else(|| AwsError::refusal(unknown, message()))?;
    if world.lm.tokens[t].account != caller.account {
        return Err(AwsError::refusal(world.policy.token_foreign_error, message()));
    }
    Ok(t)
}

pub(crate) fn check_in_license(
    world: &mut World,
    caller: &Caller,
    req: CheckInLicenseRequest,
) -> Result<CheckInLicenseResponse, AwsError> {
    world.rely(PolicyRule::CheckInEndedError);
    world.rely(PolicyRule::CheckInRefusedError);
    let refused = world.policy.check_in_refused_error;
    let now = world.now_ms();
    let t = own_token(
        world,
        caller,
        &req.license_consumption_token,
        world.policy.check_in_ended_error,
    )?;
    let token = &world.lm.tokens[t];
    if token.kind == TokenKind::Perpetual && !fault!(world, PerpetualCheckInAccepted) {
        return Err(AwsError::refusal(
            refused,
            "A PERPETUAL checkout cannot be checked in",
        ));
    }
    if token.state != TokenState::Live {
        return Err(AwsError::refusal(
            world.policy.check_in_ended_error,
            format!("License consumption token {} is no longer live", token.id),
        ));
    }
    if !grant_still_allows(world, caller, t, AllowedOperation::CheckInLicense) {
        return Err(AwsError::refusal(
            refused,
            "The grant no longer allows CheckInLicense",
        ));
    }
    let token = &world.lm.tokens[t];
    let record = &world.lm.licenses[token.license];
    let latest = record.latest();
    let blocked = token.held.iter().any(|(name, unit, _)| {
        latest
            .entitlements
            .iter()
            .any(|e| e.name == *name && e.unit == *unit && e.allow_check_in != Some(true))
    });
    if blocked {
        return Err(AwsError::refusal(refused, "The license does not allow check-in"));
    }
    let early_allowed = latest
        .consumption_configuration
        .borrow_configuration
        .as_ref()
        .is_some_and(|b| b.allow_early_check_in);
    if token.kind == TokenKind::Borrow && now < token.expires_ms && !early_allowed {
        return Err(AwsError::refusal(
            refused,
            "The license does not allow early check-in of a borrow",
        ));
    }
    world.lm.release(t);
    world.lm.tokens[t].state = TokenState::CheckedIn;
    Ok(CheckInLicenseResponse {})
}

pub(crate) fn extend_license_consumption(
    world: &mut World,
    caller: &Caller,
    req: ExtendLicenseConsumptionRequest,
) -> Result<ExtendLicenseConsumptionResponse, AwsError> {
    world.rely(PolicyRule::ExtendFrom);
    world.rely(PolicyRule::ExtendRefusedError);
    world.rely(PolicyRule::ExtendTimeFormat);
    let now = world.now_ms();
    let t = own_token(
        world,
        caller,
        &req.license_consumption_token,
        RefusalError::ResourceNotFound,
    )?;
    world.rely_license(world.lm.tokens[t].license);
    let token = &world.lm.tokens[t];
    if token.state != TokenState::Live {
        return Err(AwsError::not_found(format!(
            "License consumption token {} is no longer live",
            token.id
        )));
    }
    if token.kind != TokenKind::Provisional {
        return Err(AwsError::refusal(
            world.policy.extend_refused_error,
            "Only PROVISIONAL checkouts can be extended",
        ));
    }
    if !grant_still_allows(world, caller, t, AllowedOperation::ExtendConsumptionLicense) {
        return Err(AwsError::ipve(
            "The grant no longer allows ExtendConsumptionLicense",
        ));
    }
    let token = &world.lm.tokens[t];
    let record = &world.lm.licenses[token.license];
    let provisional = record
        .latest()
        .consumption_configuration
        .provisional_configuration
        .clone();
    let available = record.effective_status(record.latest(), now) == LicenseStatus::Available;
    let Some(provisional) = provisional.filter(|_| available) else {
        return Err(AwsError::ipve(
            "The license is not AVAILABLE with a ProvisionalConfiguration",
        ));
    };
    let id = token.id.clone();
    if req.dry_run == Some(true) {
        return Ok(ExtendLicenseConsumptionResponse {
            license_consumption_token: id,
            expiration: timefmt::format_as(world.policy.extend_time_format, token.expires_ms),
        });
    }
    let from = match world.policy.extend_from {
        ExtendFrom::Now => now,
        ExtendFrom::Expiration => token.expires_ms,
    };
    let expires_ms = from.saturating_add(i64::from(provisional.max_time_to_live_in_minutes) * MINUTE_MS);
    world.lm.tokens[t].expires_ms = expires_ms;
    world.lm.expiries.push(Reverse((expires_ms, t)));
    Ok(ExtendLicenseConsumptionResponse {
        license_consumption_token: id,
        expiration: timefmt::format_as(world.policy.extend_time_format, expires_ms),
    })
}
