//! Property tests of the model over the one workload: generated cases of both services with
//! environment events (drawn by the harness's generator through the proptest-state-machine
//! adapter, so failures shrink by dropping steps), with resets, replays and raw bodies mixed in.
//!
//! - every always property of the auditor holds after every step (SPEC 3.10, 4.4, refused
//!   requests and events and idempotent replays change nothing, access needs the issuer or a
//!   grant, replies are well formed, invalid requests are refused);
//! - the same seed and steps give byte-identical replies and request ids (SPEC 2);
//! - a reply that names no `[P]` rule is unchanged when any one switch flips (Reply::policies
//!   is complete);
//! - a request body the service model accepts parses into a typed request whose serialization
//!   parses back to it.

use conform_harness::driver::{CaseConfig, Ran, Reference};
use conform_harness::gen::{all_operations, Concrete, Step, Who};
use conform_harness::state_machine::{Generation, TargetFactory};
use conform_harness::target::{ModelTarget, Target};
use conform_model::evs::EvsRequest;
use conform_model::lm::LmRequest;
use conform_model::{Policy, PolicyRule, Service};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest_state_machine::ReferenceStateMachine;

/// The model as the adapter's target: the cases are drawn from its default configuration.
struct Model;

impl TargetFactory for Model {
    type Keep = ();
    fn start() -> ((), Box<dyn Target>) {
        ((), Box::new(ModelTarget::new(3, Policy::default())))
    }
}

fn config() -> CaseConfig {
    Model::config()
}

