//! One campaign: the scenario suite, then generated cases, each finding shrunk, classified and
//! written as a trace, everything told to a [`Reporter`] and gathered in a [`Summary`]. The
//! CLI's `conform run`, the tests and an emulator author's `cargo test` all go through here.
//!
//! ```
//! use conform_harness::campaign::{Campaign, Config};
//! use conform_harness::report::Silent;
//! use conform_harness::target::ModelTarget;
//! use conform_model::Policy;
//!
//! let mut config = Config::default();
//! config.cases = 3;
//! config.max_steps = 10;
//! let mut target = ModelTarget::new(1, Policy::default());
//! let summary = Campaign::new(config).run(&mut target, &mut Silent).unwrap();
//! assert_eq!(summary.exit_code(), 0, "the model conforms to itself");
//! ```

mod summary;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use conform_model::{Policy, Service};

use crate::driver::{self, CaseConfig, Classification, Finding};
use crate::gen::{MixChoice, Step};
use crate::lanes::Lanes;
use crate::report::Reporter;
use crate::scenario::{self, Scenario};
use crate::scenarios;
use crate::target::{Capabilities, InfraError, Target};
use crate::trace::Trace;
use crate::unimplemented::Unimplemented;

pub use summary::{
    goals, CallCounts, CaseReport, ClassCounts, DepthCounts, FindingReport, ScenarioReport, Summary,
};

/// What a campaign runs, with its limits. Start from `Config::default()` and set fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Generated cases after the scenario suite.
    pub cases: u64,
    /// Steps per generated case.
    pub max_steps: usize,
    /// Seed of the generated cases and of the reference model.
    pub seed: u64,
    /// The reference model's policy switches.
    pub policy: Policy,
    /// Services to exercise.
    pub services: Vec<Service>,
    /// Only scenarios whose name contains this text (`None`: all).
    pub only: Option<String>,
    /// Whether to run the scenario suite at all.
    pub scenarios: bool,
    /// Where traces of findings are written (`None`: not written).
    pub trace_dir: Option<PathBuf>,
    /// Stop starting new cases after this long.
    pub time_budget: Option<Duration>,
    /// Stop after this many distinct findings.
    pub max_findings: Option<usize>,
    /// Policy divergences fail the run (`--strict-policy`); by default they are reported only.
    pub strict_policy: bool,
    /// Scenario differences at steps where the model relied on a `[P]` rule are observations,
    /// not failures (real AWS, where scenarios cannot be classified by re-running them).
    pub observe_policy_in_scenarios: bool,
    /// How the target is named in traces and replay lines.
    pub target_label: String,
    /// The `--target` argument that reaches the target again, for the replay line.
    pub replay_target: Option<String>,
    /// How each generated case gets its step weights (`--mix`): by default its own, drawn from
    /// its seed.
    pub mix: MixChoice,
    /// Concurrent clients after the cases (`--clients N`), checked for linearizability; `None`
    /// runs none.
    pub concurrent: Option<crate::concurrent::Config>,
    /// Accepted findings (`--baseline`): only others fail the run.
    pub baseline: Option<crate::baseline::Baseline>,
    /// The cases to run instead of generated ones (`conform run --exhaustive`: the explorer's
    /// cases covering every transition, `explore::cover`); `cases` is ignored then.
    pub exhaustive: Option<Vec<Vec<Step>>>,
    /// Run only the cases of this shard (`--shard K/N`); the scenario suite and the
    /// concurrent phase run in shard 1 only. `None`: every case.
    pub shard: Option<crate::shard::Shard>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: 200,
            max_steps: 40,
            seed: 1,
            policy: Policy::default(),
            services: vec![Service::LicenseManager, Service::Evs],
            only: None,
            scenarios: true,
            trace_dir: None,
            time_budget: None,
            max_findings: None,
            strict_policy: false,
            observe_policy_in_scenarios: false,
            target_label: "target".into(),
            replay_target: None,
            mix: MixChoice::default(),
            concurrent: None,
            baseline: None,
            exhaustive: None,
            shard: None,
        }
    }
}

