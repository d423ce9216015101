//! The seed-driven driver: generate a case on the reference model, run it against a target step
//! by step, compare every reply with the model's after normalization, and classify the first
//! difference.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use conform_model::{Caller, Event, Policy, Service, World};

use crate::gen::{case_fixtures, concretize, Concrete, Generator, Known, Step, Weights, Who};
use crate::normalize::Normalizer;
use crate::target::{InfraError, Response, Target};

/// What a run generates and where.
#[derive(Clone, Debug)]
pub struct CaseConfig {
    pub seed: u64,
    pub max_steps: usize,
    pub policy: Policy,
    pub services: Vec<Service>,
    /// Whether the target takes environment events (clock, fixtures).
    pub events: bool,
}

impl CaseConfig {
    /// The namespace of case `case`: its SKUs, issuer and beneficiaries.
    pub fn namespace(&self, case: u64) -> String {
        format!("s{}c{case}", self.seed)
    }

    /// The seed of case `case`.
    pub fn case_seed(&self, case: u64) -> u64 {
        self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(case)
    }
}

/// How a difference is classified (DESIGN: three vocabularies stay apart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Classification {
    /// A documented or observed rule is broken.
    HardFailure,
    /// The target behaves like the model under another value of a `[P]` switch.
    PolicyDivergence { switch: String },
    /// The reply agrees with the model after normalization but breaks its JSON Schema.
    SchemaViolation,
}

/// The first step where the target differed from the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// 1-based index of the step.
    pub step: usize,
    pub operation: String,
    pub classification: Classification,
    pub expected: Reply,
    pub actual: Reply,
    /// JSON paths that differ.
    pub paths: Vec<String>,
    /// The `[P]` rules the model's reply relied on.
    pub rules: Vec<String>,
}

/// A normalized reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub status: u16,
    pub error: Option<String>,
    pub body: Value,
}

/// One executed step, both sides normalized.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub step: Step,
    pub operation: String,
    pub who: Option<Who>,
    pub expected: Reply,
    pub actual: Reply,
}

/// A case run: its steps, what happened, and the finding if any.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Execution {
    pub records: Vec<Record>,
    pub finding: Option<Finding>,
}

/// The generator's view of a case: a reference model and the ids it has handed out, advanced
/// step by step so the next step can pick from what exists.
#[derive(Clone, Debug)]
pub struct GenState {
    ns: String,
    world: World,
    known: Known,
}

impl GenState {
    pub fn new(cfg: &CaseConfig, case: u64) -> GenState {
        let mut world = World::new(cfg.case_seed(case), cfg.policy.clone());
        if cfg.events {
            for f in case_fixtures() {
                apply_event(&mut world, &f);
            }
        }
        GenState {
            ns: cfg.namespace(case),
            world,
            known: Known::default(),
        }
    }

    pub fn known(&self) -> &Known {
        &self.known
    }

    /// Runs `step` on the reference model and learns the ids it hands out.
    pub fn advance(&mut self, step: &Step) {
        let concrete = concretize(step, &self.ns, &self.known, &self.world);
        let reply = reference_call(&mut self.world, &concrete);
        self.known.learn(&concrete, &reply.body);
    }
}

/// Generates the steps of case `case` by running the generator against the reference model.
pub fn generate(cfg: &CaseConfig, case: u64) -> Vec<Step> {
    let mut gen = Generator::new(
        cfg.case_seed(case),
        Weights::default(),
        cfg.services.clone(),
        cfg.events,
    );
    let mut state = GenState::new(cfg, case);
    let mut steps = Vec::with_capacity(cfg.max_steps);
    for _ in 0..cfg.max_steps {
        let step = gen.step(state.known());
        state.advance(&step);
        steps.push(step);
    }
    steps
}

fn apply_event(world: &mut World, event: &Value) -> Value {
    match serde_json::from_value::<Event>(event.clone()) {
        Ok(e) => world.apply(e).unwrap_or_else(|e| e.body(Service::LicenseManager)),
        Err(e) => Value::String(format!("bad event: {e}")),
    }
}

fn caller(who: Who) -> Caller {
    Caller::new(who.account(), "us-east-1")
}

/// The reference model's reply to a concrete step.
fn reference_call(world: &mut World, concrete: &Concrete) -> Response {
    match concrete {
        Concrete::Call {
            who,
            service,
            op,
            body,
        } => {
            let r = world.handle(&caller(*who), *service, op, body);
            Response {
                status: r.status,
                error_type: r.error_type().map(str::to_string),
                body: r.body,
            }
        }
        Concrete::Event(e) => Response {
            status: 200,
            error_type: None,
            body: apply_event(world, e),
        },
    }
}

