//! Choosing a target on the command line: the embedded simulator (default), the in-process
//! model, or any URL.

use conform_harness::accounts::AccountTable;
use conform_harness::embedded::Embedded;
use conform_harness::http::HttpTarget;
use conform_harness::target::{ModelTarget, Target};
use conform_harness::wrappers::DeterminismCheck;
use conform_model::Policy;

/// A target and whatever keeps it alive (the embedded simulator's server).
pub struct Chosen {
    pub target: Box<dyn Target>,
    pub description: String,
    _server: Option<Embedded>,
}

impl Chosen {
    /// A target that needs nothing kept alive beside it.
    pub fn new(target: Box<dyn Target>, description: String) -> Chosen {
        Chosen {
            target,
            description,
            _server: None,
        }
    }
}

/// `None`: start the embedded simulator on loopback (frozen clock, the harness's accounts);
/// `model`: the model in process; anything else: a URL.
pub fn choose(target: Option<&str>, seed: u64, policy: &Policy) -> anyhow::Result<Chosen> {
    choose_with(target, seed, policy, None)
}

/// As [`choose`]; a URL is signed for with `accounts` (`--accounts FILE`) where given, and the
/// accounts and what its control plane has are printed.
pub fn choose_with(
    target: Option<&str>,
    seed: u64,
    policy: &Policy,
    accounts: Option<&AccountTable>,
) -> anyhow::Result<Chosen> {
    match target {
        Some("model") => Ok(Chosen::new(
            // Run twice: the in-process model is also checked for determinism (SPEC 2).
            Box::new(DeterminismCheck::new(
                ModelTarget::new(seed, policy.clone()),
                ModelTarget::new(seed, policy.clone()),
            )),
            "the reference model, in process (each call run twice)".into(),
        )),
        Some(url) => {
            let table = accounts.cloned().unwrap_or_default();
            let t = HttpTarget::with_accounts(url, &table)?;
            println!("signing as (account, access key; --accounts FILE sets them):");
            for line in table.describe() {
                println!("  {line}");
            }
            println!("control plane: {}", t.control_plane());
            Ok(Chosen::new(Box::new(t), url.to_string()))
        }
        None => {
            let server = Embedded::builder().seed(seed).policy(policy.clone()).start()?;
            let t = server.target()?;
            Ok(Chosen {
                description: format!("the embedded simulator at {}", server.url()),
                target: Box::new(t),
                _server: Some(server),
            })
        }
    }
}
