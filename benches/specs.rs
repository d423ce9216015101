//! The cost of checking one reply against its schema: a CheckoutLicense reply (signed token,
//! two entitlements) validated by `Specs::validate`, unmodelled-member walk included, and by
//! `Specs::violations`, the check the harness makes of every reply.

use conform_harness::specs::{Direction, Specs};
use conform_model::{Caller, Policy, Service, World};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

fn checkout_reply() -> Value {
    let mut world = World::new(1, Policy::default());
    let seller = Caller::new("111122223333", "us-east-1");
    let create = json!({
        "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "editor-pro",
        "Issuer": {"Name": "Example Corp", "SignKey": "arn:aws:kms:us-east-1:111122223333:key/1"},
        "HomeRegion": "us-east-1", "Validity": {"Begin": "2020-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 10},
                         {"Name": "Edition", "Unit": "None", "Value": "Pro"}],
        "Beneficiary": "customer-1",
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
        "ClientToken": "create-1"
    });
    let created = world.handle(
        &seller,
        Service::LicenseManager,
        "CreateLicense",
        create.to_string().as_bytes(),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let checkout = json!({
        "ProductSKU": "editor-pro", "CheckoutType": "PROVISIONAL",
        "KeyFingerprint": "aws:111122223333:Example Corp:issuer-fingerprint",
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}, {"Name": "Edition", "Unit": "None"}],
        "Beneficiary": "customer-1", "NodeId": "node-1", "ClientToken": "checkout-1"
    });
    let reply = world.handle(
        &seller,
        Service::LicenseManager,
        "CheckoutLicense",
        checkout.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

fn validate_checkout_reply(c: &mut Criterion) {
    let specs = Specs::load();
    let body = checkout_reply();
    let report = specs.validate(
        Service::LicenseManager,
        "CheckoutLicense",
        Direction::Response,
        &body,
    );
    assert!(report.is_valid(), "{:?}", report.violations);
    c.bench_function("specs/validate CheckoutLicense reply", |b| {
        b.iter(|| {
            specs.validate(
                black_box(Service::LicenseManager),
                "CheckoutLicense",
                Direction::Response,
                black_box(&body),
            )
        })
    });
    assert!(specs
        .violations(
            Service::LicenseManager,
            "CheckoutLicense",
            Direction::Response,
            &body
        )
        .is_empty());
    c.bench_function("specs/violations CheckoutLicense reply", |b| {
        b.iter(|| {
            specs.violations(
                black_box(Service::LicenseManager),
                "CheckoutLicense",
                Direction::Response,
                black_box(&body),
            )
        })
    });
}

criterion_group!(benches, validate_checkout_reply);
criterion_main!(benches);
