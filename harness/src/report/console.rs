//! The console: scenario lines, a progress bar on a terminal, each finding as the minimal
//! sequence with expected and actual replies side by side, the summary, and the closing
//! `N passed, N failed` line.

use std::io::IsTerminal;
use std::path::Path;

use serde_json::json;

use super::Reporter;
use crate::campaign::{goals, CaseReport, Config, FindingReport, ScenarioReport, Summary};
use crate::driver::{CaseConfig, Classification, Reply};
use crate::gen::Step;
use crate::target::Capabilities;

/// How a skip for an operation the target lacks begins (`InfraError::NotImplemented`).
const NOT_IMPLEMENTED: &str = "not implemented by the target";

/// Prints to standard output; a progress bar when standard output is a terminal.
#[derive(Default)]
pub struct Console {
    bar: Option<indicatif::ProgressBar>,
    verbose: bool,
    /// Operations already told as not implemented (each is told once).
    unimplemented: std::collections::BTreeSet<String>,
}

impl Console {
    pub fn new() -> Console {
        Console::default()
    }

    /// Also prints what shrinking did to each finding (steps removed, values lowered).
    pub fn verbose(mut self, verbose: bool) -> Console {
        self.verbose = verbose;
        self
    }

    fn say(&self, message: &str) {
        match &self.bar {
            Some(b) => b.println(message),
            None => println!("{message}"),
        }
    }
}

impl Reporter for Console {
    fn start(&mut self, config: &Config, capabilities: Capabilities) {
        if let Some(shard) = config.shard {
            println!(
                "shard {shard}: the generated cases i of 0..{} with i % {} = {} ({} cases){}",
                config.cases,
                shard.count,
                shard.index - 1,
                shard.cases_of(config.cases),
                if shard.runs_unsplit() {
                    ", the scenarios and the concurrent phase"
                } else {
                    "; the scenarios and the concurrent phase run in shard 1"
                }
            );
        }
        if capabilities == Capabilities::ALL {
            return;
        }
        let missing = capabilities.missing();
        println!("the target's control plane lacks: {}", missing.join(", "));
        for line in capabilities.limits() {
            println!("  {line}");
        }
    }

    fn scenarios_skipped(&mut self, why: &str) {
        println!("\nscenarios skipped: {why}");
    }

    fn scenarios_start(&mut self, count: usize) {
        println!("\nscenarios ({count})");
    }

    fn scenario_skipped(&mut self, name: &str, why: &str) {
        println!("  skip {name:<44} {why}");
    }

    fn scenario(&mut self, run: &ScenarioReport) {
        let mark = if run.failures.is_empty() { "ok  " } else { "FAIL" };
        println!("  {mark} {:<44} {:>3} steps  {}", run.name, run.steps, run.about);
        for f in &run.failures {
            println!(
                "       step {} {}: expected {}, got {} {}",
                f.step, f.op, f.expected, f.actual, f.body
            );
        }
        for (f, rules) in &run.observed {
            println!(
                "       observed [P] {}: step {} {}: the model answers {}, the target {}",
                rules.join(", "),
                f.step,
                f.op,
                f.expected,
                f.actual
            );
        }
    }

