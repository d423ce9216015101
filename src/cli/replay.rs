//! `conform replay TRACE`: runs a trace's steps again against a target and says whether the
//! finding reproduces.

use std::path::PathBuf;
use std::process::ExitCode;

use conform_harness::concurrent::{self, ConcurrentTrace};
use conform_harness::driver;
use conform_harness::report::describe_finding;
use conform_harness::target::{InfraError, Target};
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
    let text =
        std::fs::read_to_string(&args.trace).map_err(|e| anyhow::anyhow!("{}: {e}", args.trace.display()))?;
    if ConcurrentTrace::is_one(&text) {
        return replay_concurrent(&args);
    }
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

/// Runs a concurrent trace's clients at once again, up to `REPLAY_ATTEMPTS` times (a race need
/// not show every time), and checks each history anew.
fn replay_concurrent(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    const REPLAY_ATTEMPTS: usize = 20;
    let trace = ConcurrentTrace::read(&args.trace).map_err(|e| anyhow::anyhow!(e))?;
    let chosen = choose(args.target.as_deref(), trace.seed, &trace.policy)?;
    let cfg = trace.config();
    let shared: &dyn Target = chosen.target.as_ref();
    let Some(main) = shared.connect() else {
        anyhow::bail!(
            "{} takes no second connection: a concurrent trace needs one",
            chosen.description
        );
    };
    let mut main = main.map_err(|e| anyhow::anyhow!("{e}"))?;
    let connect = || {
        shared
            .connect()
            .unwrap_or_else(|| Err(InfraError::Other("no connection".into())))
    };
    let found = concurrent::shrink::reproduce(
        main.as_mut(),
        &connect,
        &cfg,
        trace.round,
        &trace.programs,
        REPLAY_ATTEMPTS,
        1,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let finding = found
        .as_ref()
        .and_then(|r| r.violation().map(|c| concurrent::shrink::render(&r.entries, c)));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&finding)? + "\n")?;
    }
    match finding {
        Some(text) => {
            println!(
                "NOT LINEARIZABLE again ({} clients, {} calls):",
                trace.programs.clients(),
                trace.programs.calls()
            );
            println!("{text}");
            println!("0 passed, 1 failed");
            Ok(ExitCode::from(1))
        }
        None => {
            println!(
                "the trace's {} clients ran {REPLAY_ATTEMPTS} times against {} with every history linearizable",
                trace.programs.clients(),
                chosen.description
            );
            println!("1 passed, 0 failed");
            Ok(ExitCode::SUCCESS)
        }
    }
}
