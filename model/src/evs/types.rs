//! Typed EVS requests and replies, member names exactly as the service model spells them
//! (lowerCamel). Timestamps are epoch seconds as JSON integers, floored (SPEC 1.1 `evs_timestamps`).

use serde::{Deserialize, Serialize};

string_enum!(
    /// `EntitlementType`.
    EntitlementType { WindowsServer = "WINDOWS_SERVER" }
);

string_enum!(
    /// `EntitlementStatus`.
    EntitlementStatus {
        Creating = "CREATING", Created = "CREATED", Deleted = "DELETED", AtRisk = "AT_RISK",
        EntitlementRemoved = "ENTITLEMENT_REMOVED", CreateFailed = "CREATE_FAILED",
    }
);

impl EntitlementStatus {
    /// CREATING, CREATED and AT_RISK: the statuses that block a new record and a connector's
    /// deletion (SPEC 4.1, 4.2) and that a sync evaluates (SPEC 4.3).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            EntitlementStatus::Creating | EntitlementStatus::Created | EntitlementStatus::AtRisk
        )
    }
}

string_enum!(
    /// `ConnectorType`.
    ConnectorType {
        OperationsManager = "OPERATIONS_MANAGER", SddcManager = "SDDC_MANAGER", Vcenter = "VCENTER",
    }
);

string_enum!(
    /// `ConnectorState`.
    ConnectorState {
        Creating = "CREATING", CreateFailed = "CREATE_FAILED", Active = "ACTIVE",
        Updating = "UPDATING", UpdateFailed = "UPDATE_FAILED", Deleting = "DELETING",
        Deleted = "DELETED",
    }
);

string_enum!(
    /// `CheckResult`: a connector's health and each of its checks.
    CheckResult { Passed = "PASSED", Failed = "FAILED", Unknown = "UNKNOWN" }
);

string_enum!(
    /// `CheckType` (the connector checks conform reports).
    CheckType {
        VcenterReachability = "VCENTER_REACHABILITY", VcenterVmSync = "VCENTER_VM_SYNC",
        VcenterVmEvent = "VCENTER_VM_EVENT",
        OperationsManagerReachability = "OPERATIONS_MANAGER_REACHABILITY",
        SddcManagerReachability = "SDDC_MANAGER_REACHABILITY",
        SddcManagerHostCount = "SDDC_MANAGER_HOST_COUNT",
        SddcManagerKeyCoverage = "SDDC_MANAGER_KEY_COVERAGE",
        SddcManagerKeyReuse = "SDDC_MANAGER_KEY_REUSE",
    }
);

impl ConnectorType {
    /// The checks a connector of this type reports; each mirrors the connector's health.
    pub fn checks(self) -> &'static [CheckType] {
        match self {
            ConnectorType::Vcenter => &[
                CheckType::VcenterReachability,
                CheckType::VcenterVmSync,
                CheckType::VcenterVmEvent,
            ],
            ConnectorType::OperationsManager => &[CheckType::OperationsManagerReachability],
            ConnectorType::SddcManager => &[
                CheckType::SddcManagerReachability,
                CheckType::SddcManagerHostCount,
                CheckType::SddcManagerKeyCoverage,
                CheckType::SddcManagerKeyReuse,
            ],
        }
    }
}

string_enum!(
    /// `EnvironmentState`.
    EnvironmentState {
        Creating = "CREATING", Created = "CREATED", Deleting = "DELETING", Deleted = "DELETED",
        CreateFailed = "CREATE_FAILED",
    }
);

string_enum!(
    /// `VcfVersion`.
    VcfVersion { Vcf521 = "VCF-5.2.1", Vcf522 = "VCF-5.2.2", SelfDeployed = "SELF_DEPLOYED" }
);

/// An EVS timestamp in epoch seconds (SPEC 1.1 `evs_timestamps`): a JSON integer, floored, or
/// under `fractional` a JSON number with the milliseconds as its fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochSeconds {
    ms: crate::clock::Millis,
    fractional: bool,
}

impl EpochSeconds {
    /// Whole seconds, floored.
    pub fn seconds(self) -> i64 {
        self.ms.div_euclid(1000)
    }
}

impl Serialize for EpochSeconds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.fractional {
            s.serialize_f64(self.ms as f64 / 1000.0)
        } else {
            s.serialize_i64(self.seconds())
        }
    }
}