impl Config {
    /// The cases after the scenarios: the given ones, else `cases` generated ones.
    pub fn case_count(&self) -> u64 {
        match &self.exhaustive {
            Some(given) => given.len() as u64,
            None => self.cases,
        }
    }

    /// The per-case settings the driver takes, for a target of these capabilities.
    pub fn case_config(&self, capabilities: Capabilities) -> CaseConfig {
        CaseConfig {
            seed: self.seed,
            max_steps: self.max_steps,
            policy: self.policy.clone(),
            services: self.services.clone(),
            capabilities,
            audit: true,
            mix: self.mix.clone(),
            missing: Default::default(),
        }
    }
}

/// Why a campaign could not go on: a failure of the harness or the target's plumbing, never a
/// finding.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{context}: {source}")]
    Infra {
        context: String,
        #[source]
        source: InfraError,
    },
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("writing a report: {0}")]
    Report(#[source] std::io::Error),
}

fn infra(context: impl Into<String>) -> impl FnOnce(InfraError) -> CampaignError {
    let context = context.into();
    move |source| CampaignError::Infra { context, source }
}

/// What makes two findings the same for counting: operation, class before classification,
/// differing paths and the rules the model relied on (not the seed or the case). Kept as
/// [`FindingReport::key`], so shards' findings merge as the unsplit run counts them.
pub fn repeat_key(f: &Finding) -> String {
    let class = match f.classification {
        Classification::SchemaViolation => "schema",
        _ => "difference",
    };
    format!(
        "{}|{class}|{}|{}",
        f.operation,
        f.paths.join(","),
        f.rules.join(",")
    )
}

/// The capabilities scenario `s` needs: a reset and the clock (it starts from nothing at a
/// known instant), and those of the events among its steps.
pub fn needs(s: &Scenario) -> Capabilities {
    let mut c = Capabilities {
        reset: true,
        clock: true,
        ..Capabilities::NONE
    };
    for step in &s.steps {
        if let scenario::Step::Event { event, .. } = step {
            c = c.with(Capabilities::of_event_kind(
                event["event"].as_str().unwrap_or_default(),
            ));
        }
    }
    c
}

/// A campaign over one configuration.
pub struct Campaign {
    config: Config,
}

impl Campaign {
    pub fn new(config: Config) -> Campaign {
        Campaign { config }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The scenarios this campaign runs, in order.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let c = &self.config;
        scenarios::all()
            .into_iter()
            .filter(|s| c.only.as_deref().is_none_or(|o| s.name.contains(o)))
            .filter(|s| s.services().iter().all(|x| c.services.contains(x)))
            .collect()
    }

    /// Runs everything against `target`, telling `reporter` as it goes.
    pub fn run(
        &self,
        target: &mut dyn Target,
        reporter: &mut dyn Reporter,
    ) -> Result<Summary, CampaignError> {
        self.run_lanes(target, Vec::new(), reporter)
    }

    /// As [`Campaign::run`], the generated cases also run side by side on `lanes`, targets of
    /// the same kind as `target` with state of their own ([`crate::lanes`]); the scenarios,
    /// the shrinking and the concurrent phase run on `target`. Reports the same as `run`.
    pub fn run_lanes(
        &self,
        target: &mut dyn Target,
        lanes: Vec<Box<dyn Target + Send>>,
        reporter: &mut dyn Reporter,
    ) -> Result<Summary, CampaignError> {
        let mut summary = Summary {
            strict_policy: self.config.strict_policy,
            capabilities: target.capabilities(),
            shard: self.config.shard,
            ..Summary::default()
        };
        // What is not split by case runs in the first shard only.
        let unsplit = self.config.shard.is_none_or(|s| s.runs_unsplit());
        reporter.start(&self.config, target.capabilities());
        // Operations the target does not implement skip what sends them, counted once each.
        let mut target = Unimplemented::new(target);
        if self.config.scenarios && unsplit {
            self.run_scenarios(&mut target, reporter, &mut summary)?;
        }
        if self.config.case_count() > 0 {
            self.run_cases(&mut target, lanes, reporter, &mut summary)?;
        }
        if let Some(cc) = self.config.concurrent.as_ref().filter(|_| unsplit) {
            summary.concurrent = Some(self.run_concurrent(&mut target, reporter, cc)?);
        }
        summary.not_implemented = std::mem::take(&mut target.seen);
        summary.baseline = self.config.baseline.as_ref().map(|b| b.compare(&summary));
        reporter.finish(&summary).map_err(CampaignError::Report)?;
        Ok(summary)
    }

