//! One case in progress: the reference model beside the target, the bindings that pair their
//! ids, and the two clocks.
//!
//! Clocks (SPEC, "What a harness compares"): each side's times are offsets from its own start.
//! The model's world starts at its default instant, on the sync grid, and moves to a fixed phase
//! of it ([`SYNC_PHASE_MS`]); a target with a controlled clock is moved to the same phase (it
//! may be hours behind or ahead: only offsets are compared, and absolute times in requests are
//! shifted into its frame), so a replay meets the same syncs. A target on a wall clock is read
//! through [`Target::now_ms`] (its `Date` header) or, failing that, our own clock; the model
//! follows it before every step, times compare within [`WALL_CLOCK_TOLERANCE_SECONDS`], and a
//! step whose outcome the model would change within that tolerance is time-dependent: the case
//! stops there with a warning, never a finding.

use conform_model::{Event, Policy, Service, World};
use serde_json::Value;

use super::compare::{differences_within, reply_of, schema_violations, WALL_CLOCK_TOLERANCE_SECONDS};
use super::{apply_event, caller, CaseConfig, Classification, Finding, Record, Reference, Reply};
use crate::gen::{case_fixtures, Concrete, Known, Step, Who};
use crate::normalize::{shift_time, Normalizer};
use crate::target::{InfraError, Response, Target};

/// Where on the EVS sync grid every case starts: this far past a sync.
pub const SYNC_PHASE_MS: i64 = 10_000;

/// Request members holding absolute times, shifted into the target's frame.
const INPUT_TIMES: &[&str] = &["Begin", "End"];

/// How far `now_ms` must move to reach the case's phase of the sync grid.
pub fn to_phase(now_ms: i64, policy: &Policy) -> i64 {
    let interval = policy.sync_interval_seconds.max(1) * 1000;
    (SYNC_PHASE_MS - now_ms).rem_euclid(interval)
}

/// A fresh reference world for a case, at the case's phase of the sync grid.
pub fn case_world(seed: u64, policy: &Policy) -> World {
    let mut world = World::new(seed, policy.clone());
    let delta = to_phase(world.now_ms(), policy);
    if delta > 0 {
        // Moving a fresh world's clock forward cannot be refused.
        let _ = world.apply(Event::AdvanceClock {
            seconds: 0,
            millis: delta,
        });
    }
    world
}

/// The comparison tolerance on `target`: none on a clock we control.
pub fn tolerance_of(target: &dyn Target) -> Option<i64> {
    (!target.capabilities().clock).then_some(WALL_CLOCK_TOLERANCE_SECONDS)
}

fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn clock_of(reply: &Value) -> Result<i64, InfraError> {
    reply["now_ms"]
        .as_i64()
        .ok_or_else(|| InfraError::Other(format!("the target's clock answered {reply}")))
}

/// Rewrites absolute input times by `delta_ms`, in place.
pub(crate) fn shift_times(mut v: Value, delta_ms: i64) -> Value {
    if delta_ms != 0 {
        shift_in_place(&mut v, delta_ms);
    }
    v
}

fn shift_in_place(v: &mut Value, delta_ms: i64) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let time = INPUT_TIMES
                    .contains(&k.as_str())
                    .then(|| x.as_str().and_then(|s| shift_time(s, delta_ms)))
                    .flatten();
                match time {
                    Some(t) => *x = Value::String(t),
                    None => shift_in_place(x, delta_ms),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_in_place(x, delta_ms)),
        _ => {}
    }
}

/// One case in progress. Steps run one at a time, so both the seed-driven driver and a
/// proptest state machine can drive it.
pub struct Session {
    pub(super) reference: Reference,
    pub(super) model_n: Normalizer,
    pub(super) target_n: Normalizer,
    pub(super) index: usize,
    /// `None` on a target whose clock we set (times compare exactly); else the wall-clock
    /// tolerance in seconds.
    pub(super) tolerance_seconds: Option<i64>,
    /// The target's start minus the model's: what absolute input times are shifted by.
    pub(super) delta_ms: i64,
    /// On a wall clock: the model's and the target's instants at the start, so the model
    /// follows the target.
    pub(super) follow: Option<(i64, i64)>,
    pub(super) warnings: Vec<String>,
    pub(super) stopped: bool,
}

