//! Every `[P]` rule of SPEC.md as one switch with its default. Loadable from a JSON file; any
//! member left out keeps its default. A reply names the rules it relied on (`PolicyRule`), so the
//! harness can report a difference on one of them as a policy divergence.

use serde::{Deserialize, Serialize};

/// What happens to request members the service model does not define (SPEC 1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownMembers {
    Ignore,
}

/// When CheckoutLicense includes a SignedToken (SPEC 3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedTokenOnCheckout {
    WhenSignKey,
    Always,
    Never,
}

/// Where ExtendLicenseConsumption counts the new expiration from (SPEC 3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtendFrom {
    Now,
    Expiration,
}

/// The status an accepted grant takes (SPEC 3.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AcceptTo {
    Disabled,
    Active,
}

/// The policy switches, each named as in SPEC.md.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// SPEC 1.1 `unknown_members=ignore`.
    pub unknown_members: UnknownMembers,
    /// SPEC 1.3 `default_account`: the account of unsigned requests and unknown access keys.
    pub default_account: String,
    /// SPEC 1.3: the region of requests without a credential scope.
    pub default_region: String,
    /// SPEC 3.2 `delete`: seconds from DeleteLicense to DELETED.
    pub deletion_delay_seconds: i64,
    /// SPEC 3.4 `idempotency`: how long a ClientToken's reply is kept.
    pub idempotency_window_seconds: i64,
    /// SPEC 3.6 `extend_from`.
    pub extend_from: ExtendFrom,
    /// SPEC 3.6 `recheck_grant_on_token_ops`.
    pub recheck_grant_on_token_ops: bool,
    /// SPEC 3.8 `signed_token_on_checkout`.
    pub signed_token_on_checkout: SignedTokenOnCheckout,
    /// SPEC 3.9 `accept_to`.
    pub accept_to: AcceptTo,
    /// SPEC 3.9: the Provisional TTL of seeded Marketplace licenses when the fixture gives none.
    pub marketplace_ttl_minutes: i32,
    /// SPEC 4.3: seconds between EVS connector syncs.
    pub sync_interval_seconds: i64,
    /// SPEC 4.1: connector CREATING to ACTIVE.
    pub connector_activation_seconds: i64,
    /// SPEC 4.1: connector UPDATING to ACTIVE.
    pub connector_update_seconds: i64,
    /// SPEC 4.1: connector DELETING to DELETED.
    pub connector_deletion_seconds: i64,
    /// SPEC 4.2 `list_deleted`: whether ListVmEntitlements shows DELETED records.
    pub list_deleted: bool,
    /// SPEC 4.3 `creating_timeout_seconds`: none means CREATING waits forever.
    pub creating_timeout_seconds: Option<i64>,
    /// SPEC 5 (silent): whether GetEnvironment and ListEnvironments show DELETED environments.
    pub evs_deleted_environments_visible: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            unknown_members: UnknownMembers::Ignore,
            default_account: "123456789012".to_string(),
            default_region: "us-east-1".to_string(),
            deletion_delay_seconds: 60,
            idempotency_window_seconds: 86_400,
            extend_from: ExtendFrom::Now,
            recheck_grant_on_token_ops: false,
            signed_token_on_checkout: SignedTokenOnCheckout::WhenSignKey,
            accept_to: AcceptTo::Disabled,
            marketplace_ttl_minutes: 60,
            sync_interval_seconds: 300,
            connector_activation_seconds: 0,
            connector_update_seconds: 0,
            connector_deletion_seconds: 0,
            list_deleted: false,
            creating_timeout_seconds: None,
            evs_deleted_environments_visible: true,
        }
    }
}

impl Policy {
    /// Reads a policy from JSON text; absent members keep their defaults, unknown ones are refused.
    pub fn from_json(text: &str) -> Result<Policy, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The `[P]` rules a reply can rely on, named as in SPEC.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyRule {
    UnknownMembers,
    HttpStatus,
    ModelledErrorsOnly,
    DefaultAccount,
    CreateChecks,
    Access,
    Delete,
    Pagination,
    Beneficiary,
    CheckoutOrder,
    Idempotency,
    ExtendFrom,
    RecheckGrantOnTokenOps,
    SignedTokenOnCheckout,
    CheckIn,
    Usage,
    AcceptTo,
    Grants,
    EvsTimestamps,
    EvsState,
    ListDeleted,
    SyncInterval,
    CreatingTimeout,
    EvsErrors,
    /// SPEC 4.2: duplicate `vmIds` are refused as a shape violation.
    EvsDuplicateVmIds,
    /// SPEC 4.2: Create and Delete are all or nothing, records in request order.
    EvsAllOrNothing,
    /// SPEC 4.1: the FQDN cannot change while live entitlements exist.
    EvsFqdnChange,
    /// SPEC 4.1: which connector deletions are refused (live entitlements, already DELETING).
    EvsConnectorDelete,
    /// `evs_deleted_environments_visible`.
    EvsDeletedEnvironments,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_file_overrides_only_what_it_names() {
        let p = Policy::from_json(r#"{"deletion_delay_seconds": 5, "extend_from": "expiration"}"#).unwrap();
        assert_eq!(p.deletion_delay_seconds, 5);
        assert_eq!(p.extend_from, ExtendFrom::Expiration);
        assert_eq!(
            p.idempotency_window_seconds,
            Policy::default().idempotency_window_seconds
        );
        assert!(Policy::from_json(r#"{"no_such_switch": 1}"#).is_err());
    }

    #[test]
    fn default_policy_round_trips() {
        let text = serde_json::to_string(&Policy::default()).unwrap();
        assert_eq!(Policy::from_json(&text).unwrap(), Policy::default());
    }
}
