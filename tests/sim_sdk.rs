//! The AWS SDK for Rust (`aws-sdk-licensemanager`, a client nobody here wrote) against the
//! simulator: every License Manager operation the model implements, and the typed errors the
//! SDK must map (an `Unhandled` error would mean the simulator sent something AWS never does).
//! `aws-sdk-evs` joins when the EVS model lands.

mod common;

use aws_sdk_licensemanager::config::{Credentials, Region};
use aws_sdk_licensemanager::error::ProvideErrorMetadata;
use aws_sdk_licensemanager::operation::check_in_license::CheckInLicenseError;
use aws_sdk_licensemanager::operation::checkout_borrow_license::CheckoutBorrowLicenseError;
use aws_sdk_licensemanager::operation::checkout_license::CheckoutLicenseError;
use aws_sdk_licensemanager::operation::create_license_version::CreateLicenseVersionError;
use aws_sdk_licensemanager::operation::delete_license::DeleteLicenseError;
use aws_sdk_licensemanager::operation::get_license::GetLicenseError;
use aws_sdk_licensemanager::types::{
    BorrowConfiguration, CheckoutType, ConsumptionConfiguration, DatetimeRange, DigitalSignatureMethod,
    Entitlement, EntitlementData, EntitlementDataUnit, EntitlementUnit, Filter, Issuer, LicenseStatus,
    ProvisionalConfiguration,
};
use aws_sdk_licensemanager::Client;
use common::{Conn, InProcess};
use conform_simulator::{Account, Config, Fixtures};
use serde_json::json;

const SELLER: &str = "111122223333";
const BUYER: &str = "444455556666";

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
    ];
    let events = serde_json::from_value(json!([{
        "event": "seed_marketplace_license", "buyer_account": BUYER, "product_sku": "mp-sku",
        "entitlements": [{"Name": "Cores", "Unit": "Count", "MaxCount": 8}]
    }]))
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
    assert_eq!(fingerprint, common::fingerprint(SELLER));
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