    /// The concurrent phase, on connections of the target's own; skipped (and said why) where
    /// it gives none.
    fn run_concurrent(
        &self,
        target: &mut dyn Target,
        reporter: &mut dyn Reporter,
        cc: &crate::concurrent::Config,
    ) -> Result<crate::concurrent::Report, CampaignError> {
        let mut cc = cc.clone();
        cc.seed = self.config.seed;
        cc.policy = self.config.policy.clone();
        cc.trace_dir.clone_from(&self.config.trace_dir);
        cc.target_label.clone_from(&self.config.target_label);
        reporter.concurrent_start(&cc);
        let main = match target.connect() {
            Some(m) => m.map_err(infra("connecting a concurrent client"))?,
            None => {
                let report = crate::concurrent::Report {
                    clients: cc.clients,
                    skipped: Some(format!("{} takes no second connection", target.name())),
                    ..Default::default()
                };
                reporter.concurrent(&report, &self.config);
                return Ok(report);
            }
        };
        let mut main = main;
        let shared: &dyn Target = target;
        let connect = || {
            shared
                .connect()
                .unwrap_or_else(|| Err(InfraError::Other("the target stopped giving connections".into())))
        };
        let report = crate::concurrent::run(main.as_mut(), &connect, &cc, &mut |r| {
            reporter.concurrent_round(r)
        })
        .map_err(infra("concurrent clients"))?;
        reporter.concurrent(&report, &self.config);
        Ok(report)
    }

    fn run_scenarios(
        &self,
        target: &mut dyn Target,
        reporter: &mut dyn Reporter,
        summary: &mut Summary,
    ) -> Result<(), CampaignError> {
        let caps = target.capabilities();
        let observe = self.config.observe_policy_in_scenarios;
        let scenarios = self.scenarios();
        if !(caps.reset || observe) {
            let why = "the target cannot reset (no control plane): every scenario starts from nothing";
            reporter.scenarios_skipped(why);
            summary
                .skipped_scenarios
                .extend(scenarios.iter().map(|s| (s.name.to_string(), why.to_string())));
            return Ok(());
        }
        reporter.scenarios_start(scenarios.len());
        for s in &scenarios {
            // On AWS the target skips what it cannot take itself; elsewhere a scenario runs
            // only where the target has every capability it needs.
            let missing = needs(s).missing_from(&caps);
            if !observe && !missing.is_empty() {
                let why = format!("needs {}", missing.join(", "));
                reporter.scenario_skipped(s.name, &why);
                summary.skipped_scenarios.push((s.name.to_string(), why));
                continue;
            }
            // Outcomes and bodies, compared with the model like generated steps.
            let mut run = match scenario::run_compared(target, s, &self.config.policy) {
                Ok(run) => run,
                // A target may be unable to take some steps (clock events, unmapped accounts).
                Err(e) if e.is_skip() => {
                    reporter.scenario_skipped(s.name, &e.to_string());
                    summary
                        .skipped_scenarios
                        .push((s.name.to_string(), e.to_string()));
                    continue;
                }
                Err(e) => return Err(infra(format!("scenario {}", s.name))(e)),
            };
            let observed = if observe {
                self.split_policy_failures(s, &mut run)?
            } else {
                Vec::new()
            };
            let report = ScenarioReport {
                name: s.name,
                about: s.about,
                steps: run.records.len(),
                failures: run.failures.clone(),
                observed,
            };
            reporter.scenario(&report);
            summary.add_scenario(&run, report);
        }
        Ok(())
    }

