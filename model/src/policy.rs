//! Every `[P]` rule of SPEC.md as one switch with its default (docs/policies.md lists them with
//! their SPEC sections). Loadable from a JSON file; any member left out keeps its default. A
//! reply names the rules it relied on (`PolicyRule`, one per switch), so the harness can report a
//! difference on one of them as a policy divergence, and `Policy::alternatives` gives every
//! single-switch alternative to try.

mod switches;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use switches::*;

macro_rules! policy {
    ($(
        $(#[doc = $doc:literal])*
        $rule:ident => $field:ident: $ty:ty = $default:expr, [$($alt:expr),* $(,)?];
    )+) => {
        /// The policy switches, each named as in SPEC.md or docs/policies.md.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Policy {
            $($(#[doc = $doc])* pub $field: $ty,)+
        }

        impl Default for Policy {
            fn default() -> Self {
                Policy { $($field: $default,)+ }
            }
        }

        /// The `[P]` rules a reply can rely on: one per switch of `Policy`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum PolicyRule {
            $($(#[doc = $doc])* $rule,)+
        }

        impl PolicyRule {
            /// Every rule.
            pub const ALL: &'static [PolicyRule] = &[$(PolicyRule::$rule),+];

            /// The `Policy` member (serde name) that decides the rule.
            pub fn switch(self) -> &'static str {
                match self {
                    $(PolicyRule::$rule => stringify!($field),)+
                }
            }
        }

        impl Policy {
            /// Every member with the values the model implements for it.
            fn candidates(&self) -> Vec<(&'static str, Vec<Value>)> {
                vec![$({
                    let listed: Vec<$ty> = vec![$($alt),*];
                    let values = <$ty as Candidates>::candidates(listed)
                        .iter()
                        .filter_map(|v| serde_json::to_value(v).ok())
                        .collect();
                    (stringify!($field), values)
                },)+]
            }
        }
    };
}

policy! {
    /// SPEC 1.1 `unknown_members=ignore`.
    UnknownMembers => unknown_members: UnknownMembers = UnknownMembers::Ignore, [];
    /// SPEC 1.1 `http_status=smithy`: the HTTP status of each error.
    HttpStatus => http_status: HttpStatus = HttpStatus::Smithy, [];
    /// SPEC 1.1 `modelled_errors_only`: where a rule needs an error the operation does not list,
    /// the closest listed one answers; off, the rule's own error does.
    ModelledErrorsOnly => modelled_errors_only: bool = true, [];
    /// SPEC 1.1: License Manager's `__type` form.
    LmErrorType => lm_error_type: ErrorTypeForm = ErrorTypeForm::Bare, [];
    /// SPEC 1.1: EVS's `__type` form.
    EvsErrorType => evs_error_type: ErrorTypeForm = ErrorTypeForm::Qualified, [];
    /// SPEC 1.1 `evs_timestamps=integer`.
    EvsTimestamps => evs_timestamps: EvsTimestamps = EvsTimestamps::Integer, [];
    /// SPEC 1.3 `default_account`: the account of unsigned requests and unknown access keys.
    DefaultAccount => default_account: String = "123456789012".to_string(), [];
    /// SPEC 1.3: the region of requests without a credential scope.
    DefaultRegion => default_region: String = "us-east-1".to_string(), [];
    /// SPEC 3.1: the format of DeleteLicense's `DeletionDate`.
    DeletionDateFormat => deletion_date_format: TimeFormat = TimeFormat::IsoMillis, [];
    /// SPEC 3.1: the format of ExtendLicenseConsumption's `Expiration`.
    ExtendTimeFormat => extend_time_format: TimeFormat = TimeFormat::Seconds, [];
    /// SPEC 3.1: the error for an input date that is no real instant.
    InvalidDateError => invalid_date_error: RefusalError = RefusalError::Validation, [RefusalError::Validation, RefusalError::InvalidParameterValue];
    /// SPEC 3.2 `create_checks`.
    CreateChecks => create_checks: CreateChecks = CreateChecks::Full, [];
    /// SPEC 3.2: which CreateLicense check answers first.
    CreateLicenseOrder => create_license_order: CreateLicenseOrder = CreateLicenseOrder::ContentFirst, [];
    /// SPEC 3.2: the statuses CreateLicenseVersion accepts.
    VersionStatus => version_status: VersionStatus = VersionStatus::AvailableOrDeactivated, [];
    /// SPEC 3.2: CreateLicenseVersion with another HomeRegion.
    HomeRegionChange => home_region_change: HomeRegionChange = HomeRegionChange::Refuse, [];
    /// SPEC 3.2: the error of CreateLicenseVersion on a license being deleted.
    VersionOnDeletingLicense => version_on_deleting_license: RefusalError = RefusalError::Conflict, [RefusalError::Conflict, RefusalError::Validation];
    /// SPEC 3.2: the error of a SourceVersion that is not the latest (CreateLicenseVersion,
    /// DeleteLicense).
    SourceVersionMismatch => source_version_mismatch: RefusalError = RefusalError::Conflict, [RefusalError::Conflict, RefusalError::Validation];
    /// SPEC 3.2: whether a new `Issuer.Name` changes the KeyFingerprint.
    FingerprintFollowsIssuerName => fingerprint_follows_issuer_name: bool = true, [];
    /// SPEC 3.2: the order of ListLicenseVersions.
    ListVersionsOrder => list_versions_order: ListOrder = ListOrder::Ascending, [];
    /// SPEC 3.2 `access`.
    Access => access: Access = Access::UnknownAnswer, [];
    /// SPEC 3.2: the order of ListLicenses.
    ListLicensesOrder => list_licenses_order: ListOrder = ListOrder::Ascending, [];
    /// SPEC 3.2: the error of an unsupported, repeated or multi-valued list filter.
    FilterError => filter_error: RefusalError = RefusalError::InvalidParameterValue, [RefusalError::InvalidParameterValue, RefusalError::Validation];
    /// SPEC 3.2 `delete`: seconds from DeleteLicense to DELETED.
    Delete => deletion_delay_seconds: i64 = 60, [0, 60];
    /// SPEC 3.2 Pagination: the error of a NextToken from another query or forged.
    Pagination => bad_next_token_error: RefusalError = RefusalError::InvalidParameterValue, [RefusalError::InvalidParameterValue, RefusalError::Validation];
    /// SPEC 3.3 `beneficiary`.
    Beneficiary => beneficiary: Beneficiary = Beneficiary::ByRequest, [];
    /// SPEC 3.4 `checkout_order`.
    CheckoutOrder => checkout_order: CheckoutOrder = CheckoutOrder::Documented, [];
    /// SPEC 3.4: the error of CheckoutLicense's refusals after the candidate is chosen (no
    /// ProvisionalConfiguration, nothing matched, capacity).
    CheckoutRefusalError => checkout_refusal_error: RefusalError = RefusalError::NoEntitlementsAllowed, [RefusalError::NoEntitlementsAllowed, RefusalError::InvalidParameterValue];
    /// SPEC 3.4: the `Expiration` of a PERPETUAL checkout.
    PerpetualExpiration => perpetual_expiration: PerpetualExpiration = PerpetualExpiration::Ttl, [];
    /// SPEC 3.4 `idempotency`: how long a ClientToken's reply is kept. ClientToken idempotency
    /// itself is documented; only its window is a policy.
    Idempotency => idempotency_window_seconds: i64 = 86_400, [600, 86_400];
    /// SPEC 3.5: the error of a borrow of an unknown or unrelated license.
    BorrowUnknownError => borrow_unknown_error: RefusalError = RefusalError::ResourceNotFound, [RefusalError::ResourceNotFound, RefusalError::InvalidParameterValue];
    /// SPEC 3.5: the error of a borrow refused by status or Validity.
    BorrowRefusalError => borrow_refusal_error: RefusalError = RefusalError::NoEntitlementsAllowed, [RefusalError::NoEntitlementsAllowed, RefusalError::EntitlementNotAllowed];
    /// SPEC 3.5: the error of a borrow naming an entitlement the license lacks.
    BorrowMissingEntitlementError => borrow_missing_entitlement_error: RefusalError = RefusalError::EntitlementNotAllowed, [RefusalError::EntitlementNotAllowed, RefusalError::NoEntitlementsAllowed];
    /// SPEC 3.6: the error of a token operation by another account.
    TokenForeignError => token_foreign_error: RefusalError = RefusalError::ResourceNotFound, [RefusalError::ResourceNotFound, RefusalError::AccessDenied];
    /// SPEC 3.6 `recheck_grant_on_token_ops`.
    RecheckGrantOnTokenOps => recheck_grant_on_token_ops: bool = false, [];
    /// SPEC 3.6: the error of CheckInLicense on an unknown, checked-in or expired token.
    CheckInEndedError => check_in_ended_error: RefusalError = RefusalError::ResourceNotFound, [RefusalError::ResourceNotFound, RefusalError::Conflict];
    /// SPEC 3.6: the error of a check-in the token or license does not allow.
    CheckInRefusedError => check_in_refused_error: RefusalError = RefusalError::Conflict, [RefusalError::Conflict, RefusalError::InvalidParameterValue];
    /// SPEC 3.6 `extend_from`.
    ExtendFrom => extend_from: ExtendFrom = ExtendFrom::Now, [];
    /// SPEC 3.6: the error of extending a PERPETUAL or borrow token.
    ExtendRefusedError => extend_refused_error: RefusalError = RefusalError::InvalidParameterValue, [RefusalError::InvalidParameterValue, RefusalError::Validation];
    /// SPEC 3.7: where limits and flags are read from.
    LimitsFrom => limits_from: LimitsFrom = LimitsFrom::Latest, [];
    /// SPEC 3.2 ResetUsage mechanics.
    ResetUsage => reset_usage: ResetUsage = ResetUsage::NewPeriod, [];
    /// SPEC 3.2 EXPIRED timing.
    ExpiryBoundary => expiry_boundary: ExpiryBoundary = ExpiryBoundary::AtEnd, [];
    /// SPEC 3.7: the ConsumedValue of a `None` entitlement.
    NoneConsumedValue => none_consumed_value: NoneConsumedValue = NoneConsumedValue::Zero, [];
    /// SPEC 3.8 `signed_token_on_checkout`.
    SignedTokenOnCheckout => signed_token_on_checkout: SignedTokenOnCheckout = SignedTokenOnCheckout::WhenSignKey, [];
    /// SPEC 3.9 `[D list, P use]`: the error of every grant refusal.
    GrantRefusalError => grant_refusal_error: RefusalError = RefusalError::InvalidParameterValue, [RefusalError::InvalidParameterValue, RefusalError::Validation];
    /// SPEC 3.9 `grant_on_deleting_license`.
    GrantOnDeletingLicense => grant_on_deleting_license: GrantOnDeletingLicense = GrantOnDeletingLicense::Refuse, [];
    /// SPEC 3.9: how AllowedOperations are stored.
    AllowedOperationsOrder => allowed_operations_order: AllowedOperationsOrder = AllowedOperationsOrder::AsGiven, [];
    /// SPEC 3.9 `accept_to`.
    AcceptTo => accept_to: AcceptTo = AcceptTo::Disabled, [];
    /// SPEC 3.9: the Provisional TTL of seeded Marketplace licenses when the fixture gives none.
    MarketplaceTtl => marketplace_ttl_minutes: i32 = 60, [60, 1440];
    /// SPEC 3.9 `marketplace_grant`.
    MarketplaceGrant => marketplace_grant: MarketplaceGrant = MarketplaceGrant::Documented, [];
    /// SPEC 4.1: optional lists of an environment fixture that gives none.
    EvsAbsentLists => evs_absent_lists: EvsAbsentLists = EvsAbsentLists::Absent, [];
    /// SPEC 4.1: connector CREATING to ACTIVE.
    ConnectorActivation => connector_activation_seconds: i64 = 0, [0, 60];
    /// SPEC 4.1: connector UPDATING to ACTIVE.
    ConnectorUpdate => connector_update_seconds: i64 = 0, [0, 60];
    /// SPEC 4.1: connector DELETING to DELETED.
    ConnectorDeletion => connector_deletion_seconds: i64 = 0, [0, 60];
    /// SPEC 4.1: the FQDN change while live entitlements exist.
    EvsFqdnChange => evs_fqdn_change: EvsFqdnChange = EvsFqdnChange::Refuse, [];
    /// SPEC 4.1: which records refuse a connector's deletion.
    EvsConnectorDelete => evs_connector_delete: EvsConnectorDelete = EvsConnectorDelete::RefuseLive, [];
    /// SPEC 4.1: connector checks' `lastCheckAttempt`.
    EvsLastCheckAttempt => evs_last_check_attempt: EvsLastCheckAttempt = EvsLastCheckAttempt::HealthSet, [];
    /// SPEC 4.2: duplicate `vmIds`.
    EvsDuplicateVmIds => evs_duplicate_vm_ids: EvsDuplicateVmIds = EvsDuplicateVmIds::Refuse, [];
    /// SPEC 4.2: the states entitlement operations need.
    EvsState => evs_state: EvsState = EvsState::Documented, [];
    /// SPEC 4.2: all or nothing, records in request order.
    EvsAllOrNothing => evs_all_or_nothing: EvsAllOrNothing = EvsAllOrNothing::AllOrNothing, [];
    /// SPEC 4.2 `list_deleted`: whether ListVmEntitlements shows DELETED records.
    ListDeleted => list_deleted: bool = false, [];
    /// SPEC 4.3: seconds between EVS connector syncs.
    SyncInterval => sync_interval_seconds: i64 = 300, [60, 300];
    /// SPEC 4.3 `creating_timeout_seconds`: none means CREATING waits forever.
    CreatingTimeout => creating_timeout_seconds: Option<i64> = None, [None, Some(3600)];
    /// SPEC 4.3: the `errorDetail` codes and texts.
    EvsErrors => evs_error_detail: EvsErrorDetail = EvsErrorDetail::Conform, [];
    /// SPEC 5 (silent) `evs_deleted_environments_visible`: whether GetEnvironment and
    /// ListEnvironments show DELETED environments.
    EvsDeletedEnvironments => evs_deleted_environments_visible: bool = true, [];
}

impl Policy {
    /// Reads a policy from JSON text; absent members keep their defaults, unknown ones are refused.
    pub fn from_json(text: &str) -> Result<Policy, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every single-switch alternative of this policy, named `switch=value`: each switch set to
    /// each other value the model implements for it, the others kept.
    pub fn alternatives(&self) -> Vec<(String, Policy)> {
        let Ok(Value::Object(base)) = serde_json::to_value(self) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (member, values) in self.candidates() {
            for value in values {
                if base.get(member) == Some(&value) {
                    continue;
                }
                let mut map = base.clone();
                map.insert(member.to_string(), value.clone());
                if let Ok(policy) = serde_json::from_value::<Policy>(Value::Object(map)) {
                    out.push((format!("{member}={}", value_name(&value)), policy));
                }
            }
        }
        out
    }

    /// The value of one member as `alternatives` names it.
    pub fn value_of(&self, member: &str) -> Option<String> {
        let v = serde_json::to_value(self).ok()?;
        v.get(member).map(value_name)
    }
}

fn value_name(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_string(),
        other => other.to_string(),
    }
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

    /// Every rule names a member of Policy, and every alternative differs from the base in
    /// exactly the member its name gives.
    #[test]
    fn alternatives_flip_one_named_switch_each() {
        let base = Policy::default();
        let json = serde_json::to_value(&base).unwrap();
        for rule in PolicyRule::ALL {
            assert!(json.get(rule.switch()).is_some(), "{rule:?} names no member");
        }
        let alts = base.alternatives();
        for (name, alt) in &alts {
            let (member, value) = name.split_once('=').unwrap();
            let a = serde_json::to_value(alt).unwrap();
            let changed: Vec<_> = a
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| json.get(k.as_str()) != Some(v))
                .map(|(k, _)| k.as_str())
                .collect();
            assert_eq!(changed, vec![member], "{name}");
            assert_eq!(alt.value_of(member).as_deref(), Some(value));
        }
        let names: Vec<_> = alts.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"extend_from=expiration"));
        assert!(names.contains(&"accept_to=ACTIVE"));
        assert!(names.contains(&"deletion_delay_seconds=0"));
        assert!(names.contains(&"idempotency_window_seconds=600"));
        assert!(names.contains(&"signed_token_on_checkout=never"));
    }
}
