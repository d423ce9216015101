//! The embedded simulator: `conform serve` started in this process on a free loopback port,
//! with the harness's [`accounts`](crate::accounts), a frozen clock and signatures required,
//! and an [`HttpTarget`] that speaks to it. The default target of `conform run`, and the one
//! setup the tests and benches share.
//!
//! ```
//! use conform_harness::embedded::Embedded;
//! use conform_harness::target::Target;
//!
//! let sim = Embedded::builder().start().unwrap();
//! let target = sim.target().unwrap();
//! assert!(target.capabilities().reset);
//! ```

use conform_model::Policy;
use conform_simulator::{Account, Background, Config, Fixtures};

use crate::accounts::{credentials, ACCOUNTS};
use crate::http::HttpTarget;
use crate::target::InfraError;

/// A running embedded simulator; it stops when dropped.
pub struct Embedded {
    server: Background,
}

/// How to start one: seed, policy and, in a build with the simulator's `faults` feature, named
/// faults.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    seed: Option<u64>,
    policy: Policy,
    faults: Vec<String>,
}

impl Builder {
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Named deviations (`conform serve --fault NAME`); refused at start in a build without them.
    pub fn faults<S: Into<String>>(mut self, faults: impl IntoIterator<Item = S>) -> Self {
        self.faults = faults.into_iter().map(Into::into).collect();
        self
    }

    pub fn start(self) -> Result<Embedded, InfraError> {
        let accounts = ACCOUNTS
            .iter()
            .map(|a| Account {
                access_key_id: a.access_key_id.to_string(),
                secret_access_key: a.secret_access_key.to_string(),
                account_id: a.account_id.to_string(),
            })
            .collect();
        let defaults = Config::default();
        let config = Config {
            seed: self.seed.unwrap_or(defaults.seed),
            policy: self.policy,
            fixtures: Fixtures {
                accounts,
                events: vec![],
            },
            frozen_clock: true,
            require_auth: true,
            faults: self.faults,
            ..defaults
        };
        let server =
            Background::start(&config).map_err(|e| InfraError::Other(format!("embedded simulator: {e}")))?;
        Ok(Embedded { server })
    }
}

impl Embedded {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A new HTTP target signing as the harness's accounts.
    pub fn target(&self) -> Result<HttpTarget, InfraError> {
        HttpTarget::new(&self.url(), credentials())
    }
}
