//! The subcommands; each lives in its own file.

mod aws;
mod baseline;
mod check;
mod merge;
mod policy_report;
mod record;
mod replay;
mod run;
mod serve;
mod specs;
mod target;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "conform",
    version,
    about = "Conformance suite and reference simulator for AWS License Manager and Amazon EVS entitlements"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the conformance suite (scenarios and generated cases) against a target.
    Run(Box<run::RunArgs>),
    /// Record the scenario suite's transcripts against a target (with provenance) into a directory.
    Record(record::RecordArgs),
    /// For every [P] rule a recording exercised, name the value the recorded target follows.
    PolicyReport(policy_report::PolicyReportArgs),
    /// Replay a trace written by `conform run` against a target.
    Replay(replay::ReplayArgs),
    /// Regenerate specs/ (stripped AWS models and JSON Schemas), or check it with --check.
    Specs(specs::SpecsArgs),
    /// Serve the model over the AWS wire protocol (License Manager, EVS, STS) on one port.
    Serve(serve::ServeArgs),
    /// Write a baseline of accepted findings from a JSON report, for `run --baseline`.
    Baseline(baseline::BaselineArgs),
    /// Model-check a small world: every reachable state up to a depth, every property.
    Check(check::CheckArgs),
    /// Merge the JSON reports of a run's shards (`run --shard K/N --json`) into the whole run's.
    Merge(merge::MergeArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Record(args) => record::record(args),
        Command::PolicyReport(args) => policy_report::policy_report(args),
        Command::Replay(args) => replay::replay(args),
        Command::Specs(args) => specs::run(args),
        Command::Serve(args) => serve::serve(args),
        Command::Baseline(args) => baseline::baseline(args),
        Command::Check(args) => check::check(args),
        Command::Merge(args) => merge::merge(args),
    }
}