    /// Splits a scenario's failures into those at steps where the reference model relied on no
    /// `[P]` rule (kept) and the rest (returned with the rules).
    fn split_policy_failures(
        &self,
        s: &Scenario,
        run: &mut scenario::ScenarioRun,
    ) -> Result<Vec<(scenario::Failure, Vec<String>)>, CampaignError> {
        if run.failures.is_empty() {
            return Ok(Vec::new());
        }
        let mut model = crate::record::PolicyModel::new(self.config.seed, self.config.policy.clone());
        scenario::run(&mut model, s).map_err(infra(format!("scenario {} on the model", s.name)))?;
        let mut observed = Vec::new();
        run.failures.retain(|f| {
            let rules: Vec<String> = model
                .policies
                .get(f.step - 1)
                .map(|rules| rules.iter().map(|r| format!("{r:?}")).collect())
                .unwrap_or_default();
            if rules.is_empty() {
                true
            } else {
                observed.push((f.clone(), rules));
                false
            }
        });
        Ok(observed)
    }

    fn run_cases(
        &self,
        target: &mut Unimplemented<'_>,
        lanes: Vec<Box<dyn Target + Send>>,
        reporter: &mut dyn Reporter,
        summary: &mut Summary,
    ) -> Result<(), CampaignError> {
        let mut cfg = self.config.case_config(target.capabilities());
        let cases = self.config.case_count();
        let shard = self.config.shard;
        let in_shard = shard.map_or(cases, |s| s.cases_of(cases));
        reporter.cases_start(&cfg, in_shard);
        let started = Instant::now();
        let out_of_time = || {
            self.config
                .time_budget
                .is_some_and(|budget| started.elapsed() >= budget)
        };
        let order: Vec<u64> = (0..cases)
            .filter(|case| shard.is_none_or(|s| s.contains(*case)))
            .collect();
        let given = |case: u64| self.config.exhaustive.as_ref().map(|g| g[case as usize].clone());
        // Cases run side by side only where each starts from a reset (see `crate::lanes`).
        let mut lanes = (!lanes.is_empty() && cfg.capabilities.reset).then(|| Lanes::new(lanes));
        let mut submitted = 0;
        let mut shared = Arc::new(cfg.clone());
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (n, &case) in order.iter().enumerate() {
            if let Some(lanes) = lanes.as_mut() {
                // Two cases queued per lane; none started once the time budget ran out.
                while submitted < order.len() && lanes.in_flight() < 2 * lanes.len() && !out_of_time() {
                    lanes.submit(&shared, order[submitted], given(order[submitted]));
                    submitted += 1;
                }
            }
            let started_in_time = match &lanes {
                Some(_) => n < submitted,
                None => !out_of_time(),
            };
            if !started_in_time {
                if let Some(budget) = self.config.time_budget {
                    summary.stopped_early = Some(format!(
                        "the time budget of {} s ran out after {case} of {} cases",
                        budget.as_secs(),
                        cases
                    ));
                }
                break;
            }
            if let Some(max) = self.config.max_findings {
                if summary.findings.len() >= max {
                    summary.stopped_early = Some(format!(
                        "{max} distinct finding(s) reached after {case} of {} cases",
                        cases
                    ));
                    break;
                }
            }
            // What the target turned out not to implement is not drawn again.
            if cfg.missing.len() != target.seen.len() {
                cfg.missing = target.seen.keys().cloned().collect();
                shared = Arc::new(cfg.clone());
            }
            let mut lane = None;
            let ran = lanes.as_mut().and_then(Lanes::take).and_then(|done| {
                // A case queued before an earlier one learned of a missing operation was
                // generated without knowing it: it runs again here, as it would have in order.
                (done.missing == cfg.missing).then(|| {
                    for (op, (why, count)) in done.seen {
                        target.seen.entry(op).or_insert((why, 0)).1 += count;
                    }
                    lane = Some(done.lane);
                    (done.steps, done.result)
                })
            });
            let (steps, result) = ran.unwrap_or_else(|| {
                let steps = given(case).unwrap_or_else(|| driver::generate(&cfg, case));
                let result = driver::execute(target, &cfg, case, &steps);
                (steps, result)
            });
            let execution = match result {
                Ok(execution) => execution,
                Err(e) if e.is_skip() => {
                    reporter.case_skipped(case, &e.to_string());
                    summary.skipped_cases.push((case, e.to_string()));
                    continue;
                }
                Err(e) => return Err(infra(format!("case {case}"))(e)),
            };
            summary.add_execution(&execution);
            for w in &execution.warnings {
                reporter.case_warning(case, w);
                summary.warnings.push((case, w.clone()));
            }
            let mut report = CaseReport {
                case,
                steps: execution.records.len(),
                finding: None,
            };
            if let Some(finding) = execution.finding {
                let key = repeat_key(&finding);
                let index = match seen.get(&key) {
                    Some(&i) => {
                        summary.findings[i].repeats.push(case);
                        i
                    }
                    None => {
                        let mut f = self.minimize(target, &cfg, case, steps, finding)?;
                        f.key.clone_from(&key);
                        reporter.finding(&f, &self.config);
                        summary.findings.push(f);
                        seen.insert(key, summary.findings.len() - 1);
                        summary.findings.len() - 1
                    }
                };
                report.finding = Some(index);
            }
            reporter.case(&report, summary);
            summary.cases.push(report);
            if let (Some(lanes), Some(lane)) = (&lanes, lane) {
                lanes.recycle(lane, execution.records);
            }
        }
        Ok(())
    }

