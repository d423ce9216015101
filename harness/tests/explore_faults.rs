//! Proof against targets (issue #16): every fault of `--features faults` against the covering
//! cases of `conform run --exhaustive` at the default depth, each on its own embedded faulty
//! simulator: each must be found, as a random run finds every one (tests/harness_faults.rs).
//! Long (a faulty simulator per fault, every case over HTTP, stopping at its first finding):
//! `cargo test -p conform-harness --test integration explore_faults -- --ignored --nocapture`.

use conform_harness::campaign::{Campaign, Config};
use conform_harness::embedded::Embedded;
use conform_harness::explore::{cover, explore, Bounds, ExploreConfig, DEFAULT_EXHAUSTIVE_DEPTH};
use conform_harness::report::Silent;

fn found_by_exhaustive(fault: &str, cases: &[Vec<conform_harness::gen::Step>]) -> bool {
    let server = Embedded::builder()
        .faults([fault])
        .start()
        .expect("simulator starts");
    let mut target = server.target().expect("target answers");
    let mut config = Config::default();
    config.scenarios = false;
    config.max_findings = Some(1);
    config.exhaustive = Some(cases.to_vec());
    let summary = Campaign::new(config).run(&mut target, &mut Silent).expect("runs");
    !summary.findings.is_empty()
}

#[test]
#[ignore = "minutes: one faulty simulator per fault, every covering case over HTTP"]
fn exhaustive_cases_find_the_faults() {
    let cfg = ExploreConfig {
        bounds: Bounds {
            depth: DEFAULT_EXHAUSTIVE_DEPTH,
            ..Bounds::default()
        },
        keep_edges: true,
        ..ExploreConfig::default()
    };
    let report = explore(&cfg);
    let coverage = cover(report.graph.as_ref().expect("edges kept"));
    eprintln!("{} cases over {} edges", coverage.cases.len(), coverage.edges);
    let names: Vec<&str> = conform_simulator::fault_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut missed = Vec::new();
    for chunk in names.chunks(2) {
        let results: Vec<(&str, bool)> = std::thread::scope(|s| {
            let runs: Vec<_> = chunk
                .iter()
                .map(|f| s.spawn(|| (*f, found_by_exhaustive(f, &coverage.cases))))
                .collect();
            runs.into_iter().map(|r| r.join().expect("no panic")).collect()
        });
        for (f, found) in results {
            eprintln!("{f}: {}", if found { "found" } else { "NOT found" });
            if !found {
                missed.push(f);
            }
        }
    }
    eprintln!("not found by --exhaustive {DEFAULT_EXHAUSTIVE_DEPTH}: {missed:?}");
    // A random run finds every one (tests/harness_faults.rs): so must the covering cases.
    assert!(missed.is_empty(), "not found by --exhaustive: {missed:?}");
}
