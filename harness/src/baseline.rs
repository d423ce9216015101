//! Baselines: a reviewed list of accepted findings, each keyed by a stable signature (the
//! operation, the classification, and the `[P]` rules the model relied on or else the differing
//! JSON paths; never the seed or the case), so an emulator's CI fails only on new findings and
//! reports the ones fixed. `conform baseline REPORT` writes one from a JSON report (its
//! `signatures`); `conform run --baseline FILE` compares a run with it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::campaign::Summary;
use crate::driver::{Classification, Finding};

/// The stable signature of a finding.
pub fn finding_signature(f: &Finding) -> String {
    let class = match &f.classification {
        Classification::HardFailure => "hard_failure".to_string(),
        Classification::SchemaViolation => "schema_violation".to_string(),
        Classification::PolicyDivergence { switch } => format!("policy_divergence({switch})"),
    };
    let detail = if f.rules.is_empty() {
        format!("paths {}", f.paths.join(","))
    } else {
        format!("rules {}", f.rules.join(","))
    };
    format!("{} | {class} | {detail}", f.operation)
}

/// One signature of a run and whether it fails the run on its own (under its strictness).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signed {
    pub signature: String,
    pub fails: bool,
}

/// Every signature of a run: its findings, its failed scenario steps, the operations the target
/// does not implement.
pub fn signatures(s: &Summary) -> BTreeSet<Signed> {
    let mut out = BTreeSet::new();
    for f in &s.findings {
        out.insert(Signed {
            signature: finding_signature(&f.finding),
            fails: s.fails(&f.finding.classification),
        });
    }
    for r in &s.scenarios {
        for f in &r.failures {
            out.insert(Signed {
                signature: format!(
                    "scenario {} | step {} {} | expected {}",
                    r.name, f.step, f.op, f.expected
                ),
                fails: true,
            });
        }
    }
    for op in s.not_implemented.keys() {
        out.insert(Signed {
            signature: format!("{op} | not_implemented"),
            fails: false,
        });
    }
    out
}

/// A baseline file: the accepted signatures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub accepted: BTreeSet<String>,
}

impl Baseline {
    /// The baseline of a JSON report (`json_report`'s `signatures`).
    pub fn from_report(report: &serde_json::Value) -> Result<Baseline, String> {
        let sigs = report
            .get("signatures")
            .and_then(|v| v.as_array())
            .ok_or("the report has no `signatures` (written by a conform without baselines?)")?;
        let accepted = sigs
            .iter()
            .filter_map(|s| s.get("signature").and_then(|x| x.as_str()).map(str::to_string))
            .collect();
        Ok(Baseline { accepted })
    }

    pub fn from_json(text: &str) -> Result<Baseline, String> {
        serde_json::from_str(text).map_err(|e| format!("baseline: {e}"))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// A run against the baseline.
    pub fn compare(&self, s: &Summary) -> Comparison {
        let now = signatures(s);
        let seen: BTreeSet<&str> = now.iter().map(|x| x.signature.as_str()).collect();
        Comparison {
            new: now
                .iter()
                .filter(|x| !self.accepted.contains(&x.signature))
                .cloned()
                .collect(),
            known: now
                .iter()
                .filter(|x| self.accepted.contains(&x.signature))
                .map(|x| x.signature.clone())
                .collect(),
            fixed: self
                .accepted
                .iter()
                .filter(|a| !seen.contains(a.as_str()))
                .cloned()
                .collect(),
        }
    }
}

/// What a run found against a baseline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Signatures the baseline does not accept.
    pub new: Vec<Signed>,
    /// Accepted signatures seen again.
    pub known: Vec<String>,
    /// Accepted signatures the run did not see: fixed (or not reached).
    pub fixed: Vec<String>,
}

impl Comparison {
    /// Whether a new signature fails the run.
    pub fn fails(&self) -> bool {
        self.new.iter().any(|x| x.fails)
    }
}
