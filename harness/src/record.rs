//! Recordings: the named scenario suite's transcripts as one target answered them (normalized,
//! with provenance), the reference model's `[P]` rules for every step beside them, diffs of a
//! replay against a recording with a reviewed list of accepted divergences, and the policy
//! report: for every `[P]` rule a recording exercised, which value the recorded target follows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use conform_model::{Caller, Event, Policy, PolicyRule, Service, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::driver::{self, diff_paths};
use crate::scenario::{self, Scenario, ScenarioRun};
use crate::target::{Capabilities, InfraError, Response, Target};

/// Where and when a recording was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub target: String,
    /// UTC, RFC 3339.
    pub date: String,
    pub region: Option<String>,
    pub tool: String,
    /// Whether the target's clock was ours (times exact) or the wall clock (times approximate).
    pub frozen_clock: bool,
    /// The reference model's policy the `policies` were taken under.
    pub policy: Policy,
    pub seed: u64,
}

/// One scenario as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub provenance: Provenance,
    pub scenario: String,
    pub about: String,
    /// The normalized transcript (`ScenarioRun::transcript`); empty when skipped.
    pub transcript: Value,
    /// For every step, the `[P]` rules the reference model's reply relied on.
    pub policies: Vec<Vec<PolicyRule>>,
    /// Steps whose outcome differed from the scenario's expectation.
    pub failures: Vec<String>,
    /// Why the target could not run the scenario, if it could not.
    pub skipped: Option<String>,
}

impl Recording {
    pub fn file_name(scenario: &str) -> String {
        format!("{scenario}.json")
    }

    pub fn write(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(Self::file_name(&self.scenario));
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Every recording in `dir`, by scenario name.
    pub fn read_dir(dir: &Path) -> Result<BTreeMap<String, Recording>, String> {
        let mut out = BTreeMap::new();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let r: Recording = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            out.insert(r.scenario.clone(), r);
        }
        if out.is_empty() {
            return Err(format!("{} holds no recordings", dir.display()));
        }
        Ok(out)
    }
}

/// Learns the instant a scenario starts at (its first clock reading) while passing everything on.
struct StartProbe<'a> {
    inner: &'a mut dyn Target,
    start_ms: Option<i64>,
}

impl Target for StartProbe<'_> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        op: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        self.inner.call(caller, service, op, body)
    }
    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        let v = self.inner.event(event)?;
        if self.start_ms.is_none() {
            self.start_ms = v["now_ms"].as_i64();
        }
        Ok(v)
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        self.inner.reset()
    }
}

/// Runs a scenario and returns its normalized transcript.
pub fn transcript(target: &mut dyn Target, s: &Scenario) -> Result<(ScenarioRun, Value), InfraError> {
    let mut probe = StartProbe {
        inner: target,
        start_ms: None,
    };
    let run = scenario::run(&mut probe, s)?;
    let start = probe.start_ms.unwrap_or(conform_model::clock::DEFAULT_START_MS);
    let t = run.transcript(start);
    Ok((run, t))
}

/// The reference model as a target that keeps, for every call, the `[P]` rules it relied on.
pub struct PolicyModel {
    world: World,
    seed: u64,
    policy: Policy,
    pub policies: Vec<Vec<PolicyRule>>,
}

impl PolicyModel {
    pub fn new(seed: u64, policy: Policy) -> Self {
        PolicyModel {
            world: World::new(seed, policy.clone()),
            seed,
            policy,
            policies: Vec::new(),
        }
    }
}

impl Target for PolicyModel {
    fn name(&self) -> String {
        "model".into()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }
    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        op: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let r = self.world.handle(caller, service, op, body);
        self.policies.push(r.policies.clone());
        Ok(Response::from(r))
    }
    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        let applied = self
            .world
            .apply(event.clone())
            .map_err(|e| InfraError::Other(format!("event refused: {e}")));
        // The scenario's first clock reading is not a step; every other event is one.
        if !(matches!(
            event,
            Event::AdvanceClock {
                seconds: 0,
                millis: 0
            }
        ) && self.policies.is_empty())
        {
            self.policies.push(Vec::new());
        }
        applied
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        self.world = World::new(self.seed, self.policy.clone());
        self.policies.clear();
        Ok(())
    }
}

