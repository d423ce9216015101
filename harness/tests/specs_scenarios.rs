//! Every request and reply of the built-in scenario suite (License Manager, grants, EVS) and of
//! generated cases validates against its JSON Schema from specs/, and together they succeed at
//! every operation conform implements.

use std::collections::BTreeSet;

use conform_harness::driver::{generate, CaseConfig, Reference};
use conform_harness::gen::Concrete;
use conform_harness::scenario;
use conform_harness::scenarios;
use conform_harness::specs::{Direction, Specs};
use conform_harness::target::ModelTarget;
use conform_model::evs::EvsRequest;
use conform_model::lm::LmRequest;
use conform_model::{Policy, Service};
use serde_json::Value;

fn check(
    specs: &Specs,
    service: Service,
    op: &str,
    request: Option<&Value>,
    status: u16,
    error: Option<&str>,
    body: &Value,
) -> Vec<String> {
    let mut failures = Vec::new();
    // A request the model accepted must be valid by the schema too.
    if let (Some(req), None) = (request, error) {
        if req.is_object() && op != "event" {
            let r = specs.validate(service, op, Direction::Request, req);
            if !r.is_valid() {
                failures.push(format!("{op} request: {:?}\n{req:#}", r.violations));
            }
        }
    }
    let Some(direction) = Direction::of_reply(error) else {
        return failures;
    };
    let r = specs.validate(service, op, direction.clone(), body);
    if !r.is_valid() {
        failures.push(format!(
            "{op} {direction:?} ({status}): {:?}\n{body:#}",
            r.violations
        ));
    }
    failures
}

#[test]
fn every_scenario_request_and_reply_validates_and_every_operation_succeeds() {
    let specs = Specs::load();
    let mut target = ModelTarget::new(1, Policy::default());
    let mut failures = Vec::new();
    let mut succeeded = BTreeSet::new();
    for s in scenarios::all() {
        let run = scenario::run(&mut target, &s).expect("model");
        for r in run.records.iter() {
            let Some(service) = r.service else { continue };
            if r.response.error_type.is_none() {
                succeeded.insert(r.op.clone());
            }
            let request = r.request.get("raw").is_none().then_some(&r.request);
            failures.extend(check(
                specs,
                service,
                &r.op,
                request,
                r.response.status,
                r.response.error_type.as_deref(),
                &r.response.body,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let missing: Vec<&&str> = LmRequest::OPERATIONS
        .iter()
        .chain(EvsRequest::OPERATIONS.iter())
        .filter(|op| !succeeded.contains(**op))
        .collect();
    assert!(missing.is_empty(), "the scenarios never succeed at {missing:?}");
}

#[test]
fn every_reply_of_generated_cases_validates() {
    let specs = Specs::load();
    let cfg = CaseConfig {
        seed: 5,
        max_steps: 60,
        ..CaseConfig::default()
    };
    let mut failures = Vec::new();
    for case in 0..40 {
        let steps = generate(&cfg, case);
        let mut reference = Reference::new(&cfg, case, true);
        for step in &steps {
            let (concrete, ran) = reference.advance(step).expect("the model keeps its properties");
            if let Concrete::Call {
                service, op, body, ..
            } = &concrete
            {
                let request: Option<Value> = serde_json::from_slice(body).ok();
                let r = &ran.response;
                failures.extend(check(
                    specs,
                    *service,
                    op,
                    request.as_ref(),
                    r.status,
                    r.error_type.as_deref(),
                    &r.body,
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
