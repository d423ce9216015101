//! GetLicenseUsage (SPEC 3.7): in-use counters per entitlement of the latest version.

use super::types::*;
use crate::error::AwsError;
use crate::policy::{NoneConsumedValue, PolicyRule};
use crate::world::{Caller, World};

pub(crate) fn get_license_usage(
    world: &mut World,
    caller: &Caller,
    req: GetLicenseUsageRequest,
) -> Result<GetLicenseUsageResponse, AwsError> {
    world.rely(PolicyRule::NoneConsumedValue);
    let unknown = || AwsError::ipve(format!("License {} not found", req.license_arn));
    let id = world.lm.license_by_arn(&req.license_arn).ok_or_else(unknown)?;
    let r = &world.lm.licenses[id];
    let allowed = r.issuer_account == caller.account
        || super::grant::grants_of(world, &caller.account, id).any(|g| g.status() == GrantStatus::Active);
    if !allowed {
        return Err(super::license::access_refusal(world, unknown()));
    }
    world.rely_license(id);
    let none_value = match world.policy.none_consumed_value {
        NoneConsumedValue::Zero => Some("0".to_string()),
        NoneConsumedValue::Absent => None,
    };
    let record = &world.lm.licenses[id];
    let entitlement_usages = record
        .latest()
        .entitlements
        .iter()
        .map(|e| EntitlementUsage {
            name: e.name.clone(),
            consumed_value: if e.unit.is_counted() {
                Some(record.in_use(&e.name, e.unit).to_string())
            } else {
                none_value.clone()
            },
            max_count: e.unit.is_counted().then(|| e.max_count.unwrap_or(0).to_string()),
            unit: e.unit,
        })
        .collect();
    Ok(GetLicenseUsageResponse {
        license_usage: LicenseUsage { entitlement_usages },
    })
}