    fn cases_start(&mut self, config: &CaseConfig, cases: u64) {
        let mix = match &config.mix {
            crate::gen::MixChoice::Swarm { invalid_percent } => {
                format!("each case its own mix, {invalid_percent}% invalid on purpose")
            }
            crate::gen::MixChoice::Fixed(mix) => format!("mix {mix}"),
        };
        println!(
            "\ngenerated cases ({cases} x up to {} steps, seed {}, {mix})",
            config.max_steps, config.seed
        );
        self.bar = std::io::stdout().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(cases);
            bar.set_style(
                indicatif::ProgressStyle::with_template("  {bar:40} {pos}/{len} cases  {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
    }

    fn concurrent_start(&mut self, config: &crate::concurrent::Config) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        println!(
            "\nconcurrent clients ({} clients x {} calls a round, {} calls, seed {}; each license's history checked for linearizability)",
            config.clients, config.calls_per_client, config.calls, config.seed
        );
        self.bar = std::io::stdout().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(config.calls);
            bar.set_style(
                indicatif::ProgressStyle::with_template("  {bar:40} {pos}/{len} calls  {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
    }

    fn concurrent_round(&mut self, report: &crate::concurrent::Report) {
        if let Some(b) = &self.bar {
            b.set_position(report.calls);
            b.set_message(format!(
                "{} rounds, {} violations",
                report.rounds, report.violations
            ));
        }
    }

    fn concurrent(&mut self, report: &crate::concurrent::Report, config: &Config) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        println!("  {}", report.line());
        for f in &report.findings {
            println!(
                "\nNOT LINEARIZABLE (round {}, {} after shrinking): the replies below cannot all be true \
                 in any one order of the calls, so the target lost, doubled or reordered an effect.",
                f.round,
                plural(f.clients, "client", "clients") + ", " + &plural(f.calls, "call", "calls")
            );
            println!("{}", f.text);
            if let Some(path) = &f.trace {
                let target = config
                    .replay_target
                    .as_ref()
                    .map_or(String::new(), |t| format!(" --target {t}"));
                println!("replay: conform replay {}{target}", path.display());
            }
        }
    }

    fn case_skipped(&mut self, case: u64, why: &str) {
        // An operation the target lacks skips every case that sends it: told once.
        if why.starts_with(NOT_IMPLEMENTED) && !self.unimplemented.insert(why.to_string()) {
            return;
        }
        self.say(&format!("  case {case} skipped: {why}"));
    }

    fn finding(&mut self, finding: &FindingReport, config: &Config) {
        let text = describe_finding(
            &finding.finding,
            &finding.steps,
            finding.case,
            &finding.shrink_note(),
            finding.trace.as_deref(),
            config.replay_target.as_deref(),
        );
        self.say(&text);
        self.say(&format!(
            "    case {} of seed {} drew the mix {} (`--mix '{}'` draws every case so)",
            finding.case, config.seed, finding.mix, finding.mix
        ));
        if let (true, Some(s)) = (self.verbose, &finding.shrinking) {
            let mut text = format!(
                "    shrinking: {} of {} steps removed, {} values lowered",
                s.steps_before - s.steps_after.min(s.steps_before),
                s.steps_before,
                s.values.len()
            );
            for v in &s.values {
                text.push_str(&format!("\n      {v}"));
            }
            self.say(&text);
        }
    }

    fn case(&mut self, _case: &CaseReport, summary: &Summary) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{} findings", summary.findings.len()));
            b.inc(1);
        }
    }

