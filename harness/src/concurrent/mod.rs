//! Concurrent clients against one target, and a linearizability check of what they saw.
//!
//! A round resets the target (where it can), sets up two small licenses beside the reference
//! model, then lets `clients` clients run their programs at once, each on a connection of its
//! own, contending on the licenses' few seats: checkouts, check-ins, extends, borrows, perpetual
//! drawdown, new versions, grants narrowed and disabled while the buyer checks out, clock
//! advances where the target has a clock, and the same checkout sent on two connections at
//! once. Every call is recorded with when it was sent and when its reply came back
//! ([`history`]); a read-back of each license follows. [`check`] then asks, group by group
//! (one per license), whether one order of the calls consistent with real time makes the
//! model give every observed reply. A group with none is a finding: shrunk by running the
//! round again without clients and calls while the violation still shows, written as a trace
//! `conform replay` runs again.
//!
//! ```no_run
//! use conform_harness::concurrent::{self, Config};
//! use conform_harness::embedded::Embedded;
//! use conform_harness::target::{InfraError, Target};
//!
//! let sim = Embedded::builder().start()?;
//! let mut main = sim.target()?;
//! let connect = || sim.target().map(|t| Box::new(t) as Box<dyn Target + Send>);
//! let report = concurrent::run(&mut main, &connect, &Config::default(), &mut |_| {})?;
//! assert!(report.findings.is_empty());
//! # Ok::<(), InfraError>(())
//! ```

pub mod check;
pub mod history;
pub mod phase;
pub mod shrink;
pub mod trace;
pub mod workload;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use conform_model::{Policy, Service};
use serde::{Deserialize, Serialize};

use crate::driver::CaseConfig;
use crate::target::{Capabilities, InfraError, Target};
use check::Verdict;
pub use phase::Connect;
pub use trace::ConcurrentTrace;
use workload::Programs;

/// What a concurrent phase runs. Start from `Config::default()` and set fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Clients at once.
    pub clients: usize,
    /// Calls each client makes per round.
    pub calls_per_client: usize,
    /// Concurrent calls in all: rounds run until this many were made.
    pub calls: u64,
    pub seed: u64,
    pub policy: Policy,
    /// Model steps the search may take per group before its verdict is "unknown".
    pub budget: u64,
    /// Runs of each smaller candidate while shrinking (a race need not show every time): it is
    /// kept when `shrink::KEPT_AFTER` of them show a violation.
    pub attempts: usize,
    /// Stop starting new rounds after this long.
    pub time_budget: Option<Duration>,
    /// Stop after this many violations (each shrunk, which reruns rounds).
    pub max_findings: usize,
    /// How long shrinking one violation may take.
    pub shrink_time: Duration,
    /// Where traces of findings are written (`None`: not written).
    pub trace_dir: Option<PathBuf>,
    /// How the target is named in traces.
    pub target_label: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clients: 8,
            calls_per_client: 25,
            calls: 10_000,
            seed: 1,
            policy: Policy::default(),
            budget: 200_000,
            attempts: 8,
            time_budget: None,
            max_findings: 1,
            shrink_time: Duration::from_secs(60),
            trace_dir: None,
            target_label: "target".into(),
        }
    }
}

impl Config {
    /// The case settings a round's setup runs with: License Manager only; `events`: seed the
    /// case's fixtures.
    pub fn case_config(&self, events: bool) -> CaseConfig {
        CaseConfig {
            seed: self.seed,
            max_steps: self.calls_per_client,
            policy: self.policy.clone(),
            services: vec![Service::LicenseManager],
            capabilities: Capabilities::NONE,
            audit: false,
            mix: Default::default(),
            missing: Default::default(),
        }
        .with_events(events)
    }
}

/// The case number of namespace `space` of round `round`: far from the generated cases', so
/// their namespaces never meet on a target that cannot reset.
pub fn round_case(round: u64, space: usize) -> u64 {
    1_000_000 + round * 1_000 + space as u64
}

/// A group with no linearization, shrunk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConcurrentFinding {
    pub round: u64,
    pub group: usize,
    /// The history as columns and the replies that cannot all be true.
    pub text: String,
    pub clients: usize,
    pub calls: usize,
    pub trace: Option<PathBuf>,
}

/// What a concurrent phase did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    pub clients: usize,
    pub rounds: u64,
    pub calls: u64,
    /// Calls that got no reply (their effect unknown).
    pub unknown_calls: u64,
    pub groups: u64,
    pub linearizable: u64,
    /// Groups whose search ran out of budget.
    pub unknown: u64,
    /// Rounds with no violation but a group whose search ran out of budget.
    pub rounds_unknown: u64,
    pub violations: u64,
    /// The most entries one group's search handled.
    pub largest_group: usize,
    /// Model steps all searches took.
    pub explored: u64,
    /// Seconds the clients ran, and seconds the checks took.
    pub run_seconds: f64,
    pub check_seconds: f64,
    pub findings: Vec<ConcurrentFinding>,
    /// Why the phase did not run, when it did not.
    pub skipped: Option<String>,
}

