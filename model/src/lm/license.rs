//! Licenses and their versions (SPEC 3.2): create, new versions, read, list, delete.

use std::collections::BTreeSet;

use super::types::*;
use super::{LicenseId, LicenseRecord, LicenseVersion};
use crate::error::{AwsError, ErrorCode};
use crate::policy::{
    Access, CreateChecks, CreateLicenseOrder, HomeRegionChange, PolicyRule, RefusalError, VersionStatus,
};
use crate::service::Service;
use crate::timefmt;
use crate::world::{Caller, World};

/// `aws:<issuer account>:<Issuer.Name>:issuer-fingerprint`, the name verbatim (SPEC 3.1).
pub(crate) fn fingerprint(account: &str, issuer_name: &str) -> String {
    format!("aws:{account}:{issuer_name}:issuer-fingerprint")
}

/// The fields CreateLicense and CreateLicenseVersion both carry.
pub(crate) struct Content<'a> {
    pub license_name: &'a str,
    pub product_name: &'a str,
    pub product_sku: Option<&'a str>,
    pub beneficiary: Option<&'a str>,
    pub issuer: &'a Issuer,
    pub entitlements: &'a [Entitlement],
    pub consumption: &'a ConsumptionConfiguration,
}

/// Validity as instants: each date a real instant in years 0001-9999, else the error `refusal`
/// (SPEC 3.1 `invalid_date_error`; ValidationException where the operation lists no other).
pub(crate) fn validity_instants(
    validity: &DatetimeRange,
    refusal: RefusalError,
) -> Result<(i64, Option<i64>), AwsError> {
    let parse = |name: &str, s: &str| {
        timefmt::parse_input_date(s)
            .ok_or_else(|| AwsError::refusal(refusal, format!("Validity.{name} '{s}' is not a valid date")))
    };
    let begin = parse("Begin", &validity.begin)?;
    let end = validity.end.as_deref().map(|e| parse("End", e)).transpose()?;
    Ok((begin, end))
}

/// The content checks under the `create_checks` policy (SPEC 3.2).
fn checked_content(world: &mut World, c: &Content, begin: i64, end: Option<i64>) -> Result<(), String> {
    world.rely(PolicyRule::CreateChecks);
    match world.policy.create_checks {
        CreateChecks::Full => content_checks(c, begin, end),
        CreateChecks::None => Ok(()),
    }
}

/// The content checks of SPEC 3.2 (`create_checks`), on dates already parsed.
pub(crate) fn content_checks(c: &Content, begin: i64, end: Option<i64>) -> Result<(), String> {
    let non_empty = [
        ("LicenseName", Some(c.license_name)),
        ("ProductName", Some(c.product_name)),
        ("ProductSKU", c.product_sku),
        ("Beneficiary", c.beneficiary),
        ("Issuer.Name", Some(c.issuer.name.as_str())),
    ];
    for (name, value) in non_empty {
        if value.is_some_and(str::is_empty) {
            return Err(format!("{name} must not be empty"));
        }
    }
    if c.entitlements.is_empty() {
        return Err("Entitlements must contain at least one entitlement".into());
    }
    let mut names = BTreeSet::new();
    for e in c.entitlements {
        if !names.insert(e.name.as_str()) {
            return Err(format!("Entitlements contain the name '{}' twice", e.name));
        }
        entitlement_check(e)?;
    }
    let cc = c.consumption;
    if cc.provisional_configuration.is_none() && cc.borrow_configuration.is_none() {
        return Err(
            "ConsumptionConfiguration needs a ProvisionalConfiguration or a BorrowConfiguration".into(),
        );
    }
    if cc
        .provisional_configuration
        .as_ref()
        .is_some_and(|p| p.max_time_to_live_in_minutes < 1)
    {
        return Err("ProvisionalConfiguration.MaxTimeToLiveInMinutes must be at least 1".into());
    }
    if cc
        .borrow_configuration
        .as_ref()
        .is_some_and(|b| b.max_time_to_live_in_minutes < 1)
    {
        return Err("BorrowConfiguration.MaxTimeToLiveInMinutes must be at least 1".into());
    }
    if end.is_some_and(|end| end <= begin) {
        return Err("Validity.End must be after Validity.Begin".into());
    }
    Ok(())
}

