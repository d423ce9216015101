//! `conform run`: arguments and glue. The campaign (scenarios, generated cases, shrinking,
//! classification, traces, reports) lives in `conform_harness::campaign`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use conform_harness::baseline::Baseline;
use conform_harness::campaign::{Campaign, Config};
use conform_harness::gen::MixChoice;
use conform_harness::report::{Console, Fanout, JsonFile, JunitFile, MatrixFile, Reporter};
use conform_model::{Policy, Service};

use super::aws::{choose_any, AwsArgs};

/// A service as `--services` names it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceArg {
    LicenseManager,
    Evs,
}

impl From<ServiceArg> for Service {
    fn from(s: ServiceArg) -> Service {
        match s {
            ServiceArg::LicenseManager => Service::LicenseManager,
            ServiceArg::Evs => Service::Evs,
        }
    }
}

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
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "license-manager,evs"
    )]
    pub services: Vec<ServiceArg>,
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
    /// Policy divergences fail the run (by default they are reported and the run passes).
    #[arg(long)]
    pub strict_policy: bool,
    /// Stop starting new generated cases after this many seconds.
    #[arg(long)]
    pub time_budget_seconds: Option<u64>,
    /// Stop after this many distinct findings.
    #[arg(long)]
    pub max_findings: Option<usize>,
    /// Step weights of the generated cases: `swarm` (each case draws its own from its seed),
    /// `swarm,invalid=N` (with N% of requests invalid on purpose), `default` (the default
    /// weights for every case), or a mix as a finding prints it
    /// (`create_license=6,checkout=12,...,invalid=20[,focus]`).
    #[arg(long, default_value = "swarm", value_parser = parse_mix)]
    pub mix: MixChoice,
    /// Percent of generated requests invalid on purpose (half malformed, half refused by the
    /// model in its state); overrides the mix's.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub invalid_percent: Option<u32>,
    /// Also print what shrinking did to each finding (steps removed, values lowered).
    #[arg(long, short)]
    pub verbose: bool,
    /// Generated cases run side by side on this many lanes, each a target of its own (more
    /// embedded simulators, more in-process models; a URL or AWS runs its cases in order). The
    /// report is the same for any number. Default: the machine's cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// After the cases, N clients at once on connections of their own, contending on two
    /// small licenses; every license's history is checked for linearizability (README
    /// "Concurrent clients"). 0 or 1: no concurrent phase.
    #[arg(long, default_value_t = 0)]
    pub clients: usize,
    /// With --clients: concurrent calls in all (rounds run until this many were made).
    #[arg(long, default_value_t = 10_000)]
    pub concurrent_calls: u64,
    /// With --clients: calls each client makes per round.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub calls_per_client: u64,
    /// With --target URL: the accounts to sign as, in the fixtures' `accounts` format
    /// (`fixtures/harness.json` holds the built-in ones; see docs/fixtures.md). A row for one of
    /// the harness's account ids sets that role's keys; the target's own account ids take the
    /// roles left, in order (seller, buyer, stranger), and are rewritten both ways on the wire.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Write the conformance matrix (every operation in scope against what the run saw of it)
    /// here, as Markdown; the JSON report carries it too.
    #[arg(long)]
    pub matrix: Option<PathBuf>,
    /// A baseline of accepted findings (`conform baseline REPORT`): only new findings fail the
    /// run; those fixed are reported.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Instead of the scenarios and generated cases, explore the small world of `conform check`
    /// to this depth (alone: 3) and run cases that together take every (state, action) edge of
    /// it.
    #[arg(long, value_name = "DEPTH", num_args = 0..=1, default_missing_value = "3", value_parser = clap::value_parser!(u16).range(1..=conform_harness::explore::MAX_DEPTH as i64))]
    pub exhaustive: Option<u16>,
    /// Run only shard K of N (`2/4`): the generated cases whose index i has i % N = K - 1; the
    /// scenarios and the concurrent phase run in shard 1. `conform merge` puts the shards' JSON
    /// reports together.
    #[arg(long)]
    pub shard: Option<conform_harness::shard::Shard>,
}

