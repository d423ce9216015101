//! `conform run`: the built-in scenario suite and generated cases against a target, every reply
//! compared with the reference model; failures shrunk, classified and written as traces.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use conform_harness::driver::{self, CaseConfig, Classification, Finding};
use conform_harness::scenario::{self, ScenarioRun};
use conform_harness::scenarios;
use conform_harness::target::Target;
use conform_harness::trace::Trace;
use conform_model::{Policy, Service};
use serde_json::json;

use super::aws::{choose_any, AwsArgs};
use super::report::{self, CaseReport, Summary};

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// `model`, a URL (`http://127.0.0.1:4580`), `aws` (see README "Running against real
    /// AWS"), or nothing for the embedded simulator.
    #[arg(long)]
    pub target: Option<String>,
    /// Replay the scenarios of a recording (`conform record`) and diff against it instead.
    #[arg(long)]
    pub against_recording: Option<PathBuf>,
    /// With --against-recording: a reviewed list of accepted divergences, one per line.
    #[arg(long)]
    pub accepted: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Generated cases to run after the scenario suite.
    #[arg(long, default_value_t = 200)]
    pub cases: u64,
    /// Steps per generated case.
    #[arg(long, default_value_t = 40)]
    pub max_steps: usize,
    /// Seed of the generated cases (and of the reference model).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A policy file (JSON) for the reference model (and the embedded simulator).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Services to test.
    #[arg(long, value_delimiter = ',', default_value = "license-manager,evs")]
    pub services: Vec<String>,
    /// Run only the scenarios whose name contains this text.
    #[arg(long)]
    pub only: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where failing cases are written as traces.
    #[arg(long, default_value = "conform-traces")]
    pub trace_dir: PathBuf,
}

fn parse_services(names: &[String]) -> anyhow::Result<Vec<Service>> {
    names
        .iter()
        .map(|n| match n.as_str() {
            "license-manager" => Ok(Service::LicenseManager),
            "evs" => Ok(Service::Evs),
            other => Err(anyhow::anyhow!(
                "unknown service '{other}' (license-manager, evs)"
            )),
        })
        .collect()
}

