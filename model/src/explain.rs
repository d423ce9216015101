//! Why the model refused a request (issue #18): the rule that refused, named with its SPEC
//! section, and, for a refusal that chose among licenses, every candidate considered with the
//! first rule that excluded it.
//!
//! An explanation is collected where the refusal is decided (the refusing site attaches it to
//! its `AwsError`), so it is the model's own reasoning and never a second copy of the rules. It
//! travels beside the AWS reply (`Reply::explanation`), never inside it: the wire reply stays
//! exactly what AWS would send.
//!
//! ```
//! use conform_model::explain::{Explanation, Rule};
//! let e = Explanation::new(Rule::Capacity, "Seats (Count): in use 5 + requested 1 > MaxCount 5");
//! assert_eq!(e.rule.section(), "3.4 step 7");
//! assert!(e.summary().starts_with("capacity (SPEC 3.4 step 7): Seats"));
//! ```

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

macro_rules! rules {
    ($($(#[$doc:meta])* $rule:ident => $name:literal, $section:literal;)+) => {
        /// A rule that can refuse a request or exclude a candidate license; closed, each with a
        /// stable name and the SPEC section that states it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($(#[$doc])* $rule,)+
        }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$rule),+];

            /// The rule's stable name (explanation JSON, header, logs).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Rule::$rule => $name,)+
                }
            }

            /// The SPEC.md section that states the rule.
            pub const fn section(self) -> &'static str {
                match self {
                    $(Rule::$rule => $section,)+
                }
            }
        }
    };
}

rules! {
    /// A shape constraint of the service model.
    Shape => "shape", "1.2";
    /// The target names no operation, or one conform does not implement.
    UnknownOperation => "unknown_operation", "1.2";
    /// A refusal outside the checkout, grant and entitlement families: the error's message.
    Other => "other", "-";
    /// ClientToken reused with different parameters.
    IdempotencyMismatch => "idempotency_mismatch", "3.4 idempotency";
    /// No license is a candidate; the candidates list says why each was excluded.
    NoCandidate => "no_candidate", "3.3";
    /// Beneficiary given: the license is not issued by the caller's account.
    NotIssuer => "account", "3.3 Beneficiary present";
    /// Beneficiary given: the license's Beneficiary is another one.
    BeneficiaryDiffers => "beneficiary", "3.3 Beneficiary present";
    /// Beneficiary absent, and the license is the caller's own: own licenses need Beneficiary.
    OwnLicenseNeedsBeneficiary => "beneficiary_missing", "3.3 Beneficiary absent";
    /// The caller holds no grant on the license.
    NoGrant => "grant_missing", "3.3 Beneficiary absent";
    /// The caller's grant is not ACTIVE.
    GrantNotActive => "grant_status", "3.3, 3.5";
    /// The caller's grant is a DelegateGrant, which never enables checkout.
    GrantDelegate => "grant_type", "3.9";
    /// The caller's ACTIVE grant does not list the operation.
    GrantLacksOperation => "grant_operations", "3.3, 3.5";
    /// The license's latest version has another KeyFingerprint.
    KeyFingerprint => "key_fingerprint", "3.3";
    /// The license's effective status is not AVAILABLE.
    Status => "status", "3.2 effective status, 3.3";
    /// `now < Validity.Begin`.
    NotYetValid => "validity_not_begun", "3.3 Begin <= now";
    /// `now >= Validity.End`.
    ValidityEnded => "validity_ended", "3.3 now < End";
    /// A newer candidate was chosen; older ones are never a fallback.
    NewerCandidateWins => "newer_candidate_wins", "3.3 highest creation sequence";
    /// A counted item's Value is not a positive whole number within i64.
    QuantityGrammar => "quantity_grammar", "3.4 step 3";
    /// Two items with the same (Name, Unit).
    DuplicateItem => "duplicate_item", "3.4 step 3";
    /// The chosen license has no ProvisionalConfiguration.
    NoProvisionalConfiguration => "no_provisional_configuration", "3.4 step 5";
    /// No item matched; some matched an entitlement's Name with another Unit.
    UnitMismatch => "unit", "3.4 step 6";
    /// No item matched an entitlement of the license (an empty request included).
    NoEntitlementMatched => "entitlement_missing", "3.4 step 6";
    /// A counted item would take more than MaxCount (no Overage).
    Capacity => "capacity", "3.4 step 7";
    /// In-use units would pass i64::MAX.
    UsageOverflow => "usage_overflow", "3.4 step 7";
    /// DigitalSignatureMethod other than JWT_PS384.
    SignatureMethod => "digital_signature_method", "3.5";
    /// Unknown ARN, or no relationship to the license.
    LicenseNotVisible => "license_not_visible", "3.5 visibility";
    /// The license has no BorrowConfiguration.
    NoBorrowConfiguration => "no_borrow_configuration", "3.5";
    /// A borrow with no entitlements requested.
    NothingRequested => "nothing_requested", "3.5";
    /// A borrowed (Name, Unit) is not in the license: no partial borrows.
    BorrowEntitlementMissing => "borrow_entitlement_missing", "3.5";
    /// No such token.
    TokenUnknown => "token_unknown", "3.6";
    /// The token belongs to another account.
    TokenForeign => "token_foreign", "3.6";
    /// A PERPETUAL checkout cannot be checked in.
    PerpetualCheckIn => "perpetual_check_in", "3.6 CheckInLicense";
    /// The token is checked in or expired.
    TokenEnded => "token_ended", "3.6";
    /// `recheck_grant_on_token_ops`: the grant no longer allows the token operation.
    GrantRecheck => "grant_recheck", "3.6 recheck_grant_on_token_ops";
    /// A counted entitlement of the checkout has AllowCheckIn false.
    CheckInNotAllowed => "allow_check_in", "3.6 CheckInLicense";
    /// A borrow checked in before expiry without AllowEarlyCheckIn.
    EarlyCheckIn => "early_check_in", "3.6 CheckInLicense";
    /// Only PROVISIONAL tokens extend.
    NotProvisional => "not_provisional", "3.6 ExtendLicenseConsumption";
    /// The license is not AVAILABLE with a ProvisionalConfiguration.
    ExtendUnavailable => "extend_license_unavailable", "3.6 ExtendLicenseConsumption";
    /// CreateGrant: unknown license or not its issuer.
    GrantLicenseUnknown => "grant_license_unknown", "3.9 CreateGrant";
    /// CreateGrant on a license being deleted.
    LicenseDeleting => "license_deleting", "3.9 grant_on_deleting_license";
    /// CreateGrant: not exactly one account root principal, or the issuer itself.
    GrantPrincipal => "grant_principal", "3.9 CreateGrant";
    /// CreateGrant: HomeRegion is not the license's.
    GrantHomeRegion => "grant_home_region", "3.9 CreateGrant";
    /// A DelegateGrant allows only ListReceivedLicenses.
    DelegateOperations => "delegate_operations", "3.9";
    /// Over 2,000 grants on one license.
    GrantLimit => "grant_limit", "3.9 CreateGrant";
    /// Unknown grant, or the caller is no party to it.
    GrantUnknown => "grant_unknown", "3.9";
    /// The caller's role (issuer or grantee) may not do this.
    GrantRole => "grant_role", "3.9";
    /// The grant's status does not allow this.
    GrantState => "grant_state", "3.9";
    /// Version or SourceVersion does not match.
    GrantVersion => "grant_version", "3.9";
    /// The request changes nothing, or lacks the Status a grantee must give.
    GrantRequest => "grant_request", "3.9 CreateGrantVersion";
    /// Duplicate vmIds.
    DuplicateVmIds => "duplicate_vm_ids", "4.2 shape";
    /// Unknown, DELETED or other-region environment.
    EnvironmentNotFound => "environment_not_found", "4.2 existence";
    /// Unknown, DELETED or other environment's connector.
    ConnectorNotFound => "connector_not_found", "4.2 existence";
    /// The environment is not CREATED.
    EnvironmentState => "environment_state", "4.2 state";
    /// The connector is not of type VCENTER.
    ConnectorType => "connector_type", "4.2 state";
    /// CreateEntitlement: the connector is not ACTIVE.
    ConnectorState => "connector_state", "4.2 state";
    /// CreateEntitlement: a VM already has a CREATING, CREATED or AT_RISK record.
    VmEntitled => "vm_entitled", "4.2 CreateEntitlement";
    /// DeleteEntitlement: a VM has no record.
    NoRecord => "no_record", "4.2 DeleteEntitlement";
    /// A forged, foreign or expired nextToken.
    PageToken => "page_token", "4.2 ListVmEntitlements";
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One license considered, and the first rule that excluded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub license: String,
    pub rule: Rule,
    pub detail: String,
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub rule: Rule,
    pub detail: String,
    /// The licenses considered (a candidate choice only), newest first.
    pub candidates: Vec<Candidate>,
}

