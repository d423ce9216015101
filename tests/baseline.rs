//! Baselines end to end: the findings of a faulty simulator, accepted, no longer fail its run;
//! a second fault's findings are new and fail it; once the fault is gone its findings are
//! reported fixed. Through the library, as an emulator's own `cargo test` would.

use conform_harness::baseline::Baseline;
use conform_harness::campaign::{Campaign, Config, Summary};
use conform_harness::report::{json_report, Silent};

use crate::common::faulty_simulator;

fn run(faults: &[&str], baseline: Option<Baseline>) -> Summary {
    let (_server, mut target) = faulty_simulator(faults);
    let mut config = Config::default();
    config.cases = 25;
    config.max_steps = 20;
    config.scenarios = false;
    config.baseline = baseline;
    Campaign::new(config).run(&mut target, &mut Silent).unwrap()
}

#[test]
fn only_findings_the_baseline_does_not_accept_fail_and_fixed_ones_are_told() {
    let first = run(&["version-not-incremented"], None);
    assert_eq!(first.exit_code(), 1, "the fault is found");
    // What `conform baseline REPORT` does: the report's signatures, accepted.
    let baseline = Baseline::from_report(&json_report(&first)).unwrap();
    assert!(!baseline.accepted.is_empty());
    // Signatures name no seed or case.
    assert!(
        baseline.accepted.iter().all(|s| !s.contains("case")),
        "{baseline:?}"
    );

    let again = run(&["version-not-incremented"], Some(baseline.clone()));
    let cmp = again.baseline.clone().unwrap();
    assert!(cmp.new.is_empty(), "{cmp:?}");
    assert!(!cmp.known.is_empty());
    assert_eq!(again.exit_code(), 0, "accepted findings do not fail");

    let other = run(
        &["version-not-incremented", "reply-member-missing"],
        Some(baseline.clone()),
    );
    let cmp = other.baseline.clone().unwrap();
    assert!(cmp.new.iter().any(|x| x.fails), "{cmp:?}");
    assert_eq!(other.exit_code(), 1, "a new finding fails");

    let fixed = run(&[], Some(baseline.clone()));
    let cmp = fixed.baseline.clone().unwrap();
    assert!(cmp.new.is_empty(), "{cmp:?}");
    assert_eq!(cmp.fixed.len(), baseline.accepted.len(), "{cmp:?}");
    assert_eq!(fixed.exit_code(), 0);
}
