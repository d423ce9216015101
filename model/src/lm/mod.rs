//! AWS License Manager (SPEC 3): licenses and their versions, checkouts and tokens, usage.
//!
//! Each resource family has its file; this module holds the state they share and the one
//! dispatch from a typed request to its family.

mod candidate;
mod checkout;
mod grant;
mod keys;
mod license;
mod listing;
mod marketplace;
mod received;
mod signing;
pub mod types;
mod usage;
mod why;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::FastMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::clock::Millis;
use crate::error::AwsError;
use crate::world::{Caller, World};

pub use grant::{GrantRecord, GrantVersion, MARKETPLACE_ACCOUNT, MARKETPLACE_ISSUER};
pub use marketplace::MarketplaceLicense;
pub use signing::{public_key_pem, verify_signed_token, Signatures};
use types::*;

/// The index of a license in the world's license table (creation order).
pub type LicenseId = usize;
/// The index of a token in the world's token table (creation order).
pub type TokenId = usize;

/// One stored version of a license: its fields never change once written (SPEC 3.10).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LicenseVersion {
    pub version: u32,
    pub created_ms: Millis,
    pub license_name: String,
    pub product_name: String,
    pub issuer: Issuer,
    pub key_fingerprint: String,
    pub validity: DatetimeRange,
    pub begin_ms: Millis,
    pub end_ms: Option<Millis>,
    pub entitlements: Vec<Entitlement>,
    pub consumption_configuration: ConsumptionConfiguration,
    pub license_metadata: Option<Vec<Metadata>>,
    pub status: LicenseStatus,
}

/// A license: identity, versions, deletion state and usage counters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LicenseRecord {
    pub arn: String,
    pub seq: u64,
    pub issuer_account: String,
    pub home_region: String,
    pub product_sku: String,
    pub beneficiary: String,
    pub tags: Option<Vec<Tag>>,
    /// Never changed once made: shared between clones of the world.
    pub versions: Vec<std::sync::Arc<LicenseVersion>>,
    /// When DeleteLicense turns into DELETED (`None`: not deleted).
    pub deletion_ms: Option<Millis>,
    /// Starts at 0; ResetUsage starts the next (SPEC 3.7).
    pub usage_period: u32,
    /// Units in use in the current period per (Name, Unit).
    pub in_use: BTreeMap<(String, Unit), i128>,
}

impl LicenseRecord {
    pub fn latest(&self) -> &LicenseVersion {
        // A license is created with its first version and versions are never removed.
        &self.versions[self.versions.len() - 1]
    }

    pub fn version(&self, v: &str) -> Option<&LicenseVersion> {
        // Matched exactly: "01" is not "1" (SPEC 3.1).
        self.versions
            .iter()
            .map(|x| &**x)
            .find(|x| x.version.to_string() == v)
    }

    /// The effective status of one version at `now` (SPEC 3.2).
    pub fn effective_status(&self, version: &LicenseVersion, now: Millis) -> LicenseStatus {
        match self.deletion_ms {
            Some(at) if now >= at => LicenseStatus::Deleted,
            Some(_) => LicenseStatus::PendingDelete,
            None if version.end_ms.is_some_and(|end| now >= end) => LicenseStatus::Expired,
            None => version.status,
        }
    }

    pub fn is_deleting(&self) -> bool {
        self.deletion_ms.is_some()
    }

    pub fn in_use(&self, name: &str, unit: Unit) -> i128 {
        self.in_use
            .get(keys::in_use_key(&(name, unit)))
            .copied()
            .unwrap_or(0)
    }
}

/// What a token was issued by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum TokenKind {
    Provisional,
    Perpetual,
    Borrow,
}

/// Where a token stands (SPEC 3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum TokenState {
    Live,
    CheckedIn,
    Expired,
}

/// A LicenseConsumptionToken and the units it holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub id: String,
    pub seq: u64,
    pub account: String,
    pub license: LicenseId,
    pub kind: TokenKind,
    /// Counted units held, per (Name, Unit).
    pub held: Vec<(String, Unit, i128)>,
    /// Every matched item, `None` ones included (for AllowCheckIn and replies).
    pub items: Vec<EntitlementData>,
    pub period: u32,
    pub expires_ms: Millis,
    pub state: TokenState,
}

