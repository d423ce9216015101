//! The `sequence` target: a list of the one workload's [`Step`]s (both services, environment
//! events, replays, resets, raw bodies) run one by one on the reference model, with every always
//! property of the auditor ([`crate::audit`]) checked after every step.

use arbitrary::{Arbitrary, Unstructured};

use super::MAX_STEPS;
use crate::driver::{CaseConfig, Reference};
use crate::gen::Step;

/// The case the fuzz target runs its steps in: both services, with the environment fixtures.
fn config() -> CaseConfig {
    CaseConfig {
        max_steps: MAX_STEPS,
        ..CaseConfig::default()
    }
}

/// The `sequence` target on typed steps: the first [`MAX_STEPS`] run on a fresh reference with
/// every always property checked after each; the first violation, described.
pub fn run_sequence(steps: &[Step]) -> Result<(), String> {
    let mut reference = Reference::new(&config(), 0, true);
    for (n, step) in steps.iter().take(MAX_STEPS).enumerate() {
        reference
            .advance(step)
            .map_err(|v| format!("step {n} {step:?}: {v}"))?;
    }
    Ok(())
}

/// The `sequence` target on raw bytes: decodes them into steps exactly as `fuzz_target!` with a
/// `Vec<Step>` argument would (`arbitrary_take_rest`), then runs [`run_sequence`]. Bytes that do
/// not decode are no input at all, as for libFuzzer.
pub fn sequence(data: &[u8]) -> Result<(), String> {
    match Vec::<Step>::arbitrary_take_rest(Unstructured::new(data)) {
        Ok(steps) => run_sequence(&steps),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::Who;

    #[test]
    fn a_sequence_reaches_a_checkout_a_replay_and_a_reset() {
        let steps = [
            Step::license(2, 1, true, 1),
            Step::checkout("1", 1),
            Step::Replay { back: 0 },
            Step::Raw {
                operation: "GetLicense".into(),
                who: Who::Seller,
                body: br#"{"LicenseArn": "<license-1>"}"#.to_vec(),
            },
            Step::Advance { seconds: 300 },
            Step::Reset,
            Step::Replay { back: 1 },
        ];
        let mut reference = Reference::new(&config(), 0, true);
        for step in &steps {
            reference
                .advance(step)
                .expect("a valid sequence keeps every property");
        }
        let reached = reference.auditor().reached();
        assert!(reached.contains_key("a_checkout_granted"), "{reached:?}");
        assert!(
            reached.contains_key("an_idempotent_checkout_replay"),
            "{reached:?}"
        );
    }
}
