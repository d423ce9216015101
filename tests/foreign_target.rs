//! Proof of SPEC "What a harness compares": against another faithful implementation (its own
//! id and token formats, error wording and clock, with or without a control plane) the harness
//! reports nothing, and still finds every fault of `--features faults`, classified as before.

use crate::foreign::{faults, wrapper};

use conform_harness::driver::{self, CaseConfig};
use conform_harness::embedded::Embedded;
use conform_harness::{scenario, scenarios};
use conform_model::{Event, Policy};
use wrapper::Foreign;

const HOUR_MS: i64 = 3_600_000;
/// Where the simulator's clock starts on the sync grid (the model's cases start at another).
const OTHER_PHASE_SECONDS: i64 = 137;

fn cases() -> u64 {
    std::env::var("CONFORM_FOREIGN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// The embedded simulator (frozen clock, moved `OTHER_PHASE_SECONDS` off the grid) behind the
/// foreign wrapper, its clock `offset_ms` from the simulator's.
fn foreign(faults: &[&str], control: bool, offset_ms: i64) -> (Embedded, Foreign) {
    let server = Embedded::builder()
        .faults(faults.iter().copied())
        .start()
        .expect("simulator starts");
    let mut inner = server.target().expect("target answers");
    use conform_harness::target::Target;
    inner
        .event(&Event::advance_seconds(OTHER_PHASE_SECONDS))
        .expect("the simulator's clock moves");
    (server, Foreign::new(inner, control, offset_ms))
}

fn config(events: bool) -> CaseConfig {
    CaseConfig {
        max_steps: 30,
        ..CaseConfig::default()
    }
    .with_events(events)
}

/// The findings of the generated cases, and how many cases stopped early with a warning (a
/// time-dependent step on a wall clock: left out, never reported).
fn findings(target: &mut Foreign, cfg: &CaseConfig) -> (Vec<String>, u64) {
    let mut report = Vec::new();
    let mut warned = 0;
    for case in 0..cases() {
        let steps = driver::generate(cfg, case);
        let run = driver::execute(target, cfg, case, &steps).expect("no infrastructure error");
        if let Some(f) = run.finding {
            report.push(format!("case {case}: {f:#?}"));
        }
        if !run.warnings.is_empty() {
            println!("case {case}: {:?}", run.warnings);
            warned += 1;
        }
    }
    (report, warned)
}

#[test]
fn a_foreign_target_with_a_control_plane_hours_behind_or_ahead_yields_no_finding() {
    for offset in [-3 * HOUR_MS, 5 * HOUR_MS] {
        let (_server, mut target) = foreign(&[], true, offset);
        let (mut report, warned) = findings(&mut target, &config(true));
        assert_eq!(warned, 0, "a controlled clock leaves no step out");
        for s in scenarios::all() {
            let run =
                scenario::run_compared(&mut target, &s, &Policy::default()).expect("no infrastructure error");
            report.extend(run.failures.iter().map(|f| format!("scenario {}: {f:?}", s.name)));
        }
        assert!(report.is_empty(), "offset {offset} ms:\n{}", report.join("\n"));
    }
}

#[test]
fn a_foreign_target_without_a_control_plane_yields_no_finding() {
    // Cases share the target's state (no reset), its clock shows only as a Date would.
    let (_server, mut target) = foreign(&[], false, -3 * HOUR_MS);
    let (report, warned) = findings(&mut target, &config(false));
    assert!(report.is_empty(), "{}", report.join("\n"));
    println!("{warned} of {} cases stopped at a time-dependent step", cases());
    assert!(
        warned * 4 < cases(),
        "most cases run to their end: {warned} stopped early"
    );
}

#[test]
fn every_fault_is_still_found_through_the_foreign_target() {
    let cfg = CaseConfig {
        max_steps: 40,
        ..config(true)
    };
    let mut report = Vec::new();
    for (fault, classification) in faults::expected() {
        let (_server, mut target) = foreign(&[fault], true, -3 * HOUR_MS);
        let (case, minimal, f) = match faults::find_shrink_classify(&mut target, &cfg, fault) {
            Ok(found) => found,
            Err(why) => {
                report.push(why);
                continue;
            }
        };
        println!(
            "{fault}: case {case}, {} steps, {:?}",
            minimal.len(),
            f.classification
        );
        if f.classification != classification {
            report.push(format!(
                "{fault}: classified {:?}, expected {classification:?}",
                f.classification
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn scenario_bodies_are_compared_with_the_model() {
    // A fault that keeps every outcome but changes a body (the version a new version gets) is
    // caught by the scenarios only through the body comparison.
    let (_server, mut target) = foreign(&["version-not-incremented"], true, -3 * HOUR_MS);
    let mut by_body = Vec::new();
    for s in scenarios::all() {
        let run =
            scenario::run_compared(&mut target, &s, &Policy::default()).expect("no infrastructure error");
        by_body.extend(
            run.failures
                .into_iter()
                .filter(|f| f.actual.starts_with("differs at")),
        );
    }
    assert!(!by_body.is_empty(), "the body comparison finds the fault");
}