/// The License Manager state of a world.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct LicenseManager {
    pub(crate) licenses: Vec<LicenseRecord>,
    pub(crate) by_arn: FastMap<String, LicenseId>,
    pub(crate) issued_by: FastMap<String, Vec<LicenseId>>,
    /// (KeyFingerprint, ProductSKU) → licenses that had that pair in some version.
    pub(crate) by_product: FastMap<(String, String), Vec<LicenseId>>,
    pub(crate) grants: Vec<GrantRecord>,
    pub(crate) grant_by_arn: FastMap<String, usize>,
    pub(crate) grants_by_grantee: FastMap<String, Vec<usize>>,
    pub(crate) grants_by_license: FastMap<LicenseId, Vec<usize>>,
    pub(crate) tokens: Vec<Token>,
    pub(crate) token_by_id: FastMap<String, TokenId>,
    /// Due token expiries: (due, token). Stale entries (extended tokens) are skipped on pop.
    pub(crate) expiries: BinaryHeap<Reverse<(Millis, TokenId)>>,
}

impl LicenseManager {
    /// The earliest entry of the due expiries (stale ones included), if any.
    pub(crate) fn next_due(&self) -> Option<Millis> {
        self.expiries.peek().map(|Reverse((due, _))| *due)
    }

    /// Expires every live token due at or before `now`, in time order (SPEC 2), in O(log n) each;
    /// `release` returns their units, `extended` skips the entries an extension made stale.
    pub(crate) fn settle(&mut self, now: Millis, release: bool, extended: bool) {
        while let Some(Reverse((due, id))) = self.expiries.peek().copied() {
            if due > now {
                break;
            }
            self.expiries.pop();
            let token = &self.tokens[id];
            if token.state != TokenState::Live || (extended && token.expires_ms != due) {
                continue;
            }
            if release {
                self.release(id);
            }
            self.tokens[id].state = TokenState::Expired;
        }
    }

    /// Returns a token's units to its license if it was issued in the current period.
    pub(crate) fn release(&mut self, id: TokenId) {
        let token = &self.tokens[id];
        let license = &mut self.licenses[token.license];
        if token.period != license.usage_period {
            return;
        }
        for (name, unit, qty) in &token.held {
            if let Some(v) = license.in_use.get_mut(keys::in_use_key(&(name.as_str(), *unit))) {
                *v -= qty;
            }
        }
    }

    pub fn license(&self, id: LicenseId) -> &LicenseRecord {
        &self.licenses[id]
    }

    pub fn licenses(&self) -> &[LicenseRecord] {
        &self.licenses
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    pub fn grants(&self) -> &[GrantRecord] {
        &self.grants
    }

    pub fn license_by_arn(&self, arn: &str) -> Option<LicenseId> {
        self.by_arn.get(arn).copied()
    }
}

macro_rules! lm_requests {
    ($($op:ident($req:ty) => $handler:path),+ $(,)?) => {
        /// A typed License Manager request of an operation conform implements.
        #[derive(Clone, Debug, PartialEq)]
        pub enum LmRequest {
            $($op($req)),+
        }

        impl LmRequest {
            /// Every operation conform implements, by name.
            pub const OPERATIONS: &'static [&'static str] = &[$(stringify!($op)),+];

            pub fn operation(&self) -> &'static str {
                match self { $(LmRequest::$op(_) => stringify!($op)),+ }
            }

            /// Builds the typed request from a decoded body; `Ok(None)` for a modelled operation
            /// conform does not implement.
            pub fn from_body(operation: &str, body: Value) -> Result<Option<LmRequest>, AwsError> {
                match operation {
                    $(stringify!($op) => typed(body).map(|r| Some(LmRequest::$op(r))),)+
                    _ => Ok(None),
                }
            }

            /// The request as a JSON body.
            pub fn to_body(&self) -> Value {
                match self { $(LmRequest::$op(r) => to_value(r)),+ }
            }
        }

        pub(crate) fn execute(world: &mut World, caller: &Caller, req: LmRequest) -> Result<Value, AwsError> {
            match req { $(LmRequest::$op(r) => $handler(world, caller, r).map(|reply| to_value(&reply))),+ }
        }

        $(
            impl Operation for $req {
                type Reply = <$req as ReplyOf>::Reply;
                const NAME: &'static str = stringify!($op);

                fn run(self, world: &mut World, caller: &Caller) -> Result<Self::Reply, AwsError> {
                    $handler(world, caller, self)
                }
            }

            impl From<$req> for LmRequest {
                fn from(r: $req) -> LmRequest {
                    LmRequest::$op(r)
                }
            }
        )+
    };
}

