//! Choosing a target on the command line: the embedded simulator (default), the in-process
//! model, or any URL.

use std::collections::BTreeMap;

use conform_harness::gen::Who;
use conform_harness::http::{Credentials, HttpTarget};
use conform_harness::target::{ModelTarget, Target};
use conform_harness::wrappers::DeterminismCheck;
use conform_model::Policy;
use conform_simulator::{Background, Config, Fixtures};

/// The accounts the harness speaks as, with the keys the embedded simulator knows them by.
/// (the harness's account, its access key, its secret); the same keys as `fixtures/harness.json`.
pub const ACCOUNTS: [(Who, &str, &str); 3] = [
    (Who::Seller, "AKIDCONFORMSELLER", "conform-seller-secret"),
    (Who::Buyer, "AKIDCONFORMBUYER", "conform-buyer-secret"),
    (Who::Stranger, "AKIDCONFORMSTRANGER", "conform-stranger-secret"),
];

fn credentials() -> BTreeMap<String, Credentials> {
    ACCOUNTS
        .iter()
        .map(|(account, key, secret)| {
            (
                account.account().to_string(),
                Credentials {
                    access_key_id: key.to_string(),
                    secret_access_key: secret.to_string(),
                },
            )
        })
        .collect()
}

/// A target and whatever keeps it alive (the embedded simulator's server).
pub struct Chosen {
    pub target: Box<dyn Target>,
    pub description: String,
    _server: Option<Background>,
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

/// `None`: start the embedded simulator on loopback (frozen clock, the three accounts);
/// `model`: the model in process; anything else: a URL.
pub fn choose(target: Option<&str>, seed: u64, policy: &Policy) -> anyhow::Result<Chosen> {
    match target {
        Some("model") => Ok(Chosen {
            // Run twice: the in-process model is also checked for determinism (SPEC 2).
            target: Box::new(DeterminismCheck::new(
                ModelTarget::new(seed, policy.clone()),
                ModelTarget::new(seed, policy.clone()),
            )),
            description: "the reference model, in process (each call run twice)".into(),
            _server: None,
        }),
        Some(url) => {
            let t = HttpTarget::new(url, credentials()).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(Chosen {
                description: url.to_string(),
                target: Box::new(t),
                _server: None,
            })
        }
        None => {
            let accounts = ACCOUNTS
                .iter()
                .map(|(account, key, secret)| conform_simulator::Account {
                    access_key_id: key.to_string(),
                    secret_access_key: secret.to_string(),
                    account_id: account.account().to_string(),
                })
                .collect();
            let config = Config {
                seed,
                policy: policy.clone(),
                fixtures: Fixtures {
                    accounts,
                    events: vec![],
                },
                frozen_clock: true,
                require_auth: true,
                faults: Vec::new(),
            };
            let server =
                Background::start(&config).map_err(|e| anyhow::anyhow!("embedded simulator: {e}"))?;
            let url = server.url();
            let t = HttpTarget::new(&url, credentials()).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(Chosen {
                description: format!("the embedded simulator at {url}"),
                target: Box::new(t),
                _server: Some(server),
            })
        }
    }
}