impl Report {
    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.run_seconds.max(1e-9)
    }

    pub fn groups_per_second(&self) -> f64 {
        self.groups as f64 / self.check_seconds.max(1e-9)
    }

    /// One line for the summary.
    pub fn line(&self) -> String {
        if let Some(why) = &self.skipped {
            return format!("concurrent clients: not run ({why})");
        }
        format!(
            "concurrent clients: {} clients, {} rounds, {} calls ({:.0}/s), {} groups checked ({:.1}/s, largest {} calls): \
             {} linearizable, {} violations, {} unknown (budget ran out){}",
            self.clients,
            self.rounds,
            self.calls,
            self.calls_per_second(),
            self.groups,
            self.groups_per_second(),
            self.largest_group,
            self.linearizable,
            self.violations,
            self.unknown,
            if self.unknown_calls > 0 {
                format!("; {} calls got no reply", self.unknown_calls)
            } else {
                String::new()
            }
        )
    }
}

/// One round run and checked.
pub struct Round {
    /// Each namespace's setup (eight clients each).
    pub setups: Vec<phase::Setup>,
    pub entries: Vec<history::Entry>,
    pub checked: Vec<check::Checked>,
    pub run_seconds: f64,
    pub check_seconds: f64,
}

impl Round {
    /// The first group with no linearization.
    pub fn violation(&self) -> Option<&check::Checked> {
        self.checked
            .iter()
            .find(|c| matches!(c.verdict, Verdict::Violation(_)))
    }
}

/// Runs round `round` with `programs` and checks it.
pub fn run_round(
    main: &mut dyn Target,
    connect: Connect,
    cfg: &Config,
    round: u64,
    programs: Option<&Programs>,
) -> Result<(Programs, Round), InfraError> {
    // Clock events where the target moves its clock; the EVS environment where it seeds one.
    let caps = main.capabilities();
    let events = caps.clock;
    let evs = caps.clock && caps.evs_inventory;
    let clients = programs.map_or(cfg.clients, Programs::clients);
    let setups = phase::setups(
        main,
        &cfg.case_config(evs),
        workload::spaces(clients),
        &|s| round_case(round, s),
        &cfg.policy,
    )?;
    let programs = match programs {
        Some(p) => p.clone(),
        None => workload::programs(
            cfg.seed,
            round,
            cfg.clients,
            cfg.calls_per_client,
            &|c| setups[workload::space_of(c)].licenses[workload::license_of(c)],
            events,
            evs,
        ),
    };
    let started = Instant::now();
    let entries = phase::execute(main, connect, &setups, &programs)?;
    let run_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let checked = check::check(&setups, &entries, cfg.budget);
    let check_seconds = started.elapsed().as_secs_f64();
    Ok((
        programs,
        Round {
            setups,
            entries,
            checked,
            run_seconds,
            check_seconds,
        },
    ))
}

/// Rounds until `cfg.calls` concurrent calls were made (or the time budget ends); each
/// violation shrunk (where the target can reset) and written as a trace. `progress` hears
/// the report after every round.
pub fn run(
    main: &mut dyn Target,
    connect: Connect,
    cfg: &Config,
    progress: &mut dyn FnMut(&Report),
) -> Result<Report, InfraError> {
    let started = Instant::now();
    let mut report = Report {
        clients: cfg.clients,
        ..Report::default()
    };
    let mut round = 0;
    while report.calls < cfg.calls {
        if cfg.time_budget.is_some_and(|b| started.elapsed() >= b) {
            break;
        }
        let (programs, ran) = run_round(main, connect, cfg, round, None)?;
        report.rounds += 1;
        report.calls += ran.entries.iter().filter(|e| e.client != history::FINAL).count() as u64;
        report.unknown_calls += ran
            .entries
            .iter()
            .filter(|e| matches!(e.outcome, history::Outcome::Unknown(_)))
            .count() as u64;
        report.run_seconds += ran.run_seconds;
        report.check_seconds += ran.check_seconds;
        for c in &ran.checked {
            report.groups += 1;
            report.explored += c.explored;
            report.largest_group = report.largest_group.max(c.entries.len());
            match c.verdict {
                Verdict::Linearizable { .. } => report.linearizable += 1,
                Verdict::Unknown => report.unknown += 1,
                Verdict::Violation(_) => report.violations += 1,
            }
        }
        let unknown = ran.checked.iter().any(|c| matches!(c.verdict, Verdict::Unknown));
        if unknown && ran.violation().is_none() {
            report.rounds_unknown += 1;
        }
        if ran.violation().is_some() {
            let finding = shrink::minimal(main, connect, cfg, round, programs, ran)?;
            report.findings.push(finding);
        }
        progress(&report);
        round += 1;
        if report.findings.len() >= cfg.max_findings.max(1) {
            break;
        }
    }
    Ok(report)
}
