//! The AWS SDK for Rust (`aws-sdk-licensemanager`, a client nobody here wrote) against the
//! simulator: every License Manager operation the model implements, and the typed errors the
//! SDK must map (an `Unhandled` error would mean the simulator sent something AWS never does).
//! Grants run between two fixture accounts; `aws-sdk-evs` drives the EVS operations against an
//! environment seeded through the fixtures' model events.

use crate::common::{Conn, InProcess};
use aws_sdk_licensemanager::config::{Credentials, Region};
use aws_sdk_licensemanager::error::ProvideErrorMetadata;
use aws_sdk_licensemanager::operation::accept_grant::AcceptGrantError;
use aws_sdk_licensemanager::operation::check_in_license::CheckInLicenseError;
use aws_sdk_licensemanager::operation::checkout_borrow_license::CheckoutBorrowLicenseError;
use aws_sdk_licensemanager::operation::checkout_license::CheckoutLicenseError;
use aws_sdk_licensemanager::operation::create_grant::CreateGrantError;
use aws_sdk_licensemanager::operation::create_grant_version::CreateGrantVersionError;
use aws_sdk_licensemanager::operation::create_license_version::CreateLicenseVersionError;
use aws_sdk_licensemanager::operation::delete_grant::DeleteGrantError;
use aws_sdk_licensemanager::operation::delete_license::DeleteLicenseError;
use aws_sdk_licensemanager::operation::get_grant::GetGrantError;
use aws_sdk_licensemanager::operation::get_license::GetLicenseError;
use aws_sdk_licensemanager::operation::reject_grant::RejectGrantError;
use aws_sdk_licensemanager::types::{
    AllowedOperation, BorrowConfiguration, CheckoutType, ConsumptionConfiguration, DatetimeRange,
    DigitalSignatureMethod, Entitlement, EntitlementData, EntitlementDataUnit, EntitlementUnit, Filter,
    GrantStatus, GrantType, Issuer, LicenseStatus, ProvisionalConfiguration,
};
use aws_sdk_licensemanager::Client;
use conform_simulator::{Account, Config, Fixtures};
use serde_json::json;

const SELLER: &str = "111122223333";
const BUYER: &str = "444455556666";
const STRANGER: &str = "777788889999";
/// The EVS environment `fixtures()` seeds for the buyer in us-east-1.
const EVS_ENV: &str = "env-sdkfixture";

fn fixtures() -> Fixtures {
    let accounts = vec![
        Account {
            access_key_id: "AKIASELLER".into(),
            secret_access_key: "seller-secret".into(),
            account_id: SELLER.into(),
        },
        Account {
            access_key_id: "AKIABUYER".into(),
            secret_access_key: "buyer-secret".into(),
            account_id: BUYER.into(),
        },
        Account {
            access_key_id: "AKIASTRANGER".into(),
            secret_access_key: "stranger-secret".into(),
            account_id: STRANGER.into(),
        },
    ];
    let buyer_evs = |mut event: serde_json::Value| {
        event["account"] = json!(BUYER);
        event["region"] = json!("us-east-1");
        event
    };
    let events = serde_json::from_value(json!([
        {
            "event": "seed_marketplace_license", "buyer_account": BUYER, "product_sku": "mp-sku",
            "entitlements": [{"Name": "Cores", "Unit": "Count", "MaxCount": 8}]
        },
        buyer_evs(json!({"event": "seed_evs_environment", "environment_id": EVS_ENV, "name": "lab"})),
        buyer_evs(json!({"event": "add_vm", "environment_id": EVS_ENV, "vm_id": "vm-1", "name": "sql-01",
                         "guest_os": "windows_server"})),
        buyer_evs(json!({"event": "add_vm", "environment_id": EVS_ENV, "vm_id": "vm-2", "name": "build-01",
                         "guest_os": "other"})),
    ]))
    .expect("events");
    Fixtures { accounts, events }
}

fn client(url: &str, key: &str, secret: &str, region: &str) -> Client {
    let config = aws_sdk_licensemanager::Config::builder()
        .behavior_version_latest()
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(key, secret, None, None, "conform-test"))
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

fn issuer() -> Issuer {
    Issuer::builder().name("Example Corp").build().expect("issuer")
}

fn validity() -> DatetimeRange {
    DatetimeRange::builder()
        .begin("2025-01-01T00:00:00Z")
        .build()
        .expect("validity")
}

fn entitlement(max: i64) -> Entitlement {
    Entitlement::builder()
        .name("Seat")
        .unit(EntitlementUnit::Count)
        .max_count(max)
        .allow_check_in(true)
        .build()
        .expect("entitlement")
}

