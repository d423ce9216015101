//! Grants: how an account other than the issuer receives a license (SPEC 3.3, 3.9). This file
//! holds the grant records and the seeded Marketplace licenses; the grant API builds on them.

use serde::{Deserialize, Serialize};

use super::types::*;
use super::{license, LicenseId, LicenseVersion};
use crate::clock::Millis;
use crate::error::AwsError;
use crate::world::World;

/// The Marketplace issuer account (SPEC 3.1).
pub const MARKETPLACE_ACCOUNT: &str = "294406891311";
/// The Marketplace issuer name (SPEC 3.1).
pub const MARKETPLACE_ISSUER: &str = "AWS/Marketplace";

/// The operations a grant can allow that draw on a license.
pub const CHECKOUT_OPERATIONS: &[&str] = &[
    "CheckoutLicense",
    "CheckInLicense",
    "CheckoutBorrowLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
];

/// `GrantStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantStatus {
    PendingWorkflow,
    PendingAccept,
    Rejected,
    Active,
    FailedWorkflow,
    Deleted,
    PendingDelete,
    Disabled,
    WorkflowCompleted,
}

/// One grant of a license to an account.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantRecord {
    pub arn: String,
    pub seq: u64,
    pub license: LicenseId,
    pub owner_account: String,
    pub grantee_account: String,
    pub status: GrantStatus,
    pub allowed_operations: Vec<String>,
    pub version: u32,
}

impl GrantRecord {
    pub fn allows(&self, operation: &str) -> bool {
        self.status == GrantStatus::Active && self.allowed_operations.iter().any(|o| o == operation)
    }
}

/// Whether `account` holds a grant on `license` that is not DELETED or REJECTED (SPEC 3.2).
pub(crate) fn holds_visible_grant(world: &World, account: &str, license: LicenseId) -> bool {
    grants_of(world, account, license)
        .any(|g| !matches!(g.status, GrantStatus::Deleted | GrantStatus::Rejected))
}

/// The grants `account` holds on `license`.
pub(crate) fn grants_of<'a>(
    world: &'a World,
    account: &str,
    license: LicenseId,
) -> impl Iterator<Item = &'a GrantRecord> + 'a {
    let ids = world
        .lm
        .grants_by_grantee
        .get(account)
        .map(Vec::as_slice)
        .unwrap_or_default();
    ids.iter()
        .map(|&g| &world.lm.grants[g])
        .filter(move |g| g.license == license)
}

/// Licenses `account` received through an ACTIVE grant allowing `operation` (SPEC 3.3).
pub(crate) fn received_allowing(world: &World, account: &str, operation: &str) -> Vec<LicenseId> {
    let ids = world
        .lm
        .grants_by_grantee
        .get(account)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out: Vec<LicenseId> = ids
        .iter()
        .map(|&g| &world.lm.grants[g])
        .filter(|g| g.allows(operation))
        .map(|g| g.license)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Adds a grant record, drawing its id and creation sequence.
pub(crate) fn insert_grant(
    world: &mut World,
    license: LicenseId,
    grantee_account: &str,
    status: GrantStatus,
    allowed_operations: Vec<String>,
) -> usize {
    let owner = world.lm.licenses[license].issuer_account.clone();
    let arn = format!("arn:aws:license-manager::{owner}:grant:g-{}", world.ids.hex32());
    let seq = world.next_seq();
    let id = world.lm.grants.len();
    world.lm.grants.push(GrantRecord {
        arn,
        seq,
        license,
        owner_account: owner,
        grantee_account: grantee_account.to_string(),
        status,
        allowed_operations,
        version: 1,
    });
    world
        .lm
        .grants_by_grantee
        .entry(grantee_account.to_string())
        .or_default()
        .push(id);
    id
}

/// A Marketplace-issued license bought by an account (a fixture, SPEC 3.9).
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
    let (begin_ms, end_ms) = license::validity_instants(&validity)?;
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
    let ops = CHECKOUT_OPERATIONS.iter().map(|s| s.to_string()).collect();
    insert_grant(world, id, &m.buyer_account, GrantStatus::Active, ops);
    Ok(world.lm.licenses[id].arn.clone())
}
