//! What a campaign saw: scenarios, cases and their findings, the coverage table (operations
//! against the outcomes reached), the statuses reached and the goals the reference model reached.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::driver::{Classification, Execution, Finding};
use crate::gen::Step;
use crate::scenario::{Failure, ScenarioRun};
use crate::target::Capabilities;

/// One scenario's outcome.
#[derive(Clone, Debug)]
pub struct ScenarioReport {
    pub name: &'static str,
    pub about: &'static str,
    pub steps: usize,
    /// Steps whose outcome differed from the scenario's.
    pub failures: Vec<Failure>,
    /// Differences at steps where the model relied on `[P]` rules, on a target where those are
    /// observed rather than failed (real AWS), with the rules.
    pub observed: Vec<(Failure, Vec<String>)>,
}

/// A finding after shrinking and classification, with where its trace went.
#[derive(Clone, Debug, Serialize)]
pub struct FindingReport {
    pub case: u64,
    pub finding: Finding,
    /// Steps of the case up to the finding, before shrinking.
    pub original_steps: usize,
    /// Steps of the shrunk case.
    pub shrunk_steps: usize,
    /// Whether the case was shrunk (not on a target that cannot reset).
    pub shrunk: bool,
    /// Where the trace was written.
    pub trace: Option<PathBuf>,
    /// Later cases that failed the same way (same signature) and were not shrunk again.
    pub repeats: Vec<u64>,
    /// The shrunk case's steps.
    pub steps: Vec<Step>,
    /// The step weights the case was generated with (what `--mix` takes to draw it so again).
    pub mix: String,
    /// What shrinking did (`None`: not shrunk).
    pub shrinking: Option<crate::driver::Shrinking>,
    /// What later cases share to count as its repeats ([`super::repeat_key`] of the finding
    /// before shrinking and classification).
    pub key: String,
}

impl FindingReport {
    /// What shrinking did, for people.
    pub fn shrink_note(&self) -> String {
        if !self.shrunk {
            format!(
                "{} steps, not shrunk (the target cannot reset)",
                self.shrunk_steps
            )
        } else if self.shrunk_steps == self.original_steps {
            format!(
                "{} steps; shrinking removed none (already 1-minimal)",
                self.shrunk_steps
            )
        } else {
            let values = self.shrinking.as_ref().map_or(0, |s| s.values.len());
            format!(
                "shrunk from {} to {} steps{}",
                self.original_steps,
                self.shrunk_steps,
                if values > 0 {
                    format!(", {values} values lowered")
                } else {
                    String::new()
                }
            )
        }
    }
}

/// One generated case's outcome.
#[derive(Clone, Debug)]
pub struct CaseReport {
    pub case: u64,
    pub steps: usize,
    /// Index into [`Summary::findings`] of the finding this case produced or repeated.
    pub finding: Option<usize>,
}

/// Findings counted by class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClassCounts {
    pub hard_failure: usize,
    pub policy_divergence: usize,
    pub schema_violation: usize,
}

/// The requests of the generated cases, by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub sent: usize,
    pub succeeded: usize,
    /// Steps drawn to be invalid (a broken body, a constraint-derived case, or a request the
    /// model refused when it was drawn).
    pub invalid_on_purpose: usize,
    /// Of `sent`, the reads that ended the cases (not generated).
    pub read_back: usize,
    /// Of `succeeded`, the reads that ended the cases.
    pub read_back_succeeded: usize,
}

impl CallCounts {
    /// Percent of `n` in the requests sent.
    pub fn percent(&self, n: usize) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.sent as f64
        }
    }

    /// Generated requests (those sent, less the end-of-case reads) that succeeded.
    pub fn generated_succeeded(&self) -> usize {
        self.succeeded.saturating_sub(self.read_back_succeeded)
    }

    /// Percent of `n` in the generated requests (those sent, less the end-of-case reads).
    pub fn generated_percent(&self, n: usize) -> f64 {
        let generated = self.sent.saturating_sub(self.read_back);
        if generated == 0 {
            0.0
        } else {
            100.0 * n as f64 / generated as f64
        }
    }
}