    fn finish(&mut self, s: &Summary) -> std::io::Result<()> {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !s.cases.is_empty() || !s.skipped_cases.is_empty() {
            let repeats: usize = s.findings.iter().map(|f| f.repeats.len()).sum();
            println!(
                "  {} cases, {} steps, {} findings ({} distinct, {repeats} repeats of them not shrunk again){}",
                s.cases.len(),
                s.steps,
                s.findings.len() + repeats,
                s.findings.len(),
                if s.skipped_cases.is_empty() {
                    String::new()
                } else {
                    format!(", {} cases skipped", s.skipped_cases.len())
                }
            );
        }
        if !s.warnings.is_empty() {
            println!(
                "  {} cases ended early at a step the target's clock makes uncertain (never reported as findings), e.g. case {}: {}",
                s.warnings.len(),
                s.warnings[0].0,
                s.warnings[0].1
            );
        }
        if let Some(why) = &s.stopped_early {
            println!("  stopped early: {why}");
        }
        if !s.skipped_scenarios.is_empty() {
            println!("\nskipped scenarios ({})", s.skipped_scenarios.len());
            for (name, why) in &s.skipped_scenarios {
                println!("  {name:<44} {why}");
            }
        }
        if !s.not_implemented.is_empty() {
            println!(
                "\nnot implemented by the target ({} operations)",
                s.not_implemented.len()
            );
            for (op, (why, calls)) in &s.not_implemented {
                println!("  {op:<28} {why} ({calls} calls)");
            }
        }
        print_summary(s);
        let (distinct, cases) = s.counts();
        println!(
            "findings by class (distinct / cases): hard failure {} / {}, schema violation {} / {}, policy divergence {} / {}{}",
            distinct.hard_failure,
            cases.hard_failure,
            distinct.schema_violation,
            cases.schema_violation,
            distinct.policy_divergence,
            cases.policy_divergence,
            if s.strict_policy {
                " (policy divergences fail: --strict-policy)"
            } else {
                " (policy divergences are reported, not failed)"
            }
        );
        if let Some(b) = &s.baseline {
            println!(
                "baseline: {} known, {} new, {} fixed (or not reached)",
                b.known.len(),
                b.new.len(),
                b.fixed.len()
            );
            for x in &b.new {
                println!(
                    "  new   {}{}",
                    x.signature,
                    if x.fails { "" } else { " (does not fail)" }
                );
            }
            for x in &b.fixed {
                println!("  fixed {x}");
            }
        }
        let (passed, failed) = s.totals();
        println!("{passed} passed, {failed} failed");
        Ok(())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print_summary(s: &Summary) {
    let c = &s.calls;
    println!(
        "\nrequests of generated cases: {} sent, {:.1}% succeeded; of the {} generated (not the end-of-case read-back), {:.1}% succeeded and {:.1}% were invalid on purpose",
        c.sent,
        c.percent(c.succeeded),
        c.sent - c.read_back,
        c.generated_percent(c.generated_succeeded()),
        c.generated_percent(c.invalid_on_purpose)
    );
    println!("\ncase depth (value x cases)");
    for line in s.depth.lines() {
        println!("  {line}");
    }
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

/// The minimal sequence, expected and actual side by side with the differing lines marked, the
/// rules involved, what shrinking did, and the one command that replays it.
pub fn describe_finding(
    f: &crate::driver::Finding,
    steps: &[Step],
    case: u64,
    shrink_note: &str,
    trace: Option<&Path>,
    replay_target: Option<&str>,
) -> String {
    let kind = match &f.classification {
        Classification::HardFailure => "HARD FAILURE".to_string(),
        Classification::SchemaViolation => "SCHEMA VIOLATION".to_string(),
        Classification::PolicyDivergence { switch } => {
            format!("POLICY DIVERGENCE (the target behaves like {switch})")
        }
    };
    let mut out = format!(
        "\n  {kind}: step {} {} (case {case}, {shrink_note})\n",
        f.step, f.operation
    );
    for (i, step) in steps.iter().enumerate() {
        let mark = if i + 1 == f.step { ">" } else { " " };
        out.push_str(&format!("   {mark} {:>2}. {}\n", i + 1, json!(step)));
    }
    let side = |r: &Reply| {
        serde_json::to_string_pretty(&json!({"status": r.status, "error": r.error, "body": r.body}))
            .unwrap_or_default()
    };
    let expected = side(&f.expected);
    let actual = side(&f.actual);
    let width = expected.lines().map(str::len).max().unwrap_or(0).clamp(20, 70);
    out.push_str(&format!(
        "    {:<width$} | {}\n",
        "expected (model)", "actual (target)"
    ));
    let (e_lines, a_lines): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e_lines.len().max(a_lines.len()) {
        let e = e_lines.get(i).copied().unwrap_or("");
        let a = a_lines.get(i).copied().unwrap_or("");
        let mark = if e != a { "*" } else { " " };
        out.push_str(&format!("  {mark} {e:<width$} | {a}\n"));
    }
    out.push_str(&format!("    differing paths: {}\n", f.paths.join(", ")));
    if !f.rules.is_empty() {
        out.push_str(&format!(
            "    [P] rules the model relied on: {}\n",
            f.rules.join(", ")
        ));
        if f.classification == Classification::HardFailure {
            out.push_str("    no single [P] switch explains the difference (every single-switch alternative was tried)\n");
        }
    }
    if let Some(path) = trace {
        let target_arg = replay_target
            .map(|t| format!(" --target {t}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "    replay: conform replay {}{target_arg}\n",
            path.display()
        ));
    }
    out
}