fn entitlement_check(e: &Entitlement) -> Result<(), String> {
    if e.name.is_empty() {
        return Err("Entitlement Name must not be empty".into());
    }
    if e.unit.is_counted() {
        if e.value.is_some() {
            return Err(format!(
                "Entitlement '{}' with unit {} must not have a Value",
                e.name, e.unit
            ));
        }
        match e.max_count {
            Some(m) if m >= 0 => Ok(()),
            Some(_) => Err(format!("Entitlement '{}' MaxCount must not be negative", e.name)),
            None => Err(format!(
                "Entitlement '{}' with unit {} needs a MaxCount",
                e.name, e.unit
            )),
        }
    } else if e.value.is_none() {
        Err(format!("Entitlement '{}' with unit None needs a Value", e.name))
    } else if e.max_count.is_some() {
        Err(format!(
            "Entitlement '{}' with unit None must not have a MaxCount",
            e.name
        ))
    } else {
        Ok(())
    }
}

/// Runs `f` under ClientToken idempotency (SPEC 3.4). `canonical` is the request without its token.
pub(crate) fn idempotent<Q, R>(
    world: &mut World,
    caller: &Caller,
    op: &'static str,
    token: &str,
    canonical: Q,
    f: impl FnOnce(&mut World) -> Result<R, AwsError>,
) -> Result<R, AwsError>
where
    Q: Clone + PartialEq + Send + Sync + 'static,
    R: Clone + Send + Sync + 'static,
{
    idempotent_with(world, caller, op, token, canonical, |world, _| f(world))
}

/// `idempotent`, with the operation reading its parameters from the canonical request, so a
/// caller can move its request in rather than clone it.
pub(crate) fn idempotent_with<Q, R>(
    world: &mut World,
    caller: &Caller,
    op: &'static str,
    token: &str,
    canonical: Q,
    f: impl FnOnce(&mut World, &Q) -> Result<R, AwsError>,
) -> Result<R, AwsError>
where
    Q: Clone + PartialEq + Send + Sync + 'static,
    R: Clone + Send + Sync + 'static,
{
    world.rely(PolicyRule::Idempotency);
    let now = world.now_ms();
    let skip = fault!(world, IdempotentReplayDrawsTwice) && op == "CheckoutLicense";
    // A record ends at its window's end (one millisecond later under the fault).
    let seen_at = now - i64::from(fault!(world, IdempotencyWindowInclusive));
    let found = if skip {
        super::super::idempotency::Lookup::Miss
    } else {
        world
            .idempotency
            .lookup::<Q, R>(&caller.account, op, token, &canonical, seen_at)
    };
    match found {
        super::super::idempotency::Lookup::Replay(r) => return Ok(r),
        super::super::idempotency::Lookup::Mismatch if fault!(world, ClientTokenMismatchRuns) => {}
        super::super::idempotency::Lookup::Mismatch => {
            world.rely(PolicyRule::ModelledErrorsOnly);
            let model = Service::LicenseManager.model();
            let message = format!("ClientToken '{token}' was already used with different parameters");
            let error = match model.operation(op) {
                Some(def) if world.policy.modelled_errors_only => def.invalid_parameter(message),
                _ => AwsError::ipve(message),
            };
            return Err(error.because_message(crate::explain::Rule::IdempotencyMismatch));
        }
        super::super::idempotency::Lookup::Miss => {}
    }
    let reply = f(world, &canonical)?;
    let expires = now.saturating_add(world.policy.idempotency_window_seconds.saturating_mul(1000));
    std::sync::Arc::make_mut(&mut world.idempotency).record(
        &caller.account,
        op,
        token,
        canonical,
        reply.clone(),
        expires,
    );
    Ok(reply)
}