impl Session {
    /// Resets the target (where it can), puts both clocks at the case's phase (or reads the
    /// target's), and seeds the case's fixtures on both, learning the ids they carry.
    pub fn start(
        target: &mut dyn Target,
        cfg: &CaseConfig,
        case: u64,
        policy: &Policy,
    ) -> Result<Session, InfraError> {
        let world = case_world(cfg.case_seed(case), policy);
        let caps = target.capabilities();
        if caps.reset {
            target.reset()?;
        }
        let (target_start, follow) = if caps.clock {
            let now = clock_of(&target.event(&Event::advance_seconds(0))?)?;
            let delta = to_phase(now, policy);
            let now = if delta > 0 {
                clock_of(&target.event(&Event::AdvanceClock {
                    seconds: 0,
                    millis: delta,
                })?)?
            } else {
                now
            };
            (now, None)
        } else {
            let now = target.now_ms()?.unwrap_or_else(wall_clock_ms);
            (now, Some((world.now_ms(), now)))
        };
        let start = world.now_ms();
        let mut reference = Reference::on(world, cfg.namespace(case), cfg.isolated(), cfg.audit);
        let mut model_n = Normalizer::new(start);
        let mut target_n = Normalizer::new(target_start);
        if cfg.seeds_fixtures() {
            for f in case_fixtures() {
                let expected = reference.fixture(&f);
                let event = serde_json::from_value(model_n.translate(&f, &target_n))
                    .map_err(|e| InfraError::Other(e.to_string()))?;
                let actual = target.event(&event)?;
                model_n.value(&expected);
                target_n.value(&actual);
            }
        }
        Ok(Session {
            reference,
            model_n,
            target_n,
            index: 0,
            tolerance_seconds: tolerance_of(target),
            delta_ms: target_start - start,
            follow,
            warnings: Vec::new(),
            stopped: false,
        })
    }

    /// The reference model's state.
    pub fn world(&self) -> &World {
        self.reference.world()
    }

    /// The ids the case has so far.
    pub fn known(&self) -> &Known {
        self.reference.known()
    }

    /// The reference side: the model, its ids and the auditor's goals.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// What the case left out, and why (time-dependent steps on a wall clock).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether the case stopped early (see [`Session::warnings`]); later steps compare nothing.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// The two sides' bindings so far: the model's and the target's.
    pub fn bindings(&self) -> (&Normalizer, &Normalizer) {
        (&self.model_n, &self.target_n)
    }

    /// The target's start minus the model's: what absolute input times are shifted by.
    pub fn delta_ms(&self) -> i64 {
        self.delta_ms
    }

    /// `None` where times compare exactly; else the wall-clock tolerance in seconds.
    pub fn tolerance_seconds(&self) -> Option<i64> {
        self.tolerance_seconds
    }

    /// A model-side value as the target writes it: ids through the bindings, input times into
    /// the target's frame.
    pub(super) fn outgoing(&self, v: &Value) -> Value {
        shift_times(self.model_n.translate(v, &self.target_n), self.delta_ms)
    }

