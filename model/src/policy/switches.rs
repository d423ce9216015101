//! The value sets of the policy switches. Each enum lists every value the model implements, so
//! `Policy::alternatives` can derive every single-switch alternative from the enums themselves.

use serde::{Deserialize, Serialize};

/// The candidate values of one switch: every value of an enum, both booleans, or the values a
/// numeric or text switch's declaration lists.
pub trait Candidates: Sized {
    fn candidates(listed: Vec<Self>) -> Vec<Self>;
}

impl Candidates for bool {
    fn candidates(_: Vec<Self>) -> Vec<Self> {
        vec![false, true]
    }
}

macro_rules! listed_candidates {
    ($($t:ty),+) => {$(
        impl Candidates for $t {
            fn candidates(listed: Vec<Self>) -> Vec<Self> {
                listed
            }
        }
    )+};
}

listed_candidates!(i32, i64, String, Option<i64>);

macro_rules! switch_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($(#[doc = $vdoc])* #[serde(rename = $s)] $var),+
        }

        impl Candidates for $name {
            fn candidates(_: Vec<Self>) -> Vec<Self> {
                vec![$($name::$var),+]
            }
        }
    };
}

switch_enum! {
    /// What happens to request members the service model does not define (SPEC 1.1).
    UnknownMembers { Ignore = "ignore" }
}

switch_enum! {
    /// The HTTP status of each error (SPEC 1.1).
    HttpStatus {
        /// As AWS's Smithy model gives it.
        Smithy = "smithy",
        /// License Manager's ResourceNotFoundException as 404, like EVS's.
        NotFound404 = "not_found_404",
    }
}

switch_enum! {
    /// The `__type` of an error body (SPEC 1.1).
    ErrorTypeForm {
        /// `ConflictException`.
        Bare = "bare",
        /// `com.amazonaws.<service>#ConflictException`.
        Qualified = "qualified",
    }
}

switch_enum! {
    /// Output timestamp formats of License Manager (SPEC 3.1).
    TimeFormat {
        /// `YYYY-MM-DDTHH:MM:SS.sssZ`.
        IsoMillis = "iso_millis",
        /// `YYYY-MM-DDTHH:MM:SSZ`.
        IsoSeconds = "iso_seconds",
        /// `YYYY-MM-DDTHH:MM:SS`, no zone.
        Seconds = "seconds",
    }
}

/// The error a refusal answers. Every switch of this type lists the values it offers, each one
/// the operations it governs list (SPEC 1.1 `modelled_errors_only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalError {
    #[serde(rename = "validation")]
    Validation,
    #[serde(rename = "ipve")]
    InvalidParameterValue,
    #[serde(rename = "resource_not_found")]
    ResourceNotFound,
    #[serde(rename = "conflict")]
    Conflict,
    #[serde(rename = "access_denied")]
    AccessDenied,
    #[serde(rename = "no_entitlements_allowed")]
    NoEntitlementsAllowed,
    #[serde(rename = "entitlement_not_allowed")]
    EntitlementNotAllowed,
}

listed_candidates!(RefusalError);

switch_enum! {
    /// Which content checks CreateLicense and CreateLicenseVersion run (SPEC 3.2).
    CreateChecks {
        /// Every check SPEC 3.2 lists.
        Full = "full",
        /// None: what the shape allows is stored.
        None = "none",
    }
}

switch_enum! {
    /// Which CreateLicense check answers first when both fail (SPEC 3.2).
    CreateLicenseOrder {
        /// Content (IPVE), then HomeRegion (Redirect).
        ContentFirst = "content_first",
        /// HomeRegion (Redirect), then content.
        RegionFirst = "region_first",
    }
}

switch_enum! {
    /// The statuses CreateLicenseVersion accepts (SPEC 3.2).
    VersionStatus {
        AvailableOrDeactivated = "available_or_deactivated",
        /// Any LicenseStatus is stored as given.
        Any = "any",
    }
}

switch_enum! {
    /// What CreateLicenseVersion does with a HomeRegion other than the license's (SPEC 3.2).
    HomeRegionChange {
        /// ValidationException.
        Refuse = "refuse",
        /// Ignored: the license keeps its HomeRegion.
        Ignore = "ignore",
    }
}

switch_enum! {
    /// The order of a list (SPEC 3.2).
    ListOrder {
        /// Oldest first (creation sequence, or version number).
        Ascending = "ascending",
        /// Newest first.
        Descending = "descending",
    }
}

switch_enum! {
    /// What a caller without access to an existing resource is told (SPEC 3.2 `access`).
    Access {
        /// The operation's "unknown" answer, so existence does not leak.
        UnknownAnswer = "unknown_answer",
        /// AccessDeniedException.
        AccessDenied = "access_denied",
    }
}

switch_enum! {
    /// Who may check out (SPEC 3.3 `beneficiary`).
    Beneficiary {
        /// Decided by the request's Beneficiary.
        ByRequest = "by_request",
    }
}

switch_enum! {
    /// The order of CheckoutLicense's checks (SPEC 3.4 `checkout_order`).
    CheckoutOrder {
        /// Quantity grammar before the candidate search, as SPEC 3.4 lists.
        Documented = "documented",
        /// The candidate search and its refusals before the quantity grammar.
        CandidateFirst = "candidate_first",
    }
}

