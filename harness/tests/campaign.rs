//! The campaign as a library (issue: the harness as one library): run against a faulty embedded
//! simulator, it finds, shrinks, classifies and writes each finding; identical findings are
//! shrunk once and counted; policy divergences pass the run unless strict; the JSON report
//! carries each finding's shrunk length and trace path.

use conform_harness::campaign::{Campaign, Config};
use conform_harness::driver::Classification;
use conform_harness::embedded::Embedded;
use conform_harness::report::{json_report, junit_report, Silent};

fn config(cases: u64, trace_dir: &std::path::Path) -> Config {
    let mut c = Config::default();
    c.cases = cases;
    c.max_steps = 40;
    c.scenarios = false;
    c.trace_dir = Some(trace_dir.to_path_buf());
    c
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-campaign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_hard_failure_is_shrunk_counted_once_and_fails_the_run() {
    let sim = Embedded::builder()
        .faults(["capacity-off-by-one"])
        .start()
        .expect("starts");
    let mut target = sim.target().expect("target");
    let dir = temp_dir("hard");
    let summary = Campaign::new(config(120, &dir))
        .run(&mut target, &mut Silent)
        .expect("runs");
    assert_eq!(summary.exit_code(), 1, "a hard failure fails the run");
    let hard: Vec<_> = summary
        .findings
        .iter()
        .filter(|f| f.finding.classification == Classification::HardFailure)
        .collect();
    assert!(!hard.is_empty(), "the fault is found");
    for f in &hard {
        assert!(f.shrunk && f.shrunk_steps <= f.original_steps);
        assert_eq!(f.steps.len(), f.shrunk_steps);
        let trace = f.trace.as_ref().expect("a trace is written");
        assert!(trace.exists(), "{}", trace.display());
    }
    // The same fault fails many cases; each distinct signature is shrunk once.
    let failing_cases = summary.cases.iter().filter(|c| c.finding.is_some()).count();
    let repeats: usize = summary.findings.iter().map(|f| f.repeats.len()).sum();
    assert!(repeats > 0, "repeated findings are counted, not shrunk again");
    assert_eq!(failing_cases, summary.findings.len() + repeats);
    let json = json_report(&summary);
    assert_eq!(json["exit_code"], 1);
    let first = &json["findings"][0];
    assert_eq!(first["shrunk_steps"], hard[0].shrunk_steps);
    assert!(first["trace"].as_str().is_some_and(|t| t.ends_with(".json")));
    assert_eq!(
        json["findings_by_class"]["cases"]["hard_failure"],
        failing_cases_of(&summary, |c| *c == Classification::HardFailure)
    );
    let xml = junit_report(&summary).expect("serializes");
    assert!(xml.contains("<failure"), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn failing_cases_of(
    summary: &conform_harness::campaign::Summary,
    class: impl Fn(&Classification) -> bool,
) -> usize {
    summary
        .findings
        .iter()
        .filter(|f| class(&f.finding.classification))
        .map(|f| 1 + f.repeats.len())
        .sum()
}

#[test]
fn a_policy_divergence_is_reported_and_fails_only_when_strict() {
    let sim = Embedded::builder()
        .faults(["deleted-entitlements-listed"])
        .start()
        .expect("starts");
    let mut target = sim.target().expect("target");
    let dir = temp_dir("policy");
    let mut cfg = config(60, &dir);
    cfg.services = vec![conform_model::Service::Evs];
    let lenient = Campaign::new(cfg.clone())
        .run(&mut target, &mut Silent)
        .expect("runs");
    let divergences = failing_cases_of(&lenient, |c| matches!(c, Classification::PolicyDivergence { .. }));
    assert!(divergences > 0, "the divergence is found: {:?}", lenient.findings);
    assert_eq!(
        failing_cases_of(&lenient, |c| !matches!(
            c,
            Classification::PolicyDivergence { .. }
        )),
        0
    );
    assert_eq!(
        lenient.exit_code(),
        0,
        "policy divergences are reported, not failed"
    );
    cfg.strict_policy = true;
    let strict = Campaign::new(cfg).run(&mut target, &mut Silent).expect("runs");
    assert_eq!(strict.exit_code(), 1, "--strict-policy fails on them");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_faithful_simulator_passes_scenarios_and_cases() {
    let sim = Embedded::builder().start().expect("starts");
    let mut target = sim.target().expect("target");
    let mut cfg = Config::default();
    cfg.cases = 20;
    let summary = Campaign::new(cfg).run(&mut target, &mut Silent).expect("runs");
    assert!(summary.findings.is_empty(), "{:#?}", summary.findings);
    assert!(!summary.scenarios.is_empty());
    assert!(summary.scenarios.iter().all(|s| s.failures.is_empty()));
    assert_eq!(summary.exit_code(), 0);
}

#[test]
fn max_findings_stops_the_run_at_the_first_distinct_finding() {
    let sim = Embedded::builder()
        .faults(["capacity-off-by-one"])
        .start()
        .expect("starts");
    let mut target = sim.target().expect("target");
    let dir = temp_dir("max");
    let mut cfg = config(120, &dir);
    cfg.max_findings = Some(1);
    let summary = Campaign::new(cfg).run(&mut target, &mut Silent).expect("runs");
    assert_eq!(summary.findings.len(), 1);
    assert!(summary.cases.len() < 120);
    assert!(summary
        .stopped_early
        .as_deref()
        .is_some_and(|w| w.contains("finding")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_time_budget_stops_the_run_and_says_so() {
    let mut target = conform_harness::target::ModelTarget::new(1, conform_model::Policy::default());
    let mut cfg = Config::default();
    cfg.scenarios = false;
    cfg.cases = 1_000_000;
    cfg.time_budget = Some(std::time::Duration::from_millis(200));
    let summary = Campaign::new(cfg).run(&mut target, &mut Silent).expect("runs");
    assert!(summary.cases.len() < 1_000_000);
    assert!(summary
        .stopped_early
        .as_deref()
        .is_some_and(|w| w.contains("time budget")));
}
