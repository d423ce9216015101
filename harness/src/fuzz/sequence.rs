//! The `sequence` target: a list of [`Op`]s run one by one, with the invariants checked after
//! every step.

use arbitrary::{Arbitrary, Unstructured};
use conform_model::invariants::{check_evs, check_lm, evs_digest, lm_digest, Cause};
use conform_model::Event;

use super::ops::{concretize, Action, Op, Sent};
use super::requests::check_reply;
use super::worlds::evs_fixtures;
use super::MAX_STEPS;

/// Operations whose success a byte-identical resend replays instead of running again (SPEC 3.4).
const IDEMPOTENT: [&str; 6] = [
    "CreateLicense",
    "CreateLicenseVersion",
    "CheckoutLicense",
    "CheckoutBorrowLicense",
    "CreateGrant",
    "CreateGrantVersion",
];

/// The `sequence` target on typed steps: runs each through `World::handle` or `World::apply` on
/// a world with the EVS fixtures, checking after every step the reply shape, that a refused request
/// or event changes nothing, that an idempotent replay changes nothing, and SPEC 3.10 and 4.4.
pub fn run_sequence(ops: &[Op]) -> Result<(), String> {
    let mut world = evs_fixtures();
    let mut history: Vec<Sent> = Vec::new();
    // Requests sent since the last Reset: a reset world draws the same ids again, so an equal
    // reply from before it is a new object, not a replay.
    let mut since_reset = 0;
    for (n, op) in ops.iter().take(MAX_STEPS).enumerate() {
        // Settle first, so that `before` already shows what falls due now.
        world
            .apply(Event::advance_seconds(0))
            .map_err(|e| format!("settling: {e}"))?;
        let before = world.clone();
        let Some(action) = concretize(&world, op, &history) else {
            continue;
        };
        let fail = |what: String| format!("step {n} {op:?}: {what}");
        match action {
            Action::Event(event) => {
                if event == Event::Reset {
                    since_reset = history.len();
                }
                let refused = world.apply(event.clone()).is_err();
                if refused
                    && (lm_digest(&world) != lm_digest(&before) || evs_digest(&world) != evs_digest(&before))
                {
                    return Err(fail("a refused event changed the state".into()));
                }
                check_lm(&world, &before).map_err(|e| fail(format!("SPEC 3.10: {e}")))?;
                check_evs(&world, &before, &Cause::Event(&event))
                    .map_err(|e| fail(format!("SPEC 4.4: {e}")))?;
            }
            Action::Request(mut sent) => {
                let reply = world.handle(&sent.caller, sent.service, sent.op, &sent.body);
                check_reply(sent.service, &reply).map_err(|e| fail(format!("{}: {e}", sent.op)))?;
                let unchanged =
                    || lm_digest(&world) == lm_digest(&before) && evs_digest(&world) == evs_digest(&before);
                if reply.is_error() && !unchanged() {
                    return Err(fail(format!(
                        "refused {} changed the state: {}",
                        sent.op, reply.body
                    )));
                }
                let replayed = !reply.is_error()
                    && IDEMPOTENT.contains(&sent.op)
                    && history[since_reset..].iter().any(|h| {
                        h.op == sent.op
                            && h.caller == sent.caller
                            && h.body == sent.body
                            && h.reply.as_ref() == Some(&reply.body)
                    });
                if replayed && !unchanged() {
                    return Err(fail(format!(
                        "an idempotent replay of {} changed the state",
                        sent.op
                    )));
                }
                check_lm(&world, &before).map_err(|e| fail(format!("SPEC 3.10: {e}")))?;
                check_evs(&world, &before, &Cause::request(sent.service, sent.op))
                    .map_err(|e| fail(format!("SPEC 4.4: {e}")))?;
                sent.reply = Some(reply.body);
                history.push(sent);
            }
        }
    }
    Ok(())
}

/// The `sequence` target on raw bytes: decodes them into steps exactly as `fuzz_target!` with a
/// `Vec<Op>` argument would (`arbitrary_take_rest`), then runs [`run_sequence`]. Bytes that do
/// not decode are no input at all, as for libFuzzer.
pub fn sequence(data: &[u8]) -> Result<(), String> {
    match Vec::<Op>::arbitrary_take_rest(Unstructured::new(data)) {
        Ok(ops) => run_sequence(&ops),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_reaches_a_checkout_and_a_sync() {
        let ops = [
            Op::CreateLicense {
                sku: 0,
                beneficiary: 0,
                max: 2,
                overage: false,
                check_in: true,
                borrow: true,
                end_minutes: None,
                token: 1,
            },
            Op::Checkout {
                caller: 0,
                sku: 0,
                beneficiary: Some(0),
                quantity: 0,
                perpetual: false,
                token: 1,
            },
            Op::Replay { back: 0 },
            Op::CreateEntitlement {
                connector: 0,
                vms: vec![0, 4],
            },
            Op::Advance { choice: 7 },
            Op::DeleteEntitlement {
                connector: 0,
                vms: vec![4],
            },
            Op::CreateEntitlement {
                connector: 0,
                vms: vec![4],
            },
            Op::Reset,
        ];
        run_sequence(&ops).expect("a valid sequence keeps every invariant");
    }
}
