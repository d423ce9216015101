//! `--target aws`: the command-line side of running against real AWS (see README "Running
//! against real AWS"): the flags, the refusal without `--allow-aws-writes`, credentials from
//! the standard chain, Ctrl-C, and cleanup when the run ends however it ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use conform_harness::aws::{AwsOptions, AwsTarget, ChainCredentials, CredentialSource, EvsScope};
use conform_harness::gen::Who;
use conform_model::Policy;

use super::target::Chosen;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// With `--target aws`: the region (default: AWS_REGION, else us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// With `--target aws`: the profile of the shared config files to run as (default: the
    /// standard chain: environment variables, then the default profile, ...).
    #[arg(long)]
    pub profile: Option<String>,
    /// With `--target aws`: a profile of another account for the buyer's steps (grants,
    /// received licenses); without it those steps are skipped.
    #[arg(long)]
    pub buyer_profile: Option<String>,
    /// With `--target aws`: allow the run to create, change and delete resources (always
    /// prefixed `conform-<run id>-`) in the account.
    #[arg(long)]
    pub allow_aws_writes: bool,
    /// With `--target aws`: send every service to this URL instead of AWS (e.g. a
    /// `conform serve --require-auth` on loopback), same signing and guards.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// With `--target aws`: at most this many calls in any minute.
    #[arg(long, default_value_t = 60)]
    pub max_calls_per_minute: u32,
    /// With `--target aws`: at most this many calls in the whole run (cleanup excepted).
    #[arg(long, default_value_t = 2000)]
    pub max_calls: u64,
    /// With `--target aws`: names the run's resources (default: the start time).
    #[arg(long)]
    pub run_id: Option<String>,
    /// With `--target aws`: your EVS environment id (never created or deleted).
    #[arg(long)]
    pub evs_environment: Option<String>,
    /// With `--target aws`: your EVS connector id (never created or deleted).
    #[arg(long)]
    pub evs_connector: Option<String>,
    /// With `--target aws`: VM ids of the environment the run may add entitlements to.
    #[arg(long, value_delimiter = ',')]
    pub evs_vms: Vec<String>,
    /// Tests only: sign with the clock moved by this many seconds.
    #[arg(long, hide = true, default_value_t = 0, allow_hyphen_values = true)]
    pub sign_clock_skew_seconds: i64,
    /// Tests only: send requests without a signature.
    #[arg(long, hide = true)]
    pub unsigned: bool,
}

impl AwsArgs {
    pub fn region(&self) -> String {
        self.region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".into())
    }

    pub fn evs_scope(&self) -> Option<EvsScope> {
        match (&self.evs_environment, &self.evs_connector) {
            (Some(environment), Some(connector)) if !self.evs_vms.is_empty() => Some(EvsScope {
                environment: environment.clone(),
                connector: connector.clone(),
                vms: self.evs_vms.iter().cloned().collect(),
            }),
            _ => None,
        }
    }
}

/// Deletes what the run created when dropped: at the end of a run, after an error, after Ctrl-C.
pub struct CleanupOnDrop(pub AwsTarget);

impl Drop for CleanupOnDrop {
    fn drop(&mut self) {
        let report = self.0.cleanup();
        println!(
            "\ncleanup: deleted {} resources, {} already deleted, {} calls in all",
            report.deleted.len(),
            report.already_gone,
            self.0.calls()
        );
        for left in &report.left {
            eprintln!("conform: cleanup could not remove {left}");
        }
    }
}

fn default_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("{now:x}{:04x}", std::process::id() & 0xffff)
}

/// The target of `--target`: `aws` (with the guards and cleanup), or anything `choose` knows.
pub fn choose_any(
    target: Option<&str>,
    aws: &AwsArgs,
    seed: u64,
    policy: &Policy,
    accounts: Option<&conform_harness::accounts::AccountTable>,
) -> anyhow::Result<(Chosen, Option<CleanupOnDrop>)> {
    if target != Some("aws") {
        return Ok((super::target::choose_with(target, seed, policy, accounts)?, None));
    }
    let evs = aws.evs_scope();
    let region = aws.region();
    if !aws.allow_aws_writes {
        let evs_part = match &evs {
            Some(s) => format!(
                " and adds then removes EVS Windows Server entitlements on VMs {:?} of environment {} (never creating or deleting environments or connectors)",
                s.vms, s.environment
            ),
            None => String::new(),
        };
        anyhow::bail!(
            "refusing to run against AWS without --allow-aws-writes: the run creates License Manager \
             licenses and grants named conform-<run id>-... in region {} of the account of {}, checks out \
             and checks in their entitlements, and deletes them again at the end{evs_part}. API calls are \
             free; licenses are not billed but count against quotas",
            region,
            aws.profile
                .as_deref()
                .map(|p| format!("profile {p}"))
                .unwrap_or_else(|| "the default credential chain".into())
        );
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let handler = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: the user wants out now, cleanup or not.
            std::process::exit(130);
        }
        eprintln!(
            "\nconform: interrupted; finishing the current call, then cleaning up (Ctrl-C again to quit now)"
        );
    });
    if let Err(e) = handler {
        eprintln!("conform: no Ctrl-C handler ({e}): an interrupted run leaves its resources behind");
    }
    let mut accounts: Vec<(String, Box<dyn CredentialSource>)> = vec![(
        Who::Seller.account().to_string(),
        Box::new(ChainCredentials::new(aws.profile.as_deref(), &region).map_err(|e| anyhow::anyhow!("{e}"))?),
    )];
    if let Some(buyer) = &aws.buyer_profile {
        accounts.push((
            Who::Buyer.account().to_string(),
            Box::new(ChainCredentials::new(Some(buyer), &region).map_err(|e| anyhow::anyhow!("{e}"))?),
        ));
    }
    let run_id = aws.run_id.clone().unwrap_or_else(default_run_id);
    let options = AwsOptions {
        region: region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        run_id: run_id.clone(),
        max_calls_per_minute: aws.max_calls_per_minute,
        max_calls: aws.max_calls,
        sign_clock_skew_seconds: aws.sign_clock_skew_seconds,
        unsigned: aws.unsigned,
        evs,
        interrupted,
    };
    let target = AwsTarget::new(options, accounts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let description = format!(
        "{} as account(s) {:?}, run prefix conform-{run_id}-",
        conform_harness::target::Target::name(&target),
        target.accounts().values().collect::<Vec<_>>()
    );
    let cleanup = CleanupOnDrop(target.clone());
    Ok((Chosen::new(Box::new(target), description), Some(cleanup)))
}
