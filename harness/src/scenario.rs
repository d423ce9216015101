//! Named scenarios: fixed request sequences with the outcome each step must have. They are the
//! built-in suite of `conform run` and the transcripts kept as snapshots.

use std::collections::BTreeMap;

use conform_model::{Caller, Event, Policy, Service};
use serde_json::{json, Value};

use crate::gen::Who;
use crate::normalize::transcript::Transcript;
use crate::target::{InfraError, Response, Target};

/// The accounts scenarios speak as.
pub fn caller(who: &str) -> Caller {
    let (name, region) = who.split_once('@').unwrap_or((who, "us-east-1"));
    let who = match name {
        "seller" => Who::Seller,
        "buyer" => Who::Buyer,
        _ => Who::Stranger,
    };
    Caller::new(who.account(), region)
}

/// A request body: JSON with `{{name}}` placeholders, or raw bytes for malformed requests.
#[derive(Clone, Debug)]
pub enum Body {
    Json(Value),
    Raw(Vec<u8>),
}

/// One step of a scenario.
#[derive(Clone, Debug)]
pub enum Step {
    Call {
        who: &'static str,
        service: Service,
        op: &'static str,
        body: Body,
        /// `"ok"` or the error type the step must answer.
        expect: &'static str,
        /// Values to remember: (name, JSON pointer into the reply).
        capture: Vec<(&'static str, &'static str)>,
    },
    /// An environment event, as the model's `Event` JSON with placeholders.
    Event {
        event: Value,
        capture: Vec<(&'static str, &'static str)>,
    },
}

/// A named scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub about: &'static str,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn new(name: &'static str, about: &'static str) -> Self {
        Scenario {
            name,
            about,
            steps: Vec::new(),
        }
    }

    /// The services the scenario's calls go to, in order of first use.
    pub fn services(&self) -> Vec<Service> {
        let mut out = Vec::new();
        for step in &self.steps {
            if let Step::Call { service, .. } = step {
                if !out.contains(service) {
                    out.push(*service);
                }
            }
        }
        out
    }

    /// A License Manager call.
    pub fn call(mut self, who: &'static str, op: &'static str, body: Value, expect: &'static str) -> Self {
        self.steps.push(Step::Call {
            who,
            service: Service::LicenseManager,
            op,
            body: Body::Json(body),
            expect,
            capture: vec![],
        });
        self
    }

    /// A call with raw bytes as its body.
    pub fn raw(
        mut self,
        who: &'static str,
        service: Service,
        op: &'static str,
        body: &[u8],
        expect: &'static str,
    ) -> Self {
        self.steps.push(Step::Call {
            who,
            service,
            op,
            body: Body::Raw(body.to_vec()),
            expect,
            capture: vec![],
        });
        self
    }

    /// An EVS call.
    pub fn evs(mut self, who: &'static str, op: &'static str, body: Value, expect: &'static str) -> Self {
        self.steps.push(Step::Call {
            who,
            service: Service::Evs,
            op,
            body: Body::Json(body),
            expect,
            capture: vec![],
        });
        self
    }

    pub fn event(mut self, event: Value) -> Self {
        self.steps.push(Step::Event {
            event,
            capture: vec![],
        });
        self
    }

    pub fn advance(self, seconds: i64) -> Self {
        self.event(json!({"event": "advance_clock", "seconds": seconds}))
    }

    /// Remembers `pointer` of the last step's reply as `{{name}}`.
    pub fn capture(mut self, name: &'static str, pointer: &'static str) -> Self {
        match self.steps.last_mut() {
            Some(Step::Call { capture, .. } | Step::Event { capture, .. }) => capture.push((name, pointer)),
            None => {}
        }
        self
    }
}

/// One executed step.
#[derive(Clone, Debug)]
pub struct StepRecord {
    pub index: usize,
    pub who: &'static str,
    pub service: Option<Service>,
    pub op: String,
    pub request: Value,
    pub expect: &'static str,
    pub response: Response,
}

