//! Throughput of the reference model's hot paths, and its memory per license and per checkout.
//!
//! - `typed_checkout_check_in_pair`: typed CheckoutLicense + CheckInLicense pairs (`World::call`)
//!   with 10, 10,000 and 1,000,000 licenses, and with 1,000,000 live checkouts held;
//! - `json_checkout_check_in_pair`: the same pairs through `World::handle` (parse, apply, and
//!   serialize the reply body as the simulator does);
//! - `perpetual_drawdown`, `extend_license_consumption`, `expire_100k_checkouts` (one
//!   AdvanceClock that expires 100,000 due checkouts);
//! - `evs_create_entitlement_100_vms`, `evs_sync_10k_entitlements` (one sync boundary).
//!
//! Big worlds are built once per process, lazily (a filtered run builds only what it measures),
//! outside the measured loop. Building them prints the bytes per license and per live checkout,
//! counted by the global allocator below.
//!
//! `cargo bench --bench checkout`; quick: `cargo bench --bench checkout -- --warm-up-time 1 --measurement-time 3`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};

use conform_model::events::{ConnectorFixture, EnvironmentFixture, GuestOs, VmFixture};
use conform_model::evs::types::{
    CheckResult, ConnectorState, ConnectorType, CreateEntitlementRequest, EntitlementStatus, EntitlementType,
    EnvironmentState,
};
use conform_model::evs::EvsRequest;
use conform_model::lm::types::*;
use conform_model::lm::TokenState;
use conform_model::{Caller, Event, Policy, Service, World};

/// Counts the net bytes allocated while counting is on. Off by default so the throughput
/// benches pay one relaxed load per allocation, not a locked add.
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Allocation calls (alloc, alloc_zeroed, realloc) while counting.
static CALLS: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
            CALLS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
            CALLS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
            CALLS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the net bytes it left allocated. A free inside `f` of
/// something allocated before (a hash table outgrown, say) counts against it, as it should.
fn net_bytes<T>(f: impl FnOnce() -> T) -> (T, isize) {
    let (out, bytes, _) = counted(f);
    (out, bytes)
}

/// Runs `f` and returns its result, the net bytes it left allocated and its allocation calls.
fn counted<T>(f: impl FnOnce() -> T) -> (T, isize, isize) {
    LIVE.store(0, Ordering::Relaxed);
    CALLS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f();
    COUNTING.store(false, Ordering::Relaxed);
    (out, LIVE.load(Ordering::Relaxed), CALLS.load(Ordering::Relaxed))
}

/// Allocation calls per typed pair over 10,000 pairs on a 10-license world: deterministic, so it
/// shows what a hot-path change saves even when the machine is too loaded for stable timings.
fn allocations_per_pair() {
    const PAIRS: usize = 10_000;
    let caller = caller();
    let mut world = world_with(10, i64::MAX);
    let ((), bytes, calls) = counted(|| {
        for n in 0..PAIRS {
            let req = checkout(n % 10, CheckoutType::Provisional, format!("a{n}"));
            let out = world.call(&caller, req).expect("checkout");
            let check_in = CheckInLicenseRequest {
                license_consumption_token: out.license_consumption_token,
                beneficiary: None,
            };
            world.call(&caller, check_in).expect("check in");
        }
    });
    println!(
        "allocations: {} calls and {} bytes retained per typed pair (incl. building the request)",
        calls as f64 / PAIRS as f64,
        bytes / PAIRS as isize
    );
}

const ACCOUNT: &str = "111122223333";
const FINGERPRINT: &str = "aws:111122223333:Example Corp:issuer-fingerprint";
const BIG: usize = 1_000_000;
/// Licenses of the world holding 1,000,000 live checkouts (100 checkouts each).
const HELD_LICENSES: usize = 10_000;

fn caller() -> Caller {
    Caller::new(ACCOUNT, "us-east-1")
}