    fn outgoing_body(&self, body: &[u8]) -> Vec<u8> {
        match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => self.outgoing(&v).to_string().into_bytes(),
            _ => body.to_vec(),
        }
    }

    /// On a wall clock: moves the model to the target's instant.
    fn follow_target(&mut self, target: &mut dyn Target) -> Result<(), InfraError> {
        let Some((model_start, target_start)) = self.follow else {
            return Ok(());
        };
        let now = target.now_ms()?.unwrap_or_else(wall_clock_ms);
        let lag = model_start + (now - target_start) - self.world().now_ms();
        if lag > 0 {
            self.reference.follow(lag);
        }
        Ok(())
    }

    /// On a wall clock: whether the model answers `op` differently once the clock has moved by
    /// the tolerance (an expiry or a sync falls within it).
    pub(super) fn time_dependent(
        &self,
        before: &World,
        call: (Who, Service, &str, &[u8]),
        now: &Response,
    ) -> bool {
        let Some(tolerance) = self.tolerance_seconds else {
            return false;
        };
        let (who, service, op, body) = call;
        let mut later = before.clone();
        apply_event(
            &mut later,
            &serde_json::json!({"event": "advance_clock", "seconds": tolerance}),
        );
        let r = later.handle(&caller(who), service, op, body);
        let then = Response::from(r);
        let mut n = self.model_n.clone();
        let a = reply_of(now, &mut n);
        let mut n = self.model_n.clone();
        let b = reply_of(&then, &mut n);
        !differences_within(&a, &b, Some(tolerance)).is_empty()
    }

    /// Whether `step` answers the same wherever the target's wall clock falls within the
    /// tolerance (always, on a clock we control): the read-back sends only such steps.
    pub(super) fn settled(&self, step: &Step) -> bool {
        if self.tolerance_seconds.is_none() {
            return true;
        }
        let concrete = self.reference.concretize(step);
        match (&concrete, concrete.reply_on(self.world())) {
            (
                Concrete::Call {
                    who,
                    service,
                    op,
                    body,
                },
                Some(now),
            ) => !self.time_dependent(self.world(), (*who, *service, op, body), &Response::from(now)),
            _ => true,
        }
    }

    /// Runs one step on both sides and compares; the finding when they differ.
    pub fn step(
        &mut self,
        target: &mut dyn Target,
        step: &Step,
    ) -> Result<(Record, Option<Finding>), InfraError> {
        self.index += 1;
        if self.stopped {
            return Ok((self.skipped(step), None));
        }
        self.follow_target(target)?;
        let concrete = self.reference.concretize(step);
        let reference_error = |v: crate::audit::Violation| {
            InfraError::Other(format!(
                "the reference model broke {v} at step {}: conform itself is wrong",
                self.index
            ))
        };
        let (who, operation, expected_raw, relied, actual_raw) = match &concrete {
            Concrete::Call {
                who,
                service,
                op,
                body,
            } => {
                let before = self.follow.is_some().then(|| self.world().clone());
                let ran = self
                    .reference
                    .run(Some(step), &concrete)
                    .map_err(reference_error)?;
                let relied: Vec<String> = ran.policies.iter().map(|p| format!("{p:?}")).collect();
                let expected = ran.response;
                let call = (*who, *service, op.as_str(), body.as_slice());
                if before.is_some_and(|w| self.time_dependent(&w, call, &expected)) {
                    self.stopped = true;
                    self.warnings.push(format!(
                        "step {} ({op}) depends on where the target's wall clock falls within {}s: \
                         the case stops there",
                        self.index,
                        self.tolerance_seconds.unwrap_or_default()
                    ));
                    return Ok((self.skipped(step), None));
                }
                let sent = self.outgoing_body(body);
                let actual = target.call(&caller(*who), *service, op, &sent)?;
                (Some(*who), op.clone(), expected, relied, actual)
            }
            Concrete::Event(e) => {
                let expected = self
                    .reference
                    .run(Some(step), &concrete)
                    .map_err(reference_error)?
                    .response;
                let event: Event =
                    serde_json::from_value(self.outgoing(e)).map_err(|e| InfraError::Other(e.to_string()))?;
                let body = target.event(&event)?;
                let name = e["event"].as_str().unwrap_or("event").to_string();
                if event == Event::Reset {
                    // Both sides start over: ids they hand out from now on pair afresh.
                    self.model_n = Normalizer::new(self.model_n.start_ms());
                    self.target_n = Normalizer::new(self.target_n.start_ms());
                }
                let actual = Response {
                    status: 200,
                    error_type: None,
                    body,
                };
                (None, name, expected, vec![], actual)
            }
        };
        let expected = reply_of(&expected_raw, &mut self.model_n);
        let actual = reply_of(&actual_raw, &mut self.target_n);
        // Event results are not AWS replies: they only teach the normalizers the ids they carry.
        let paths = if who.is_some() {
            differences_within(&expected, &actual, self.tolerance_seconds)
        } else {
            Vec::new()
        };
        let schema = match &concrete {
            Concrete::Call { service, op, .. } if paths.is_empty() => {
                schema_violations(*service, op, &actual_raw)
            }
            _ => Vec::new(),
        };
        if paths.is_empty() && schema.is_empty() {
            let finding = self.read_back(target, &concrete, &expected_raw)?;
            let record = Record {
                step: step.clone(),
                operation,
                who,
                expected,
                actual,
            };
            return Ok((record, finding));
        }
        let record = Record {
            step: step.clone(),
            operation: operation.clone(),
            who,
            expected: expected.clone(),
            actual: actual.clone(),
        };
        let classification = if paths.is_empty() {
            Classification::SchemaViolation
        } else {
            Classification::HardFailure
        };
        let paths = if paths.is_empty() { schema } else { paths };
        let finding = Finding {
            step: self.index,
            operation,
            classification,
            expected,
            actual,
            paths,
            rules: relied,
        };
        Ok((record, Some(finding)))
    }

    /// The record of a step left out: nothing sent, nothing compared.
    fn skipped(&self, step: &Step) -> Record {
        let nothing = Reply {
            status: 0,
            error: Some("skipped".into()),
            body: Value::Null,
        };
        Record {
            step: step.clone(),
            operation: "skipped".into(),
            who: None,
            expected: nothing.clone(),
            actual: nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_starts_at_the_same_phase_of_the_sync_grid() {
        // SPEC 4.3: syncs at multiples of sync_interval_seconds; a case starts SYNC_PHASE_MS past one.
        let p = Policy::default();
        for now in [
            0,
            9_999,
            10_000,
            10_001,
            299_999,
            1_767_225_600_000 - 3_600_000 + 137_000,
        ] {
            let at = now + to_phase(now, &p);
            assert_eq!(at.rem_euclid(300_000), SYNC_PHASE_MS, "from {now}");
            assert!((0..300_000).contains(&(at - now)));
        }
        assert_eq!(case_world(1, &p).now_ms().rem_euclid(300_000), SYNC_PHASE_MS);
    }

    #[test]
    fn input_times_move_into_the_target_frame_written_the_same_way() {
        let v = serde_json::json!({"Validity": {"Begin": "2025-01-01T00:00:00Z", "End": "2026-01-01T00:10:00.000Z"},
            "Other": "2026-01-01T00:10:00.000Z", "Bad": {"End": "2026-01-01T00:10:00"}});
        assert_eq!(
            shift_times(v.clone(), -3_600_000),
            serde_json::json!({"Validity": {"Begin": "2024-12-31T23:00:00Z", "End": "2025-12-31T23:10:00.000Z"},
                "Other": "2026-01-01T00:10:00.000Z", "Bad": {"End": "2026-01-01T00:10:00"}})
        );
        assert_eq!(shift_times(v.clone(), 0), v);
    }
}