pub(crate) fn create_license(
    world: &mut World,
    caller: &Caller,
    req: CreateLicenseRequest,
) -> Result<CreateLicenseResponse, AwsError> {
    world.rely(PolicyRule::InvalidDateError);
    let (begin_ms, end_ms) = validity_instants(&req.validity, world.policy.invalid_date_error)?;
    let canonical = CreateLicenseRequest {
        client_token: String::new(),
        ..req.clone()
    };
    let token = req.client_token.clone();
    idempotent(world, caller, "CreateLicense", &token, canonical, |world| {
        world.rely(PolicyRule::CreateLicenseOrder);
        let region_first = world.policy.create_license_order == CreateLicenseOrder::RegionFirst;
        if region_first && req.home_region != caller.region {
            return Err(AwsError::redirect(&req.home_region));
        }
        checked_content(
            world,
            &Content {
                license_name: &req.license_name,
                product_name: &req.product_name,
                product_sku: Some(&req.product_sku),
                beneficiary: Some(&req.beneficiary),
                issuer: &req.issuer,
                entitlements: &req.entitlements,
                consumption: &req.consumption_configuration,
            },
            begin_ms,
            end_ms,
        )
        .map_err(AwsError::ipve)?;
        if req.home_region != caller.region {
            return Err(AwsError::redirect(&req.home_region));
        }
        let now = world.now_ms();
        let version = LicenseVersion {
            version: 1,
            created_ms: now,
            license_name: req.license_name,
            product_name: req.product_name,
            key_fingerprint: fingerprint(&caller.account, &req.issuer.name),
            issuer: req.issuer,
            validity: req.validity,
            begin_ms,
            end_ms,
            entitlements: req.entitlements,
            consumption_configuration: req.consumption_configuration,
            license_metadata: req.license_metadata,
            status: LicenseStatus::Available,
        };
        let id = insert_license(
            world,
            &caller.account,
            req.home_region,
            req.product_sku,
            req.beneficiary,
            req.tags,
            version,
        );
        let record = &world.lm.licenses[id];
        Ok(CreateLicenseResponse {
            license_arn: record.arn.clone(),
            status: record.effective_status(record.latest(), now),
            version: "1".into(),
        })
    })
}

/// Adds a license with its first version, drawing its id and creation sequence.
pub(crate) fn insert_license(
    world: &mut World,
    issuer_account: &str,
    home_region: String,
    product_sku: String,
    beneficiary: String,
    tags: Option<Vec<Tag>>,
    first: LicenseVersion,
) -> LicenseId {
    let arn = format!(
        "arn:aws:license-manager::{issuer_account}:license:l-{}",
        world.ids.hex32()
    );
    let seq = world.next_seq();
    let id = world.lm.licenses.len();
    let key = (first.key_fingerprint.clone(), product_sku.clone());
    world.lm_mut().licenses.push(LicenseRecord {
        arn: arn.clone(),
        seq,
        issuer_account: issuer_account.to_string(),
        home_region,
        product_sku,
        beneficiary,
        tags,
        versions: vec![first.into()],
        deletion_ms: None,
        usage_period: 0,
        in_use: Default::default(),
    });
    world.lm_mut().by_arn.insert(arn, id);
    world
        .lm_mut()
        .issued_by
        .entry(issuer_account.to_string())
        .or_default()
        .push(id);
    world.lm_mut().by_product.entry(key).or_default().push(id);
    id
}