/// A step whose outcome differed from what the scenario says.
#[derive(Clone, Debug)]
pub struct Failure {
    pub step: usize,
    pub op: String,
    pub expected: String,
    pub actual: String,
    pub body: Value,
}

/// What running one scenario produced.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    pub name: &'static str,
    /// The target's clock when the scenario started (what `{{t0+Ns}}` counts from).
    pub start_ms: i64,
    pub records: Vec<StepRecord>,
    pub failures: Vec<Failure>,
}

impl ScenarioRun {
    /// The transcript with ids and times normalized (see `normalize`).
    pub fn transcript(&self, start_ms: i64) -> Value {
        let mut n = Transcript::new(start_ms);
        let steps: Vec<Value> = self
            .records
            .iter()
            .map(|r| {
                let mut step = json!({ "step": r.index + 1, "caller": r.who, "operation": r.op, "request": n.value(&r.request) });
                step["status"] = json!(r.response.status);
                match &r.response.error_type {
                    Some(e) => step["error"] = json!(e),
                    None => step["reply"] = n.value(&r.response.body),
                }
                step
            })
            .collect();
        Value::Array(steps)
    }
}

/// `{{t0+Ns}}`: the instant N seconds after the scenario's start, as an input date.
fn relative_time(s: &str, t0_ms: i64) -> Option<String> {
    let seconds: i64 = s.strip_prefix("{{t0+")?.strip_suffix("s}}")?.parse().ok()?;
    Some(conform_model::timefmt::iso_millis(t0_ms + seconds * 1000))
}

/// `v` with `{{name}}` and `{{t0+Ns}}` filled in, and literal validity dates moved by `shift_ms`.
fn substitute(v: &Value, vars: &BTreeMap<&str, Value>, t0_ms: i64, shift_ms: i64) -> Value {
    if let Some(t) = v.as_str().and_then(|s| relative_time(s, t0_ms)) {
        return Value::String(t);
    }
    match v {
        Value::String(s) if s.starts_with("{{") && s.ends_with("}}") => {
            vars.get(&s[2..s.len() - 2]).cloned().unwrap_or_else(|| v.clone())
        }
        Value::String(s) if s.contains("{{") => {
            let mut out = s.clone();
            for (k, val) in vars {
                if let Some(text) = val.as_str() {
                    out = out.replace(&format!("{{{{{k}}}}}"), text);
                }
            }
            Value::String(out)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    // A literal validity date is written for a scenario starting at the model's
                    // default instant: it keeps its distance from the start on any clock.
                    let literal = x.as_str().filter(|_| ["Begin", "End"].contains(&k.as_str()));
                    let moved = literal.and_then(|t| crate::normalize::shift_time(t, shift_ms));
                    (
                        k.clone(),
                        moved.map_or_else(|| substitute(x, vars, t0_ms, shift_ms), Value::String),
                    )
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars, t0_ms, shift_ms)).collect()),
        other => other.clone(),
    }
}