fn consumption() -> ConsumptionConfiguration {
    ConsumptionConfiguration::builder()
        .provisional_configuration(
            ProvisionalConfiguration::builder()
                .max_time_to_live_in_minutes(60)
                .build()
                .expect("provisional"),
        )
        .borrow_configuration(
            BorrowConfiguration::builder()
                .allow_early_check_in(true)
                .max_time_to_live_in_minutes(30)
                .build()
                .expect("borrow"),
        )
        .build()
}

fn seat(n: &str) -> EntitlementData {
    EntitlementData::builder()
        .name("Seat")
        .unit(EntitlementDataUnit::Count)
        .value(n)
        .build()
        .expect("entitlement data")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_drives_every_implemented_license_manager_operation() {
    let server = InProcess::start(Config {
        fixtures: fixtures(),
        ..Config::default()
    })
    .await;
    let url = server.url();
    let seller = client(&url, "AKIASELLER", "seller-secret", "us-east-1");

    // CreateLicense
    let created = seller
        .create_license()
        .license_name("Seats")
        .product_name("Editor")
        .product_sku("editor-pro")
        .issuer(issuer())
        .home_region("us-east-1")
        .validity(validity())
        .entitlements(entitlement(2))
        .beneficiary("customer-1")
        .consumption_configuration(consumption())
        .client_token("create-1")
        .send()
        .await
        .expect("CreateLicense");
    let arn = created.license_arn().expect("LicenseArn").to_string();
    assert!(
        arn.starts_with(&format!("arn:aws:license-manager::{SELLER}:license:l-")),
        "{arn}"
    );
    assert_eq!(created.status(), Some(&LicenseStatus::Available));
    assert_eq!(created.version(), Some("1"));

    // GetLicense, ListLicenses (filtered), ListLicenseVersions
    let got = seller
        .get_license()
        .license_arn(&arn)
        .send()
        .await
        .expect("GetLicense");
    let license = got.license().expect("License");
    let fingerprint = license
        .issuer()
        .and_then(|i| i.key_fingerprint())
        .expect("fingerprint")
        .to_string();
    assert_eq!(fingerprint, crate::common::fingerprint(SELLER));
    let listed = seller
        .list_licenses()
        .filters(Filter::builder().name("ProductSKU").values("editor-pro").build())
        .send()
        .await
        .expect("ListLicenses");
    assert_eq!(listed.licenses().len(), 1);
    assert_eq!(listed.licenses()[0].license_arn(), Some(arn.as_str()));

    // CheckoutLicense as the beneficiary, then a refusal once both seats are taken.
    let checkout = |token: &'static str, n: &'static str| {
        seller
            .checkout_license()
            .product_sku("editor-pro")
            .checkout_type(CheckoutType::Provisional)
            .key_fingerprint(&fingerprint)
            .entitlements(seat(n))
            .beneficiary("customer-1")
            .client_token(token)
            .send()
    };
    let out = checkout("co-1", "1").await.expect("CheckoutLicense");
    let token = out.license_consumption_token().expect("token").to_string();
    assert_eq!(token.len(), 32);
    assert_eq!(out.entitlements_allowed()[0].value(), Some("1"));
    assert!(out.expiration().is_some() && out.issued_at().is_some());
    let refused = checkout("co-2", "2").await.expect_err("over MaxCount");
    let refused = refused.into_service_error();
    assert!(
        matches!(refused, CheckoutLicenseError::NoEntitlementsAllowedException(_)),
        "{refused:?}"
    );

    // ExtendLicenseConsumption keeps the token.
    let extended = seller
        .extend_license_consumption()
        .license_consumption_token(&token)
        .send()
        .await
        .expect("Extend");
    assert_eq!(extended.license_consumption_token(), Some(token.as_str()));

    // CheckoutBorrowLicense always signs; the key served by /_conform/jwks verifies it.
    let borrow = seller
        .checkout_borrow_license()
        .license_arn(&arn)
        .entitlements(seat("1"))
        .digital_signature_method(DigitalSignatureMethod::JwtPs384)
        .client_token("borrow-1")
        .send()
        .await
        .expect("CheckoutBorrowLicense");
    let signed = borrow.signed_token().expect("SignedToken");
    let (header, claims) = conform_model::lm::verify_signed_token(signed).expect("verifies");
    assert_eq!(header["alg"], "PS384");
    assert_eq!(claims["licenseArn"], arn.as_str());
    let mut conn = Conn::open(server.addr).await;
    let jwks = conn.get_json("/_conform/jwks").await;
    assert_eq!(jwks["pem"], conform_model::lm::public_key_pem());
    assert_eq!(jwks["keys"][0]["kty"], "RSA");

    // The borrow took the second seat: usage says 2 of 2.
    let usage = seller
        .get_license_usage()
        .license_arn(&arn)
        .send()
        .await
        .expect("GetLicenseUsage");
    let entry = &usage.license_usage().expect("usage").entitlement_usages()[0];
    assert_eq!((entry.consumed_value(), entry.max_count()), ("2", Some("2")));

    // CheckInLicense gives the provisional seat back; a second check-in is unknown.
    seller
        .check_in_license()
        .license_consumption_token(&token)
        .send()
        .await
        .expect("CheckInLicense");
    let again = seller
        .check_in_license()
        .license_consumption_token(&token)
        .send()
        .await
        .expect_err("already checked in")
        .into_service_error();
    assert!(
        matches!(again, CheckInLicenseError::ResourceNotFoundException(_)),
        "{again:?}"
    );
    let borrow_token = borrow.license_consumption_token().expect("borrow token");
    seller
        .check_in_license()
        .license_consumption_token(borrow_token)
        .send()
        .await
        .expect("early check-in of a borrow that allows it");
    let usage = seller
        .get_license_usage()
        .license_arn(&arn)
        .send()
        .await
        .expect("GetLicenseUsage");
    assert_eq!(
        usage.license_usage().expect("usage").entitlement_usages()[0].consumed_value(),
        "0"
    );

    // CreateLicenseVersion: from another region → Redirect; wrong SourceVersion → Conflict.
    let new_version = |c: &Client, source: &'static str, token: &'static str| {
        c.create_license_version()
            .license_arn(&arn)
            .license_name("Seats v2")
            .product_name("Editor")
            .issuer(issuer())
            .home_region("us-east-1")
            .validity(validity())
            .entitlements(entitlement(5))
            .consumption_configuration(consumption())
            .status(LicenseStatus::Available)
            .source_version(source)
            .client_token(token)
            .send()
    };
    let west = client(&url, "AKIASELLER", "seller-secret", "us-west-2");
    let redirect = new_version(&west, "1", "v-west").await.expect_err("other region");
    assert_eq!(redirect.code(), Some("RedirectException"));
    assert!(matches!(
        redirect.into_service_error(),
        CreateLicenseVersionError::RedirectException(_)
    ));
    let conflict = new_version(&seller, "7", "v-7").await.expect_err("stale source");
    assert!(matches!(
        conflict.into_service_error(),
        CreateLicenseVersionError::ConflictException(_)
    ));
    let v2 = new_version(&seller, "1", "v-2")
        .await
        .expect("CreateLicenseVersion");
    assert_eq!(v2.version(), Some("2"));
    let versions = seller
        .list_license_versions()
        .license_arn(&arn)
        .send()
        .await
        .expect("ListLicenseVersions");
    let names: Vec<_> = versions.licenses().iter().filter_map(|l| l.version()).collect();
    assert_eq!(names, ["1", "2"]);

    // GetLicense of another account's license is unknown to the caller (SPEC 3.2 access).
    let buyer = client(&url, "AKIABUYER", "buyer-secret", "us-east-1");
    let hidden = buyer
        .get_license()
        .license_arn(&arn)
        .send()
        .await
        .expect_err("foreign");
    assert!(matches!(
        hidden.into_service_error(),
        GetLicenseError::InvalidParameterValueException(_)
    ));

    // DeleteLicense with a stale SourceVersion is refused, with the latest accepted.
    let stale = seller
        .delete_license()
        .license_arn(&arn)
        .source_version("1")
        .send()
        .await
        .expect_err("stale");
    assert!(matches!(
        stale.into_service_error(),
        DeleteLicenseError::ConflictException(_)
    ));
    let deleted = seller
        .delete_license()
        .license_arn(&arn)
        .source_version("2")
        .send()
        .await
        .expect("DeleteLicense");
    assert_eq!(deleted.status().map(|s| s.as_str()), Some("PENDING_DELETE"));
    assert!(deleted.deletion_date().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_buyer_checks_out_a_seeded_marketplace_license() {
    let server = InProcess::start(Config {
        fixtures: fixtures(),
        ..Config::default()
    })
    .await;
    let buyer = client(&server.url(), "AKIABUYER", "buyer-secret", "us-east-1");
    let cores = |n: &str| {
        EntitlementData::builder()
            .name("Cores")
            .unit(EntitlementDataUnit::Count)
            .value(n)
            .build()
            .expect("entitlement data")
    };
    let out = buyer
        .checkout_license()
        .product_sku("mp-sku")
        .checkout_type(CheckoutType::Provisional)
        .key_fingerprint("aws:294406891311:AWS/Marketplace:issuer-fingerprint")
        .entitlements(cores("8"))
        .client_token("mp-1")
        .send()
        .await
        .expect("Marketplace checkout");
    let arn = out.license_arn().expect("LicenseArn");
    assert!(
        arn.starts_with("arn:aws:license-manager::294406891311:license:l-"),
        "{arn}"
    );
    let full = buyer
        .checkout_license()
        .product_sku("mp-sku")
        .checkout_type(CheckoutType::Provisional)
        .key_fingerprint("aws:294406891311:AWS/Marketplace:issuer-fingerprint")
        .entitlements(cores("1"))
        .client_token("mp-2")
        .send()
        .await
        .expect_err("all 8 cores are out")
        .into_service_error();
    assert!(
        matches!(full, CheckoutLicenseError::NoEntitlementsAllowedException(_)),
        "{full:?}"
    );

    // The seller has no grant on it: the default account sees nothing to borrow.
    let stranger = client(&server.url(), "AKIAUNKNOWN", "whatever", "us-east-1");
    let borrow = stranger
        .checkout_borrow_license()
        .license_arn(arn)
        .entitlements(cores("1"))
        .digital_signature_method(DigitalSignatureMethod::JwtPs384)
        .client_token("b-1")
        .send()
        .await
        .expect_err("no relationship")
        .into_service_error();
    assert!(
        matches!(borrow, CheckoutBorrowLicenseError::ResourceNotFoundException(_)),
        "{borrow:?}"
    );
}

fn root(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_drives_every_grant_operation() {
    let server = InProcess::start(Config {
        fixtures: fixtures(),
        ..Config::default()
    })
    .await;
    let url = server.url();
    let seller = client(&url, "AKIASELLER", "seller-secret", "us-east-1");
    let buyer = client(&url, "AKIABUYER", "buyer-secret", "us-east-1");
    let stranger = client(&url, "AKIASTRANGER", "stranger-secret", "us-east-1");

    let created = seller
        .create_license()
        .license_name("Seats")
        .product_name("Editor")
        .product_sku("granted")
        .issuer(issuer())
        .home_region("us-east-1")
        .validity(validity())
        .entitlements(entitlement(2))
        .beneficiary("seller-books")
        .consumption_configuration(consumption())
        .client_token("license")
        .send()
        .await
        .expect("CreateLicense");
    let license_arn = created.license_arn().expect("LicenseArn").to_string();
    let fingerprint = crate::common::fingerprint(SELLER);

    // CreateGrant: refusals by shape (Validation) and by rule (IPVE), then a grant to the buyer.
    let grant_to = |principal: String, token: &'static str| {
        seller
            .create_grant()
            .client_token(token)
            .grant_name("Buyer seats")
            .license_arn(&license_arn)
            .principals(principal)
            .home_region("us-east-1")
            .allowed_operations(AllowedOperation::CheckoutLicense)
            .allowed_operations(AllowedOperation::CheckInLicense)
            .send()
    };
    let to_self = grant_to(root(SELLER), "g-self")
        .await
        .expect_err("to the issuer")
        .into_service_error();
    assert!(
        matches!(to_self, CreateGrantError::InvalidParameterValueException(_)),
        "{to_self:?}"
    );
    let not_arn = grant_to("not-an-arn".into(), "g-bad")
        .await
        .expect_err("principal fails the ARN pattern")
        .into_service_error();
    assert!(
        matches!(not_arn, CreateGrantError::ValidationException(_)),
        "{not_arn:?}"
    );
    let granted = grant_to(root(BUYER), "g-1").await.expect("CreateGrant");
    let grant_arn = granted.grant_arn().expect("GrantArn").to_string();
    assert!(
        grant_arn.starts_with(&format!("arn:aws:license-manager::{SELLER}:grant:g-")),
        "{grant_arn}"
    );
    assert_eq!(
        (granted.status(), granted.version()),
        (Some(&GrantStatus::PendingAccept), Some("1"))
    );

    // ListReceivedGrants (filtered to the license): the typed Grant with every required member.
    let received = buyer
        .list_received_grants()
        .filters(Filter::builder().name("LicenseArn").values(&license_arn).build())
        .send()
        .await
        .expect("ListReceivedGrants");
    let [grant] = received.grants() else {
        panic!("one grant expected: {received:?}")
    };
    assert_eq!(grant.grant_arn(), grant_arn);
    assert_eq!(grant.license_arn(), license_arn);
    assert_eq!(grant.parent_arn(), license_arn);
    assert_eq!(grant.grantee_principal_arn(), root(BUYER));
    assert_eq!(grant.home_region(), "us-east-1");
    assert_eq!(grant.grant_status(), &GrantStatus::PendingAccept);
    assert_eq!(grant.grant_type(), Some(&GrantType::BuyerGrant));
    assert_eq!(
        grant.granted_operations(),
        [
            AllowedOperation::CheckoutLicense,
            AllowedOperation::CheckInLicense
        ]
    );

    // AcceptGrant: only by the grantee; it leaves the grant DISABLED.
    let by_seller = seller
        .accept_grant()
        .grant_arn(&grant_arn)
        .send()
        .await
        .expect_err("the issuer cannot accept")
        .into_service_error();
    assert!(
        matches!(by_seller, AcceptGrantError::InvalidParameterValueException(_)),
        "{by_seller:?}"
    );
    let accepted = buyer
        .accept_grant()
        .grant_arn(&grant_arn)
        .send()
        .await
        .expect("AcceptGrant");
    assert_eq!(
        (accepted.status(), accepted.version()),
        (Some(&GrantStatus::Disabled), Some("2"))
    );

    // CreateGrantVersion by the grantee: Status only, from the current SourceVersion.
    let rename = buyer
        .create_grant_version()
        .grant_arn(&grant_arn)
        .grant_name("mine now")
        .client_token("v-rename")
        .send()
        .await
        .expect_err("a grantee cannot rename")
        .into_service_error();
    assert!(
        matches!(rename, CreateGrantVersionError::InvalidParameterValueException(_)),
        "{rename:?}"
    );
    let activate = |source: &'static str, token: &'static str| {
        buyer
            .create_grant_version()
            .grant_arn(&grant_arn)
            .status(GrantStatus::Active)
            .source_version(source)
            .client_token(token)
            .send()
    };
    let stale = activate("1", "v-stale")
        .await
        .expect_err("stale SourceVersion")
        .into_service_error();
    assert!(
        matches!(stale, CreateGrantVersionError::InvalidParameterValueException(_)),
        "{stale:?}"
    );
    let active = activate("2", "v-on").await.expect("CreateGrantVersion");
    assert_eq!(
        (active.status(), active.version()),
        (Some(&GrantStatus::Active), Some("3"))
    );

    // GetGrant: the current version, or an older one by number.
    let now = buyer
        .get_grant()
        .grant_arn(&grant_arn)
        .send()
        .await
        .expect("GetGrant");
    let now = now.grant().expect("Grant");
    assert_eq!((now.version(), now.grant_status()), ("3", &GrantStatus::Active));
    let first = seller
        .get_grant()
        .grant_arn(&grant_arn)
        .version("1")
        .send()
        .await
        .expect("GetGrant version 1");
    assert_eq!(
        first.grant().map(|g| g.grant_status()),
        Some(&GrantStatus::PendingAccept)
    );
    let hidden = stranger
        .get_grant()
        .grant_arn(&grant_arn)
        .send()
        .await
        .expect_err("not a party")
        .into_service_error();
    assert!(
        matches!(hidden, GetGrantError::InvalidParameterValueException(_)),
        "{hidden:?}"
    );

    // ListReceivedLicenses: the license with the grant's metadata; the Marketplace one too.
    let licenses = buyer
        .list_received_licenses()
        .send()
        .await
        .expect("ListReceivedLicenses");
    let skus: Vec<_> = licenses
        .licenses()
        .iter()
        .filter_map(|l| l.product_sku())
        .collect();
    assert_eq!(skus, ["mp-sku", "granted"]);
    let ours = &licenses.licenses()[1];
    assert_eq!(ours.license_arn(), Some(license_arn.as_str()));
    assert_eq!(
        ours.issuer().and_then(|i| i.key_fingerprint()),
        Some(fingerprint.as_str())
    );
    let meta = ours.received_metadata().expect("ReceivedMetadata");
    assert_eq!(meta.received_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(
        meta.allowed_operations(),
        [
            AllowedOperation::CheckoutLicense,
            AllowedOperation::CheckInLicense
        ]
    );

    // The buyer checks out without a Beneficiary, through the grant, and checks in.
    let checkout = |token: &'static str| {
        buyer
            .checkout_license()
            .product_sku("granted")
            .checkout_type(CheckoutType::Provisional)
            .key_fingerprint(&fingerprint)
            .entitlements(seat("1"))
            .client_token(token)
            .send()
    };
    let out = checkout("b-1").await.expect("CheckoutLicense through the grant");
    assert_eq!(out.license_arn(), Some(license_arn.as_str()));
    seller
        .check_in_license()
        .license_consumption_token(out.license_consumption_token().expect("token"))
        .send()
        .await
        .expect_err("the issuer does not hold the buyer's token");
    buyer
        .check_in_license()
        .license_consumption_token(out.license_consumption_token().expect("token"))
        .send()
        .await
        .expect("CheckInLicense");

    // The issuer narrows the grant (not its Status); checkout is refused from then on.
    let status_by_issuer = seller
        .create_grant_version()
        .grant_arn(&grant_arn)
        .status(GrantStatus::Disabled)
        .client_token("s-off")
        .send()
        .await
        .expect_err("the issuer cannot set Status")
        .into_service_error();
    assert!(
        matches!(
            status_by_issuer,
            CreateGrantVersionError::InvalidParameterValueException(_)
        ),
        "{status_by_issuer:?}"
    );
    let narrowed = seller
        .create_grant_version()
        .grant_arn(&grant_arn)
        .allowed_operations(AllowedOperation::CheckInLicense)
        .client_token("s-narrow")
        .send()
        .await
        .expect("narrowing CreateGrantVersion");
    assert_eq!(narrowed.version(), Some("4"));
    let refused = checkout("b-2").await.expect_err("narrowed").into_service_error();
    assert!(
        matches!(refused, CheckoutLicenseError::NoEntitlementsAllowedException(_)),
        "{refused:?}"
    );

    // ListDistributedGrants shows the seller's view; DeleteGrant needs the current Version.
    let distributed = seller
        .list_distributed_grants()
        .send()
        .await
        .expect("ListDistributedGrants");
    let versions: Vec<_> = distributed
        .grants()
        .iter()
        .map(|g| (g.grant_arn(), g.version()))
        .collect();
    assert_eq!(versions, [(grant_arn.as_str(), "4")]);
    let delete =
        |c: &Client, version: &'static str| c.delete_grant().grant_arn(&grant_arn).version(version).send();
    let stale = delete(&seller, "3")
        .await
        .expect_err("stale")
        .into_service_error();
    assert!(
        matches!(stale, DeleteGrantError::InvalidParameterValueException(_)),
        "{stale:?}"
    );
    let by_buyer = delete(&buyer, "4")
        .await
        .expect_err("grantee")
        .into_service_error();
    assert!(
        matches!(by_buyer, DeleteGrantError::InvalidParameterValueException(_)),
        "{by_buyer:?}"
    );
    let deleted = delete(&seller, "4").await.expect("DeleteGrant");
    assert_eq!(
        (deleted.status(), deleted.version()),
        (Some(&GrantStatus::Deleted), Some("5"))
    );
    let gone = buyer
        .get_license()
        .license_arn(&license_arn)
        .send()
        .await
        .expect_err("no grant left")
        .into_service_error();
    assert!(
        matches!(gone, GetLicenseError::InvalidParameterValueException(_)),
        "{gone:?}"
    );
    let left = buyer
        .list_received_licenses()
        .send()
        .await
        .expect("ListReceivedLicenses");
    let skus: Vec<_> = left.licenses().iter().filter_map(|l| l.product_sku()).collect();
    assert_eq!(skus, ["mp-sku"]);

    // RejectGrant: by the grantee of a pending grant, final.
    let offered = grant_to(root(STRANGER), "g-2").await.expect("CreateGrant");
    let offered = offered.grant_arn().expect("GrantArn");
    let by_issuer = seller
        .reject_grant()
        .grant_arn(offered)
        .send()
        .await
        .expect_err("the issuer cannot reject")
        .into_service_error();
    assert!(
        matches!(by_issuer, RejectGrantError::InvalidParameterValueException(_)),
        "{by_issuer:?}"
    );
    let rejected = stranger
        .reject_grant()
        .grant_arn(offered)
        .send()
        .await
        .expect("RejectGrant");
    assert_eq!(
        (rejected.status(), rejected.version()),
        (Some(&GrantStatus::Rejected), Some("2"))
    );
    let late = stranger
        .accept_grant()
        .grant_arn(offered)
        .send()
        .await
        .expect_err("rejected is final")
        .into_service_error();
    assert!(
        matches!(late, AcceptGrantError::InvalidParameterValueException(_)),
        "{late:?}"
    );
    // SPEC 3.9 lists a license for every non-DELETED grant, a rejected one included.
    let theirs = stranger
        .list_received_licenses()
        .send()
        .await
        .expect("ListReceivedLicenses");
    let statuses: Vec<_> = theirs
        .licenses()
        .iter()
        .map(|l| {
            (
                l.license_arn(),
                l.received_metadata().and_then(|m| m.received_status()),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [(
            Some(license_arn.as_str()),
            Some(&aws_sdk_licensemanager::types::ReceivedStatus::Rejected)
        )]
    );
    let none = stranger
        .list_received_grants()
        .filters(Filter::builder().name("GrantStatus").values("ACTIVE").build())
        .send()
        .await
        .expect("ListReceivedGrants");
    assert!(none.grants().is_empty(), "{none:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_create_grant_over_the_limit_is_resource_limit_exceeded() {
    let server = InProcess::start(Config::default()).await;
    let mut conn = Conn::open(server.addr).await;
    // Unsigned requests and unknown keys act as the default account.
    let created = conn
        .lm(
            "CreateLicense",
            &crate::common::create_license_body("many", 1, "c"),
        )
        .await;
    assert_eq!(created.status, 200);
    let arn = created.json()["LicenseArn"].as_str().expect("arn").to_string();
    let body = |token: String| {
        json!({"ClientToken": token, "GrantName": "g", "LicenseArn": arn, "Principals": [root(BUYER)],
               "HomeRegion": "us-east-1", "AllowedOperations": ["CheckoutLicense"]})
    };
    for i in 0..2_000 {
        // SPEC 3.9: at most 2,000 grants on one license [D].
        let r = conn.lm("CreateGrant", &body(format!("g-{i}"))).await;
        assert_eq!(r.status, 200, "grant {i}: {}", String::from_utf8_lossy(&r.body));
    }
    let sdk = client(&server.url(), "AKIANOBODY", "x", "us-east-1");
    let over = sdk
        .create_grant()
        .client_token("one-more")
        .grant_name("g")
        .license_arn(&arn)
        .principals(root(BUYER))
        .home_region("us-east-1")
        .allowed_operations(AllowedOperation::CheckoutLicense)
        .send()
        .await
        .expect_err("over 2,000 grants")
        .into_service_error();
    assert!(
        matches!(over, CreateGrantError::ResourceLimitExceededException(_)),
        "{over:?}"
    );
}

fn evs_client(url: &str, key: &str, secret: &str, region: &str) -> aws_sdk_evs::Client {
    let config = aws_sdk_evs::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_evs::config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_evs::config::Credentials::new(
            key,
            secret,
            None,
            None,
            "conform-test",
        ))
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_evs::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_drives_evs_entitlements_on_a_seeded_environment() {
    use aws_sdk_evs::operation::create_entitlement::CreateEntitlementError;
    use aws_sdk_evs::operation::delete_entitlement::DeleteEntitlementError;
    use aws_sdk_evs::operation::get_environment::GetEnvironmentError;
    use aws_sdk_evs::types::{
        ConnectorState, ConnectorType, EntitlementStatus, EntitlementType, EnvironmentState,
        ValidationExceptionReason,
    };

    let server = InProcess::start(Config {
        fixtures: fixtures(),
        frozen_clock: true,
        ..Config::default()
    })
    .await;
    let url = server.url();
    let evs = evs_client(&url, "AKIABUYER", "buyer-secret", "us-east-1");

    // GetEnvironment and ListEnvironments read the environment the fixtures seeded.
    let listed = evs.list_environments().send().await.expect("ListEnvironments");
    let ids: Vec<_> = listed
        .environment_summaries()
        .iter()
        .filter_map(|e| e.environment_id())
        .collect();
    assert_eq!(ids, [EVS_ENV]);
    let got = evs
        .get_environment()
        .environment_id(EVS_ENV)
        .send()
        .await
        .expect("GetEnvironment");
    let env = got.environment().expect("environment");
    assert_eq!(env.environment_state(), Some(&EnvironmentState::Created));
    assert_eq!(env.environment_name(), Some("lab"));
    assert_eq!(
        env.environment_arn(),
        Some(format!("arn:aws:evs:us-east-1:{BUYER}:environment/{EVS_ENV}").as_str())
    );
    for (who, region) in [
        (("AKIABUYER", "buyer-secret"), "us-west-2"),
        (("AKIASELLER", "seller-secret"), "us-east-1"),
    ] {
        let elsewhere = evs_client(&url, who.0, who.1, region);
        let missing = elsewhere
            .get_environment()
            .environment_id(EVS_ENV)
            .send()
            .await
            .expect_err("EVS state is per account and region")
            .into_service_error();
        let GetEnvironmentError::ResourceNotFoundException(e) = missing else {
            panic!("{missing:?}")
        };
        assert_eq!((e.resource_id(), e.resource_type()), (EVS_ENV, "environment"));
    }

    // CreateEnvironmentConnector answers CREATING; the next request sees it ACTIVE.
    let made = evs
        .create_environment_connector()
        .environment_id(EVS_ENV)
        .r#type(ConnectorType::Vcenter)
        .appliance_fqdn("vcenter.lab.example.com")
        .secret_identifier("evs/vcenter")
        .client_token("connector-1")
        .send()
        .await
        .expect("CreateEnvironmentConnector");
    let connector = made.connector().expect("connector");
    assert_eq!(connector.state(), Some(&ConnectorState::Creating));
    assert_eq!(connector.secret_arn(), Some("evs/vcenter"));
    let connector_id = connector.connector_id().expect("connectorId").to_string();

    let create = |vms: &[&str]| {
        let mut req = evs
            .create_entitlement()
            .environment_id(EVS_ENV)
            .connector_id(&connector_id)
            .entitlement_type(EntitlementType::WindowsServer);
        for vm in vms {
            req = req.vm_ids(*vm);
        }
        req.send()
    };
    // Shape: duplicate vmIds → ValidationException fieldValidationFailed naming vmIds.
    let duplicate = create(&["vm-1", "vm-1"])
        .await
        .expect_err("duplicates")
        .into_service_error();
    let CreateEntitlementError::ValidationException(e) = duplicate else {
        panic!("{duplicate:?}")
    };
    assert_eq!(e.reason(), &ValidationExceptionReason::FieldValidationFailed);
    let fields: Vec<_> = e.field_list().iter().map(|f| f.name()).collect();
    assert_eq!(fields, ["vmIds"]);
    assert!(!e.field_list()[0].message().is_empty());

    let created = create(&["vm-1", "vm-2"]).await.expect("CreateEntitlement");
    let records: Vec<_> = created
        .entitlements()
        .iter()
        .map(|r| (r.vm_id(), r.vm_name(), r.status(), r.r#type()))
        .collect();
    assert_eq!(
        records,
        [
            (
                Some("vm-1"),
                Some("sql-01"),
                Some(&EntitlementStatus::Creating),
                Some(&EntitlementType::WindowsServer)
            ),
            (
                Some("vm-2"),
                Some("build-01"),
                Some(&EntitlementStatus::Creating),
                Some(&EntitlementType::WindowsServer)
            ),
        ]
    );
    // State: a VM with a live record → ValidationException reason other.
    let again = create(&["vm-1"])
        .await
        .expect_err("live record")
        .into_service_error();
    let CreateEntitlementError::ValidationException(e) = again else {
        panic!("{again:?}")
    };
    assert_eq!(e.reason(), &ValidationExceptionReason::Other);
    // Existence: an unknown connector → ResourceNotFoundException naming it.
    let unknown = evs
        .create_entitlement()
        .environment_id(EVS_ENV)
        .connector_id("cnctr-0000000000")
        .entitlement_type(EntitlementType::WindowsServer)
        .vm_ids("vm-1")
        .send()
        .await
        .expect_err("unknown connector")
        .into_service_error();
    let CreateEntitlementError::ResourceNotFoundException(e) = unknown else {
        panic!("{unknown:?}")
    };
    assert_eq!(
        (e.resource_id(), e.resource_type()),
        ("cnctr-0000000000", "connector")
    );

    // The next sync (every 300 s of model time) decides both records.
    let mut conn = Conn::open(server.addr).await;
    let advanced = conn.post_json("/_conform/clock", &json!({"seconds": 300})).await;
    assert_eq!(advanced.status, 200);
    let list = || {
        evs.list_vm_entitlements()
            .environment_id(EVS_ENV)
            .connector_id(&connector_id)
            .entitlement_type(EntitlementType::WindowsServer)
            .send()
    };
    let synced = list().await.expect("ListVmEntitlements");
    let by_vm: Vec<_> = synced
        .entitlements()
        .iter()
        .map(|r| (r.vm_id(), r.status()))
        .collect();
    assert_eq!(
        by_vm,
        [
            (Some("vm-1"), Some(&EntitlementStatus::Created)),
            (Some("vm-2"), Some(&EntitlementStatus::CreateFailed)),
        ]
    );
    let windows = &synced.entitlements()[0];
    assert!(windows.started_at().is_some() && windows.started_at() == windows.last_synced_at());
    let failed = synced.entitlements()[1].error_detail().expect("errorDetail");
    assert_eq!(failed.error_code(), "UNSUPPORTED_GUEST_OS");

    // DeleteEntitlement: a VM without any record → ResourceNotFoundException, nothing deleted.
    let delete = |vms: &[&str]| {
        let mut req = evs
            .delete_entitlement()
            .environment_id(EVS_ENV)
            .connector_id(&connector_id)
            .entitlement_type(EntitlementType::WindowsServer);
        for vm in vms {
            req = req.vm_ids(*vm);
        }
        req.send()
    };
    let missing = delete(&["vm-1", "vm-9"])
        .await
        .expect_err("vm-9 has no record")
        .into_service_error();
    let DeleteEntitlementError::ResourceNotFoundException(e) = missing else {
        panic!("{missing:?}")
    };
    assert_eq!((e.resource_id(), e.resource_type()), ("vm-9", "entitlement"));
    assert_eq!(list().await.expect("ListVmEntitlements").entitlements().len(), 2);
    let deleted = delete(&["vm-1"]).await.expect("DeleteEntitlement");
    let record = &deleted.entitlements()[0];
    assert_eq!(record.status(), Some(&EntitlementStatus::Deleted));
    assert!(record.stopped_at().is_some() && record.started_at().is_some());
    let rest: Vec<_> = list()
        .await
        .expect("ListVmEntitlements")
        .entitlements()
        .iter()
        .filter_map(|r| r.vm_id().map(str::to_string))
        .collect();
    assert_eq!(rest, ["vm-2"]);
}
