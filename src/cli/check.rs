//! `conform check`: model checking of a small world in process (`conform_harness::explore`):
//! every reachable state up to a depth, every always property on every transition, the
//! sometimes properties as reachability, and the shortest path to a violation as a trace that
//! `conform replay` runs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use conform_harness::explore::{explore, Bounds, ExploreConfig, SmallWorld, MAX_DEPTH};

use super::run::load_policy;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Actions after the setup (breadth first: every state at this depth is explored).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(0..=MAX_DEPTH as i64))]
    pub depth: u16,
    /// Stop after this many unique states.
    #[arg(long, default_value_t = 2_000_000)]
    pub max_states: usize,
    /// Stop once the process holds this much memory (MiB).
    #[arg(long, default_value_t = 2048)]
    pub max_memory_mb: u64,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub time_budget_seconds: u64,
    /// Threads expanding each level (default: the machine's cores, at most 4).
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A policy file (JSON) for the model.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Seats of the world's license.
    #[arg(long, default_value_t = 2)]
    pub seats: i64,
    /// Grants (to the buyer) the actions may create.
    #[arg(long, default_value_t = 1)]
    pub grants: usize,
    /// VMs of the environment the actions entitle and remove.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=6))]
    pub vms: u8,
    /// Leave borrows (each one signs a token with RSA-PSS) out of the actions.
    #[arg(long)]
    pub no_borrow: bool,
    /// Where the traces of violated properties are written.
    #[arg(long, default_value = "conform-traces")]
    pub trace_dir: PathBuf,
}

impl CheckArgs {
    pub fn config(&self) -> anyhow::Result<ExploreConfig> {
        let mut cfg = ExploreConfig {
            seed: self.seed,
            policy: load_policy(self.policy.as_ref())?,
            world: SmallWorld {
                seats: self.seats,
                grants: self.grants,
                vms: self.vms,
                borrow: !self.no_borrow,
                ..SmallWorld::default()
            },
            bounds: Bounds {
                depth: usize::from(self.depth),
                states: self.max_states,
                memory_bytes: self.max_memory_mb.saturating_mul(1 << 20),
                time: Duration::from_secs(self.time_budget_seconds),
            },
            ..ExploreConfig::default()
        };
        if let Some(t) = self.threads {
            cfg.threads = t.max(1);
        }
        Ok(cfg)
    }
}

pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.config()?;
    println!(
        "conform check: depth {}, {} seat(s), {} grant(s), {} VM(s), borrows {}, {} thread(s)",
        cfg.bounds.depth,
        cfg.world.seats,
        cfg.world.grants,
        cfg.world.vms,
        if cfg.world.borrow { "on" } else { "off" },
        cfg.threads
    );
    let report = explore(&cfg);
    print!("{}", report.describe());
    if report.violations.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&args.trace_dir)?;
    for found in &report.violations {
        let path = args
            .trace_dir
            .join(format!("check-{}.json", found.violation.property));
        found.trace.write(&path).map_err(|e| anyhow::anyhow!(e))?;
        println!(
            "trace: {} (replay: conform replay {} --target model)",
            path.display(),
            path.display()
        );
    }
    Ok(ExitCode::from(1))
}
