//! Reporters: what a [`Campaign`](crate::campaign::Campaign) tells as it runs. The console
//! ([`Console`]), a JSON file ([`JsonFile`]) and a JUnit XML file ([`JunitFile`]) are the
//! built-in ones; [`Fanout`] sends every event to several. Every method has an empty default,
//! so a reporter implements only what it shows.

mod console;
mod json;
mod junit;
pub mod matrix;

use crate::campaign::{CaseReport, Config, FindingReport, ScenarioReport, Summary};
use crate::driver::CaseConfig;
use crate::target::Capabilities;

pub use console::{describe_finding, Console};
pub use json::{json_report, JsonFile};
pub use junit::{junit_report, JunitFile};
pub use matrix::{matrix, MatrixFile};

/// Events of a campaign, in the order they happen.
pub trait Reporter {
    /// The campaign starts against a target with these capabilities.
    fn start(&mut self, _config: &Config, _capabilities: Capabilities) {}
    /// The scenario suite is not run, and why.
    fn scenarios_skipped(&mut self, _why: &str) {}
    /// `count` scenarios follow.
    fn scenarios_start(&mut self, _count: usize) {}
    /// One scenario could not run on this target.
    fn scenario_skipped(&mut self, _name: &str, _why: &str) {}
    /// One scenario ran.
    fn scenario(&mut self, _report: &ScenarioReport) {}
    /// `cases` generated cases follow.
    fn cases_start(&mut self, _config: &CaseConfig, _cases: u64) {}
    /// One case could not run on this target.
    fn case_skipped(&mut self, _case: u64, _why: &str) {}
    /// A case left out a step, and why (it ends there; never a finding).
    fn case_warning(&mut self, _case: u64, _warning: &str) {}
    /// A new finding, shrunk and classified (repeats of a known one are not told again).
    fn finding(&mut self, _finding: &FindingReport, _config: &Config) {}
    /// One case ended; `summary` is the run so far.
    fn case(&mut self, _case: &CaseReport, _summary: &Summary) {}
    /// The concurrent phase starts.
    fn concurrent_start(&mut self, _config: &crate::concurrent::Config) {}
    /// One concurrent round ended; `report` is the phase so far.
    fn concurrent_round(&mut self, _report: &crate::concurrent::Report) {}
    /// The concurrent phase ended (or was skipped: `report.skipped` says why).
    fn concurrent(&mut self, _report: &crate::concurrent::Report, _config: &Config) {}
    /// The campaign ended; files are written here.
    fn finish(&mut self, _summary: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

/// Tells nobody anything.
pub struct Silent;

impl Reporter for Silent {}

/// Several reporters as one.
#[derive(Default)]
pub struct Fanout(pub Vec<Box<dyn Reporter>>);

impl Reporter for Fanout {
    fn start(&mut self, config: &Config, capabilities: Capabilities) {
        self.0.iter_mut().for_each(|r| r.start(config, capabilities));
    }
    fn scenarios_skipped(&mut self, why: &str) {
        self.0.iter_mut().for_each(|r| r.scenarios_skipped(why));
    }
    fn scenarios_start(&mut self, count: usize) {
        self.0.iter_mut().for_each(|r| r.scenarios_start(count));
    }
    fn scenario_skipped(&mut self, name: &str, why: &str) {
        self.0.iter_mut().for_each(|r| r.scenario_skipped(name, why));
    }
    fn scenario(&mut self, report: &ScenarioReport) {
        self.0.iter_mut().for_each(|r| r.scenario(report));
    }
    fn cases_start(&mut self, config: &CaseConfig, cases: u64) {
        self.0.iter_mut().for_each(|r| r.cases_start(config, cases));
    }
    fn case_skipped(&mut self, case: u64, why: &str) {
        self.0.iter_mut().for_each(|r| r.case_skipped(case, why));
    }
    fn case_warning(&mut self, case: u64, warning: &str) {
        self.0.iter_mut().for_each(|r| r.case_warning(case, warning));
    }
    fn finding(&mut self, finding: &FindingReport, config: &Config) {
        self.0.iter_mut().for_each(|r| r.finding(finding, config));
    }
    fn case(&mut self, case: &CaseReport, summary: &Summary) {
        self.0.iter_mut().for_each(|r| r.case(case, summary));
    }
    fn concurrent_start(&mut self, config: &crate::concurrent::Config) {
        self.0.iter_mut().for_each(|r| r.concurrent_start(config));
    }
    fn concurrent_round(&mut self, report: &crate::concurrent::Report) {
        self.0.iter_mut().for_each(|r| r.concurrent_round(report));
    }
    fn concurrent(&mut self, report: &crate::concurrent::Report, config: &Config) {
        self.0.iter_mut().for_each(|r| r.concurrent(report, config));
    }
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        // Every reporter gets to finish; the first error is returned.
        let mut first = Ok(());
        for r in &mut self.0 {
            let result = r.finish(summary);
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
}