/// How many cases reached each depth, per measure of [`crate::driver::Depth`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DepthCounts {
    pub license_versions: BTreeMap<usize, usize>,
    pub live_tokens: BTreeMap<usize, usize>,
    pub grants: BTreeMap<usize, usize>,
}

impl DepthCounts {
    fn add(&mut self, d: &crate::driver::Depth) {
        *self.license_versions.entry(d.license_versions).or_default() += 1;
        *self.live_tokens.entry(d.live_tokens).or_default() += 1;
        *self.grants.entry(d.grants).or_default() += 1;
    }

    /// Each measure as `name: value x cases, ...`.
    pub fn lines(&self) -> Vec<String> {
        let show = |name: &str, m: &BTreeMap<usize, usize>| {
            let cells: Vec<String> = m.iter().map(|(v, n)| format!("{v} x{n}")).collect();
            format!("{name:<36} {}", cells.join(", "))
        };
        vec![
            show("longest license version chain", &self.license_versions),
            show("most live tokens on one license", &self.live_tokens),
            show("most grants", &self.grants),
        ]
    }
}

/// Everything a run saw.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub scenarios: Vec<ScenarioReport>,
    pub cases: Vec<CaseReport>,
    pub findings: Vec<FindingReport>,
    pub skipped_cases: Vec<(u64, String)>,
    /// Steps a case left out, and why (time-dependent steps on a clock that cannot be aligned).
    pub warnings: Vec<(u64, String)>,
    pub steps: usize,
    /// Operation → outcome → count.
    pub coverage: BTreeMap<String, BTreeMap<String, usize>>,
    /// Statuses seen in replies (license, grant, entitlement, connector).
    pub statuses: BTreeSet<String>,
    /// Goal → how often the reference model reached it in the generated cases.
    pub goals: BTreeMap<String, u64>,
    /// Requests of the generated cases: sent, answered with success, invalid on purpose.
    pub calls: CallCounts,
    /// How deep the generated cases went: per measure, value → number of cases.
    pub depth: DepthCounts,
    /// Whether a policy divergence fails the run (`--strict-policy`).
    pub strict_policy: bool,
    /// Why the run stopped before its last case, if it did (the wall-time budget).
    pub stopped_early: Option<String>,
    /// The concurrent phase (`--clients N`), when one ran.
    pub concurrent: Option<crate::concurrent::Report>,
    /// What the target's control plane can do.
    pub capabilities: Capabilities,
    /// Scenarios not run, and why (a capability the target lacks, an operation it lacks).
    pub skipped_scenarios: Vec<(String, String)>,
    /// Operations in scope the target does not implement: operation → (why, calls that met it).
    pub not_implemented: BTreeMap<String, (String, usize)>,
    /// The run against `--baseline` (`None`: no baseline given).
    pub baseline: Option<crate::baseline::Comparison>,
    /// The shard this run was (`--shard K/N`; `None`: the whole run, or shards merged).
    pub shard: Option<crate::shard::Shard>,
}

const STATUS_KEYS: &[&str] = &[
    "Status",
    "GrantStatus",
    "ReceivedStatus",
    "status",
    "state",
    "environmentState",
];

