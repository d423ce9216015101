//! JUnit XML (through `quick-junit`): a test case per scenario and per operation reached, failing
//! where a finding that fails the run sits at that operation.

use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::Reporter;
use crate::campaign::Summary;

/// The report as JUnit XML text.
pub fn junit_report(s: &Summary) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new("conform");
    for r in &s.scenarios {
        let status = match r.failures.first() {
            None => TestCaseStatus::success(),
            Some(_) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let text: Vec<String> = r
                    .failures
                    .iter()
                    .map(|f| {
                        format!(
                            "step {} {}: expected {}, got {}",
                            f.step, f.op, f.expected, f.actual
                        )
                    })
                    .collect();
                status.set_message(text.join("; "));
                status
            }
        };
        let mut case = TestCase::new(r.name, status);
        case.set_classname("scenario");
        suite.add_test_case(case);
    }
    for op in s.coverage.keys() {
        let failing: Vec<String> = s
            .findings
            .iter()
            .filter(|f| f.finding.operation == *op && s.fails(&f.finding.classification))
            .map(|f| {
                format!(
                    "case {} step {}: {:?} at {}",
                    f.case,
                    f.finding.step,
                    f.finding.classification,
                    f.finding.paths.join(", ")
                )
            })
            .collect();
        let status = if failing.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(failing.join("; "));
            status
        };
        let mut case = TestCase::new(op.as_str(), status);
        case.set_classname("operation");
        suite.add_test_case(case);
    }
    let mut report = Report::new("conform");
    report.add_test_suite(suite);
    report.to_string()
}

/// Writes [`junit_report`] to a file when the campaign ends.
pub struct JunitFile(pub PathBuf);

impl Reporter for JunitFile {
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        let xml = junit_report(summary).map_err(std::io::Error::other)?;
        std::fs::write(&self.0, xml)
    }
}