    /// Shrinks (where the target can reset), classifies and writes the trace of one finding.
    fn minimize(
        &self,
        target: &mut dyn Target,
        cfg: &CaseConfig,
        case: u64,
        steps: Vec<Step>,
        finding: Finding,
    ) -> Result<FindingReport, CampaignError> {
        let original_steps = finding.step;
        let shrunk = target.capabilities().reset;
        // Shrinking re-runs the case many times: not on a target that cannot reset (AWS).
        let (minimal, mut minimal_finding, shrinking) = if shrunk {
            let (s, f, account) = driver::shrink_with_account(target, cfg, case, steps, &finding)
                .map_err(infra(format!("shrinking case {case}")))?;
            (s, f, Some(account))
        } else {
            (steps[..finding.step.min(steps.len())].to_vec(), finding, None)
        };
        minimal_finding.classification = driver::classify(target, cfg, case, &minimal, &minimal_finding)
            .map_err(infra(format!("classifying case {case}")))?;
        let trace = Trace {
            tool: format!("conform {}", env!("CARGO_PKG_VERSION")),
            target: self.config.target_label.clone(),
            seed: cfg.seed,
            case,
            services: cfg.services.clone(),
            events: cfg.events(),
            capabilities: Trace::capabilities_told(cfg),
            policy: cfg.policy.clone(),
            steps: minimal.clone(),
            finding: minimal_finding.clone(),
            mix: Some(cfg.mix_of(case).to_string()),
        };
        let path = match &self.config.trace_dir {
            Some(dir) => {
                let path = dir.join(format!("seed{}-case{case}.json", cfg.seed));
                std::fs::create_dir_all(dir).map_err(|e| CampaignError::Write {
                    path: dir.clone(),
                    message: e.to_string(),
                })?;
                trace.write(&path).map_err(|message| CampaignError::Write {
                    path: path.clone(),
                    message,
                })?;
                Some(path)
            }
            None => None,
        };
        Ok(FindingReport {
            case,
            finding: minimal_finding,
            original_steps,
            shrunk_steps: minimal.len(),
            shrunk,
            trace: path,
            repeats: Vec::new(),
            steps: minimal,
            mix: cfg.mix_of(case).to_string(),
            shrinking,
            key: String::new(),
        })
    }
}
