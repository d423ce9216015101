//! Harness throughput: generated steps per second against the in-process model and against the
//! embedded simulator over HTTP, each step run on the reference model too and compared.
//!
//! `cargo bench --bench harness -- --warm-up-time 1 --measurement-time 3`
//!
//! Where a compared step's time goes (perf, in process): the model itself about half (the
//! reference's call and the target's, RSA-PSS signing of checkout tokens a sixth of all),
//! the reference side's audit of goals, normalizing both replies, the reply's JSON Schema, the
//! usage read-back, concretizing the step. Over HTTP the client's request and reply (ureq, the
//! loopback) and the server's hyper and SigV4 check come on top.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

// `conform`'s allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use conform_harness::driver::{self, CaseConfig};
use conform_harness::embedded::Embedded;
use conform_harness::target::{ModelTarget, Target};
use conform_model::Policy;

const STEPS: usize = 40;

fn config() -> CaseConfig {
    CaseConfig {
        seed: 9,
        max_steps: STEPS,
        // The comparison alone: the campaign also audits the model (a world clone per step).
        audit: false,
        ..CaseConfig::default()
    }
}

fn run_cases(c: &mut Criterion, name: &str, target: &mut dyn Target) {
    let cfg = config();
    let cases: Vec<_> = (0..16).map(|case| (case, driver::generate(&cfg, case))).collect();
    let mut group = c.benchmark_group("harness_steps");
    group.throughput(Throughput::Elements(STEPS as u64));
    let mut i = 0;
    group.bench_function(name, |b| {
        b.iter(|| {
            let (case, steps) = &cases[i % cases.len()];
            i += 1;
            let run = driver::execute(target, &cfg, *case, steps).expect("runs");
            assert!(run.finding.is_none());
        })
    });
    group.finish();
}

fn steps_per_second(c: &mut Criterion) {
    let mut model = ModelTarget::new(1, Policy::default());
    run_cases(c, "model_in_process", &mut model);

    // The embedded simulator as `conform run` starts it (signatures required).
    let server = Embedded::builder().start().expect("simulator starts");
    let mut http = server.target().expect("target");
    run_cases(c, "simulator_over_http", &mut http);
}

criterion_group!(benches, steps_per_second);
criterion_main!(benches);
