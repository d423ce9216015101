//! The JSON report: everything the console shows, plus each finding's shrunk length, trace path
//! and repeats.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::Reporter;
use crate::campaign::{goals, Summary};

/// The report as a JSON value.
pub fn json_report(s: &Summary) -> Value {
    let (passed, failed) = s.totals();
    let (distinct, cases) = s.counts();
    json!({
        "passed": passed,
        "failed": failed,
        "exit_code": s.exit_code(),
        "strict_policy": s.strict_policy,
        "stopped_early": s.stopped_early,
        "scenarios": s.scenarios.iter().map(|r| json!({
            "name": r.name,
            "steps": r.steps,
            "failed_steps": r.failures.iter().map(|f| json!({"step": f.step, "operation": f.op, "expected": f.expected, "actual": f.actual})).collect::<Vec<_>>(),
            "failures": r.failures.iter().map(|f| format!("step {} {}: expected {}, got {}", f.step, f.op, f.expected, f.actual)).collect::<Vec<_>>(),
            "observed": r.observed.iter().map(|(f, rules)| json!({"step": f.step, "operation": f.op, "expected": f.expected, "actual": f.actual, "rules": rules})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "cases": s.cases.iter().map(|c| json!({"case": c.case, "steps": c.steps, "finding": s.finding_of(c).map(|f| &f.finding)})).collect::<Vec<_>>(),
        "warnings": s.warnings.iter().map(|(case, w)| json!({"case": case, "warning": w})).collect::<Vec<_>>(),
        "skipped_cases": s.skipped_cases.iter().map(|(case, why)| json!({"case": case, "why": why})).collect::<Vec<_>>(),
        "findings": s.findings.iter().map(|f| json!({
            "case": f.case,
            "classification": f.finding.classification,
            "operation": f.finding.operation,
            "step": f.finding.step,
            "paths": f.finding.paths,
            "rules": f.finding.rules,
            "original_steps": f.original_steps,
            "shrunk_steps": f.shrunk_steps,
            "mix": f.mix,
            "shrinking": f.shrinking,
            "shrunk": f.shrunk,
            "trace": f.trace,
            "repeats": f.repeats,
            "repeat_key": f.key,
        })).collect::<Vec<_>>(),
        "findings_by_class": {"distinct": distinct, "cases": cases},
        "requests": {
            "sent": s.calls.sent,
            "succeeded": s.calls.succeeded,
            "invalid_on_purpose": s.calls.invalid_on_purpose,
            "read_back": s.calls.read_back,
            "read_back_succeeded": s.calls.read_back_succeeded,
        },
        "depth": s.depth,
        "coverage": s.coverage,
        "statuses": s.statuses,
        "goals": goals(s).into_iter().map(|(g, r)| json!({"goal": g, "reached": r, "times": s.goals.get(g).copied().unwrap_or(0)})).collect::<Vec<_>>(),
        "policy_divergences": cases.policy_divergence,
        "concurrent": s.concurrent,
        "capabilities": s.capabilities,
        "limits": s.capabilities.limits(),
        "skipped_scenarios": s.skipped_scenarios.iter().map(|(name, why)| json!({"name": name, "why": why})).collect::<Vec<_>>(),
        "matrix": super::matrix::matrix(s),
        "signatures": crate::baseline::signatures(s),
        "baseline": s.baseline,
        "shard": s.shard,
        "not_implemented": s.not_implemented.iter().map(|(op, (why, calls))| json!({"operation": op, "why": why, "calls": calls})).collect::<Vec<_>>(),
    })
}

/// Writes [`json_report`] to a file when the campaign ends.
pub struct JsonFile(pub PathBuf);

impl Reporter for JsonFile {
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&json_report(summary)).map_err(std::io::Error::other)?;
        std::fs::write(&self.0, text + "\n")
    }
}
