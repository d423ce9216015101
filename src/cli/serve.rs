//! `conform serve`: the simulator on a port (see README "Simulator").

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use conform_model::{timefmt, Policy};
use conform_simulator::persist::{StateConfig, SyncMode};
use conform_simulator::{Config, Fixtures, DEFAULT_LISTEN};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed once listening).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Fixtures file: accounts (access key → account) and model events applied at start.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Policy file (JSON; members left out keep their defaults).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Seed of the world's id streams.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the model clock still (it moves only through /_conform/clock) instead of wall time.
    #[arg(long)]
    pub frozen_clock: bool,
    /// Refuse requests without a valid SigV4 signature from a fixtures account.
    #[arg(long)]
    pub require_auth: bool,
    /// Deviate from the rules in a named way (repeatable; a build with `--features faults`).
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    /// List the faults this build can inject, and exit.
    #[arg(long)]
    pub list_faults: bool,
    /// Print the JSON Schema of the fixtures format (docs/fixtures.md), and exit.
    #[arg(long)]
    pub print_fixtures_schema: bool,
    /// Where the model clock starts (RFC 3339, e.g. 2026-12-01T00:00:00Z). Default: 2026-01-01T00:00:00Z
    /// with --frozen-clock, else wall time. Without --frozen-clock it moves on from there.
    #[arg(long)]
    pub start_time: Option<String>,
    /// Per-request log lines on stderr (filtered by RUST_LOG, default `info`): text or json.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Requests kept for GET /_conform/requests (the oldest dropped first); 0 keeps none.
    #[arg(long, default_value_t = conform_simulator::journal::DEFAULT_CAPACITY)]
    pub journal_size: usize,
    /// Keep the world in DIR: every change is journaled before its reply and replayed at start
    /// (docs/state-journal.md). Without it nothing touches the disk.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// With --state-dir, when the journal reaches the disk: `batch` writes before each reply and
    /// fsyncs every 200 ms (survives the process being killed); `always` fsyncs before each reply
    /// (survives a machine crash; concurrent writes share one fsync).
    #[arg(long, value_enum, default_value_t = StateSync::Batch)]
    pub state_sync: StateSync,
    /// With --state-dir, snapshot the world once this many records were journaled since the
    /// last snapshot: a restart loads the snapshot and replays at most this many records.
    #[arg(long, value_name = "N", default_value_t = conform_simulator::persist::SNAPSHOT_EVERY,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub state_snapshot_every: u64,
}

/// When `--state-dir`'s journal reaches the disk.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateSync {
    Always,
    Batch,
}

/// How `conform serve` writes its logs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the log subscriber: stderr, `RUST_LOG` (default `info`), text or JSON lines.
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    // A subscriber already installed (a test harness) keeps its place.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.print_fixtures_schema {
        print!("{}", conform_simulator::fixtures::schema_text());
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_faults {
        let mut faults = conform_simulator::fault_names();
        faults.extend(conform_simulator::race_fault_names());
        if faults.is_empty() {
            println!("this conform was built without the `faults` feature (cargo build --features faults)");
        }
        for (name, about) in faults {
            println!("{name:<32} {about}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let policy = match &args.policy {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Policy::from_json(&text).with_context(|| format!("policy {}", path.display()))?
        }
        None => Policy::default(),
    };
    let fixtures = match &args.fixtures {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            Fixtures::from_json(&bytes).map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?
        }
        None => Fixtures::default(),
    };
    let start_ms = match &args.start_time {
        Some(text) => Some(conform_model::timefmt::parse_input_date(text).ok_or_else(|| {
            anyhow::anyhow!("--start-time '{text}' is not an RFC 3339 instant such as 2026-12-01T00:00:00Z")
        })?),
        None => None,
    };
    let clock = match (start_ms, args.frozen_clock) {
        (Some(ms), true) => format!("clock frozen at {}", timefmt::iso_millis(ms)),
        (None, true) => format!(
            "clock frozen at {}; --start-time to change",
            timefmt::iso_millis(conform_model::clock::DEFAULT_START_MS)
        ),
        (Some(ms), false) => format!(
            "clock starts at {} and follows wall time",
            timefmt::iso_millis(ms)
        ),
        (None, false) => "clock follows wall time".to_string(),
    };
    init_logs(args.log_format);
    let config = Config {
        seed: args.seed,
        policy,
        fixtures,
        frozen_clock: args.frozen_clock,
        require_auth: args.require_auth,
        faults: args.faults.clone(),
        start_ms,
        journal_capacity: args.journal_size,
        state: args.state_dir.clone().map(|dir| {
            let sync = match args.state_sync {
                StateSync::Always => SyncMode::Always,
                StateSync::Batch => SyncMode::Batch,
            };
            StateConfig {
                snapshot_every: args.state_snapshot_every,
                ..StateConfig::new(dir, sync)
            }
        }),
    };
    conform_simulator::run_blocking(config, args.listen, |addr| {
        println!("conform listening on http://{addr} ({clock})");
        // Scripts and tests wait for this line; do not leave it in a buffer.
        let _ = std::io::stdout().flush();
    })?;
    eprintln!("conform: shut down");
    Ok(ExitCode::SUCCESS)
}
