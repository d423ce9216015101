//! The explorer's throughput (issue #16): unique states per second of `conform check`'s search
//! in process, and where one transition's time goes.
//!
//! `cargo bench --bench explore -- --warm-up-time 1 --measurement-time 5`
//!
//! `explore/depth_4_threads_2` is the search `conform check --depth 4 --threads 2` runs; its
//! throughput is in unique states (criterion's "elem/s"). `transition/*` is one transition of
//! each action of the alphabet, as the search runs it (`Reference::successor`: one clone of the
//! state, the step concretized to a request, the model's handler, the always properties and the
//! goals), from a state with a live PROVISIONAL checkout and a grant; `parts/*` are the pieces
//! every transition pays whatever its action.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

// `conform`'s allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use conform_harness::driver::{CaseConfig, Reference};
use conform_harness::explore::{explore, fresh, Bounds, ExploreConfig, SmallWorld};
use conform_harness::gen::Step;
use conform_model::invariants::{check_evs, check_lm, same_state, Cause};
use conform_model::Service;

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("explore");
    group.sample_size(10);
    for (depth, threads) in [(3, 1), (4, 2)] {
        let cfg = ExploreConfig {
            bounds: Bounds {
                depth,
                ..Bounds::default()
            },
            threads,
            ..ExploreConfig::default()
        };
        let states = explore(&cfg).unique_states;
        group.throughput(Throughput::Elements(states as u64));
        group.bench_function(format!("depth_{depth}_threads_{threads}"), |b| {
            b.iter(|| explore(&cfg).unique_states)
        });
    }
    group.finish();
}

/// The default world after its setup, a PROVISIONAL checkout of one seat and a grant.
fn state() -> Reference {
    let world = SmallWorld::default();
    let case = CaseConfig {
        max_steps: 16,
        ..CaseConfig::default()
    };
    let mut r = Reference::new(&case, 0, true);
    let setup = world.setup();
    for s in &setup {
        r.advance(s).expect("the setup holds every property");
    }
    for (position, name) in (setup.len()..).zip(["Checkout", "CreateGrant"]) {
        let action = world
            .actions(&r)
            .into_iter()
            .find(|a| label(a) == name)
            .expect("in the alphabet");
        r.advance(&fresh(action, position)).expect("holds");
    }
    r.settle();
    r
}

fn label(step: &Step) -> String {
    let debug = format!("{step:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string()
}

fn transitions(c: &mut Criterion) {
    let world = SmallWorld::default();
    let mut from = state();
    let mut group = c.benchmark_group("transition");
    let mut seen = std::collections::BTreeSet::new();
    for action in world.actions(&from) {
        let name = label(&action);
        let mut n = 2;
        let mut unique = name.clone();
        while !seen.insert(unique.clone()) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        let step = fresh(action, 6);
        group.bench_function(unique, |b| b.iter(|| from.successor(&step).is_ok()));
    }
    group.finish();

    let mut group = c.benchmark_group("parts");
    group.bench_function("reference_clone", |b| b.iter(|| from.clone()));
    group.bench_function("world_clone", |b| b.iter(|| from.world().clone()));
    group.bench_function("fingerprint", |b| {
        b.iter(|| from.world().fingerprint_without_client_tokens())
    });
    let other = from.world().clone();
    group.bench_function("same_state", |b| b.iter(|| same_state(from.world(), &other)));
    group.bench_function("check_lm_and_evs", |b| {
        b.iter(|| {
            let cause = Cause::request(Service::LicenseManager, "CheckInLicense");
            check_lm(from.world(), &other).is_ok() && check_evs(from.world(), &other, &cause).is_ok()
        })
    });
    group.bench_function("actions", |b| b.iter(|| world.actions(&from).len()));
    group.finish();
}

criterion_group!(benches, search, transitions);
criterion_main!(benches);
