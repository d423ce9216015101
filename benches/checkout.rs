//! Checkout throughput of the reference model: typed CheckoutLicense + CheckInLicense pairs,
//! with 10 and 10,000 licenses in the world (the pair touches one of them).
//!
//! `cargo bench --bench checkout`; quick: `cargo bench --bench checkout -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use conform_model::lm::types::*;
use conform_model::{Caller, Policy, World};

fn license(i: usize) -> CreateLicenseRequest {
    CreateLicenseRequest {
        license_name: "Seats".into(),
        product_name: "Editor".into(),
        product_sku: format!("sku-{i}"),
        issuer: Issuer {
            name: "Example Corp".into(),
            sign_key: None,
        },
        home_region: "us-east-1".into(),
        validity: DatetimeRange {
            begin: "2025-01-01T00:00:00Z".into(),
            end: None,
        },
        entitlements: vec![Entitlement {
            name: "Seat".into(),
            value: None,
            max_count: Some(1_000_000),
            overage: None,
            unit: Unit::Count,
            allow_check_in: Some(true),
        }],
        beneficiary: "customer-1".into(),
        consumption_configuration: ConsumptionConfiguration {
            renew_type: None,
            provisional_configuration: Some(ProvisionalConfiguration {
                max_time_to_live_in_minutes: 60,
            }),
            borrow_configuration: None,
        },
        license_metadata: None,
        client_token: format!("create-{i}"),
        tags: None,
    }
}

fn world_with(licenses: usize, caller: &Caller) -> World {
    let mut w = World::new(1, Policy::default());
    for i in 0..licenses {
        w.call(caller, license(i)).expect("license created");
    }
    w
}

fn checkout_check_in(c: &mut Criterion) {
    let caller = Caller::new("111122223333", "us-east-1");
    let mut group = c.benchmark_group("typed_checkout_check_in_pair");
    group.throughput(Throughput::Elements(1));
    for licenses in [10usize, 10_000] {
        let mut world = world_with(licenses, &caller);
        let mut n: u64 = 0;
        group.bench_with_input(
            BenchmarkId::from_parameter(licenses),
            &licenses,
            |b, &licenses| {
                b.iter(|| {
                    n += 1;
                    let req = CheckoutLicenseRequest {
                        product_sku: format!("sku-{}", n as usize % licenses),
                        checkout_type: CheckoutType::Provisional,
                        key_fingerprint: "aws:111122223333:Example Corp:issuer-fingerprint".into(),
                        entitlements: vec![EntitlementData {
                            name: "Seat".into(),
                            value: Some("1".into()),
                            unit: Unit::Count,
                        }],
                        client_token: format!("t{n}"),
                        beneficiary: Some("customer-1".into()),
                        node_id: None,
                    };
                    let out = world.call(&caller, req).expect("checkout");
                    let check_in = CheckInLicenseRequest {
                        license_consumption_token: out.license_consumption_token,
                        beneficiary: None,
                    };
                    world.call(&caller, check_in).expect("check in");
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, checkout_check_in);
criterion_main!(benches);