fn license(i: usize, max_count: i64) -> CreateLicenseRequest {
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
            max_count: Some(max_count),
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

fn checkout(sku: usize, kind: CheckoutType, client_token: String) -> CheckoutLicenseRequest {
    CheckoutLicenseRequest {
        product_sku: format!("sku-{sku}"),
        checkout_type: kind,
        key_fingerprint: FINGERPRINT.into(),
        entitlements: vec![EntitlementData {
            name: "Seat".into(),
            value: Some("1".into()),
            unit: Unit::Count,
        }],
        client_token,
        beneficiary: Some("customer-1".into()),
        node_id: None,
    }
}

fn world_with(licenses: usize, max_count: i64) -> World {
    let caller = caller();
    let mut w = World::new(1, Policy::default());
    for i in 0..licenses {
        w.call(&caller, license(i, max_count)).expect("license created");
    }
    w
}

/// Provisional checkouts of one seat each, spread round-robin over the world's licenses.
fn hold(w: &mut World, licenses: usize, checkouts: usize) {
    let caller = caller();
    for i in 0..checkouts {
        w.call(
            &caller,
            checkout(i % licenses, CheckoutType::Provisional, format!("held-{i}")),
        )
        .expect("checkout held");
    }
}

/// A world for one pair case, built outside the measured loop (printing its memory for the big
/// ones). The typed and JSON groups share it, then it is dropped: each pair leaves its token and
/// idempotency record behind, as it would for any client, so worlds grow while measured.
fn build(case: Case) -> World {
    match case {
        Case::Licenses(n) if n < BIG => world_with(n, i64::MAX),
        Case::Licenses(n) => {
            let (w, bytes) = net_bytes(|| world_with(n, i64::MAX));
            println!(
                "memory: {bytes} bytes for {n} licenses = {} bytes per license",
                bytes / n as isize
            );
            w
        }
        Case::Held => {
            let mut w = world_with(HELD_LICENSES, i64::MAX);
            let ((), bytes) = net_bytes(|| hold(&mut w, HELD_LICENSES, BIG));
            println!(
                "memory: {bytes} bytes for {BIG} live checkouts = {} bytes per live checkout",
                bytes / BIG as isize
            );
            w
        }
    }
}

#[derive(Clone, Copy)]
enum Case {
    /// A world of this many licenses and no live checkouts.
    Licenses(usize),
    /// `HELD_LICENSES` licenses holding 1,000,000 live checkouts.
    Held,
}

impl Case {
    const ALL: [Case; 4] = [
        Case::Licenses(10),
        Case::Licenses(10_000),
        Case::Licenses(BIG),
        Case::Held,
    ];

    fn licenses(self) -> usize {
        match self {
            Case::Licenses(n) => n,
            Case::Held => HELD_LICENSES,
        }
    }

    fn id(self) -> BenchmarkId {
        match self {
            Case::Licenses(n) => BenchmarkId::new("licenses", n),
            Case::Held => BenchmarkId::new("live_checkouts", BIG),
        }
    }
}

fn pairs(c: &mut Criterion) {
    let caller = caller();
    let mut counted_once = false;
    for case in Case::ALL {
        let mut world: Option<World> = None;
        let licenses = case.licenses();

        let mut group = c.benchmark_group("typed_checkout_check_in_pair");
        group.throughput(Throughput::Elements(1));
        let mut n: usize = 0;
        group.bench_function(case.id(), |b| {
            if !counted_once {
                counted_once = true;
                allocations_per_pair();
            }
            let world = world.get_or_insert_with(|| build(case));
            b.iter(|| {
                n += 1;
                let req = checkout(n % licenses, CheckoutType::Provisional, format!("t{n}"));
                let out = world.call(&caller, req).expect("checkout");
                let check_in = CheckInLicenseRequest {
                    license_consumption_token: out.license_consumption_token,
                    beneficiary: None,
                };
                world.call(&caller, check_in).expect("check in");
            });
        });
        group.finish();

        let mut group = c.benchmark_group("json_checkout_check_in_pair");
        group.throughput(Throughput::Elements(1));
        let mut n: usize = 0;
        group.bench_function(case.id(), |b| {
            let world = world.get_or_insert_with(|| build(case));
            b.iter(|| {
                n += 1;
                let body = format!(
                    r#"{{"ProductSKU":"sku-{}","CheckoutType":"PROVISIONAL","KeyFingerprint":"{FINGERPRINT}","Entitlements":[{{"Name":"Seat","Unit":"Count","Value":"1"}}],"Beneficiary":"customer-1","ClientToken":"j{n}"}}"#,
                    n % licenses
                );
                let out = world.handle(&caller, Service::LicenseManager, "CheckoutLicense", body.as_bytes());
                assert_eq!(out.status, 200, "{}", out.body);
                let wire = serde_json::to_vec(&out.body).expect("serializes");
                let token = out.body["LicenseConsumptionToken"].as_str().expect("token");
                let body = format!(r#"{{"LicenseConsumptionToken":"{token}"}}"#);
                let back = world.handle(&caller, Service::LicenseManager, "CheckInLicense", body.as_bytes());
                assert_eq!(back.status, 200, "{}", back.body);
                let back_wire = serde_json::to_vec(&back.body).expect("serializes");
                (wire, back_wire)
            });
        });
        group.finish();
    }
}

fn token_ops(c: &mut Criterion) {
    let caller = caller();
    let mut group = c.benchmark_group("token_ops");
    group.throughput(Throughput::Elements(1));

    // PERPETUAL checkouts never come back: each one draws a seat down for good.
    let mut world = world_with(1, i64::MAX);
    let mut n: usize = 0;
    group.bench_function("perpetual_drawdown", |b| {
        b.iter(|| {
            n += 1;
            world
                .call(&caller, checkout(0, CheckoutType::Perpetual, format!("p{n}")))
                .expect("perpetual checkout")
        });
    });

    let mut world = world_with(1, i64::MAX);
    let token = world
        .call(&caller, checkout(0, CheckoutType::Provisional, "extended".into()))
        .expect("checkout")
        .license_consumption_token;
    group.bench_function("extend_license_consumption", |b| {
        b.iter(|| {
            let req = ExtendLicenseConsumptionRequest {
                license_consumption_token: token.clone(),
                dry_run: None,
            };
            world.call(&caller, req).expect("extended")
        });
    });
    group.finish();

    // One AdvanceClock past the 60-minute TTL expires every checkout; the world is cloned
    // outside the measurement for each run.
    const DUE: usize = 100_000;
    let mut group = c.benchmark_group("expiry");
    group.throughput(Throughput::Elements(DUE as u64));
    group.sample_size(10);
    let mut base: Option<World> = None;
    group.bench_function("expire_100k_checkouts", |b| {
        let base = base.get_or_insert_with(|| {
            let mut w = world_with(100, i64::MAX);
            hold(&mut w, 100, DUE);
            // Once, outside the measurement: the advance really expires every held checkout.
            let mut probe = w.clone();
            probe.apply(Event::advance_seconds(3601)).expect("clock advances");
            let expired = probe
                .lm()
                .tokens()
                .iter()
                .filter(|t| t.state == TokenState::Expired)
                .count();
            assert_eq!(expired, DUE, "every held checkout expires");
            w
        });
        b.iter_batched(
            || base.clone(),
            |mut w| {
                w.apply(Event::advance_seconds(3601)).expect("clock advances");
                w
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

const ENV: &str = "env-aaaaaaaaaa";
const CONN: &str = "cnctr-aaaaaaaaaa";

/// A CREATED environment with an ACTIVE, healthy VCENTER connector and Windows VMs vm-0.. .
fn evs_world(vms: usize) -> World {
    let mut w = World::new(7, Policy::default());
    let env = EnvironmentFixture {
        account: Some(ACCOUNT.into()),
        region: Some("us-east-1".into()),
        environment_id: Some(ENV.into()),
        state: EnvironmentState::Created,
        name: None,
        vcf_version: None,
    };
    w.apply(Event::SeedEvsEnvironment(env))
        .expect("environment seeds");
    let conn = ConnectorFixture {
        account: Some(ACCOUNT.into()),
        region: Some("us-east-1".into()),
        environment_id: ENV.into(),
        connector_id: Some(CONN.into()),
        connector_type: ConnectorType::Vcenter,
        appliance_fqdn: "vc.example.com".into(),
        secret_identifier: "secret".into(),
        state: ConnectorState::Active,
        health: CheckResult::Passed,
    };
    w.apply(Event::SeedEvsConnector(conn)).expect("connector seeds");
    for i in 0..vms {
        let vm = VmFixture {
            account: Some(ACCOUNT.into()),
            region: Some("us-east-1".into()),
            environment_id: ENV.into(),
            vm_id: format!("vm-{i}"),
            name: format!("host-{i}"),
            guest_os: GuestOs::WindowsServer,
        };
        w.apply(Event::AddVm(vm)).expect("vm adds");
    }
    w
}

/// CreateEntitlement for vm-`from`.. (at most 100 VMs, the VmIdList limit).
fn create_entitlements(from: usize, count: usize) -> EvsRequest {
    EvsRequest::CreateEntitlement(CreateEntitlementRequest {
        client_token: None,
        environment_id: ENV.into(),
        connector_id: CONN.into(),
        entitlement_type: EntitlementType::WindowsServer,
        vm_ids: (from..from + count).map(|i| format!("vm-{i}")).collect(),
    })
}

fn evs(c: &mut Criterion) {
    let caller = caller();
    let mut group = c.benchmark_group("evs");

    group.throughput(Throughput::Elements(100));
    let base = evs_world(100);
    group.bench_function("create_entitlement_100_vms", |b| {
        b.iter_batched(
            || (base.clone(), create_entitlements(0, 100)),
            |(mut w, req)| {
                w.execute_evs(&caller, req).expect("entitlements created");
                w
            },
            BatchSize::LargeInput,
        );
    });

    // 10,000 CREATING entitlements; the first sync after creation makes them CREATED.
    const ENTITLEMENTS: usize = 10_000;
    group.throughput(Throughput::Elements(ENTITLEMENTS as u64));
    group.sample_size(10);
    let mut base: Option<World> = None;
    group.bench_function("sync_10k_entitlements", |b| {
        let base = base.get_or_insert_with(|| {
            let mut w = evs_world(ENTITLEMENTS);
            for from in (0..ENTITLEMENTS).step_by(100) {
                w.execute_evs(&caller, create_entitlements(from, 100))
                    .expect("entitlements created");
            }
            w
        });
        let interval = base.policy().sync_interval_seconds * 1000;
        let to_boundary = (base.now_ms() / interval + 1) * interval - base.now_ms();
        // Once, outside the measurement: the boundary's sync moves every record out of CREATING.
        let mut probe = base.clone();
        probe
            .apply(Event::AdvanceClock {
                seconds: 0,
                millis: to_boundary,
            })
            .expect("clock advances");
        let created = probe
            .evs()
            .entitlements()
            .iter()
            .filter(|(_, e)| e.status == EntitlementStatus::Created)
            .count();
        assert_eq!(created, ENTITLEMENTS, "the sync creates every entitlement");
        b.iter_batched(
            || base.clone(),
            |mut w| {
                w.apply(Event::AdvanceClock {
                    seconds: 0,
                    millis: to_boundary,
                })
                .expect("clock advances");
                w
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn all(c: &mut Criterion) {
    pairs(c);
    token_ops(c);
    evs(c);
}

criterion_group! {
    name = benches;
    // Short defaults keep the whole file within a few minutes; pass --measurement-time to change.
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(benches);