fn collect_statuses(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (STATUS_KEYS.contains(&k.as_str()), x) {
                    (true, Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    _ => collect_statuses(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_statuses(x, out)),
        _ => {}
    }
}

impl Summary {
    fn count(&mut self, op: &str, outcome: &str, body: &Value) {
        *self
            .coverage
            .entry(op.to_string())
            .or_default()
            .entry(outcome.to_string())
            .or_default() += 1;
        collect_statuses(body, &mut self.statuses);
    }

    /// Records a scenario's replies in the coverage table, and its outcome.
    pub fn add_scenario(&mut self, run: &ScenarioRun, report: ScenarioReport) {
        for r in run.records.iter().filter(|r| r.service.is_some()) {
            self.count(&r.op, r.response.outcome(), &r.response.body);
        }
        self.scenarios.push(report);
    }

    /// Records the replies of an execution in the coverage table.
    pub fn add_execution(&mut self, e: &Execution) {
        let read_back_from = e.records.len().saturating_sub(e.read_backs);
        for (i, r) in e.records.iter().enumerate().filter(|(_, r)| r.who.is_some()) {
            let read_back = i >= read_back_from;
            self.calls.read_back += usize::from(read_back);
            self.calls.read_back_succeeded += usize::from(read_back && r.actual.error.is_none());
            let outcome = r.actual.error.clone().unwrap_or_else(|| "ok".into());
            self.count(&r.operation, &outcome, &r.actual.body);
            self.calls.sent += 1;
            self.calls.succeeded += usize::from(r.actual.error.is_none());
            self.calls.invalid_on_purpose += usize::from(r.step.invalid_on_purpose());
        }
        self.steps += e.records.len();
        for (goal, n) in &e.goals {
            *self.goals.entry(goal.clone()).or_default() += n;
        }
        self.depth.add(&e.depth);
    }

    /// Whether a finding of this class fails the run.
    pub fn fails(&self, classification: &Classification) -> bool {
        match classification {
            Classification::HardFailure | Classification::SchemaViolation => true,
            Classification::PolicyDivergence { .. } => self.strict_policy,
        }
    }

    /// The finding a case produced, if any.
    pub fn finding_of(&self, case: &CaseReport) -> Option<&FindingReport> {
        case.finding.and_then(|i| self.findings.get(i))
    }

    /// Cases that failed (under this run's strictness).
    fn case_failed(&self, case: &CaseReport) -> bool {
        self.finding_of(case)
            .is_some_and(|f| self.fails(&f.finding.classification))
    }

    /// (passed, failed) over scenarios, cases and concurrent rounds (a round fails with a
    /// violation; one whose search ran out of budget neither passes nor fails).
    pub fn totals(&self) -> (usize, usize) {
        let failed_s = self.scenarios.iter().filter(|s| !s.failures.is_empty()).count();
        let failed_c = self.cases.iter().filter(|c| self.case_failed(c)).count();
        let total = self.scenarios.len() + self.cases.len();
        let (passed_r, failed_r) = self.concurrent.as_ref().map_or((0, 0), |r| {
            let failed = r.findings.len();
            (r.rounds as usize - failed - r.rounds_unknown as usize, failed)
        });
        (
            total - failed_s - failed_c + passed_r,
            failed_s + failed_c + failed_r,
        )
    }

    /// Distinct findings by class, and the cases behind each class.
    pub fn counts(&self) -> (ClassCounts, ClassCounts) {
        let mut distinct = ClassCounts::default();
        let mut cases = ClassCounts::default();
        for f in &self.findings {
            let (d, c) = match f.finding.classification {
                Classification::HardFailure => (&mut distinct.hard_failure, &mut cases.hard_failure),
                Classification::PolicyDivergence { .. } => {
                    (&mut distinct.policy_divergence, &mut cases.policy_divergence)
                }
                Classification::SchemaViolation => {
                    (&mut distinct.schema_violation, &mut cases.schema_violation)
                }
            };
            *d += 1;
            *c += 1 + f.repeats.len();
        }
        (distinct, cases)
    }

    /// The exit code of a run: 0 conformant, 1 nonconformance found, 2 nothing tested.
    /// Against a baseline, only findings it does not accept fail.
    pub fn exit_code(&self) -> u8 {
        match (self.totals(), &self.baseline) {
            ((0, 0), _) => 2,
            (_, Some(b)) => u8::from(b.fails()),
            ((_, 0), None) => 0,
            _ => 1,
        }
    }
}

/// The goals a healthy run reaches ([`crate::audit::goals`]), each with whether the
/// generated cases reached it; those not reached mean the generation is weak.
pub fn goals(s: &Summary) -> Vec<(&'static str, bool)> {
    crate::audit::goals()
        .map(|g| (g.name, s.goals.contains_key(g.name)))
        .collect()
}
