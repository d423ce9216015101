//! Harness throughput: generated steps per second against the in-process model and against the
//! embedded simulator over HTTP, each step run on the reference model too and compared.
//!
//! `cargo bench --bench harness -- --warm-up-time 1 --measurement-time 3`
//!
//! Each on one target (`model_in_process`, `simulator_over_http`) and on lanes, one per core,
//! each a target of its own (`*_lanes`: `conform run`'s default, `crate::lanes`).
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
use conform_harness::lanes::Lanes;
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

/// The same 16 cases each iteration, on `lanes`.
fn run_lanes(c: &mut Criterion, name: &str, lanes: &mut Lanes) {
    let cfg = config();
    let cases: Vec<_> = (0..16).map(|case| (case, driver::generate(&cfg, case))).collect();
    let mut group = c.benchmark_group("harness_steps");
    group.throughput(Throughput::Elements((STEPS * cases.len()) as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            for done in lanes.execute_given(&cfg, &cases) {
                let execution = done.result.expect("runs");
                assert!(execution.finding.is_none());
                lanes.recycle(done.lane, execution);
            }
        })
    });
    group.finish();
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn steps_per_second(c: &mut Criterion) {
    let mut model = ModelTarget::new(1, Policy::default());
    run_cases(c, "model_in_process", &mut model);
    let models = (0..cores())
        .map(|_| Box::new(ModelTarget::new(1, Policy::default())) as Box<dyn Target + Send>)
        .collect();
    run_lanes(c, "model_in_process_lanes", &mut Lanes::new(models));

    // The embedded simulator as `conform run` starts it (signatures required).
    let server = Embedded::builder().start().expect("simulator starts");
    let mut http = server.target().expect("target");
    run_cases(c, "simulator_over_http", &mut http);
    let servers: Vec<Embedded> = (0..cores())
        .map(|_| Embedded::builder().start().expect("simulator starts"))
        .collect();
    let targets = servers
        .iter()
        .map(|s| Box::new(s.target().expect("target")) as Box<dyn Target + Send>)
        .collect();
    run_lanes(c, "simulator_over_http_lanes", &mut Lanes::new(targets));
}

criterion_group!(benches, steps_per_second);
criterion_main!(benches);
