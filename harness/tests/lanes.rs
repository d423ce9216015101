//! Lanes (`conform_harness::lanes`, `Campaign::run_lanes`): generated cases run side by side on
//! targets of their own report exactly what one target running them in order reports: the
//! same findings, shrunk the same, the same repeats, counts and not-implemented operations.

use conform_harness::campaign::{Campaign, Config};
use conform_harness::driver::CaseConfig;
use conform_harness::embedded::Embedded;
use conform_harness::lanes::Lanes;
use conform_harness::report::{json_report, Silent};
use conform_harness::target::{Capabilities, InfraError, ModelTarget, Response, Target};
use conform_model::{Caller, Event, Policy, Service};
use serde_json::Value;

/// Two faults: findings of more than one signature, each in several cases.
const FAULTS: &[&str] = &["version-not-incremented", "reply-member-missing"];

fn config(cases: u64) -> Config {
    let mut c = Config::default();
    c.cases = cases;
    c.max_steps = 20;
    c.scenarios = false;
    c
}

fn faulty() -> Embedded {
    Embedded::builder()
        .faults(FAULTS.iter().copied())
        .start()
        .expect("starts")
}

#[test]
fn cases_on_lanes_report_what_one_target_reports() {
    let sim = faulty();
    let mut target = sim.target().expect("target");
    let alone = json_report(&Campaign::new(config(24)).run(&mut target, &mut Silent).unwrap());
    let lane_sims: Vec<Embedded> = (0..3).map(|_| faulty()).collect();
    let lanes: Vec<Box<dyn Target + Send>> = lane_sims
        .iter()
        .map(|s| Box::new(s.target().expect("target")) as Box<dyn Target + Send>)
        .collect();
    let sim = faulty();
    let mut target = sim.target().expect("target");
    let side_by_side = json_report(
        &Campaign::new(config(24))
            .run_lanes(&mut target, lanes, &mut Silent)
            .unwrap(),
    );
    let findings = alone["findings"].as_array().expect("findings");
    assert!(findings.len() > 1, "both faults are found: {findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| !f["repeats"].as_array().unwrap().is_empty()),
        "some finding repeats"
    );
    assert_eq!(side_by_side, alone);
}

/// The model, lacking some operations (it answers them as unknown), with a control plane.
struct Partial(ModelTarget);

const MISSING: &[&str] = &[
    "CreateLicenseVersion",
    "CheckoutBorrowLicense",
    "ListVmEntitlements",
];

impl Target for Partial {
    fn name(&self) -> String {
        "partial model".into()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }
    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        if MISSING.contains(&operation) {
            return Ok(Response {
                status: 400,
                error_type: Some("UnknownOperationException".into()),
                body: serde_json::json!({"__type": "UnknownOperationException"}),
            });
        }
        self.0.call(caller, service, operation, body)
    }
    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        self.0.event(event)
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        self.0.reset()
    }
}

fn partial() -> Partial {
    Partial(ModelTarget::new(1, Policy::default()))
}

#[test]
fn a_case_queued_before_an_operation_was_found_missing_runs_as_it_would_have_in_order() {
    let alone = json_report(
        &Campaign::new(config(30))
            .run(&mut partial(), &mut Silent)
            .unwrap(),
    );
    let lanes: Vec<Box<dyn Target + Send>> = (0..2).map(|_| Box::new(partial()) as _).collect();
    let side_by_side = json_report(
        &Campaign::new(config(30))
            .run_lanes(&mut partial(), lanes, &mut Silent)
            .unwrap(),
    );
    let missing = alone["not_implemented"].as_array().expect("not_implemented");
    assert_eq!(missing.len(), MISSING.len(), "{missing:?}");
    assert_eq!(side_by_side, alone);
}

/// A target whose every call panics.
struct Panics;

impl Target for Panics {
    fn name(&self) -> String {
        "panics".into()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }
    fn call(&mut self, _: &Caller, _: Service, operation: &str, _: &[u8]) -> Result<Response, InfraError> {
        panic!("the lane's target panicked at {operation}");
    }
    fn event(&mut self, _: &Event) -> Result<Value, InfraError> {
        Ok(serde_json::json!({"now_ms": 0}))
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        Ok(())
    }
}

#[test]
#[should_panic(expected = "the lane's target panicked at")]
fn a_lanes_panic_is_resumed_where_its_result_is_taken() {
    let mut lanes = Lanes::new(vec![Box::new(Panics)]);
    let cfg = CaseConfig {
        max_steps: 4,
        ..CaseConfig::default()
    };
    let _ = lanes.execute_all(&cfg, 0..2);
}

#[test]
fn results_come_back_in_the_order_submitted() {
    let targets: Vec<Box<dyn Target + Send>> = (0..3)
        .map(|_| Box::new(ModelTarget::new(1, Policy::default())) as _)
        .collect();
    let mut lanes = Lanes::new(targets);
    let cfg = CaseConfig {
        max_steps: 12,
        ..CaseConfig::default()
    };
    let order = [5, 0, 9, 3, 7, 1, 8, 2];
    let runs = lanes.execute_all(&cfg, order);
    assert_eq!(runs.iter().map(|d| d.case).collect::<Vec<_>>(), order);
    for done in &runs {
        let mut alone = ModelTarget::new(1, Policy::default());
        let again = conform_harness::driver::execute(&mut alone, &cfg, done.case, &done.steps).unwrap();
        let records = |e: &conform_harness::driver::Execution| serde_json::to_value(&e.records).unwrap();
        assert_eq!(records(done.result.as_ref().unwrap()), records(&again));
    }
}