pub fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<Policy> {
    match path {
        Some(path) => Policy::from_json(&std::fs::read_to_string(path)?)
            .map_err(|e| anyhow::anyhow!("policy file {}: {e}", path.display())),
        None => Ok(Policy::default()),
    }
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.against_recording {
        return super::record::against_recording(&args, dir);
    }
    let policy = load_policy(args.policy.as_ref())?;
    let mut services = parse_services(&args.services)?;
    let (mut chosen, cleanup) = choose_any(args.target.as_deref(), &args.aws, args.seed, &policy)?;
    let aws = cleanup.is_some();
    if aws && args.aws.evs_scope().is_none() && services.contains(&Service::Evs) {
        println!("EVS skipped: it needs your own --evs-environment, --evs-connector and --evs-vms");
        services.retain(|s| *s != Service::Evs);
    }
    let target = chosen.target.as_mut();
    let caps = target.capabilities();
    println!("conform run against {}", chosen.description);

    let scenarios: Vec<_> = scenarios::all()
        .into_iter()
        .filter(|s| args.only.as_deref().is_none_or(|o| s.name.contains(o)))
        .filter(|s| services.contains(&Service::LicenseManager) || s.name.starts_with("evs"))
        .filter(|s| services.contains(&Service::Evs) || !s.name.starts_with("evs"))
        .collect();
    let mut summary = Summary::default();
    if caps.reset && caps.fixtures || aws {
        println!("\nscenarios ({})", scenarios.len());
        for s in &scenarios {
            let mut run = match scenario::run(target, s) {
                Ok(run) => run,
                // AWS cannot take some steps (clock events, unmapped accounts): skip, not fail.
                Err(e) if aws && conform_harness::aws::is_skip(&e) => {
                    println!("  skip {:<44} {e}", s.name);
                    continue;
                }
                Err(e) => anyhow::bail!("scenario {}: {e}", s.name),
            };
            let observed = if aws {
                super::aws::split_policy_failures(s, &mut run, args.seed, &policy)?
            } else {
                Vec::new()
            };
            print_scenario(&run, s.about);
            for (f, rules) in observed {
                println!(
                    "       observed [P] {}: step {} {}: the model answers {}, AWS {}",
                    rules.join(", "),
                    f.step,
                    f.op,
                    f.expected,
                    f.actual
                );
            }
            summary.add_scenario(&run);
        }
    } else {
        println!("\nscenarios skipped: the target has no control plane (reset, fixtures)");
    }

    let cfg = CaseConfig {
        seed: args.seed,
        max_steps: args.max_steps,
        policy,
        services,
        events: caps.fixtures,
    };
    if args.cases > 0 {
        println!(
            "\ngenerated cases ({} x up to {} steps, seed {})",
            args.cases, args.max_steps, args.seed
        );
        run_cases(target, &cfg, &args, &chosen.description, &mut summary, aws)?;
    }

    report::print_summary(&summary);
    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&summary))?;
    }
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report::json(&summary))? + "\n",
        )?;
    }
    let (passed, failed) = summary.totals();
    println!("{passed} passed, {failed} failed");
    Ok(if passed + failed == 0 {
        ExitCode::from(2)
    } else if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_scenario(run: &ScenarioRun, about: &str) {
    let mark = if run.failures.is_empty() { "ok  " } else { "FAIL" };
    println!(
        "  {mark} {:<44} {:>3} steps  {about}",
        run.name,
        run.records.len()
    );
    for f in &run.failures {
        println!(
            "       step {} {}: expected {}, got {} {}",
            f.step, f.op, f.expected, f.actual, f.body
        );
    }
}

fn run_cases(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    args: &RunArgs,
    description: &str,
    summary: &mut Summary,
    aws: bool,
) -> anyhow::Result<()> {
    let bar = std::io::stdout().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(args.cases);
        bar.set_style(
            indicatif::ProgressStyle::with_template("  {bar:40} {pos}/{len} cases  {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut findings = 0;
    for case in 0..args.cases {
        let steps = driver::generate(cfg, case);
        let execution = match driver::execute(target, cfg, case, &steps) {
            Ok(execution) => execution,
            Err(e) if aws && conform_harness::aws::is_skip(&e) => {
                let message = format!("  case {case} skipped: {e}");
                match &bar {
                    Some(b) => b.println(&message),
                    None => println!("{message}"),
                }
                continue;
            }
            Err(e) => anyhow::bail!("case {case}: {e}"),
        };
        let mut report = CaseReport::from_execution(case, &execution);
        summary.add_execution(&execution);
        if let Some(finding) = execution.finding {
            findings += 1;
            // Shrinking re-runs the case many times: not on a target that cannot reset (AWS).
            let (minimal, mut minimal_finding) = if target.capabilities().reset {
                driver::shrink(target, cfg, case, steps, &finding)
                    .map_err(|e| anyhow::anyhow!("shrinking case {case}: {e}"))?
            } else {
                (steps[..finding.step].to_vec(), finding.clone())
            };
            minimal_finding.classification = driver::classify(target, cfg, case, &minimal, &minimal_finding)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let trace = Trace {
                tool: format!("conform {}", env!("CARGO_PKG_VERSION")),
                target: description.to_string(),
                seed: cfg.seed,
                case,
                services: cfg.services.clone(),
                events: cfg.events,
                policy: cfg.policy.clone(),
                steps: minimal.clone(),
                finding: minimal_finding.clone(),
            };
            std::fs::create_dir_all(&args.trace_dir)?;
            let path = args.trace_dir.join(format!("seed{}-case{case}.json", cfg.seed));
            trace.write(&path).map_err(|e| anyhow::anyhow!(e))?;
            let message = describe_finding(&trace, &path, args.target.as_deref());
            match &bar {
                Some(b) => b.println(&message),
                None => println!("{message}"),
            }
            // On AWS, [P] rules are observed and reported, not failed.
            let observed = aws
                && matches!(
                    minimal_finding.classification,
                    Classification::PolicyDivergence { .. }
                );
            if !observed {
                report.finding = Some(minimal_finding);
            }
        }
        summary.add_case(report);
        if let Some(b) = &bar {
            b.set_message(format!("{findings} findings"));
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    println!(
        "  {} cases, {} steps, {findings} findings",
        args.cases, summary.steps
    );
    Ok(())
}

/// The minimal sequence, expected and actual side by side with the differing paths marked, the
/// rule involved, and the one command that replays it.
pub fn describe_finding(trace: &Trace, path: &std::path::Path, target: Option<&str>) -> String {
    let f: &Finding = &trace.finding;
    let kind = match &f.classification {
        Classification::HardFailure => "HARD FAILURE".to_string(),
        Classification::SchemaViolation => "SCHEMA VIOLATION".to_string(),
        Classification::PolicyDivergence { switch } => {
            format!("POLICY DIVERGENCE (the target behaves like {switch})")
        }
    };
    let mut out = format!(
        "\n  {kind}: step {} {} (case {}, {} steps after shrinking)\n",
        f.step,
        f.operation,
        trace.case,
        trace.steps.len()
    );
    for (i, step) in trace.steps.iter().enumerate() {
        let mark = if i + 1 == f.step { ">" } else { " " };
        out.push_str(&format!("   {mark} {:>2}. {}\n", i + 1, json!(step)));
    }
    let side = |r: &conform_harness::driver::Reply| {
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
    }
    let target_arg = target.map(|t| format!(" --target {t}")).unwrap_or_default();
    out.push_str(&format!(
        "    replay: conform replay {}{target_arg}\n",
        path.display()
    ));
    out
}
