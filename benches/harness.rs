//! Harness throughput: generated steps per second against the in-process model and against the
//! embedded simulator over HTTP, each step run on the reference model too and compared.
//!
//! `cargo bench --bench harness -- --warm-up-time 1 --measurement-time 3`

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use conform_harness::driver::{self, CaseConfig};
use conform_harness::http::{Credentials, HttpTarget};
use conform_harness::target::{ModelTarget, Target};
use conform_model::{Policy, Service};
use conform_simulator::{Account, Background, Config, Fixtures};

const STEPS: usize = 40;

fn config() -> CaseConfig {
    CaseConfig {
        seed: 9,
        max_steps: STEPS,
        policy: Policy::default(),
        services: vec![Service::LicenseManager, Service::Evs],
        events: true,
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

    let keys = [
        ("111122223333", "AKIDSELLER"),
        ("444455556666", "AKIDBUYER"),
        ("777788889999", "AKIDSTRANGER"),
    ];
    let accounts = keys
        .iter()
        .map(|(a, k)| Account {
            access_key_id: k.to_string(),
            secret_access_key: "s".into(),
            account_id: a.to_string(),
        })
        .collect();
    let server = Background::start(&Config {
        fixtures: Fixtures {
            accounts,
            events: vec![],
        },
        frozen_clock: true,
        ..Config::default()
    })
    .expect("simulator starts");
    let creds: BTreeMap<String, Credentials> = keys
        .iter()
        .map(|(a, k)| {
            (
                a.to_string(),
                Credentials {
                    access_key_id: k.to_string(),
                    secret_access_key: "s".into(),
                },
            )
        })
        .collect();
    let mut http = HttpTarget::new(&server.url(), creds).expect("target");
    run_cases(c, "simulator_over_http", &mut http);
}

criterion_group!(benches, steps_per_second);
criterion_main!(benches);
