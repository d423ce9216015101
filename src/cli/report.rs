//! What a run reports: the console summary (coverage of operations against outcomes, statuses
//! reached, the goals a run should reach), JUnit XML and JSON.

use std::collections::{BTreeMap, BTreeSet};

use conform_harness::driver::{Classification, Execution, Finding};
use conform_harness::scenario::ScenarioRun;
use serde_json::{json, Value};

/// One generated case's outcome.
#[derive(Clone, Debug)]
pub struct CaseReport {
    pub case: u64,
    pub steps: usize,
    pub finding: Option<Finding>,
}

impl CaseReport {
    pub fn from_execution(case: u64, e: &Execution) -> CaseReport {
        CaseReport {
            case,
            steps: e.records.len(),
            finding: None,
        }
    }
}

/// Everything a run saw.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub scenarios: Vec<(String, Vec<String>)>,
    pub cases: Vec<CaseReport>,
    pub steps: usize,
    /// Operation → outcome → count.
    pub coverage: BTreeMap<String, BTreeMap<String, usize>>,
    /// Statuses seen in replies (license, grant, entitlement, connector).
    pub statuses: BTreeSet<String>,
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

    pub fn add_scenario(&mut self, run: &ScenarioRun) {
        for r in run.records.iter().filter(|r| r.service.is_some()) {
            self.count(&r.op, r.response.outcome(), &r.response.body);
        }
        let failures = run
            .failures
            .iter()
            .map(|f| {
                format!(
                    "step {} {}: expected {}, got {}",
                    f.step, f.op, f.expected, f.actual
                )
            })
            .collect();
        self.scenarios.push((run.name.to_string(), failures));
    }

    pub fn add_case(&mut self, report: CaseReport) {
        self.steps += report.steps;
        self.cases.push(report);
    }

    /// Records the replies of an execution in the coverage table.
    pub fn add_execution(&mut self, e: &Execution) {
        for r in e.records.iter().filter(|r| r.who.is_some()) {
            let outcome = r.actual.error.clone().unwrap_or_else(|| "ok".into());
            self.count(&r.operation, &outcome, &r.actual.body);
        }
    }

    /// (passed, failed) over scenarios and cases.
    pub fn totals(&self) -> (usize, usize) {
        let failed_s = self.scenarios.iter().filter(|(_, f)| !f.is_empty()).count();
        let failed_c = self.cases.iter().filter(|c| c.finding.is_some()).count();
        let total = self.scenarios.len() + self.cases.len();
        (total - failed_s - failed_c, failed_s + failed_c)
    }
}

/// Named goals a healthy run reaches; those not reached mean the generators are weak.
pub fn goals(s: &Summary) -> Vec<(&'static str, bool)> {
    let reached = |op: &str, outcome: &str| s.coverage.get(op).is_some_and(|o| o.contains_key(outcome));
    let status = |x: &str| s.statuses.contains(x);
    vec![
        (
            "a checkout refused for capacity",
            reached("CheckoutLicense", "NoEntitlementsAllowedException"),
        ),
        ("a checkout granted", reached("CheckoutLicense", "ok")),
        ("a borrow granted", reached("CheckoutBorrowLicense", "ok")),
        (
            "a check-in refused as a conflict",
            reached("CheckInLicense", "ConflictException"),
        ),
        (
            "a SourceVersion conflict",
            reached("CreateLicenseVersion", "ConflictException")
                || reached("DeleteLicense", "ConflictException"),
        ),
        ("a license EXPIRED", status("EXPIRED")),
        ("a license DELETED", status("DELETED") || status("PENDING_DELETE")),
        ("a grant ACTIVE", status("ACTIVE")),
        ("a grant REJECTED", status("REJECTED")),
        ("an entitlement AT_RISK", status("AT_RISK")),
        (
            "an entitlement ENTITLEMENT_REMOVED",
            status("ENTITLEMENT_REMOVED"),
        ),
        ("an entitlement CREATE_FAILED", status("CREATE_FAILED")),
        (
            "a malformed request refused",
            reached("CheckoutLicense", "SerializationException")
                || s.coverage
                    .values()
                    .any(|o| o.contains_key("SerializationException")),
        ),
    ]
}

pub fn print_summary(s: &Summary) {
    println!("\ncoverage (operation: outcome x count)");
    for (op, outcomes) in &s.coverage {
        let cells: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} x{n}")).collect();
        println!("  {op:<28} {}", cells.join(", "));
    }
    println!(
        "\nstatuses reached: {}",
        s.statuses.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    println!("\ngoals");
    for (goal, reached) in goals(s) {
        println!(
            "  {} {goal}",
            if reached {
                "reached  "
            } else {
                "NOT REACHED (weak generation)"
            }
        );
    }
    println!();
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test case per operation (failing when a finding is at that operation) and per
/// named scenario.
pub fn junit(s: &Summary) -> String {
    let mut cases = Vec::new();
    for (name, failures) in &s.scenarios {
        let body = failures
            .iter()
            .map(|f| format!("<failure message=\"{}\"/>", xml(f)))
            .collect::<String>();
        cases.push(format!(
            "  <testcase classname=\"scenario\" name=\"{}\">{body}</testcase>",
            xml(name)
        ));
    }
    for op in s.coverage.keys() {
        let failures: String = s
            .cases
            .iter()
            .filter_map(|c| {
                c.finding
                    .as_ref()
                    .filter(|f| f.operation == *op)
                    .map(|f| (c.case, f))
            })
            .map(|(case, f)| {
                format!(
                    "<failure message=\"case {case} step {}: {:?}\"/>",
                    f.step,
                    xml(&format!("{:?}", f.classification))
                )
            })
            .collect();
        cases.push(format!(
            "  <testcase classname=\"operation\" name=\"{}\">{failures}</testcase>",
            xml(op)
        ));
    }
    let (_, failed) = s.totals();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"conform\" tests=\"{}\" failures=\"{failed}\">\n{}\n</testsuite>\n",
        cases.len(),
        cases.join("\n")
    )
}

pub fn json(s: &Summary) -> Value {
    let (passed, failed) = s.totals();
    json!({
        "passed": passed,
        "failed": failed,
        "scenarios": s.scenarios.iter().map(|(n, f)| json!({"name": n, "failures": f})).collect::<Vec<_>>(),
        "cases": s.cases.iter().map(|c| json!({"case": c.case, "steps": c.steps, "finding": c.finding})).collect::<Vec<_>>(),
        "coverage": s.coverage,
        "statuses": s.statuses,
        "goals": goals(s).into_iter().map(|(g, r)| json!({"goal": g, "reached": r})).collect::<Vec<_>>(),
        "policy_divergences": s.cases.iter().filter_map(|c| c.finding.as_ref()).filter(|f| matches!(f.classification, Classification::PolicyDivergence { .. })).count(),
    })
}