fn parse_mix(s: &str) -> Result<MixChoice, String> {
    s.parse()
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
    let mut services: Vec<Service> = args.services.iter().map(|s| Service::from(*s)).collect();
    services.dedup();
    let accounts = match &args.accounts {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--accounts {}: {e}", path.display()))?;
            Some(conform_harness::accounts::AccountTable::from_fixtures(&text).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    if accounts.is_some() && !args.target.as_deref().is_some_and(|t| t.contains("://")) {
        anyhow::bail!("--accounts is for --target URL (the embedded simulator and the model know the built-in accounts)");
    }
    let (mut chosen, cleanup) = choose_any(
        args.target.as_deref(),
        &args.aws,
        args.seed,
        &policy,
        accounts.as_ref(),
    )?;
    // `cleanup` lives to the end of the run: dropping it removes what a run on AWS created.
    let aws = cleanup.is_some();
    if aws && args.aws.evs_scope().is_none() && services.contains(&Service::Evs) {
        println!("EVS skipped: it needs your own --evs-environment, --evs-connector and --evs-vms");
        services.retain(|s| *s != Service::Evs);
    }
    println!("conform run against {}", chosen.description);

    let mut config = Config::default();
    config.cases = args.cases;
    config.max_steps = args.max_steps;
    config.seed = args.seed;
    config.policy = policy;
    config.services = services;
    config.only = args.only.clone();
    config.trace_dir = Some(args.trace_dir.clone());
    config.time_budget = args.time_budget_seconds.map(Duration::from_secs);
    config.max_findings = args.max_findings;
    config.mix = args.mix.clone();
    if let Some(percent) = args.invalid_percent {
        match &mut config.mix {
            MixChoice::Swarm { invalid_percent } => *invalid_percent = percent,
            MixChoice::Fixed(mix) => mix.invalid_percent = percent,
        }
    }
    config.strict_policy = args.strict_policy;
    if let Some(path) = &args.baseline {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("--baseline {}: {e}", path.display()))?;
        config.baseline = Some(Baseline::from_json(&text).map_err(anyhow::Error::msg)?);
    }
    // On AWS, scenario differences on [P] rules are observed, not failed.
    config.observe_policy_in_scenarios = aws;
    config.target_label = chosen.description.clone();
    if args.clients > 1 {
        let mut cc = conform_harness::concurrent::Config::default();
        cc.clients = args.clients;
        cc.calls = args.concurrent_calls;
        cc.calls_per_client = args.calls_per_client as usize;
        cc.time_budget = config.time_budget;
        config.concurrent = Some(cc);
    }
    config.replay_target = args.target.clone();
    let coverage = match args.exhaustive {
        Some(depth) => {
            let coverage = exhaustive_cases(usize::from(depth), &config.policy, config.seed);
            config.scenarios = false;
            config.exhaustive = Some(coverage.cases.clone());
            Some(coverage)
        }
        None => None,
    };
    config.shard = args.shard;

    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(Console::new().verbose(args.verbose))];
    if let Some(path) = &args.json {
        reporters.push(Box::new(JsonFile(path.clone())));
    }
    if let Some(path) = &args.junit {
        reporters.push(Box::new(JunitFile(path.clone())));
    }
    if let Some(path) = &args.matrix {
        reporters.push(Box::new(MatrixFile(path.clone())));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    // One lane runs the cases as the target itself would: only more than one is worth a thread.
    let lanes = if jobs > 1 && config.case_count() > 1 {
        chosen.lanes(jobs)?
    } else {
        Vec::new()
    };
    if !lanes.is_empty() {
        println!(
            "generated cases on {} lanes (--jobs), each a target of its own",
            lanes.len()
        );
    }
    let summary = Campaign::new(config).run_lanes(chosen.target.as_mut(), lanes, &mut Fanout(reporters))?;
    if let Some(coverage) = coverage {
        let ran = summary.cases.len();
        println!(
            "edges covered: {} of {} explored (state, action) edges, by {ran} of {} cases",
            coverage.covered_by(ran),
            coverage.edges,
            coverage.cases.len()
        );
    }
    Ok(ExitCode::from(summary.exit_code()))
}

/// The cases covering every edge of the small world explored to `depth` (`--exhaustive`).
pub fn exhaustive_cases(depth: usize, policy: &Policy, seed: u64) -> conform_harness::explore::Coverage {
    use conform_harness::explore::{cover, explore, Bounds, ExploreConfig};
    let cfg = ExploreConfig {
        seed,
        policy: policy.clone(),
        bounds: Bounds {
            depth,
            ..Bounds::default()
        },
        keep_edges: true,
        ..ExploreConfig::default()
    };
    let report = explore(&cfg);
    print!("{}", report.describe());
    let coverage = report.graph.as_ref().map(cover).unwrap_or_default();
    println!(
        "{} cases take the {} edges of the explored graph",
        coverage.cases.len(),
        coverage.edges
    );
    coverage
}
