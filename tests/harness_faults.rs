//! Proof that the harness finds bugs (issue: the harness): for every named fault of
//! `conform serve --fault`, a default generated run finds it, classifies it right and shrinks
//! it to at most 6 steps (but for the faults listed as needing deeper generation: those, and only
//! those, are not found); the written cases of the faults the generator reached last find them
//! within the bar; and the faithful simulator yields no finding over 1,000 cases.

use crate::common::faulty_simulator as simulator;
use crate::foreign::faults;

use conform_harness::driver::{self, CaseConfig, Classification, Finding};
use conform_harness::gen::Step;

fn config() -> CaseConfig {
    CaseConfig::default()
}

/// What the proof of one fault found wrong, if anything: searched, shrunk and classified on its
/// own simulator, then replayed.
fn proof(fault: &str, classification: &Classification, deep: bool, cfg: &CaseConfig) -> Vec<String> {
    let (_server, mut target) = simulator(&[fault]);
    let (case, minimal, f) = match faults::find_shrink_classify(&mut target, cfg, fault) {
        Ok(found) => found,
        Err(why) => {
            println!("{why}");
            return if deep { Vec::new() } else { vec![why] };
        }
    };
    println!(
        "{fault}: case {case}, {} steps after shrinking, {:?} at {}",
        minimal.len(),
        f.classification,
        f.operation
    );
    let mut report = Vec::new();
    if deep {
        report.push(format!(
            "{fault}: found at case {case}; move it from needing_deeper_generation() to expected()"
        ));
    }
    report.extend(judged(fault, classification, &minimal, &f));
    let again = driver::execute(&mut target, cfg, case, &minimal).expect("replays");
    if again.finding.is_none() {
        report.push(format!("{fault}: the shrunk case does not reproduce"));
    }
    report
}

/// A found fault's classification and shrunk length against the bar.
fn judged(fault: &str, classification: &Classification, minimal: &[Step], f: &Finding) -> Vec<String> {
    let mut report = Vec::new();
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
    report
}

#[test]
fn every_fault_is_found_classified_and_shrunk() {
    let expected = faults::expected();
    let deeper = faults::needing_deeper_generation();
    let mut names: Vec<&str> = conform_simulator::fault_names()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.len() >= 12, "at least 12 faults: {names:?}");
    let mut listed: Vec<&str> = expected
        .iter()
        .map(|(n, _)| *n)
        .chain(deeper.iter().copied())
        .collect();
    names.sort_unstable();
    listed.sort_unstable();
    assert_eq!(names, listed, "every fault has one expectation here");
    let cfg = config();
    let all: Vec<(&str, &Classification, bool)> = expected
        .iter()
        .map(|(n, c)| (*n, c, false))
        .chain(deeper.iter().map(|d| (*d, &Classification::HardFailure, true)))
        .collect();
    // Each fault on its own simulator, as many at once as there are cores.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut report = Vec::new();
    for chunk in all.chunks(threads) {
        let found: Vec<Vec<String>> = std::thread::scope(|s| {
            let runs: Vec<_> = chunk
                .iter()
                .map(|(f, c, deep)| s.spawn(|| proof(f, c, *deep, &cfg)))
                .collect();
            runs.into_iter()
                .map(|r| r.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        report.extend(found.into_iter().flatten());
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn every_written_case_finds_its_fault_within_the_bar() {
    // The faults the generator reached last have written cases too: each passes the faithful
    // simulator and finds its fault, classified right and within the bar, whatever the
    // generator draws.
    let cfg = config();
    let mut report = Vec::new();
    let (_faithful_server, mut faithful) = simulator(&[]);
    for d in faults::written_cases() {
        let on_faithful =
            driver::execute(&mut faithful, &cfg, 0, &d.witness).expect("no infrastructure error");
        if let Some(f) = on_faithful.finding {
            report.push(format!(
                "{}: its written case fails the faithful simulator: {f:?}",
                d.name
            ));
        }
        let (_server, mut target) = simulator(&[d.name]);
        let run = driver::execute(&mut target, &cfg, 0, &d.witness).expect("no infrastructure error");
        let Some(finding) = run.finding else {
            report.push(format!("{}: its written case finds nothing", d.name));
            continue;
        };
        let (minimal, mut f) =
            driver::shrink(&mut target, &cfg, 0, d.witness.clone(), &finding).expect("shrinks");
        f.classification = driver::classify(&mut target, &cfg, 0, &minimal, &f).expect("classifies");
        println!(
            "{}: written case, {} steps after shrinking, {:?} at {} (the generator needed {})",
            d.name,
            minimal.len(),
            f.classification,
            f.operation,
            d.needs
        );
        report.extend(judged(d.name, &d.classification, &minimal, &f));
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
