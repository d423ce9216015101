//! Typed License Manager requests and replies, member names exactly as AWS spells them.

use serde::{Deserialize, Serialize};

string_enum!(
    /// `EntitlementUnit` / `EntitlementDataUnit` (the same values).
    Unit {
        Count = "Count", None = "None", Seconds = "Seconds", Microseconds = "Microseconds",
        Milliseconds = "Milliseconds", Bytes = "Bytes", Kilobytes = "Kilobytes",
        Megabytes = "Megabytes", Gigabytes = "Gigabytes", Terabytes = "Terabytes", Bits = "Bits",
        Kilobits = "Kilobits", Megabits = "Megabits", Gigabits = "Gigabits", Terabits = "Terabits",
        Percent = "Percent", BytesPerSecond = "Bytes/Second",
        KilobytesPerSecond = "Kilobytes/Second", MegabytesPerSecond = "Megabytes/Second",
        GigabytesPerSecond = "Gigabytes/Second", TerabytesPerSecond = "Terabytes/Second",
        BitsPerSecond = "Bits/Second", KilobitsPerSecond = "Kilobits/Second",
        MegabitsPerSecond = "Megabits/Second", GigabitsPerSecond = "Gigabits/Second",
        TerabitsPerSecond = "Terabits/Second", CountPerSecond = "Count/Second",
    }
);

impl Unit {
    /// Every unit but `None` counts units (SPEC 3.4).
    pub fn is_counted(self) -> bool {
        self != Unit::None
    }
}

string_enum!(
    /// `LicenseStatus`.
    LicenseStatus {
        Available = "AVAILABLE", PendingAvailable = "PENDING_AVAILABLE",
        Deactivated = "DEACTIVATED", Suspended = "SUSPENDED", Expired = "EXPIRED",
        PendingDelete = "PENDING_DELETE", Deleted = "DELETED",
    }
);

string_enum!(
    /// `CheckoutType`.
    CheckoutType { Provisional = "PROVISIONAL", Perpetual = "PERPETUAL" }
);

