//! `conform baseline REPORT`: a baseline of accepted findings from a JSON report (`run --json`),
//! for `run --baseline FILE`. Arguments and glue; `conform_harness::baseline` does the work.

use std::path::PathBuf;
use std::process::ExitCode;

use conform_harness::baseline::Baseline;

#[derive(clap::Args, Debug)]
pub struct BaselineArgs {
    /// A JSON report of `conform run --json`.
    pub report: PathBuf,
    /// Where to write the baseline (standard output when absent).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn baseline(args: BaselineArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.report)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.report.display()))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.report.display()))?;
    let baseline = Baseline::from_report(&report).map_err(anyhow::Error::msg)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, baseline.to_json())?;
            eprintln!(
                "{} accepted signatures written to {}",
                baseline.accepted.len(),
                path.display()
            );
        }
        None => print!("{}", baseline.to_json()),
    }
    Ok(ExitCode::SUCCESS)
}
