//! Shards put together again: each JSON report read back into the [`Summary`] it was written
//! from ([`summary_of_report`]), and the shards' summaries merged into the whole run's
//! ([`merge_summaries`]): cases in case order, sums of coverage, requests, depth and goals, and
//! findings counted as the unsplit run counts them (one finding per repeat key, the case with
//! the lowest index as the finding, every other case a repeat).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::Shard;
use crate::baseline::{Baseline, Comparison, Signed};
use crate::campaign::{CallCounts, CaseReport, FindingReport, ScenarioReport, Summary};
use crate::driver::Finding;
use crate::scenario::Failure;

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key)
        .ok_or_else(|| format!("no `{key}` (a report of a conform without shards?)"))
}

fn typed<T: DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    serde_json::from_value(field(v, key)?.clone()).map_err(|e| format!("`{key}`: {e}"))
}

fn list<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    field(v, key)?
        .as_array()
        .ok_or_else(|| format!("`{key}` is not a list"))
}

#[derive(Deserialize)]
struct StepJson {
    step: usize,
    operation: String,
    expected: String,
    actual: String,
}

impl StepJson {
    fn failure(self) -> Failure {
        Failure {
            step: self.step,
            op: self.operation,
            expected: self.expected,
            actual: self.actual,
            body: Value::Null,
        }
    }
}

#[derive(Deserialize)]
struct ObservedJson {
    #[serde(flatten)]
    step: StepJson,
    rules: Vec<String>,
}

#[derive(Deserialize)]
struct ComparisonJson {
    new: Vec<Signed>,
    known: Vec<String>,
    fixed: Vec<String>,
}

fn scenario_of(v: &Value) -> Result<ScenarioReport, String> {
    let name: String = typed(v, "name")?;
    let known = crate::scenarios::all()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("scenario `{name}` is not one this conform has"))?;
    let failed: Vec<StepJson> = typed(v, "failed_steps")?;
    let observed: Vec<ObservedJson> = typed(v, "observed")?;
    Ok(ScenarioReport {
        name: known.name,
        about: known.about,
        steps: typed(v, "steps")?,
        failures: failed.into_iter().map(StepJson::failure).collect(),
        observed: observed
            .into_iter()
            .map(|o| (o.step.failure(), o.rules))
            .collect(),
    })
}

/// Every case's finding as the report gives it in full (`cases[].finding`).
fn case_findings(report: &Value) -> Result<BTreeMap<u64, Finding>, String> {
    let mut out = BTreeMap::new();
    for c in list(report, "cases")? {
        let finding: Option<Finding> = typed(c, "finding")?;
        if let Some(f) = finding {
            out.insert(typed(c, "case")?, f);
        }
    }
    Ok(out)
}

fn finding_of(v: &Value, full: &BTreeMap<u64, Finding>) -> Result<FindingReport, String> {
    let case: u64 = typed(v, "case")?;
    let finding = full
        .get(&case)
        .cloned()
        .ok_or_else(|| format!("finding of case {case}: the case is not among the report's cases"))?;
    Ok(FindingReport {
        case,
        finding,
        original_steps: typed(v, "original_steps")?,
        shrunk_steps: typed(v, "shrunk_steps")?,
        shrunk: typed(v, "shrunk")?,
        trace: typed(v, "trace")?,
        repeats: typed(v, "repeats")?,
        // The report does not carry the shrunk steps; the finding's trace does.
        steps: Vec::new(),
        mix: typed(v, "mix")?,
        shrinking: typed(v, "shrinking")?,
        key: typed(v, "repeat_key")?,
    })
}

/// Case → index of the finding it produced or repeated.
fn finding_index(findings: &[FindingReport]) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        out.insert(f.case, i);
        for r in &f.repeats {
            out.insert(*r, i);
        }
    }
    out
}

fn cases_of(report: &Value, findings: &[FindingReport]) -> Result<Vec<CaseReport>, String> {
    let index = finding_index(findings);
    list(report, "cases")?
        .iter()
        .map(|c| {
            let case: u64 = typed(c, "case")?;
            let found = !field(c, "finding")?.is_null();
            let finding = match (found, index.get(&case)) {
                (false, _) => None,
                (true, Some(i)) => Some(*i),
                (true, None) => return Err(format!("case {case} has a finding no finding lists")),
            };
            Ok(CaseReport {
                case,
                steps: typed(c, "steps")?,
                finding,
            })
        })
        .collect()
}

/// `[{case, <what>}]` as pairs.
fn per_case(report: &Value, key: &str, what: &str) -> Result<Vec<(u64, String)>, String> {
    list(report, key)?
        .iter()
        .map(|x| Ok((typed(x, "case")?, typed(x, what)?)))
        .collect()
}