switch_enum! {
    /// The `Expiration` of a PERPETUAL checkout (SPEC 3.4).
    PerpetualExpiration {
        /// now + ProvisionalConfiguration TTL.
        Ttl = "ttl",
        /// Absent (from the reply and the SignedToken's claims).
        Absent = "absent",
    }
}

switch_enum! {
    /// When CheckoutLicense includes a SignedToken (SPEC 3.8).
    SignedTokenOnCheckout {
        WhenSignKey = "when_sign_key",
        Always = "always",
        Never = "never",
    }
}

switch_enum! {
    /// Where ExtendLicenseConsumption counts the new expiration from (SPEC 3.6).
    ExtendFrom {
        Now = "now",
        Expiration = "expiration",
    }
}

switch_enum! {
    /// Where limits and flags are read from when an operation runs (SPEC 3.7).
    LimitsFrom {
        Latest = "latest",
    }
}

switch_enum! {
    /// What ResetUsage does (SPEC 3.2, 3.7).
    ResetUsage {
        /// Starts a new usage period: in use reads zero, older tokens never count again.
        NewPeriod = "new_period",
    }
}

switch_enum! {
    /// When a license with `Validity.End` reads EXPIRED (SPEC 3.2).
    ExpiryBoundary {
        /// When `now >= End`.
        AtEnd = "at_end",
    }
}

switch_enum! {
    /// The `ConsumedValue` GetLicenseUsage gives a `None` entitlement (SPEC 3.7).
    NoneConsumedValue {
        /// `"0"`.
        Zero = "zero",
        /// Absent.
        Absent = "absent",
    }
}

switch_enum! {
    /// Whether CreateGrant accepts a license being deleted (SPEC 3.9).
    GrantOnDeletingLicense {
        Refuse = "refuse",
        Allow = "allow",
    }
}

switch_enum! {
    /// How CreateGrant stores AllowedOperations (SPEC 3.9).
    AllowedOperationsOrder {
        /// In the order given, duplicates dropped (first kept).
        AsGiven = "as_given",
        /// In the model's enum order, duplicates dropped.
        Sorted = "sorted",
    }
}

switch_enum! {
    /// The status an accepted grant takes (SPEC 3.9).
    AcceptTo {
        #[doc = "DISABLED."]
        Disabled = "DISABLED",
        #[doc = "ACTIVE."]
        Active = "ACTIVE",
    }
}

switch_enum! {
    /// The AllowedOperations of a seeded Marketplace license's grant (SPEC 3.9).
    MarketplaceGrant {
        /// CheckoutLicense, CheckInLicense, CheckoutBorrowLicense, ExtendConsumptionLicense,
        /// ListPurchasedLicenses.
        Documented = "documented",
        /// The same without CheckoutBorrowLicense.
        WithoutBorrow = "without_borrow",
    }
}

switch_enum! {
    /// Lists of an EVS environment fixture that gives none (SPEC 4.1).
    EvsAbsentLists {
        /// Absent from replies.
        Absent = "absent",
        /// `[]`, as SPEC 1.1's always-present lists.
        Empty = "empty",
    }
}

switch_enum! {
    /// Whether a connector's FQDN may change while live entitlements exist (SPEC 4.1).
    EvsFqdnChange {
        /// ValidationException.
        Refuse = "refuse",
        Allow = "allow",
    }
}

switch_enum! {
    /// Which records refuse a connector's deletion (SPEC 4.1).
    EvsConnectorDelete {
        /// Records in CREATING, CREATED or AT_RISK.
        RefuseLive = "refuse_live",
        /// Any record not DELETED.
        RefuseAny = "refuse_any",
    }
}

switch_enum! {
    /// The `lastCheckAttempt` of a connector's checks (SPEC 4.1).
    EvsLastCheckAttempt {
        /// The instant the health was last set.
        HealthSet = "health_set",
    }
}

switch_enum! {
    /// Duplicate `vmIds` in CreateEntitlement / DeleteEntitlement (SPEC 4.2).
    EvsDuplicateVmIds {
        /// A shape violation.
        Refuse = "refuse",
        /// Each VM once, first occurrence kept.
        Dedupe = "dedupe",
    }
}

switch_enum! {
    /// Which environment and connector states entitlement operations need (SPEC 4.2).
    EvsState {
        /// As SPEC 4.2 lists, else ValidationException reason `other`.
        Documented = "documented",
    }
}

switch_enum! {
    /// How CreateEntitlement and DeleteEntitlement treat a request (SPEC 4.2).
    EvsAllOrNothing {
        /// All or nothing, records in request order.
        AllOrNothing = "all_or_nothing",
    }
}

switch_enum! {
    /// The `errorDetail` of a CREATE_FAILED record (SPEC 4.3).
    EvsErrorDetail {
        /// conform's codes and texts.
        Conform = "conform",
        /// Absent.
        Absent = "absent",
    }
}

switch_enum! {
    /// EVS output timestamps (SPEC 1.1).
    EvsTimestamps {
        /// Epoch seconds, JSON integers, floored.
        Integer = "integer",
        /// Epoch seconds as JSON numbers with the milliseconds as the fraction.
        Fractional = "fractional",
    }
}
