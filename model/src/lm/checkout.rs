//! Checkouts and their tokens (SPEC 3.3-3.6): CheckoutLicense, CheckoutBorrowLicense,
//! CheckInLicense, ExtendLicenseConsumption.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use super::candidate::{candidate, usable};
use super::grant;
use super::license::{idempotent, idempotent_with};
use super::signing;
use super::types::*;
use super::why;
use super::{LicenseId, Token, TokenId, TokenKind, TokenState};
use crate::clock::Millis;
use crate::error::{AwsError, ErrorCode};
use crate::explain::Rule;
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
            let message = format!(
                "Entitlement '{}' with unit {} is requested twice",
                item.name, item.unit
            );
            return Err(AwsError::ipve(message).because_message(Rule::DuplicateItem));
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
        ))
        .because_message(Rule::QuantityGrammar)),
    }
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
                let message = format!("Usage of '{}' would overflow", e.name);
                return Err(AwsError::ipve(message).because_message(Rule::UsageOverflow));
            }
            let max = i128::from(e.max_count.unwrap_or(0));
            let max = if fault!(world, CapacityOffByOne) {
                max + 1
            } else {
                max
            };
            let overage = e.overage == Some(true) && !fault!(world, OverageIgnored);
            if total > max && !overage {
                if fault!(world, PartialCheckout) {
                    continue;
                }
                let (name, unit, quantity) = (&e.name, e.unit, w.quantity);
                return Err(refuse().because(
                    Rule::Capacity,
                    format!("'{name}' ({unit}): in use {in_use} + requested {quantity} > MaxCount {max}, no Overage"),
                ));
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
        let (rule, detail) = why::unmatched(world, id, wanted.iter().map(|w| w.item));
        return Err(refuse().because(rule, detail));
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
    let record = &mut world.lm_mut().licenses[id];
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
    world.lm_mut().tokens.push(Token {
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
    world.lm_mut().token_by_id.insert(token_id.clone(), index);
    if kind != TokenKind::Perpetual {
        world.lm_mut().expiries.push(Reverse((expires_ms, index)));
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
                let e = AwsError::refusal(refusal, "No Entitlements Allowed").because(
                    Rule::NoProvisionalConfiguration,
                    "it has no ProvisionalConfiguration",
                );
                return Err(why::on_chosen(world, caller, req, id, e));
            };
            let wanted = match early {
                Some(wanted) => wanted,
                None => quantity_grammar(&req.entitlements)?,
            };
            let (allowed, held) = match_and_reserve(world, id, &wanted, refusal)
                .map_err(|e| why::on_chosen(world, caller, req, id, e))?;
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
            let signatures = world.signatures;
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
                    signatures,
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
        )
        .because_message(Rule::SignatureMethod));
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
                let why = why::license(world, caller, id, Rule::NoBorrowConfiguration);
                return Err(AwsError::no_entitlements().explained(why));
            };
            if let Err(rule) = usable(world, id, now) {
                let why = why::license(world, caller, id, rule);
                return Err(AwsError::refusal(refusal, "No Entitlements Allowed").explained(why));
            }
            if req.entitlements.is_empty() {
                let e = AwsError::no_entitlements();
                return Err(e.because(Rule::NothingRequested, "no entitlements were requested"));
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
                )
                .because_message(Rule::BorrowEntitlementMissing));
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
            let signatures = world.signatures;
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
                signatures,
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
    )
    .because(
        Rule::LicenseNotVisible,
        format!("License {arn} is unknown or neither issued to nor granted to the caller"),
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
        let op = AllowedOperation::CheckoutBorrowLicense;
        let rule = grant::grants_of(world, &caller.account, id).find_map(|g| g.refusal(op).err());
        let why = why::license(world, caller, id, rule.unwrap_or(Rule::NoGrant));
        Err(AwsError::no_entitlements().explained(why))
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
        .ok_or_else(|| AwsError::refusal(unknown, message()).because_message(Rule::TokenUnknown))?;
    if world.lm.tokens[t].account != caller.account {
        let e = AwsError::refusal(world.policy.token_foreign_error, message());
        return Err(e.because(Rule::TokenForeign, "the token belongs to another account"));
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
        let e = AwsError::refusal(refused, "A PERPETUAL checkout cannot be checked in");
        return Err(e.because_message(Rule::PerpetualCheckIn));
    }
    let again = fault!(world, CheckedInTokenAcceptedAgain) && token.state == TokenState::CheckedIn;
    if token.state != TokenState::Live && !again {
        return Err(AwsError::refusal(
            world.policy.check_in_ended_error,
            format!("License consumption token {} is no longer live", token.id),
        )
        .because_message(Rule::TokenEnded));
    }
    if !grant_still_allows(world, caller, t, AllowedOperation::CheckInLicense) {
        let e = AwsError::refusal(refused, "The grant no longer allows CheckInLicense");
        return Err(e.because_message(Rule::GrantRecheck));
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
        let e = AwsError::refusal(refused, "The license does not allow check-in");
        return Err(e.because(
            Rule::CheckInNotAllowed,
            "a counted entitlement has AllowCheckIn false",
        ));
    }
    let early_allowed = latest
        .consumption_configuration
        .borrow_configuration
        .as_ref()
        .is_some_and(|b| b.allow_early_check_in || fault!(world, EarlyBorrowCheckInAccepted));
    if token.kind == TokenKind::Borrow && now < token.expires_ms && !early_allowed {
        let e = AwsError::refusal(refused, "The license does not allow early check-in of a borrow");
        return Err(e.because_message(Rule::EarlyCheckIn));
    }
    if fault!(world, OldPeriodCheckInReleases) {
        // The check-in forgets which usage period the token was issued in.
        world.lm_mut().tokens[t].period = world.lm.licenses[world.lm.tokens[t].license].usage_period;
    }
    world.lm_mut().release(t);
    world.lm_mut().tokens[t].state = TokenState::CheckedIn;
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
        let message = format!("License consumption token {} is no longer live", token.id);
        return Err(AwsError::not_found(message).because_message(Rule::TokenEnded));
    }
    if token.kind != TokenKind::Provisional {
        let e = AwsError::refusal(
            world.policy.extend_refused_error,
            "Only PROVISIONAL checkouts can be extended",
        );
        return Err(e.because_message(Rule::NotProvisional));
    }
    if !grant_still_allows(world, caller, t, AllowedOperation::ExtendConsumptionLicense) {
        let e = AwsError::ipve("The grant no longer allows ExtendConsumptionLicense");
        return Err(e.because_message(Rule::GrantRecheck));
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
        let e = AwsError::ipve("The license is not AVAILABLE with a ProvisionalConfiguration");
        return Err(e.because_message(Rule::ExtendUnavailable));
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
    world.lm_mut().tokens[t].expires_ms = expires_ms;
    world.lm_mut().expiries.push(Reverse((expires_ms, t)));
    Ok(ExtendLicenseConsumptionResponse {
        license_consumption_token: id,
        expiration: timefmt::format_as(world.policy.extend_time_format, expires_ms),
    })
}