lm_requests! {
    CreateLicense(CreateLicenseRequest) => license::create_license,
    CreateLicenseVersion(CreateLicenseVersionRequest) => license::create_license_version,
    GetLicense(GetLicenseRequest) => license::get_license,
    ListLicenses(ListLicensesRequest) => listing::list_licenses,
    ListLicenseVersions(ListLicenseVersionsRequest) => listing::list_license_versions,
    DeleteLicense(DeleteLicenseRequest) => license::delete_license,
    CheckoutLicense(CheckoutLicenseRequest) => checkout::checkout_license,
    CheckoutBorrowLicense(CheckoutBorrowLicenseRequest) => checkout::checkout_borrow_license,
    CheckInLicense(CheckInLicenseRequest) => checkout::check_in_license,
    ExtendLicenseConsumption(ExtendLicenseConsumptionRequest) => checkout::extend_license_consumption,
    GetLicenseUsage(GetLicenseUsageRequest) => usage::get_license_usage,
    CreateGrant(CreateGrantRequest) => grant::create_grant,
    GetGrant(GetGrantRequest) => grant::get_grant,
    AcceptGrant(AcceptGrantRequest) => grant::accept_grant,
    RejectGrant(RejectGrantRequest) => grant::reject_grant,
    CreateGrantVersion(CreateGrantVersionRequest) => grant::create_grant_version,
    DeleteGrant(DeleteGrantRequest) => grant::delete_grant,
    ListDistributedGrants(ListDistributedGrantsRequest) => received::list_distributed_grants,
    ListReceivedGrants(ListReceivedGrantsRequest) => received::list_received_grants,
    ListReceivedLicenses(ListReceivedLicensesRequest) => received::list_received_licenses,
}

fn typed<T: DeserializeOwned>(body: Value) -> Result<T, AwsError> {
    // The body already passed the service model's type checks, so this only fails if a typed
    // request disagrees with the model; answer it as a parse fault rather than panic.
    serde_json::from_value(body)
        .map_err(|e| crate::service::Service::LicenseManager.parse_fault(e.to_string()))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A typed request of one operation, runnable through `World::call`.
pub trait Operation: Sized {
    type Reply: Serialize;
    const NAME: &'static str;
    fn run(self, world: &mut World, caller: &Caller) -> Result<Self::Reply, AwsError>;
}

/// Pairs each request type with its reply type.
pub trait ReplyOf {
    type Reply: Serialize;
}

macro_rules! reply_of {
    ($($req:ty => $reply:ty),+ $(,)?) => { $(impl ReplyOf for $req { type Reply = $reply; })+ };
}

reply_of! {
    CreateLicenseRequest => CreateLicenseResponse,
    CreateLicenseVersionRequest => CreateLicenseVersionResponse,
    GetLicenseRequest => GetLicenseResponse,
    ListLicensesRequest => ListLicensesResponse,
    ListLicenseVersionsRequest => ListLicensesResponse,
    DeleteLicenseRequest => DeleteLicenseResponse,
    CheckoutLicenseRequest => CheckoutLicenseResponse,
    CheckoutBorrowLicenseRequest => CheckoutBorrowLicenseResponse,
    CheckInLicenseRequest => CheckInLicenseResponse,
    ExtendLicenseConsumptionRequest => ExtendLicenseConsumptionResponse,
    GetLicenseUsageRequest => GetLicenseUsageResponse,
    CreateGrantRequest => GrantChangeResponse,
    GetGrantRequest => GetGrantResponse,
    AcceptGrantRequest => GrantChangeResponse,
    RejectGrantRequest => GrantChangeResponse,
    CreateGrantVersionRequest => GrantChangeResponse,
    DeleteGrantRequest => GrantChangeResponse,
    ListDistributedGrantsRequest => ListGrantsResponse,
    ListReceivedGrantsRequest => ListGrantsResponse,
    ListReceivedLicensesRequest => ListReceivedLicensesResponse,
}

impl World {
    /// A reply that shows or uses license `id` relies on the switches that shaped its state: the
    /// deletion delay once it is being deleted, and the seeding switches of a Marketplace license.
    pub(crate) fn rely_license(&mut self, id: LicenseId) {
        let record = &self.lm.licenses[id];
        let (deleting, marketplace) = (record.is_deleting(), record.issuer_account == MARKETPLACE_ACCOUNT);
        let versioned = record.versions.len() > 1;
        if deleting {
            self.rely(crate::policy::PolicyRule::Delete);
        }
        if versioned {
            self.rely(crate::policy::PolicyRule::FingerprintFollowsIssuerName);
        }
        if marketplace {
            self.rely(crate::policy::PolicyRule::MarketplaceTtl);
            self.rely(crate::policy::PolicyRule::MarketplaceGrant);
        }
    }

    /// Runs one typed License Manager request. Shape constraints are checked by the JSON entry
    /// point (`World::handle`); this runs every later stage of SPEC 1.2.
    pub fn call<O: Operation>(&mut self, caller: &Caller, req: O) -> Result<O::Reply, AwsError> {
        self.relied.clear();
        self.settle();
        req.run(self, caller)
    }
}

pub use marketplace::seed_marketplace_license;
