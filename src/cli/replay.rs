//! `conform replay TRACE`: runs a trace's steps again against a target and says whether the
//! finding reproduces.

use std::path::PathBuf;
use std::process::ExitCode;

use conform_harness::driver;
use conform_harness::report::describe_finding;
use conform_harness::trace::Trace;

use super::target::choose;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// A trace written by `conform run`.
    pub trace: PathBuf,
    /// `model`, a URL, or nothing for the embedded simulator.
    #[arg(long)]
    pub target: Option<String>,
    /// Also write the replayed finding (or `null`) here as JSON, in the trace's format.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let trace = Trace::read(&args.trace).map_err(|e| anyhow::anyhow!(e))?;
    let mut chosen = choose(args.target.as_deref(), trace.seed, &trace.policy)?;
    let cfg = trace.config();
    let execution = driver::execute(chosen.target.as_mut(), &cfg, trace.case, &trace.steps)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let finding = match execution.finding {
        Some(mut f) => {
            // Classified as the run classified it, so a reproduced finding equals the trace's.
            f.classification = driver::classify(chosen.target.as_mut(), &cfg, trace.case, &trace.steps, &f)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Some(f)
        }
        None => None,
    };
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&finding)? + "\n")?;
    }
    match finding {
        Some(f) => {
            let text = describe_finding(
                &f,
                &trace.steps,
                trace.case,
                &format!("{} steps, as the trace has them", trace.steps.len()),
                Some(&args.trace),
                args.target.as_deref(),
            );
            println!("{text}");
            println!("0 passed, 1 failed");
            Ok(ExitCode::from(1))
        }
        None => {
            println!(
                "the trace's {} steps run clean against {}",
                trace.steps.len(),
                chosen.description
            );
            println!("1 passed, 0 failed");
            Ok(ExitCode::SUCCESS)
        }
    }
}