/// Candidates listed at most; the count of the rest is in the detail.
pub const MAX_CANDIDATES: usize = 20;

/// The short form (`x-conform-explanation`) is cut at this many bytes.
pub const SUMMARY_MAX_BYTES: usize = 480;

impl Explanation {
    pub fn new(rule: Rule, detail: impl Into<String>) -> Self {
        Explanation {
            rule,
            detail: detail.into(),
            candidates: Vec::new(),
        }
    }

    /// One line of printable ASCII, at most `SUMMARY_MAX_BYTES`: the rule, its section, the
    /// detail, then each candidate's license id and rule.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "{} (SPEC {}): {}",
            self.rule.name(),
            self.rule.section(),
            self.detail
        );
        for c in &self.candidates {
            let id = c.license.rsplit(':').next().unwrap_or(&c.license);
            out.push_str(&format!("; {id}: {}", c.rule.name()));
        }
        let mut clean: String = out
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .collect();
        if clean.len() > SUMMARY_MAX_BYTES {
            clean.truncate(SUMMARY_MAX_BYTES - 3);
            clean.push_str("...");
        }
        clean
    }
}

impl Serialize for Candidate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Candidate", 4)?;
        st.serialize_field("license", &self.license)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("section", self.rule.section())?;
        st.serialize_field("detail", &self.detail)?;
        st.end()
    }
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Explanation", 4)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("section", self.rule.section())?;
        st.serialize_field("detail", &self.detail)?;
        st.serialize_field("candidates", &self.candidates)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_every_rule_names_a_section() {
        let mut names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "two rules share a name");
        for r in Rule::ALL {
            assert!(!r.section().is_empty(), "{r:?}");
        }
    }

    #[test]
    fn the_summary_is_one_bounded_line_of_printable_ascii() {
        let mut e = Explanation::new(Rule::NoCandidate, "caf\u{e9}\nline");
        for i in 0..200 {
            e.candidates.push(Candidate {
                license: format!("arn:aws:license-manager::1:license:l-{i:032}"),
                rule: Rule::Status,
                detail: String::new(),
            });
        }
        let s = e.summary();
        assert!(s.len() <= SUMMARY_MAX_BYTES);
        assert!(s.ends_with("..."));
        assert!(s.bytes().all(|b| b.is_ascii_graphic() || b == b' '), "{s}");
        assert!(s.starts_with("no_candidate (SPEC 3.3): caf??line"), "{s}");
    }
}