pub(crate) fn create_license_version(
    world: &mut World,
    caller: &Caller,
    req: CreateLicenseVersionRequest,
) -> Result<CreateLicenseVersionResponse, AwsError> {
    let (begin_ms, end_ms) = validity_instants(&req.validity, RefusalError::Validation)?;
    // CreateLicenseVersion does not list IPVE, the content checks' own error.
    world.rely(PolicyRule::ModelledErrorsOnly);
    let content_error = if world.policy.modelled_errors_only {
        AwsError::validation
    } else {
        AwsError::ipve
    };
    checked_content(
        world,
        &Content {
            license_name: &req.license_name,
            product_name: &req.product_name,
            product_sku: None,
            beneficiary: None,
            issuer: &req.issuer,
            entitlements: &req.entitlements,
            consumption: &req.consumption_configuration,
        },
        begin_ms,
        end_ms,
    )
    .map_err(content_error)?;
    world.rely(PolicyRule::VersionStatus);
    if world.policy.version_status == VersionStatus::AvailableOrDeactivated
        && !matches!(req.status, LicenseStatus::Available | LicenseStatus::Deactivated)
    {
        return Err(AwsError::validation(format!(
            "Status must be AVAILABLE or DEACTIVATED, not {}",
            req.status
        )));
    }
    let canonical = CreateLicenseVersionRequest {
        client_token: String::new(),
        ..req.clone()
    };
    let token = req.client_token.clone();
    idempotent(
        world,
        caller,
        "CreateLicenseVersion",
        &token,
        canonical,
        |world| {
            let unknown = || AwsError::not_found(format!("License {} not found", req.license_arn));
            let id = world.lm.license_by_arn(&req.license_arn).ok_or_else(unknown)?;
            if world.lm.licenses[id].issuer_account != caller.account {
                return Err(access_refusal(world, unknown()));
            }
            world.rely(PolicyRule::HomeRegionChange);
            world.rely(PolicyRule::VersionOnDeletingLicense);
            world.rely(PolicyRule::SourceVersionMismatch);
            world.rely(PolicyRule::FingerprintFollowsIssuerName);
            let now = world.now_ms();
            let record = &world.lm.licenses[id];
            if caller.region != record.home_region {
                return Err(AwsError::redirect(&record.home_region));
            }
            if req.home_region != record.home_region
                && world.policy.home_region_change == HomeRegionChange::Refuse
            {
                return Err(AwsError::validation("HomeRegion of a license cannot change"));
            }
            if record.is_deleting() {
                return Err(AwsError::refusal(
                    world.policy.version_on_deleting_license,
                    format!("License {} is being deleted", record.arn),
                ));
            }
            let latest = record.latest().version.to_string();
            if req.source_version.as_ref().is_some_and(|v| *v != latest)
                && !fault!(world, SourceVersionIgnored)
            {
                return Err(AwsError::refusal(
                    world.policy.source_version_mismatch,
                    format!("SourceVersion does not match the latest version {latest}"),
                ));
            }
            let version_number = record.latest().version + 1;
            let key_fingerprint = if world.policy.fingerprint_follows_issuer_name {
                fingerprint(&record.issuer_account, &req.issuer.name)
            } else {
                record.latest().key_fingerprint.clone()
            };
            let key = (key_fingerprint.clone(), record.product_sku.clone());
            let version = LicenseVersion {
                version: version_number,
                created_ms: now,
                license_name: req.license_name,
                product_name: req.product_name,
                issuer: req.issuer,
                key_fingerprint,
                validity: req.validity,
                begin_ms,
                end_ms,
                entitlements: req.entitlements,
                consumption_configuration: req.consumption_configuration,
                license_metadata: req.license_metadata,
                status: req.status,
            };
            world.next_seq();
            let reset = req.reset_usage == Some(true) && !fault!(world, ResetUsageIgnored);
            let record = &mut world.lm_mut().licenses[id];
            record.versions.push(version.into());
            if reset {
                record.usage_period += 1;
                record.in_use.clear();
            }
            let ids = world.lm_mut().by_product.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
            let record = &world.lm.licenses[id];
            let shown = if fault!(world, VersionNotIncremented) {
                version_number - 1
            } else {
                version_number
            };
            Ok(CreateLicenseVersionResponse {
                license_arn: record.arn.clone(),
                version: shown.to_string(),
                status: record.effective_status(record.latest(), now),
            })
        },
    )
}

