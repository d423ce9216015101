//! Which operations conform covers (SPEC 5) and where each service's model lives.

use conform_model::Service;

/// License Manager operations in scope (SPEC 5), grant operations included.
pub const LICENSE_MANAGER_OPERATIONS: &[&str] = &[
    "CreateLicense",
    "CreateLicenseVersion",
    "GetLicense",
    "ListLicenses",
    "ListLicenseVersions",
    "DeleteLicense",
    "CheckoutLicense",
    "CheckoutBorrowLicense",
    "CheckInLicense",
    "ExtendLicenseConsumption",
    "GetLicenseUsage",
    "CreateGrant",
    "GetGrant",
    "AcceptGrant",
    "RejectGrant",
    "CreateGrantVersion",
    "DeleteGrant",
    "ListDistributedGrants",
    "ListReceivedGrants",
    "ListReceivedLicenses",
];

/// EVS operations in scope (SPEC 5).
pub const EVS_OPERATIONS: &[&str] = &[
    "CreateEntitlement",
    "DeleteEntitlement",
    "ListVmEntitlements",
    "CreateEnvironmentConnector",
    "UpdateEnvironmentConnector",
    "DeleteEnvironmentConnector",
    "ListEnvironmentConnectors",
    "GetEnvironment",
    "ListEnvironments",
];

/// The operations of `service` that specs/ holds schemas for.
pub fn operations(service: Service) -> &'static [&'static str] {
    match service {
        Service::LicenseManager => LICENSE_MANAGER_OPERATIONS,
        Service::Evs => EVS_OPERATIONS,
    }
}

/// The file name of the service's official model, as botocore names it.
pub fn model_file(service: Service) -> &'static str {
    match service {
        Service::LicenseManager => "license-manager-2018-08-01.json",
        Service::Evs => "evs-2023-07-27.json",
    }
}

/// The member every error body carries its text in (SPEC 1.1): LM `Message`, EVS `message`.
pub fn message_member(service: Service) -> &'static str {
    match service {
        Service::LicenseManager => "Message",
        Service::Evs => "message",
    }
}
