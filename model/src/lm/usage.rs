//! GetLicenseUsage (SPEC 3.7): in-use counters per entitlement of the latest version.

use super::types::*;
use crate::error::AwsError;
use crate::policy::PolicyRule;
use crate::world::{Caller, World};

pub(crate) fn get_license_usage(
    world: &mut World,
    caller: &Caller,
    req: GetLicenseUsageRequest,
) -> Result<GetLicenseUsageResponse, AwsError> {
    world.rely(PolicyRule::Access);
    world.rely(PolicyRule::Usage);
    let id = world
        .lm
        .license_by_arn(&req.license_arn)
        .filter(|&id| {
            let r = &world.lm.licenses[id];
            r.issuer_account == caller.account
                || super::grant::grants_of(world, &caller.account, id)
                    .any(|g| g.status() == GrantStatus::Active)
        })
        .ok_or_else(|| AwsError::ipve(format!("License {} not found", req.license_arn)))?;
    let record = &world.lm.licenses[id];
    let entitlement_usages = record
        .latest()
        .entitlements
        .iter()
        .map(|e| EntitlementUsage {
            name: e.name.clone(),
            consumed_value: if e.unit.is_counted() {
                record.in_use(&e.name, e.unit).to_string()
            } else {
                "0".into()
            },
            max_count: e.unit.is_counted().then(|| e.max_count.unwrap_or(0).to_string()),
            unit: e.unit,
        })
        .collect();
    Ok(GetLicenseUsageResponse {
        license_usage: LicenseUsage { entitlement_usages },
    })
}
