//! Typed License Manager grant requests and replies (SPEC 3.9), member names exactly as AWS
//! spells them.

use serde::{Deserialize, Serialize};

use super::*;

string_enum!(
    /// `GrantStatus` (also `ReceivedStatus`, which lacks PENDING_DELETE).
    GrantStatus {
        PendingWorkflow = "PENDING_WORKFLOW", PendingAccept = "PENDING_ACCEPT", Rejected = "REJECTED",
        Active = "ACTIVE", FailedWorkflow = "FAILED_WORKFLOW", Deleted = "DELETED",
        PendingDelete = "PENDING_DELETE", Disabled = "DISABLED", WorkflowCompleted = "WORKFLOW_COMPLETED",
    }
);

string_enum!(
    /// `GrantType`.
    GrantType { BuyerGrant = "BuyerGrant", DelegateGrant = "DelegateGrant" }
);

string_enum!(
    /// `AllowedOperation`.
    AllowedOperation {
        CreateGrant = "CreateGrant", CheckoutLicense = "CheckoutLicense",
        CheckoutBorrowLicense = "CheckoutBorrowLicense", CheckInLicense = "CheckInLicense",
        ExtendConsumptionLicense = "ExtendConsumptionLicense", ListPurchasedLicenses = "ListPurchasedLicenses",
        CreateToken = "CreateToken", ListReceivedLicenses = "ListReceivedLicenses",
    }
);

string_enum!(
    /// `ActivationOverrideBehavior`.
    ActivationOverrideBehavior {
        DistributedGrantsOnly = "DISTRIBUTED_GRANTS_ONLY",
        AllGrantsPermittedByIssuer = "ALL_GRANTS_PERMITTED_BY_ISSUER",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    #[serde(
        rename = "ActivationOverrideBehavior",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub activation_override_behavior: Option<ActivationOverrideBehavior>,
    #[serde(rename = "DesiredStatus", default, skip_serializing_if = "Option::is_none")]
    pub desired_status: Option<GrantStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGrantRequest {
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    #[serde(rename = "GrantName")]
    pub grant_name: String,
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "Principals")]
    pub principals: Vec<String>,
    #[serde(rename = "HomeRegion")]
    pub home_region: String,
    #[serde(rename = "AllowedOperations")]
    pub allowed_operations: Vec<AllowedOperation>,
    #[serde(rename = "Tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(rename = "GrantType", default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<GrantType>,
    #[serde(rename = "Options", default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetGrantRequest {
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
    #[serde(rename = "Version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptGrantRequest {
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectGrantRequest {
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateGrantVersionRequest {
    #[serde(rename = "ClientToken")]
    pub client_token: String,
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
    #[serde(rename = "GrantName", default, skip_serializing_if = "Option::is_none")]
    pub grant_name: Option<String>,
    #[serde(
        rename = "AllowedOperations",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_operations: Option<Vec<AllowedOperation>>,
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<GrantStatus>,
    #[serde(rename = "StatusReason", default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(rename = "SourceVersion", default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(rename = "Options", default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteGrantRequest {
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
    #[serde(rename = "StatusReason", default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(rename = "Version")]
    pub version: String,
}

/// ListDistributedGrants and ListReceivedGrants take the same members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListGrantsRequest {
    #[serde(rename = "GrantArns", default, skip_serializing_if = "Option::is_none")]
    pub grant_arns: Option<Vec<String>>,
    #[serde(rename = "Filters", default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    #[serde(rename = "NextToken", default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(rename = "MaxResults", default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
}

/// `ListDistributedGrantsRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListDistributedGrantsRequest(pub ListGrantsRequest);

/// `ListReceivedGrantsRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListReceivedGrantsRequest(pub ListGrantsRequest);

/// `ListReceivedLicensesRequest` (the members of ListLicenses).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ListReceivedLicensesRequest(pub ListLicensesRequest);

/// The reply of CreateGrant, AcceptGrant, RejectGrant, CreateGrantVersion and DeleteGrant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantChangeResponse {
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
    #[serde(rename = "Status")]
    pub status: GrantStatus,
    #[serde(rename = "Version")]
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    #[serde(rename = "GrantArn")]
    pub grant_arn: String,
    #[serde(rename = "GrantName")]
    pub grant_name: String,
    #[serde(rename = "ParentArn")]
    pub parent_arn: String,
    #[serde(rename = "LicenseArn")]
    pub license_arn: String,
    #[serde(rename = "GranteePrincipalArn")]
    pub grantee_principal_arn: String,
    #[serde(rename = "HomeRegion")]
    pub home_region: String,
    #[serde(rename = "GrantStatus")]
    pub grant_status: GrantStatus,
    #[serde(rename = "StatusReason", default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "GrantedOperations")]
    pub granted_operations: Vec<AllowedOperation>,
    #[serde(rename = "Options", default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
    #[serde(rename = "GrantType")]
    pub grant_type: GrantType,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetGrantResponse {
    #[serde(rename = "Grant")]
    pub grant: Grant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListGrantsResponse {
    #[serde(rename = "Grants")]
    pub grants: Vec<Grant>,
    #[serde(rename = "NextToken", default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedMetadata {
    #[serde(rename = "ReceivedStatus")]
    pub received_status: GrantStatus,
    #[serde(
        rename = "ReceivedStatusReason",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub received_status_reason: Option<String>,
    #[serde(rename = "AllowedOperations")]
    pub allowed_operations: Vec<AllowedOperation>,
    #[serde(rename = "GrantType")]
    pub grant_type: GrantType,
}

/// A License as the grantee sees it, with what its grant says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedLicense {
    #[serde(flatten)]
    pub license: License,
    #[serde(rename = "ReceivedMetadata")]
    pub received_metadata: ReceivedMetadata,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListReceivedLicensesResponse {
    #[serde(rename = "Licenses")]
    pub licenses: Vec<GrantedLicense>,
    #[serde(rename = "NextToken", default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
