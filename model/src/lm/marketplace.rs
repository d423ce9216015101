//! Seeded Marketplace licenses (SPEC 3.9): issued by account 294406891311 as `AWS/Marketplace`,
//! granted to the buyer with an ACTIVE grant listing every checkout operation.

use serde::{Deserialize, Serialize};

use super::grant::{insert_grant, MARKETPLACE_ACCOUNT, MARKETPLACE_ISSUER};
use super::types::*;
use super::{license, LicenseVersion};
use crate::clock::Millis;
use crate::error::AwsError;
use crate::policy::{MarketplaceGrant, RefusalError};
use crate::world::World;

/// The operations a Marketplace grant allows: every operation that draws on a license.
const MARKETPLACE_OPERATIONS: &[AllowedOperation] = &[
    AllowedOperation::CheckoutLicense,
    AllowedOperation::CheckInLicense,
    AllowedOperation::CheckoutBorrowLicense,
    AllowedOperation::ExtendConsumptionLicense,
    AllowedOperation::ListPurchasedLicenses,
];

/// The AllowedOperations of a seeded Marketplace grant (SPEC 3.9 `marketplace_grant`).
fn marketplace_operations(policy: MarketplaceGrant) -> Vec<AllowedOperation> {
    match policy {
        MarketplaceGrant::Documented => MARKETPLACE_OPERATIONS.to_vec(),
        MarketplaceGrant::WithoutBorrow => MARKETPLACE_OPERATIONS
            .iter()
            .copied()
            .filter(|op| *op != AllowedOperation::CheckoutBorrowLicense)
            .collect(),
    }
}

/// A Marketplace-issued license bought by an account (a fixture, SPEC 3.9).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketplaceLicense {
    /// The buyer's account id.
    pub buyer_account: String,
    pub product_sku: String,
    #[serde(default = "default_product_name")]
    pub product_name: String,
    #[serde(default = "default_license_name")]
    pub license_name: String,
    #[serde(default = "default_home_region")]
    pub home_region: String,
    pub entitlements: Vec<Entitlement>,
    /// Provisional TTL; the policy's `marketplace_ttl_minutes` when absent.
    #[serde(default)]
    pub ttl_minutes: Option<i32>,
    /// Validity; from now, without end, when absent.
    #[serde(default)]
    pub validity: Option<DatetimeRange>,
}

fn default_product_name() -> String {
    "Marketplace product".into()
}

fn default_license_name() -> String {
    "Marketplace license".into()
}

fn default_home_region() -> String {
    "us-east-1".into()
}

/// Seeds a Marketplace license for its buyer with an ACTIVE grant listing every checkout
/// operation, and returns the license ARN.
pub fn seed_marketplace_license(world: &mut World, m: MarketplaceLicense) -> Result<String, AwsError> {
    let now: Millis = world.now_ms();
    if m.buyer_account.len() != 12 || !m.buyer_account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AwsError::validation("buyer_account must be 12 digits"));
    }
    let ttl = m.ttl_minutes.unwrap_or(world.policy.marketplace_ttl_minutes);
    let validity = m.validity.unwrap_or_else(|| DatetimeRange {
        begin: crate::timefmt::iso_millis(now),
        end: None,
    });
    let issuer = Issuer {
        name: MARKETPLACE_ISSUER.into(),
        sign_key: None,
    };
    let consumption = ConsumptionConfiguration {
        renew_type: None,
        provisional_configuration: Some(ProvisionalConfiguration {
            max_time_to_live_in_minutes: ttl,
        }),
        borrow_configuration: None,
    };
    let beneficiary = format!("arn:aws:iam::{}:root", m.buyer_account);
    let (begin_ms, end_ms) = license::validity_instants(&validity, RefusalError::Validation)?;
    license::content_checks(
        &license::Content {
            license_name: &m.license_name,
            product_name: &m.product_name,
            product_sku: Some(&m.product_sku),
            beneficiary: Some(&beneficiary),
            issuer: &issuer,
            entitlements: &m.entitlements,
            consumption: &consumption,
        },
        begin_ms,
        end_ms,
    )
    .map_err(AwsError::validation)?;
    let version = LicenseVersion {
        version: 1,
        created_ms: now,
        license_name: m.license_name,
        product_name: m.product_name,
        key_fingerprint: license::fingerprint(MARKETPLACE_ACCOUNT, MARKETPLACE_ISSUER),
        issuer,
        validity,
        begin_ms,
        end_ms,
        entitlements: m.entitlements,
        consumption_configuration: consumption,
        license_metadata: None,
        status: LicenseStatus::Available,
    };
    let id = license::insert_license(
        world,
        MARKETPLACE_ACCOUNT,
        m.home_region,
        m.product_sku,
        beneficiary,
        None,
        version,
    );
    insert_grant(
        world,
        id,
        "Marketplace subscription",
        &m.buyer_account,
        GrantStatus::Active,
        marketplace_operations(world.policy.marketplace_grant),
    );
    Ok(world.lm.licenses[id].arn.clone())
}