/// Records one scenario against `target`, with the model's rules per step under `policy`.
pub fn record(
    target: &mut dyn Target,
    s: &Scenario,
    provenance: &Provenance,
    skip: &dyn Fn(&InfraError) -> bool,
) -> Result<Recording, InfraError> {
    let mut model = PolicyModel::new(provenance.seed, provenance.policy.clone());
    scenario::run(&mut model, s)?;
    let (transcript, failures, skipped) = match transcript(target, s) {
        Ok((run, t)) => (
            t,
            run.failures
                .iter()
                .map(|f| {
                    format!(
                        "step {} {}: expected {}, got {}",
                        f.step, f.op, f.expected, f.actual
                    )
                })
                .collect(),
            None,
        ),
        Err(e) if skip(&e) => (Value::Array(vec![]), vec![], Some(e.to_string())),
        Err(e) => return Err(e),
    };
    Ok(Recording {
        provenance: provenance.clone(),
        scenario: s.name.to_string(),
        about: s.about.to_string(),
        transcript,
        policies: model.policies,
        failures,
        skipped,
    })
}

/// One difference between a recorded transcript and a replay's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    pub scenario: String,
    /// JSON pointer into the transcript (`/3/reply/License/Status`).
    pub path: String,
    pub recorded: Value,
    pub replayed: Value,
}

impl Divergence {
    /// The line that accepts this divergence in an `--accepted` file.
    pub fn accepted_entry(&self) -> String {
        json!({"scenario": self.scenario, "path": self.path}).to_string()
    }
}

/// A reviewed list of accepted divergences: one JSON object per line with `scenario` and `path`
/// (and optionally `why`); `#` lines and blank lines are comments.
#[derive(Clone, Debug, Default)]
pub struct Accepted(BTreeSet<(String, String)>);

impl Accepted {
    pub fn parse(text: &str) -> Result<Accepted, String> {
        let mut set = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
            let field = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("line {}: no \"{k}\"", i + 1))
            };
            set.insert((field("scenario")?, field("path")?));
        }
        Ok(Accepted(set))
    }

    pub fn contains(&self, d: &Divergence) -> bool {
        self.0.contains(&(d.scenario.clone(), d.path.clone()))
    }
}

/// The differences between two transcripts of one scenario; times within `tolerance_seconds`
/// count as equal when either side ran on the wall clock.
pub fn diff(
    scenario: &str,
    recorded: &Value,
    replayed: &Value,
    tolerance_seconds: Option<i64>,
) -> Vec<Divergence> {
    let mut paths = Vec::new();
    diff_paths(recorded, replayed, "", &mut paths);
    paths
        .into_iter()
        .filter_map(|path| {
            let r = recorded.pointer(&path).cloned().unwrap_or(Value::Null);
            let p = replayed.pointer(&path).cloned().unwrap_or(Value::Null);
            if let (Some(tol), Some(a), Some(b)) = (
                tolerance_seconds,
                driver::normalized_time_ms(&r),
                driver::normalized_time_ms(&p),
            ) {
                if (a - b).abs() <= tol * 1000 {
                    return None;
                }
            }
            Some(Divergence {
                scenario: scenario.to_string(),
                path: if path.is_empty() { "/".into() } else { path },
                recorded: r,
                replayed: p,
            })
        })
        .collect()
}

/// The policy switch (`Policy::alternatives` name before `=`) a rule is decided by.
pub fn switch_of(rule: PolicyRule) -> Option<&'static str> {
    Some(rule.switch())
}

/// What the recording says about one `[P]` rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFinding {
    /// The rule as the model names it (snake_case).
    pub rule: String,
    /// Steps of the recording whose model reply relied on it.
    pub steps: usize,
    /// The switch that decides it, if the model has one.
    pub switch: Option<String>,
    /// The model's value under the recording's policy.
    pub model_value: Option<String>,
    /// The value the recorded target follows; `None` when no modelled value explains it.
    pub follows: Option<String>,
    /// Whether the target follows another value than the model's.
    pub differs: bool,
    /// Transcript steps that disagree with the model under each value, for the reader.
    pub mismatches: BTreeMap<String, usize>,
}

/// Steps of `recorded` that differ from the model's transcript under `policy`.
fn mismatching_steps(
    recordings: &BTreeMap<String, Recording>,
    scenarios: &[Scenario],
    policy: &Policy,
    seed: u64,
) -> Result<usize, InfraError> {
    let mut count = 0;
    for s in scenarios {
        let Some(rec) = recordings.get(s.name).filter(|r| r.skipped.is_none()) else {
            continue;
        };
        let mut model = PolicyModel::new(seed, policy.clone());
        let (_, t) = transcript(&mut model, s)?;
        let tolerance = (!rec.provenance.frozen_clock).then_some(driver::WALL_CLOCK_TOLERANCE_SECONDS);
        let empty = vec![];
        let (a, b) = (
            rec.transcript.as_array().unwrap_or(&empty),
            t.as_array().unwrap_or(&empty),
        );
        for i in 0..a.len().max(b.len()) {
            let (x, y) = (a.get(i).unwrap_or(&Value::Null), b.get(i).unwrap_or(&Value::Null));
            if !diff(s.name, x, y, tolerance).is_empty() {
                count += 1;
            }
        }
    }
    Ok(count)
}