string_enum!(
    /// `RenewType`.
    RenewType { None = "None", Weekly = "Weekly", Monthly = "Monthly" }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "SignKey", default, skip_serializing_if = "Option::is_none")]
    pub sign_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerDetails {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "SignKey", default, skip_serializing_if = "Option::is_none")]
    pub sign_key: Option<String>,
    #[serde(rename = "KeyFingerprint")]
    pub key_fingerprint: String,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatetimeRange {
    #[serde(rename = "Begin")]
    pub begin: String,
    #[serde(rename = "End", default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlement {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "MaxCount", default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<i64>,
    #[serde(rename = "Overage", default, skip_serializing_if = "Option::is_none")]
    pub overage: Option<bool>,
    #[serde(rename = "Unit")]
    pub unit: Unit,
    #[serde(rename = "AllowCheckIn", default, skip_serializing_if = "Option::is_none")]
    pub allow_check_in: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionalConfiguration {
    #[serde(rename = "MaxTimeToLiveInMinutes")]
    pub max_time_to_live_in_minutes: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BorrowConfiguration {
    #[serde(rename = "AllowEarlyCheckIn")]
    pub allow_early_check_in: bool,
    #[serde(rename = "MaxTimeToLiveInMinutes")]
    pub max_time_to_live_in_minutes: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionConfiguration {
    #[serde(rename = "RenewType", default, skip_serializing_if = "Option::is_none")]
    pub renew_type: Option<RenewType>,
    #[serde(
        rename = "ProvisionalConfiguration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub provisional_configuration: Option<ProvisionalConfiguration>,
    #[serde(
        rename = "BorrowConfiguration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub borrow_configuration: Option<BorrowConfiguration>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementData {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(rename = "Unit")]
    pub unit: Unit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "Values", default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

// ---- requests ----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLicenseRequest {
    #[serde(rename = "LicenseName")]
    pub license_name: String,
    #[serde(rename = "ProductName")]
    pub product_name: String,
    #[serde(rename = "ProductSKU")]
    pub product_sku: String,
    #[serde(rename = "Issuer")]
    pub issuer: Issuer,
    #[serde(rename = "HomeRegion")]
    pub home_region: String,
    #[serde(rename = "Validity")]
    pub validity: DatetimeRange,
    #[serde(rename = "Entitlements")]
    pub entitlements: Vec<Entitlement>,
    #[serde(rename = "Beneficiary")]
    pub beneficiary: String,
    #[serde(rename = "ConsumptionConfiguration")]
    pub consumption_configuration: ConsumptionConfiguration,
    #[serde(rename = "LicenseMetadata", default, skip_serializing_if = "Option::is_none")]
    pub license_metadata: Option<Vec<Metadata>>,
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLicenseVersionRequest {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "LicenseName")]
    pub license_name: String,
    #[serde(rename = "ProductName")]
    pub product_name: String,
    #[serde(rename = "Issuer")]
    pub issuer: Issuer,
    #[serde(rename = "HomeRegion")]
    pub home_region: String,
    #[serde(rename = "Validity")]
    pub validity: DatetimeRange,
    #[serde(rename = "LicenseMetadata", default, skip_serializing_if = "Option::is_none")]
    pub license_metadata: Option<Vec<Metadata>>,
    #[serde(rename = "Entitlements")]
    pub entitlements: Vec<Entitlement>,
    #[serde(rename = "ConsumptionConfiguration")]
    pub consumption_configuration: ConsumptionConfiguration,
    #[serde(rename = "Status")]
    pub status: LicenseStatus,
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    #[serde(rename = "SourceVersion", default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(rename = "ResetUsage", default, skip_serializing_if = "Option::is_none")]
    pub reset_usage: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLicenseRequest {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListLicensesRequest {
    #[serde(rename = "LicenseArns", default, skip_serializing_if = "Option::is_none")]
    pub license_arns: Option<Vec<String>>,
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(rename = "NextToken", default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(rename = "MaxResults", default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListLicenseVersionsRequest {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "NextToken", default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(rename = "MaxResults", default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteLicenseRequest {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "SourceVersion")]
    pub source_version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutLicenseRequest {
    #[serde(rename = "ProductSKU")]
    pub product_sku: String,
    #[serde(rename = "CheckoutType")]
    pub checkout_type: CheckoutType,
    #[serde(rename = "KeyFingerprint")]
    pub key_fingerprint: String,
    #[serde(rename = "Entitlements")]
    pub entitlements: Vec<EntitlementData>,
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    #[serde(rename = "Beneficiary", default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
    #[serde(rename = "NodeId", default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutBorrowLicenseRequest {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "Entitlements")]
    pub entitlements: Vec<EntitlementData>,
    #[serde(rename = "DigitalSignatureMethod")]
    pub digital_signature_method: String,
    #[serde(rename = "NodeId", default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(rename = "CheckoutMetadata", default, skip_serializing_if = "Option::is_none")]
    pub checkout_metadata: Option<Vec<Metadata>>,
    #[serde(rename = "ClientToken")]
    pub client_token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInLicenseRequest {
    #[serde(rename = "LicenseConsumptionToken")]
    pub license_consumption_token: String,
    #[serde(rename = "Beneficiary", default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendLicenseConsumptionRequest {
    #[serde(rename = "LicenseConsumptionToken")]
    pub license_consumption_token: String,
    #[serde(rename = "DryRun", default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLicenseUsageRequest {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
}

// ---- replies ----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLicenseResponse {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "Status")]
    pub status: LicenseStatus,
    #[serde(rename = "Version")]
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLicenseVersionResponse {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Status")]
    pub status: LicenseStatus,
}

/// The `License` shape as GetLicense and the list operations return it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "LicenseName")]
    pub license_name: String,
    #[serde(rename = "ProductName")]
    pub product_name: String,
    #[serde(rename = "ProductSKU")]
    pub product_sku: String,
    #[serde(rename = "Issuer")]
    pub issuer: IssuerDetails,
    #[serde(rename = "HomeRegion")]
    pub home_region: String,
    #[serde(rename = "Status")]
    pub status: LicenseStatus,
    #[serde(rename = "Validity")]
    pub validity: DatetimeRange,
    #[serde(rename = "Beneficiary")]
    pub beneficiary: String,
    #[serde(rename = "Entitlements")]
    pub entitlements: Vec<Entitlement>,
    #[serde(rename = "ConsumptionConfiguration")]
    pub consumption_configuration: ConsumptionConfiguration,
    #[serde(rename = "LicenseMetadata", default, skip_serializing_if = "Option::is_none")]
    pub license_metadata: Option<Vec<Metadata>>,
    #[serde(rename = "CreateTime")]
    pub create_time: String,
    #[serde(rename = "Version")]
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLicenseResponse {
    #[serde(rename = "License")]
    pub license: License,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListLicensesResponse {
    #[serde(rename = "Licenses")]
    pub licenses: Vec<License>,
    #[serde(rename = "NextToken", default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteLicenseResponse {
    #[serde(rename = "Status")]
    pub status: LicenseStatus,
    #[serde(rename = "DeletionDate")]
    pub deletion_date: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutLicenseResponse {
    #[serde(rename = "CheckoutType")]
    pub checkout_type: CheckoutType,
    #[serde(rename = "LicenseConsumptionToken")]
    pub license_consumption_token: String,
    #[serde(rename = "EntitlementsAllowed")]
    pub entitlements_allowed: Vec<EntitlementData>,
    #[serde(rename = "SignedToken", default, skip_serializing_if = "Option::is_none")]
    pub signed_token: Option<String>,
    #[serde(rename = "NodeId", default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(rename = "IssuedAt")]
    pub issued_at: String,
    #[serde(rename = "Expiration", default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutBorrowLicenseResponse {
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "LicenseConsumptionToken")]
    pub license_consumption_token: String,
    #[serde(rename = "EntitlementsAllowed")]
    pub entitlements_allowed: Vec<EntitlementData>,
    #[serde(rename = "NodeId", default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(rename = "SignedToken")]
    pub signed_token: String,
    #[serde(rename = "IssuedAt")]
    pub issued_at: String,
    #[serde(rename = "Expiration")]
    pub expiration: String,
    #[serde(rename = "CheckoutMetadata", default, skip_serializing_if = "Option::is_none")]
    pub checkout_metadata: Option<Vec<Metadata>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInLicenseResponse {}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendLicenseConsumptionResponse {
    #[serde(rename = "LicenseConsumptionToken")]
    pub license_consumption_token: String,
    #[serde(rename = "Expiration")]
    pub expiration: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitlementUsage {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "ConsumedValue", default, skip_serializing_if = "Option::is_none")]
    pub consumed_value: Option<String>,
    #[serde(rename = "MaxCount", default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<String>,
    #[serde(rename = "Unit")]
    pub unit: Unit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseUsage {
    #[serde(rename = "EntitlementUsages")]
    pub entitlement_usages: Vec<EntitlementUsage>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetLicenseUsageResponse {
    #[serde(rename = "LicenseUsage")]
    pub license_usage: LicenseUsage,
}

mod grant;
pub use grant::*;
