//! `conform merge REPORT...`: the JSON reports of a run's shards (`run --shard K/N --json`) as
//! the whole run's: its summary on the console, its JSON report, matrix and JUnit report, and
//! its exit code. Arguments and glue; `conform_harness::shard::merge` does the work.

use std::path::PathBuf;
use std::process::ExitCode;

use conform_harness::report::{Console, Fanout, JsonFile, JunitFile, MatrixFile, Reporter};

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The shards' JSON reports, one per shard (any order).
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the merged JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the merged conformance matrix here, as Markdown.
    #[arg(long)]
    pub matrix: Option<PathBuf>,
}

pub fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let report: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        reports.push(report);
    }
    let summary = conform_harness::shard::merge(&reports).map_err(anyhow::Error::msg)?;
    println!("conform merge of {} shards", reports.len());
    if !summary.findings.is_empty() {
        println!("\nfindings ({} distinct)", summary.findings.len());
    }
    for f in &summary.findings {
        println!(
            "  {:?} at step {} {} (case {}, {} repeats){}",
            f.finding.classification,
            f.finding.step,
            f.finding.operation,
            f.case,
            f.repeats.len(),
            f.trace
                .as_ref()
                .map(|t| format!(", trace {}", t.display()))
                .unwrap_or_default()
        );
    }
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(Console::new())];
    if let Some(path) = &args.json {
        reporters.push(Box::new(JsonFile(path.clone())));
    }
    if let Some(path) = &args.junit {
        reporters.push(Box::new(JunitFile(path.clone())));
    }
    if let Some(path) = &args.matrix {
        reporters.push(Box::new(MatrixFile(path.clone())));
    }
    Fanout(reporters).finish(&summary)?;
    Ok(ExitCode::from(summary.exit_code()))
}
