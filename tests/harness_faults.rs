//! Proof that the harness finds bugs (issue: the harness): for every named fault of
//! `conform serve --fault`, a default generated run finds it, classifies it right and shrinks
//! it to at most 6 steps; and the faithful simulator yields no finding over 1,000 cases.

use crate::foreign::faults;

use conform_harness::driver::{self, CaseConfig};
use conform_harness::embedded::Embedded;
use conform_harness::http::HttpTarget;
use conform_model::{Policy, Service};

fn simulator(faults: &[&str]) -> (Embedded, HttpTarget) {
    let server = Embedded::builder()
        .faults(faults.iter().copied())
        .start()
        .expect("simulator starts");
    let target = server.target().expect("target answers");
    (server, target)
}

fn config() -> CaseConfig {
    CaseConfig {
        seed: 1,
        max_steps: 40,
        policy: Policy::default(),
        services: vec![Service::LicenseManager, Service::Evs],
        events: true,
        audit: true,
        mix: Default::default(),
    }
}

#[test]
fn every_fault_is_found_classified_and_shrunk() {
    let expected = faults::expected();
    let names: Vec<&str> = conform_simulator::fault_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.len() >= 12, "at least 12 faults: {names:?}");
    assert_eq!(names.len(), expected.len(), "every fault has an expectation here");
    let cfg = config();
    let mut report = Vec::new();
    for (fault, classification) in &expected {
        let (_server, mut target) = simulator(&[fault]);
        let (case, minimal, f) = match faults::find_shrink_classify(&mut target, &cfg, fault) {
            Ok(found) => found,
            Err(why) => {
                report.push(why);
                continue;
            }
        };
        println!(
            "{fault}: case {case}, {} steps after shrinking, {:?} at {}",
            minimal.len(),
            f.classification,
            f.operation
        );
        if f.classification != *classification {
            report.push(format!(
                "{fault}: classified {:?}, expected {classification:?}",
                f.classification
            ));
        }
        if minimal.len() > 6 {
            report.push(format!(
                "{fault}: {} steps after shrinking: {minimal:?}",
                minimal.len()
            ));
        }
        let again = driver::execute(&mut target, &cfg, case, &minimal).expect("replays");
        if again.finding.is_none() {
            report.push(format!("{fault}: the shrunk case does not reproduce"));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn the_faithful_simulator_yields_no_finding_over_1000_cases() {
    let (_server, mut target) = simulator(&[]);
    let cfg = CaseConfig {
        max_steps: 30,
        ..config()
    };
    for case in 0..1000 {
        let steps = driver::generate(&cfg, case);
        let run = driver::execute(&mut target, &cfg, case, &steps).expect("no infrastructure error");
        assert!(run.finding.is_none(), "case {case}: {:#?}", run.finding);
    }
}
