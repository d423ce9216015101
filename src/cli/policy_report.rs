//! `conform policy-report DIR`: for every [P] rule a recording exercised, the value the recorded
//! target follows, found by replaying the scenarios on the model under each alternative.

use std::path::PathBuf;
use std::process::ExitCode;

use conform_harness::record::{self, Recording};
use conform_harness::scenarios;

#[derive(clap::Args, Debug)]
pub struct PolicyReportArgs {
    /// A directory written by `conform record`.
    pub dir: PathBuf,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn policy_report(args: PolicyReportArgs) -> anyhow::Result<ExitCode> {
    let recordings = Recording::read_dir(&args.dir).map_err(|e| anyhow::anyhow!(e))?;
    let findings =
        record::policy_report(&recordings, &scenarios::all()).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(r) = recordings.values().next() {
        println!(
            "[P] rules in the recording of {} ({}, {})",
            r.provenance.target, r.provenance.date, r.provenance.tool
        );
    }
    println!(
        "  {:<28} {:>6}  {:<24} {:<24} verdict",
        "rule", "steps", "model", "target follows"
    );
    for f in &findings {
        let verdict = match (&f.switch, &f.follows, f.differs) {
            (None, _, _) => "observed (the model has no alternative)".to_string(),
            (Some(_), None, _) => "no modelled value explains it".to_string(),
            (Some(s), Some(v), true) => format!("DIFFERS: the target follows {s}={v}"),
            (Some(_), Some(_), false) => "same as the model".to_string(),
        };
        println!(
            "  {:<28} {:>6}  {:<24} {:<24} {verdict}",
            f.rule,
            f.steps,
            f.model_value.as_deref().unwrap_or("-"),
            f.follows.as_deref().unwrap_or("-")
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&findings)? + "\n")?;
    }
    Ok(ExitCode::SUCCESS)
}