/// The [`Summary`] a JSON report (`json_report`, `conform run --json`) was written from, as far
/// as the report carries it: `json_report` of the result is the report again. Not carried, so
/// left empty: each finding's shrunk steps (its trace has them) and the bodies of failed
/// scenario steps.
pub fn summary_of_report(report: &Value) -> Result<Summary, String> {
    let full = case_findings(report)?;
    let findings = list(report, "findings")?
        .iter()
        .map(|f| finding_of(f, &full))
        .collect::<Result<Vec<_>, _>>()?;
    let cases = cases_of(report, &findings)?;
    let requests = field(report, "requests")?;
    let mut goals = BTreeMap::new();
    for g in list(report, "goals")? {
        if typed::<bool>(g, "reached")? {
            goals.insert(typed::<String>(g, "goal")?, typed::<u64>(g, "times")?);
        }
    }
    let baseline = typed::<Option<ComparisonJson>>(report, "baseline")?.map(|c| Comparison {
        new: c.new,
        known: c.known,
        fixed: c.fixed,
    });
    let mut not_implemented = BTreeMap::new();
    for x in list(report, "not_implemented")? {
        not_implemented.insert(
            typed::<String>(x, "operation")?,
            (typed::<String>(x, "why")?, typed::<usize>(x, "calls")?),
        );
    }
    Ok(Summary {
        scenarios: list(report, "scenarios")?
            .iter()
            .map(scenario_of)
            .collect::<Result<_, _>>()?,
        steps: cases.iter().map(|c| c.steps).sum(),
        cases,
        findings,
        skipped_cases: per_case(report, "skipped_cases", "why")?,
        warnings: per_case(report, "warnings", "warning")?,
        coverage: typed(report, "coverage")?,
        statuses: typed(report, "statuses")?,
        goals,
        calls: CallCounts {
            sent: typed(requests, "sent")?,
            succeeded: typed(requests, "succeeded")?,
            invalid_on_purpose: typed(requests, "invalid_on_purpose")?,
            read_back: typed(requests, "read_back")?,
            read_back_succeeded: typed(requests, "read_back_succeeded")?,
        },
        depth: typed(report, "depth")?,
        strict_policy: typed(report, "strict_policy")?,
        stopped_early: typed(report, "stopped_early")?,
        concurrent: typed(report, "concurrent")?,
        capabilities: typed(report, "capabilities")?,
        skipped_scenarios: list(report, "skipped_scenarios")?
            .iter()
            .map(|x| Ok((typed(x, "name")?, typed(x, "why")?)))
            .collect::<Result<_, String>>()?,
        not_implemented,
        baseline,
        shard: typed(report, "shard")?,
    })
}

