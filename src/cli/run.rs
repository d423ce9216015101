//! `conform run`: the built-in scenario suite against a target, with a coverage summary.

use std::collections::BTreeMap;
use std::process::ExitCode;

use conform_harness::scenario::{self, ScenarioRun};
use conform_harness::scenarios;
use conform_harness::target::{ModelTarget, Target};
use conform_model::Policy;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Seed of the world and of generated cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A policy file (JSON) for the reference model.
    #[arg(long)]
    pub policy: Option<std::path::PathBuf>,
    /// Run only the scenarios whose name contains this text.
    #[arg(long)]
    pub only: Option<String>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let policy = match &args.policy {
        Some(path) => Policy::from_json(&std::fs::read_to_string(path)?)
            .map_err(|e| anyhow::anyhow!("policy file {}: {e}", path.display()))?,
        None => Policy::default(),
    };
    let mut target = ModelTarget::new(args.seed, policy);
    let selected: Vec<_> = scenarios::all()
        .into_iter()
        .filter(|s| args.only.as_deref().is_none_or(|o| s.name.contains(o)))
        .collect();
    if selected.is_empty() {
        eprintln!("conform: no scenario matches");
        return Ok(ExitCode::from(2));
    }
    println!(
        "conform run: {} scenarios against {}",
        selected.len(),
        target.name()
    );
    let mut runs = Vec::new();
    for s in &selected {
        let run = scenario::run(&mut target, s)?;
        let mark = if run.failures.is_empty() { "ok  " } else { "FAIL" };
        println!(
            "  {mark} {:<34} {:>3} steps  {}",
            s.name,
            run.records.len(),
            s.about
        );
        for f in &run.failures {
            println!(
                "       step {} {}: expected {}, got {} {}",
                f.step, f.op, f.expected, f.actual, f.body
            );
        }
        runs.push(run);
    }
    print_coverage(&runs);
    let failed = runs.iter().filter(|r| !r.failures.is_empty()).count();
    println!("{} passed, {} failed", runs.len() - failed, failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Operations against the outcomes reached (success and each error type).
fn print_coverage(runs: &[ScenarioRun]) {
    let mut table: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for r in runs
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.service.is_some())
    {
        *table
            .entry(r.op.as_str())
            .or_default()
            .entry(r.response.outcome().to_string())
            .or_default() += 1;
    }
    println!("\ncoverage (operation: outcome x count)");
    for (op, outcomes) in &table {
        let cells: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} x{n}")).collect();
        println!("  {op:<26} {}", cells.join(", "));
    }
    println!();
}
