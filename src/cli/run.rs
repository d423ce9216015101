//! `conform run`: the scenario suite against a target.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Seed of the world and of generated cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