/// The `License` shape of one version as AWS renders it.
pub(crate) fn render(record: &LicenseRecord, v: &LicenseVersion, now: i64) -> License {
    License {
        license_arn: record.arn.clone(),
        license_name: v.license_name.clone(),
        product_name: v.product_name.clone(),
        product_sku: record.product_sku.clone(),
        issuer: IssuerDetails {
            name: v.issuer.name.clone(),
            sign_key: v.issuer.sign_key.clone(),
            key_fingerprint: v.key_fingerprint.clone(),
        },
        home_region: record.home_region.clone(),
        status: record.effective_status(v, now),
        validity: DatetimeRange {
            begin: timefmt::iso_millis(v.begin_ms),
            end: v.end_ms.map(timefmt::iso_millis),
        },
        beneficiary: record.beneficiary.clone(),
        entitlements: v.entitlements.clone(),
        consumption_configuration: v.consumption_configuration.clone(),
        license_metadata: v.license_metadata.clone(),
        create_time: timefmt::epoch_seconds_string(v.created_ms),
        version: v.version.to_string(),
    }
}

/// Whether `caller` may read the license (SPEC 3.2 `access`): its issuer, or an account holding
/// a grant on it that is not DELETED or REJECTED.
pub(crate) fn can_read(world: &World, caller: &Caller, id: LicenseId) -> bool {
    world.lm.licenses[id].issuer_account == caller.account
        || super::grant::holds_visible_grant(world, &caller.account, id)
}

pub(crate) fn readable(world: &mut World, caller: &Caller, arn: &str) -> Result<LicenseId, AwsError> {
    let unknown = || AwsError::ipve(format!("License {arn} not found"));
    let id = world.lm.license_by_arn(arn).ok_or_else(unknown)?;
    if !can_read(world, caller, id) {
        return Err(access_refusal(world, unknown()));
    }
    world.rely_license(id);
    Ok(id)
}

/// What a caller without access to an existing license is told (SPEC 3.2 `access`): the
/// operation's `unknown` answer, or AccessDeniedException.
pub(crate) fn access_refusal(world: &mut World, unknown: AwsError) -> AwsError {
    world.rely(PolicyRule::Access);
    match world.policy.access {
        Access::UnknownAnswer => unknown,
        Access::AccessDenied => AwsError::new(ErrorCode::AccessDenied, "Access denied"),
    }
}

pub(crate) fn get_license(
    world: &mut World,
    caller: &Caller,
    req: GetLicenseRequest,
) -> Result<GetLicenseResponse, AwsError> {
    let id = readable(world, caller, &req.license_arn)?;
    let now = world.now_ms();
    let record = &world.lm.licenses[id];
    let version = match &req.version {
        Some(v) => record
            .version(v)
            .ok_or_else(|| AwsError::ipve(format!("Version {v} of license {} not found", record.arn)))?,
        None => record.latest(),
    };
    Ok(GetLicenseResponse {
        license: render(record, version, now),
    })
}

pub(crate) fn delete_license(
    world: &mut World,
    caller: &Caller,
    req: DeleteLicenseRequest,
) -> Result<DeleteLicenseResponse, AwsError> {
    world.rely(PolicyRule::Delete);
    let now = world.now_ms();
    let id = world
        .lm
        .license_by_arn(&req.license_arn)
        .filter(|&id| {
            let r = &world.lm.licenses[id];
            r.issuer_account == caller.account && !r.is_deleting()
        })
        .ok_or_else(|| {
            AwsError::ipve(format!(
                "License {} not found or already deleted",
                req.license_arn
            ))
        })?;
    let record = &world.lm.licenses[id];
    if caller.region != record.home_region {
        return Err(AwsError::redirect(&record.home_region));
    }
    let latest = record.latest().version.to_string();
    world.rely(PolicyRule::SourceVersionMismatch);
    if req.source_version != latest && !fault!(world, SourceVersionIgnored) {
        return Err(AwsError::refusal(
            world.policy.source_version_mismatch,
            format!("SourceVersion does not match the latest version {latest}"),
        ));
    }
    let delay_ms = world.policy.deletion_delay_seconds.max(0).saturating_mul(1000);
    let at = now.saturating_add(delay_ms);
    world.rely(PolicyRule::DeletionDateFormat);
    let format = world.policy.deletion_date_format;
    let record = &mut world.lm_mut().licenses[id];
    record.deletion_ms = Some(at);
    Ok(DeleteLicenseResponse {
        status: record.effective_status(record.latest(), now),
        deletion_date: timefmt::format_as(format, at),
    })
}