/// Runs a scenario against a target, from a reset state.
pub fn run(target: &mut dyn Target, scenario: &Scenario) -> Result<ScenarioRun, InfraError> {
    target.reset()?;
    // The target's clock at the start, for `{{t0+Ns}}` dates; one we control starts on a sync
    // (SPEC 4.3), where the model's default instant is, so EVS syncs fall at the same offsets.
    let mut now = target.event(&Event::advance_seconds(0))?;
    if target.capabilities().clock {
        let interval = Policy::default().sync_interval_seconds.max(1) * 1000;
        let off_grid = now["now_ms"].as_i64().map_or(0, |ms| (-ms).rem_euclid(interval));
        if off_grid > 0 {
            now = target.event(&Event::AdvanceClock {
                seconds: 0,
                millis: off_grid,
            })?;
        }
    }
    let t0_ms = now["now_ms"]
        .as_i64()
        .unwrap_or(conform_model::clock::DEFAULT_START_MS);
    // On a clock we control, literal validity dates keep their distance from the start (they are
    // written for the model's default instant); elsewhere they are sent as written.
    let shift_ms = if target.capabilities().clock {
        t0_ms - conform_model::clock::DEFAULT_START_MS
    } else {
        0
    };
    let mut vars: BTreeMap<&str, Value> = BTreeMap::new();
    let mut records = Vec::new();
    let mut failures = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let (response, capture, who, service, op, request, expect) = match step {
            Step::Call {
                who,
                service,
                op,
                body,
                expect,
                capture,
            } => {
                let (bytes, shown) = match body {
                    Body::Json(v) => {
                        let v = substitute(v, &vars, t0_ms, shift_ms);
                        (v.to_string().into_bytes(), v)
                    }
                    Body::Raw(b) => (b.clone(), json!({ "raw": String::from_utf8_lossy(b) })),
                };
                let response = target.call(&caller(who), *service, op, &bytes)?;
                (
                    response,
                    capture,
                    *who,
                    Some(*service),
                    op.to_string(),
                    shown,
                    *expect,
                )
            }
            Step::Event { event, capture } => {
                let event_json = substitute(event, &vars, t0_ms, shift_ms);
                let parsed: Event = serde_json::from_value(event_json.clone()).map_err(|e| {
                    InfraError::Other(format!(
                        "scenario {} step {}: bad event: {e}",
                        scenario.name,
                        index + 1
                    ))
                })?;
                let body = target.event(&parsed)?;
                let response = Response {
                    status: 200,
                    error_type: None,
                    body,
                };
                (
                    response,
                    capture,
                    "control-plane",
                    None,
                    "event".to_string(),
                    event_json,
                    "ok",
                )
            }
        };
        if response.outcome() != expect {
            failures.push(Failure {
                step: index + 1,
                op: op.clone(),
                expected: expect.to_string(),
                actual: response.outcome().to_string(),
                body: response.body.clone(),
            });
        }
        for (name, pointer) in capture {
            if let Some(v) = response.body.pointer(pointer) {
                vars.insert(name, v.clone());
            }
        }
        records.push(StepRecord {
            index,
            who,
            service,
            op,
            request,
            expect,
            response,
        });
    }
    Ok(ScenarioRun {
        name: scenario.name,
        start_ms: t0_ms,
        records,
        failures,
    })
}

/// Runs a scenario against a target and against the reference model under `policy`, and adds
/// to the outcome checks of [`run`] the comparison generated steps get: every reply's body,
/// normalized on each side by its own bindings (SPEC, "What a harness compares"), within the
/// wall-clock tolerance on a target whose clock is not ours. Event results only teach the
/// bindings the ids they carry.
pub fn run_compared(
    target: &mut dyn Target,
    scenario: &Scenario,
    policy: &Policy,
) -> Result<ScenarioRun, InfraError> {
    let mut on_target = run(target, scenario)?;
    let mut model = crate::target::ModelTarget::new(1, policy.clone());
    let reference = run(&mut model, scenario)?;
    let tolerance = crate::driver::tolerance_of(target);
    let mut model_n = crate::normalize::Normalizer::new(reference.start_ms);
    let mut target_n = crate::normalize::Normalizer::new(on_target.start_ms);
    for (m, t) in reference.records.iter().zip(&on_target.records) {
        let expected = crate::driver::compare::reply_of(&m.response, &mut model_n);
        let actual = crate::driver::compare::reply_of(&t.response, &mut target_n);
        let failed = on_target.failures.iter().any(|f| f.step == t.index + 1);
        if t.service.is_none() || failed {
            continue;
        }
        let paths = crate::driver::differences_within(&expected, &actual, tolerance);
        if !paths.is_empty() {
            on_target.failures.push(Failure {
                step: t.index + 1,
                op: t.op.clone(),
                expected: format!("the model's reply {}", expected.body),
                actual: format!("differs at {}", paths.join(", ")),
                body: actual.body,
            });
        }
    }
    on_target.failures.sort_by_key(|f| f.step);
    Ok(on_target)
}
