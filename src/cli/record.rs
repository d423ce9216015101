//! `conform record --target T --out DIR`: the scenario suite's transcripts as T answers them,
//! one JSON file per scenario with provenance and the model's [P] rules per step; and
//! `conform run --against-recording DIR --target U`: the same scenarios against U, diffed with
//! the recording, each difference printed with its JSON path and a paste-ready entry for the
//! reviewed `--accepted` list.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use conform_harness::driver::WALL_CLOCK_TOLERANCE_SECONDS;
use conform_harness::record::{self, Accepted, Provenance, Recording};
use conform_harness::scenarios;
use conform_model::Policy;

use super::aws::{choose_any, AwsArgs};
use super::run::{load_policy, RunArgs};

#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// `model`, a URL, `aws`, or nothing for the embedded simulator.
    #[arg(long)]
    pub target: Option<String>,
    /// The directory the recordings are written to.
    #[arg(long)]
    pub out: PathBuf,
    /// The reference model's policy, whose [P] rules are recorded beside each step.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Seed of the reference model (and the embedded simulator).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Record only the scenarios whose name contains this text.
    #[arg(long)]
    pub only: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

fn now_iso() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    conform_model::timefmt::iso_millis(ms)
}

fn selected(only: Option<&str>) -> Vec<conform_harness::scenario::Scenario> {
    scenarios::all()
        .into_iter()
        .filter(|s| only.is_none_or(|o| s.name.contains(o)))
        .collect()
}

pub fn record(args: RecordArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(args.policy.as_ref())?;
    let (mut chosen, cleanup) = choose_any(args.target.as_deref(), &args.aws, args.seed, &policy, None)?;
    let aws = cleanup.is_some();
    let target = chosen.target.as_mut();
    let provenance = Provenance {
        target: chosen.description.clone(),
        date: now_iso(),
        region: aws.then(|| args.aws.region()),
        tool: format!("conform {}", env!("CARGO_PKG_VERSION")),
        frozen_clock: target.capabilities().clock,
        policy,
        seed: args.seed,
    };
    println!(
        "conform record against {} into {}",
        chosen.description,
        args.out.display()
    );
    let (mut recorded, mut skipped) = (0, 0);
    for s in selected(args.only.as_deref()) {
        let r = record::record(target, &s, &provenance, &|e| aws && e.is_skip())
            .map_err(|e| anyhow::anyhow!("scenario {}: {e}", s.name))?;
        r.write(&args.out).map_err(|e| anyhow::anyhow!(e))?;
        match &r.skipped {
            Some(why) => {
                skipped += 1;
                println!("  skip {:<44} {why}", s.name);
            }
            None => {
                recorded += 1;
                let mark = if r.failures.is_empty() { "ok  " } else { "FAIL" };
                println!("  {mark} {:<44} {:>3} steps", s.name, s.steps.len());
            }
        }
    }
    println!("{recorded} recorded, {skipped} skipped");
    Ok(if recorded == 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `conform run --against-recording DIR`.
pub fn against_recording(args: &RunArgs, dir: &Path) -> anyhow::Result<ExitCode> {
    let recordings = Recording::read_dir(dir).map_err(|e| anyhow::anyhow!(e))?;
    let accepted = match &args.accepted {
        Some(path) => Accepted::parse(&std::fs::read_to_string(path)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Accepted::default(),
    };
    // The target runs under the recording's reference policy unless told otherwise.
    let policy = match &args.policy {
        Some(_) => load_policy(args.policy.as_ref())?,
        None => recordings
            .values()
            .next()
            .map(|r| r.provenance.policy.clone())
            .unwrap_or_else(Policy::default),
    };
    let (mut chosen, cleanup) = choose_any(args.target.as_deref(), &args.aws, args.seed, &policy, None)?;
    let aws = cleanup.is_some();
    let target = chosen.target.as_mut();
    let frozen = target.capabilities().clock;
    println!(
        "conform run against {}, diffed with the recording {}",
        chosen.description,
        dir.display()
    );
    let (mut same, mut differing, mut skipped, mut suppressed) = (0, 0, 0, 0);
    for s in selected(args.only.as_deref()) {
        let Some(rec) = recordings.get(s.name) else {
            continue;
        };
        if let Some(why) = &rec.skipped {
            skipped += 1;
            println!("  skip {:<44} not in the recording: {why}", s.name);
            continue;
        }
        let transcript = match record::transcript(target, &s) {
            Ok((_, t)) => t,
            Err(e) if aws && e.is_skip() => {
                skipped += 1;
                println!("  skip {:<44} {e}", s.name);
                continue;
            }
            Err(e) => anyhow::bail!("scenario {}: {e}", s.name),
        };
        let tolerance = (!frozen || !rec.provenance.frozen_clock).then_some(WALL_CLOCK_TOLERANCE_SECONDS);
        let all = record::diff(s.name, &rec.transcript, &transcript, tolerance);
        let (quiet, shown): (Vec<_>, Vec<_>) = all.into_iter().partition(|d| accepted.contains(d));
        suppressed += quiet.len();
        if shown.is_empty() {
            same += 1;
            println!("  same {}", s.name);
            continue;
        }
        differing += 1;
        println!("  DIFF {} ({} differences)", s.name, shown.len());
        for d in &shown {
            println!(
                "       {}: recorded {} | now {}\n       accept with: {}",
                d.path,
                d.recorded,
                d.replayed,
                d.accepted_entry()
            );
        }
    }
    println!(
        "{same} same, {differing} differ, {skipped} skipped, {suppressed} accepted divergences suppressed (recorded by {})",
        recordings
            .values()
            .next()
            .map(|r| format!("{} on {}", r.provenance.target, r.provenance.date))
            .unwrap_or_default()
    );
    Ok(if differing > 0 {
        ExitCode::from(1)
    } else if same == 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
