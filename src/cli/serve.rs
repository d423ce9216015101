//! `conform serve`: the simulator on a port (see README "Simulator").

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use conform_model::Policy;
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
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.list_faults {
        let faults = conform_simulator::fault_names();
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
    let config = Config {
        seed: args.seed,
        policy,
        fixtures,
        frozen_clock: args.frozen_clock,
        require_auth: args.require_auth,
        faults: args.faults.clone(),
    };
    conform_simulator::run_blocking(config, args.listen, |addr| {
        println!("conform listening on http://{addr}");
        // Scripts and tests wait for this line; do not leave it in a buffer.
        let _ = std::io::stdout().flush();
    })?;
    eprintln!("conform: shut down");
    Ok(ExitCode::SUCCESS)
}