/// For every `[P]` rule the recordings exercised: which value the recorded target follows, found
/// by replaying the scenarios on the model under each single-switch alternative of the
/// recording's policy and keeping the value that leaves the fewest steps unexplained.
pub fn policy_report(
    recordings: &BTreeMap<String, Recording>,
    scenarios: &[Scenario],
) -> Result<Vec<RuleFinding>, InfraError> {
    let Some(first) = recordings.values().next() else {
        return Ok(Vec::new());
    };
    let base = first.provenance.policy.clone();
    let seed = first.provenance.seed;
    let mut exercised: BTreeMap<PolicyRule, usize> = BTreeMap::new();
    for r in recordings.values().filter(|r| r.skipped.is_none()) {
        for rule in r.policies.iter().flatten() {
            *exercised.entry(*rule).or_default() += 1;
        }
    }
    let base_mismatches = mismatching_steps(recordings, scenarios, &base, seed)?;
    let base_json = serde_json::to_value(&base).map_err(|e| InfraError::Other(e.to_string()))?;
    let alternatives = base.alternatives();
    let mut out = Vec::new();
    for (rule, steps) in exercised {
        let name = serde_json::to_value(rule)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{rule:?}"));
        let switch = switch_of(rule);
        let model_value = switch.and_then(|s| base_json.get(s)).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let mut mismatches = BTreeMap::new();
        if let Some(model_value) = &model_value {
            mismatches.insert(model_value.clone(), base_mismatches);
        }
        for (alt, policy) in alternatives
            .iter()
            .filter(|(alt, _)| switch.is_some_and(|s| alt.split_once('=').is_some_and(|(k, _)| k == s)))
        {
            let value = alt
                .split_once('=')
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            mismatches.insert(value, mismatching_steps(recordings, scenarios, policy, seed)?);
        }
        // The value that explains the most steps; the model's own value wins ties, so a rule
        // is only reported as different when another value explains strictly more.
        let best = mismatches.values().min().copied();
        let follows = match (&model_value, best) {
            (Some(m), Some(b)) if mismatches.get(m) == Some(&b) => Some(m.clone()),
            (_, Some(b)) => mismatches.iter().find(|(_, n)| **n == b).map(|(v, _)| v.clone()),
            (_, None) => None,
        };
        let differs = follows.is_some() && follows != model_value;
        out.push(RuleFinding {
            rule: name,
            steps,
            switch: switch.map(str::to_string),
            model_value,
            follows,
            differs,
            mismatches,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_within_the_tolerance_are_not_divergences() {
        let a = json!([{"reply": {"IssuedAt": "<t0+0s>", "Status": "AVAILABLE"}}]);
        let b = json!([{"reply": {"IssuedAt": "<t0+2s>", "Status": "DELETED"}}]);
        let d = diff("s", &a, &b, Some(60));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "/0/reply/Status");
        assert_eq!(diff("s", &a, &b, None).len(), 2);
        let accepted = Accepted::parse(&format!("# reviewed\n{}\n", d[0].accepted_entry())).unwrap();
        assert!(accepted.contains(&d[0]));
    }

    #[test]
    fn the_driver_tolerates_times_only_on_wall_clock_targets() {
        let reply = |t: &str, status: &str| driver::Reply {
            status: 200,
            error: None,
            body: json!({"License": {"IssuedAt": t, "Status": status}}),
        };
        let (model, target) = (reply("<t0+0s>", "AVAILABLE"), reply("<t0+1500ms>", "AVAILABLE"));
        assert_eq!(
            driver::differences_within(&model, &target, None),
            ["/License/IssuedAt"]
        );
        assert!(driver::differences_within(&model, &target, Some(60)).is_empty());
        let late = reply("<t0+61s>", "DELETED");
        assert_eq!(
            driver::differences_within(&model, &late, Some(60)),
            ["/License/IssuedAt", "/License/Status"]
        );
    }

    #[test]
    fn the_policy_model_keeps_one_rule_list_per_step() {
        let s = crate::scenarios::all().into_iter().next().unwrap();
        let mut m = PolicyModel::new(1, Policy::default());
        scenario::run(&mut m, &s).unwrap();
        assert_eq!(m.policies.len(), s.steps.len());
    }
}