/// Rewrites the reference model's ids in `v` into the target's, through the placeholders both
/// normalizers gave them.
fn translate(v: &Value, model: &Normalizer, target: &Normalizer) -> Value {
    match v {
        Value::String(s) => match model.lookup(s).and_then(|p| target.reverse(p)) {
            Some(t) => Value::String(t.to_string()),
            None => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| translate(x, model, target)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), translate(x, model, target)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn translate_body(body: &[u8], model: &Normalizer, target: &Normalizer) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => translate(&v, model, target).to_string().into_bytes(),
        _ => body.to_vec(),
    }
}

/// Paths where two JSON values differ.
pub fn diff_paths(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => diff_paths(l, r, &p, out),
                    _ => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                diff_paths(l, r, &format!("{path}/{i}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        }),
    }
}

/// Schema violations of a target's reply (check 1 of 3), as `path: message`. Protocol faults
/// have no schema; unmodelled members are warnings, not violations.
fn schema_violations(service: Service, op: &str, r: &Response) -> Vec<String> {
    let Some(direction) = crate::specs::Direction::of_reply(r.error_type.as_deref()) else {
        return Vec::new();
    };
    let report = crate::specs::Specs::load().validate(service, op, direction, &r.body);
    report
        .violations
        .iter()
        .map(|v| format!("schema {}: {}", v.path, v.message))
        .collect()
}

/// Compares the normalized replies: status and error type always; bodies of successes only
/// (error messages are never compared, SPEC 1.2).
fn differences(expected: &Reply, actual: &Reply) -> Vec<String> {
    let mut paths = Vec::new();
    if expected.status != actual.status {
        paths.push("status".into());
    }
    if expected.error != actual.error {
        paths.push("__type".into());
    }
    if paths.is_empty() && expected.error.is_none() {
        diff_paths(&expected.body, &actual.body, "", &mut paths);
    }
    paths
}

/// How far apart two times may be on a target that runs on the wall clock (requests take time,
/// and its clock is not ours).
pub const WALL_CLOCK_TOLERANCE_SECONDS: i64 = 60;

fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A normalized time (`<t0+5s>`, `<t0-250ms>`) in milliseconds from the start.
pub fn normalized_time_ms(v: &Value) -> Option<i64> {
    let inner = v.as_str()?.strip_prefix("<t0")?.strip_suffix('>')?;
    if let Some(ms) = inner.strip_suffix("ms") {
        return ms.parse().ok();
    }
    inner.strip_suffix('s')?.parse::<i64>().ok().map(|s| s * 1000)
}

/// As [`differences`], where normalized times within `tolerance_seconds` of each other count
/// as equal.
pub fn differences_within(expected: &Reply, actual: &Reply, tolerance_seconds: Option<i64>) -> Vec<String> {
    let paths = differences(expected, actual);
    let Some(tolerance) = tolerance_seconds else {
        return paths;
    };
    paths
        .into_iter()
        .filter(|p| {
            let at = |r: &Reply| r.body.pointer(p).and_then(normalized_time_ms);
            match (at(expected), at(actual)) {
                (Some(e), Some(a)) => (e - a).abs() > tolerance * 1000,
                _ => true,
            }
        })
        .collect()
}

fn reply_of(r: &Response, n: &mut Normalizer) -> Reply {
    Reply {
        status: r.status,
        error: r.error_type.clone(),
        body: if r.error_type.is_some() {
            Value::Null
        } else {
            n.value(&r.body)
        },
    }
}

/// Runs `steps` against `target` with the model as reference; stops at the first difference.
pub fn execute(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: &[Step],
) -> Result<Execution, InfraError> {
    execute_with(target, cfg, case, steps, &cfg.policy)
}

fn execute_with(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: &[Step],
    policy: &Policy,
) -> Result<Execution, InfraError> {
    let mut session = Session::start(target, cfg, case, policy)?;
    let mut records = Vec::with_capacity(steps.len());
    for step in steps {
        let (record, finding) = session.step(target, step)?;
        records.push(record);
        if finding.is_some() {
            return Ok(Execution { records, finding });
        }
    }
    Ok(Execution {
        records,
        finding: None,
    })
}

/// One case in progress: the reference model beside the target, the ids both have handed out,
/// and the normalizers that pair them. Steps run one at a time, so both the seed-driven driver
/// and a proptest state machine can drive it.
pub struct Session {
    ns: String,
    world: World,
    known: Known,
    model_n: Normalizer,
    target_n: Normalizer,
    index: usize,
    /// `None` on a target whose clock we set (times compare exactly); else the wall-clock
    /// tolerance in seconds.
    tolerance_seconds: Option<i64>,
}

impl Session {
    /// Resets the target (where it can), aligns the reference model's clock with the target's
    /// and seeds the case's fixtures on both.
    pub fn start(
        target: &mut dyn Target,
        cfg: &CaseConfig,
        case: u64,
        policy: &Policy,
    ) -> Result<Session, InfraError> {
        let mut world = World::new(cfg.case_seed(case), policy.clone());
        if target.capabilities().reset {
            target.reset()?;
        }
        let frozen = target.capabilities().clock;
        // Both clocks start the case at the same instant, so times compare exactly; a target
        // without a clock of ours runs on the wall clock, and times compare within a tolerance.
        let target_ms = if frozen {
            let now = target.event(&Event::advance_seconds(0))?;
            now["now_ms"]
                .as_i64()
                .ok_or_else(|| InfraError(format!("the target's clock answered {now}")))?
        } else {
            wall_clock_ms()
        };
        let delta = target_ms - world.now_ms();
        if delta > 0 {
            world
                .apply(Event::AdvanceClock {
                    seconds: 0,
                    millis: delta,
                })
                .map_err(|e| InfraError(e.to_string()))?;
        }
        let start = world.now_ms();
        if cfg.events {
            for f in case_fixtures() {
                apply_event(&mut world, &f);
                target.event(&serde_json::from_value(f).map_err(|e| InfraError(e.to_string()))?)?;
            }
        }
        Ok(Session {
            ns: cfg.namespace(case),
            world,
            known: Known::default(),
            model_n: Normalizer::new(start),
            target_n: Normalizer::new(start),
            index: 0,
            tolerance_seconds: (!frozen).then_some(WALL_CLOCK_TOLERANCE_SECONDS),
        })
    }

    /// The reference model's state.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The ids the case has so far.
    pub fn known(&self) -> &Known {
        &self.known
    }

    /// Runs one step on both sides and compares; the finding when they differ.
    pub fn step(
        &mut self,
        target: &mut dyn Target,
        step: &Step,
    ) -> Result<(Record, Option<Finding>), InfraError> {
        self.index += 1;
        let concrete = concretize(step, &self.ns, &self.known, &self.world);
        let (who, operation, expected_raw, relied, actual_raw) = match &concrete {
            Concrete::Call {
                who,
                service,
                op,
                body,
            } => {
                let r = self.world.handle(&caller(*who), *service, op, body);
                let relied: Vec<String> = r.policies.iter().map(|p| format!("{p:?}")).collect();
                let expected = Response {
                    status: r.status,
                    error_type: r.error_type().map(str::to_string),
                    body: r.body,
                };
                let sent = translate_body(body, &self.model_n, &self.target_n);
                let actual = target.call(&caller(*who), *service, op, &sent)?;
                (Some(*who), op.clone(), expected, relied, actual)
            }
            Concrete::Event(e) => {
                let expected = Response {
                    status: 200,
                    error_type: None,
                    body: apply_event(&mut self.world, e),
                };
                let translated = translate(e, &self.model_n, &self.target_n);
                let event: Event =
                    serde_json::from_value(translated).map_err(|e| InfraError(e.to_string()))?;
                let body = target.event(&event)?;
                let name = e["event"].as_str().unwrap_or("event").to_string();
                (
                    None,
                    name,
                    expected,
                    vec![],
                    Response {
                        status: 200,
                        error_type: None,
                        body,
                    },
                )
            }
        };
        self.known.learn(&concrete, &expected_raw.body);
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
        let record = Record {
            step: step.clone(),
            operation: operation.clone(),
            who,
            expected: expected.clone(),
            actual: actual.clone(),
        };
        if paths.is_empty() && schema.is_empty() {
            let finding = self.read_back(target, &concrete, &expected_raw)?;
            return Ok((record, finding));
        }
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

    /// Check 3: the invariants of SPEC 3.10, observed on the target. After a step that moves
    /// usage (a checkout, check-in, extension, new version, or the clock), both sides are asked
    /// for GetLicenseUsage of the licenses involved and must agree; the model's counts keep the
    /// invariants, so a target whose counts differ has broken one.
    fn read_back(
        &mut self,
        target: &mut dyn Target,
        concrete: &Concrete,
        reply: &Response,
    ) -> Result<Option<Finding>, InfraError> {
        if reply.error_type.is_some() {
            return Ok(None);
        }
        let licenses: Vec<String> = match concrete {
            Concrete::Call { op, body, .. } => match op.as_str() {
                "CheckoutLicense" | "CheckoutBorrowLicense" => reply.body["LicenseArn"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                "CreateLicenseVersion" => reply.body["LicenseArn"]
                    .as_str()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                "CheckInLicense" | "ExtendLicenseConsumption" => {
                    let token: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                    let id = token["LicenseConsumptionToken"].as_str().unwrap_or_default();
                    let lm = self.world.lm();
                    lm.tokens()
                        .iter()
                        .find(|t| t.id == id)
                        .map(|t| lm.license(t.license).arn.clone())
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            },
            Concrete::Event(e) if e["event"] == "advance_clock" => {
                self.known.licenses.iter().rev().take(3).cloned().collect()
            }
            Concrete::Event(_) => Vec::new(),
        };
        for arn in licenses {
            // The issuer reads its own licenses; Marketplace licenses are read by their buyer.
            let who = if arn.contains(&format!("::{}:", Who::Seller.account())) {
                Who::Seller
            } else {
                Who::Buyer
            };
            let body = serde_json::json!({ "LicenseArn": arn });
            let r = self.world.handle(
                &caller(who),
                Service::LicenseManager,
                "GetLicenseUsage",
                body.to_string().as_bytes(),
            );
            if r.is_error() {
                continue;
            }
            let expected_raw = Response {
                status: r.status,
                error_type: None,
                body: r.body,
            };
            let sent = translate(&body, &self.model_n, &self.target_n)
                .to_string()
                .into_bytes();
            let actual_raw = target.call(&caller(who), Service::LicenseManager, "GetLicenseUsage", &sent)?;
            let expected = reply_of(&expected_raw, &mut self.model_n);
            let actual = reply_of(&actual_raw, &mut self.target_n);
            let paths = differences_within(&expected, &actual, self.tolerance_seconds);
            if !paths.is_empty() {
                return Ok(Some(Finding {
                    step: self.index,
                    operation: "GetLicenseUsage (read-back)".into(),
                    classification: Classification::HardFailure,
                    expected,
                    actual,
                    paths,
                    rules: vec!["Usage".into()],
                }));
            }
        }
        Ok(None)
    }
}

/// Every single-switch alternative of `base`, each named `switch=value` (`Policy::alternatives`),
/// for classifying differences.
pub fn policy_alternatives(base: &Policy) -> Vec<(String, Policy)> {
    base.alternatives()
}

/// Classifies a finding: a policy divergence when the model under one other switch value
/// answers what the target answered at that step.
pub fn classify(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: &[Step],
    finding: &Finding,
) -> Result<Classification, InfraError> {
    if finding.classification == Classification::SchemaViolation {
        return Ok(Classification::SchemaViolation);
    }
    let prefix = &steps[..finding.step];
    for (name, policy) in policy_alternatives(&cfg.policy) {
        let mut alt = crate::target::ModelTarget::new(cfg.case_seed(case) ^ 1, policy.clone());
        let alt_run = execute_with(&mut alt, cfg, case, prefix, &cfg.policy)?;
        let Some(alt_record) = alt_run.records.get(finding.step - 1) else {
            continue;
        };
        // Where the alternative model agrees with the target at the failing step, and agreed
        // with nothing less before it, the switch explains the difference.
        if differences(&alt_record.actual, &finding.actual).is_empty() {
            return Ok(Classification::PolicyDivergence { switch: name });
        }
    }
    let _ = target;
    Ok(Classification::HardFailure)
}

/// Shrinks a failing case to a 1-minimal one: no single step can be removed and still fail the
/// same way (same operation, same classification).
pub fn shrink(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: Vec<Step>,
    finding: &Finding,
) -> Result<(Vec<Step>, Finding), InfraError> {
    let same = |f: &Finding| f.operation == finding.operation;
    let mut best = steps[..finding.step].to_vec();
    let mut best_finding = finding.clone();
    // Chunks first, halving, then single steps until nothing more can go.
    let mut chunk = (best.len() / 2).max(1);
    loop {
        let mut removed_any = false;
        let mut i = 0;
        while i < best.len() {
            let end = (i + chunk).min(best.len());
            let mut candidate = best.clone();
            candidate.drain(i..end);
            if candidate.is_empty() {
                i = end;
                continue;
            }
            match execute(target, cfg, case, &candidate)?.finding {
                Some(f) if same(&f) => {
                    candidate.truncate(f.step);
                    best = candidate;
                    best_finding = f;
                    removed_any = true;
                }
                _ => i = end,
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        if !removed_any {
            chunk = (chunk / 2).max(1);
        }
    }
    Ok((best, best_finding))
}