/// Steps the generator leaves to other workloads: resets, replays, raw bodies.
fn extra() -> impl Strategy<Value = Step> {
    let who = prop::sample::select(Who::ALL.to_vec());
    let op = prop::sample::select(
        all_operations()
            .into_iter()
            .map(|(_, o)| o.to_string())
            .collect::<Vec<_>>(),
    );
    let placeholders = prop::sample::select(vec![
        r#"{"LicenseArn": "<license-1>"}"#,
        r#"{"LicenseConsumptionToken": "<token-1>"}"#,
        r#"{"GrantArn": "<grant-1>", "Version": "1"}"#,
        r#"{"environmentId": "<env-1>", "connectorId": "<cnctr-1>", "entitlementType": "WINDOWS_SERVER", "vmIds": ["vm-100"]}"#,
        r#"{"LicenseArn": "<license-2>", "SourceVersion": "01"}"#,
    ]);
    prop_oneof![
        1 => Just(Step::Reset),
        3 => (0u8..8).prop_map(|back| Step::Replay { back }),
        2 => (op.clone(), who.clone(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(operation, who, body)| Step::Raw { operation, who, body }),
        2 => (op, who, placeholders)
            .prop_map(|(operation, who, body)| Step::Raw { operation, who, body: body.as_bytes().to_vec() }),
    ]
}

/// A generated case with a few extra steps inserted.
fn case(size: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Step>> {
    (
        Generation::<Model>::sequential_strategy(size),
        prop::collection::vec((any::<Index>(), extra()), 0..4),
    )
        .prop_map(|((_, mut steps, _), extras)| {
            for (at, step) in extras {
                let i = at.index(steps.len() + 1);
                steps.insert(i, step);
            }
            steps
        })
}

/// What a step produced, for comparing two runs: status, error type, body, request id.
type Observed = (u16, Option<String>, String, String);

fn observed(ran: &Ran) -> Observed {
    let r = &ran.response;
    (
        r.status,
        r.error_type.clone(),
        r.body.to_string(),
        ran.request_id.clone(),
    )
}

/// Every single-switch alternative with the rule it flips.
fn alternatives() -> Vec<(String, Policy, PolicyRule)> {
    Policy::default()
        .alternatives()
        .into_iter()
        .filter_map(|(name, policy)| {
            let member = name.split_once('=').map(|(m, _)| m.to_string())?;
            let rule = PolicyRule::ALL.iter().copied().find(|r| r.switch() == member)?;
            Some((name, policy, rule))
        })
        .collect()
}

/// Runs `steps` on the default policy and under `policy` in lockstep (requests concretized on
/// the default side, so both get the same bytes), until the first reply that differs: `Err`
/// when it did not name `rule`.
fn lockstep(steps: &[Step], name: &str, policy: &Policy, rule: PolicyRule) -> Result<(), String> {
    let cfg = config();
    let mut a = Reference::new(&cfg, 0, false);
    let flipped = CaseConfig {
        policy: policy.clone(),
        ..config()
    };
    let mut b = Reference::new(&flipped, 0, false);
    for (i, step) in steps.iter().enumerate() {
        let concrete = a.concretize(step);
        let (Ok(x), Ok(y)) = (a.run(Some(step), &concrete), b.run(Some(step), &concrete)) else {
            return Err("an unaudited run cannot fail".into());
        };
        if observed(&x) == observed(&y) {
            continue;
        }
        if x.policies.contains(&rule) {
            // The worlds diverged where the switch was named: later steps compare nothing.
            return Ok(());
        }
        return Err(format!(
            "under {name}, step {i} ({step:?}) answered differently but did not name {rule:?}:\n default {:?}\n flipped {:?}\n named {:?}",
            observed(&x),
            observed(&y),
            x.policies
        ));
    }
    Ok(())
}

fn run(steps: &[Step], always: bool) -> Result<Vec<Observed>, String> {
    let mut r = Reference::new(&config(), 0, always);
    let mut out = Vec::with_capacity(steps.len());
    for (n, step) in steps.iter().enumerate() {
        let (_, ran) = r.advance(step).map_err(|v| format!("step {n} {step:?}: {v}"))?;
        out.push(observed(&ran));
    }
    Ok(out)
}

/// A body the service model accepts builds a typed request whose serialization decodes back.
fn round_trips(concrete: &Concrete) -> Result<(), String> {
    let Concrete::Call {
        service, op, body, ..
    } = concrete
    else {
        return Ok(());
    };
    let model = service.model();
    let Some(operation) = model.operation(op) else {
        return Ok(());
    };
    let Ok(decoded) = model.decode(operation, body) else {
        return Ok(());
    };
    let again = |b: serde_json::Value| {
        model
            .decode(operation, b.to_string().as_bytes())
            .map_err(|e| format!("{op}: the serialization fails validation: {e}"))
    };
    match service {
        Service::LicenseManager => {
            let Some(req) = LmRequest::from_body(op, decoded).map_err(|e| e.to_string())? else {
                return Ok(());
            };
            let back = LmRequest::from_body(op, again(req.to_body())?).map_err(|e| e.to_string())?;
            (back.as_ref() == Some(&req))
                .then_some(())
                .ok_or(format!("{op}: {req:?} came back as {back:?}"))
        }
        Service::Evs => {
            let Some(req) = EvsRequest::from_body(op, decoded).map_err(|e| e.to_string())? else {
                return Ok(());
            };
            let back = EvsRequest::from_body(op, again(req.to_body())?).map_err(|e| e.to_string())?;
            (back.as_ref() == Some(&req))
                .then_some(())
                .ok_or(format!("{op}: {req:?} came back as {back:?}"))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_always_property_holds_after_every_step(steps in case(1..40)) {
        run(&steps, true).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn spec_2_same_seed_and_steps_give_byte_identical_replies(steps in case(1..25)) {
        prop_assert_eq!(run(&steps, false), run(&steps, false));
    }

    #[test]
    fn a_serialized_request_parses_back_to_itself(steps in case(1..25)) {
        let mut r = Reference::new(&config(), 0, false);
        for step in &steps {
            let (concrete, _) = r.advance(step).map_err(|v| TestCaseError::fail(v.to_string()))?;
            round_trips(&concrete).map_err(TestCaseError::fail)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// Reply::policies is complete (SPEC: a reply names every [P] switch whose value shaped it).
    #[test]
    fn spec_p_rules_a_reply_not_naming_a_switch_is_unchanged_when_it_flips(steps in case(1..30)) {
        for (name, policy, rule) in alternatives() {
            lockstep(&steps, &name, &policy, rule).map_err(TestCaseError::fail)?;
        }
    }
}