impl<'de> Deserialize<'de> for EpochSeconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Integer(i64),
            Fraction(f64),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Integer(s) => EpochSeconds {
                ms: s.saturating_mul(1000),
                fractional: false,
            },
            Wire::Fraction(f) => EpochSeconds {
                ms: (f * 1000.0).round() as crate::clock::Millis,
                fractional: true,
            },
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEntitlementRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub environment_id: String,
    pub connector_id: String,
    pub entitlement_type: EntitlementType,
    pub vm_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEntitlementRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub environment_id: String,
    pub connector_id: String,
    pub entitlement_type: EntitlementType,
    pub vm_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListVmEntitlementsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    pub environment_id: String,
    pub connector_id: String,
    pub entitlement_type: EntitlementType,
}

/// `ErrorDetail` of a CREATE_FAILED record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    pub error_code: String,
    pub error_message: String,
}

/// `VmEntitlement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmEntitlement {
    pub vm_id: String,
    pub environment_id: String,
    pub connector_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_name: Option<String>,
    pub r#type: EntitlementType,
    pub status: EntitlementStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_at: Option<EpochSeconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<EpochSeconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<EpochSeconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEntitlementResponse {
    pub entitlements: Vec<VmEntitlement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEntitlementResponse {
    pub entitlements: Vec<VmEntitlement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListVmEntitlementsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub entitlements: Vec<VmEntitlement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEnvironmentConnectorRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub environment_id: String,
    pub r#type: ConnectorType,
    pub appliance_fqdn: String,
    pub secret_identifier: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEnvironmentConnectorRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub environment_id: String,
    pub connector_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appliance_fqdn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_identifier: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEnvironmentConnectorRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub environment_id: String,
    pub connector_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvironmentConnectorsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    pub environment_id: String,
}

/// `ConnectorCheck`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorCheck {
    pub r#type: CheckType,
    pub result: CheckResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check_attempt: Option<EpochSeconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impaired_since: Option<EpochSeconds>,
}

/// `Connector`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    pub environment_id: String,
    pub connector_id: String,
    pub r#type: ConnectorType,
    pub appliance_fqdn: String,
    pub secret_arn: String,
    pub state: ConnectorState,
    pub status: CheckResult,
    pub checks: Vec<ConnectorCheck>,
    pub created_at: EpochSeconds,
    pub modified_at: EpochSeconds,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEnvironmentConnectorResponse {
    pub connector: Connector,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEnvironmentConnectorResponse {
    pub connector: Connector,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteEnvironmentConnectorResponse {
    pub connector: Connector,
    pub environment_summary: EnvironmentSummary,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvironmentConnectorsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub connectors: Vec<Connector>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEnvironmentRequest {
    pub environment_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvironmentsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Vec<EnvironmentState>>,
}

/// `Environment`, state fields only (SPEC 5: read views of seeded environments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub environment_id: String,
    pub environment_state: EnvironmentState,
    pub created_at: EpochSeconds,
    pub modified_at: EpochSeconds,
    pub environment_arn: String,
    pub environment_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcf_version: Option<VcfVersion>,
    /// Never given by a fixture: absent, or `[]` under `evs_absent_lists=empty` (SPEC 4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<serde_json::Value>>,
    /// As `checks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<serde_json::Value>>,
}

/// `EnvironmentSummary`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentSummary {
    pub environment_id: String,
    pub environment_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcf_version: Option<VcfVersion>,
    pub environment_state: EnvironmentState,
    pub created_at: EpochSeconds,
    pub modified_at: EpochSeconds,
    pub environment_arn: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEnvironmentResponse {
    pub environment: Environment,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListEnvironmentsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub environment_summaries: Vec<EnvironmentSummary>,
}

/// Floors milliseconds to epoch seconds (SPEC 1.1).
pub fn epoch_seconds(ms: crate::clock::Millis) -> EpochSeconds {
    epoch_time(ms, crate::policy::EvsTimestamps::Integer)
}

/// An instant in the form the `evs_timestamps` policy gives (SPEC 1.1).
pub fn epoch_time(ms: crate::clock::Millis, form: crate::policy::EvsTimestamps) -> EpochSeconds {
    EpochSeconds {
        ms,
        fractional: form == crate::policy::EvsTimestamps::Fractional,
    }
}