/// The shards' JSON reports merged into the whole run's [`Summary`]; `json_report` of it is
/// what the unsplit run writes (see [`merge_summaries`] for what cannot be).
pub fn merge(reports: &[Value]) -> Result<Summary, String> {
    let parts = reports
        .iter()
        .enumerate()
        .map(|(i, r)| summary_of_report(r).map_err(|e| format!("report {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    merge_summaries(parts)
}

/// Checks the parts are shards 1..N of one N, each once, and puts them in shard order.
fn in_order(parts: Vec<Summary>) -> Result<Vec<(Shard, Summary)>, String> {
    let mut parts = parts
        .into_iter()
        .map(|s| match s.shard {
            Some(shard) => Ok((shard, s)),
            None => Err("a report of a run that was not a shard (no --shard)".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    parts.sort_by_key(|(shard, _)| *shard);
    let count = parts.first().map(|(s, _)| s.count).ok_or("no reports to merge")?;
    let have: Vec<String> = parts.iter().map(|(s, _)| s.to_string()).collect();
    let want: Vec<String> = (1..=count).map(|k| format!("{k}/{count}")).collect();
    if have != want {
        return Err(format!(
            "the reports are shards {}; merging needs each of {} once",
            have.join(", "),
            want.join(", ")
        ));
    }
    let (_, first) = &parts[0];
    for (shard, s) in &parts {
        if s.strict_policy != first.strict_policy || s.capabilities != first.capabilities {
            return Err(format!(
                "shard {shard} ran with another --strict-policy or against a target with other capabilities than shard 1"
            ));
        }
    }
    Ok(parts)
}

/// Two concurrent phases as one: counts summed (a shard runs the phase only in shard 1, so
/// there is one to take as it is).
fn add_concurrent(a: &mut crate::concurrent::Report, b: crate::concurrent::Report) {
    a.clients = a.clients.max(b.clients);
    a.rounds += b.rounds;
    a.calls += b.calls;
    a.unknown_calls += b.unknown_calls;
    a.groups += b.groups;
    a.linearizable += b.linearizable;
    a.unknown += b.unknown;
    a.rounds_unknown += b.rounds_unknown;
    a.violations += b.violations;
    a.largest_group = a.largest_group.max(b.largest_group);
    a.explored += b.explored;
    a.run_seconds += b.run_seconds;
    a.check_seconds += b.check_seconds;
    a.findings.extend(b.findings);
    if a.skipped.is_some() && b.skipped.is_none() {
        a.skipped = None;
    }
}

fn add_counts<K: Ord + Clone>(into: &mut BTreeMap<K, usize>, from: &BTreeMap<K, usize>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

/// The shards' summaries (shards 1..N of one N, each once, in any order) as the whole run's.
/// Equal to the unsplit run's in everything but `stopped_early` (each shard's reason, named by
/// its shard) and what a shard's own limits changed: with `max_findings` or a time budget each
/// shard stops on its own, so the merge holds what the shards ran, not what the unsplit run
/// would have. Where one operation was found not implemented for two reasons, the first
/// shard's is kept.
pub fn merge_summaries(parts: Vec<Summary>) -> Result<Summary, String> {
    let parts = in_order(parts)?;
    let mut out = Summary {
        strict_policy: parts[0].1.strict_policy,
        capabilities: parts[0].1.capabilities,
        ..Summary::default()
    };
    let mut findings: Vec<FindingReport> = Vec::new();
    let mut cases: Vec<(CaseReport, bool)> = Vec::new();
    let mut stopped = Vec::new();
    let mut accepted: Option<BTreeSet<String>> = None;
    for (shard, s) in parts {
        out.scenarios.extend(s.scenarios);
        out.skipped_scenarios.extend(s.skipped_scenarios);
        cases.extend(s.cases.into_iter().map(|c| {
            let found = c.finding.is_some();
            (c, found)
        }));
        findings.extend(s.findings);
        out.skipped_cases.extend(s.skipped_cases);
        out.warnings.extend(s.warnings);
        out.steps += s.steps;
        for (op, outcomes) in &s.coverage {
            add_counts(out.coverage.entry(op.clone()).or_default(), outcomes);
        }
        out.statuses.extend(s.statuses);
        for (goal, n) in s.goals {
            *out.goals.entry(goal).or_default() += n;
        }
        let (c, d) = (&mut out.calls, &s.calls);
        c.sent += d.sent;
        c.succeeded += d.succeeded;
        c.invalid_on_purpose += d.invalid_on_purpose;
        c.read_back += d.read_back;
        c.read_back_succeeded += d.read_back_succeeded;
        add_counts(&mut out.depth.license_versions, &s.depth.license_versions);
        add_counts(&mut out.depth.live_tokens, &s.depth.live_tokens);
        add_counts(&mut out.depth.grants, &s.depth.grants);
        if let Some(why) = s.stopped_early {
            stopped.push(format!("shard {shard}: {why}"));
        }
        match (&mut out.concurrent, s.concurrent) {
            (Some(a), Some(b)) => add_concurrent(a, b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
        for (op, (why, calls)) in s.not_implemented {
            out.not_implemented.entry(op).or_insert((why, 0)).1 += calls;
        }
        if let Some(c) = s.baseline {
            accepted
                .get_or_insert_with(BTreeSet::new)
                .extend(c.known.into_iter().chain(c.fixed));
        }
    }
    // As the unsplit run counts them: the lowest case of a repeat key is the finding.
    findings.sort_by_key(|f| f.case);
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings {
        match by_key.get(&f.key) {
            Some(&i) => {
                let first = &mut out.findings[i];
                first.repeats.push(f.case);
                first.repeats.extend(f.repeats);
            }
            None => {
                by_key.insert(f.key.clone(), out.findings.len());
                out.findings.push(f);
            }
        }
    }
    out.findings.iter_mut().for_each(|f| f.repeats.sort_unstable());
    let index = finding_index(&out.findings);
    cases.sort_by_key(|(c, _)| c.case);
    for (mut c, found) in cases {
        c.finding = if found {
            Some(
                *index
                    .get(&c.case)
                    .ok_or_else(|| format!("case {} has a finding no finding lists", c.case))?,
            )
        } else {
            None
        };
        out.cases.push(c);
    }
    out.skipped_cases.sort_by_key(|(case, _)| *case);
    out.warnings.sort_by_key(|(case, _)| *case);
    out.stopped_early = (!stopped.is_empty()).then(|| stopped.join("; "));
    out.baseline = accepted.map(|accepted| Baseline { accepted }.compare(&out));
    Ok(out)
}
