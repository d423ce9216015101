//! Every valid request passes its schema and the model's shape stage; every constraint-derived
//! invalid request fails its schema and is refused by the model with the error SPEC 1.2 names.
//! A disagreement between schema and model fails, naming the member.

use conform_harness::specs::cases::{self, Case};
use conform_harness::specs::{scope, Direction, Specs};
use conform_model::{Caller, Policy, Service, World};

/// Disagreements known to be model bugs, as (operation, member, constraint). The test prints
/// them; a disagreement not listed here fails.
const KNOWN_MODEL_BUGS: &[(&str, &str, &str)] = &[];

#[test]
fn every_hand_written_valid_request_passes_its_schema_and_the_model_shape_stage() {
    let specs = Specs::load();
    let mut checked = 0;
    for service in Service::ALL {
        for &op in scope::operations(service) {
            for body in cases::valid_requests(service, op) {
                let report = specs.validate(service, op, Direction::Request, &body);
                assert!(
                    report.is_valid(),
                    "{} {op}: {:?}\n{body:#}",
                    service.name(),
                    report.violations
                );
                let model = service.model();
                let def = model.operation(op).expect("in-scope operation is modelled");
                let decoded = model.decode(def, body.to_string().as_bytes());
                assert!(
                    decoded.is_ok(),
                    "{} {op}: model refuses {body}: {decoded:?}",
                    service.name()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 29, "only {checked} valid requests");
}

#[test]
fn constraint_derived_cases_agree_between_schema_and_model() {
    let specs = Specs::load();
    let all = cases::all_cases();
    let mut mismatches = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for case in &all {
        let outcome = if case.valid {
            check_valid(specs, case)
        } else {
            check_invalid(specs, case)
        };
        if case.valid {
            valid += 1;
        } else {
            invalid += 1;
        }
        if let Err(why) = outcome {
            mismatches.push((case, why));
        }
    }
    println!("{} cases: {valid} valid, {invalid} invalid", all.len());
    for (op, member, constraint) in KNOWN_MODEL_BUGS {
        println!("known model bug: {op} {member} {constraint}");
    }
    let unexpected: Vec<String> = mismatches
        .iter()
        .filter(|(c, _)| !KNOWN_MODEL_BUGS.contains(&(c.operation, c.member.as_str(), c.constraint.as_str())))
        .map(|(c, why)| {
            format!(
                "{} {} member '{}' [{}]: {why}",
                c.service.name(),
                c.operation,
                c.member,
                c.constraint
            )
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} mismatches:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        valid > 200 && invalid > 200,
        "too few cases: {valid} valid, {invalid} invalid"
    );
}

fn check_valid(specs: &Specs, case: &Case) -> Result<(), String> {
    let report = specs.validate(case.service, case.operation, Direction::Request, &case.body);
    if !report.is_valid() {
        return Err(format!("schema refuses a valid body: {:?}", report.violations));
    }
    let model = case.service.model();
    let def = model.operation(case.operation).ok_or("operation not modelled")?;
    match model.decode(def, case.body.to_string().as_bytes()) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("model refuses a valid body: {e}")),
    }
}

fn check_invalid(specs: &Specs, case: &Case) -> Result<(), String> {
    let report = specs.validate(case.service, case.operation, Direction::Request, &case.body);
    let mut problems = Vec::new();
    if report.is_valid() {
        problems.push("schema accepts an invalid body".to_string());
    }
    let mut world = World::new(7, Policy::default());
    let caller = Caller::new("111122223333", "us-east-1");
    let reply = world.handle(
        &caller,
        case.service,
        case.operation,
        case.body.to_string().as_bytes(),
    );
    let expected = case.expected_error.unwrap_or("ValidationException");
    if reply.error_type() != Some(expected) {
        problems.push(format!(
            "model answers {:?}, expected {expected}",
            reply.error_type()
        ));
    }
    // EVS answers an unknown operation with ValidationException too; a shape refusal carries
    // reason fieldValidationFailed (SPEC 1.2).
    if case.service == Service::Evs && reply.body["reason"] != "fieldValidationFailed" {
        problems.push(format!(
            "EVS reason is {}, expected fieldValidationFailed",
            reply.body["reason"]
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
