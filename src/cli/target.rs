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
    /// How to make another target like it with state of its own (a lane), where one can.
    kind: Kind,
    /// The lanes' embedded simulators.
    lane_servers: Vec<Embedded>,
}

/// What kind of target was chosen, as far as making another one goes.
enum Kind {
    Model {
        seed: u64,
        policy: Policy,
    },
    Embedded {
        seed: u64,
        policy: Policy,
    },
    /// A URL or AWS: one endpoint, whose cases run in order.
    Other,
}

fn model(seed: u64, policy: &Policy) -> DeterminismCheck<ModelTarget> {
    // Run twice: the in-process model is also checked for determinism (SPEC 2).
    DeterminismCheck::new(
        ModelTarget::new(seed, policy.clone()),
        ModelTarget::new(seed, policy.clone()),
    )
}

fn embedded(seed: u64, policy: &Policy) -> anyhow::Result<Embedded> {
    Ok(Embedded::builder().seed(seed).policy(policy.clone()).start()?)
}

impl Chosen {
    /// A target that needs nothing kept alive beside it.
    pub fn new(target: Box<dyn Target>, description: String) -> Chosen {
        Chosen {
            target,
            description,
            _server: None,
            kind: Kind::Other,
            lane_servers: Vec::new(),
        }
    }

    /// `n` targets like this one with state of their own, for cases run side by side
    /// (`--jobs`): more in-process models, more embedded simulators; none for a URL or AWS.
    pub fn lanes(&mut self, n: usize) -> anyhow::Result<Vec<Box<dyn Target + Send>>> {
        let mut lanes: Vec<Box<dyn Target + Send>> = Vec::new();
        for _ in 0..n {
            match &self.kind {
                Kind::Model { seed, policy } => lanes.push(Box::new(model(*seed, policy))),
                Kind::Embedded { seed, policy } => {
                    let server = embedded(*seed, policy)?;
                    lanes.push(Box::new(server.target()?));
                    self.lane_servers.push(server);
                }
                Kind::Other => break,
            }
        }
        Ok(lanes)
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
        Some("model") => Ok(Chosen {
            kind: Kind::Model {
                seed,
                policy: policy.clone(),
            },
            ..Chosen::new(
                Box::new(model(seed, policy)),
                "the reference model, in process (each call run twice)".into(),
            )
        }),
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
            let server = embedded(seed, policy)?;
            let t = server.target()?;
            Ok(Chosen {
                description: format!("the embedded simulator at {}", server.url()),
                target: Box::new(t),
                _server: Some(server),
                kind: Kind::Embedded {
                    seed,
                    policy: policy.clone(),
                },
                lane_servers: Vec::new(),
            })
        }
    }
}
