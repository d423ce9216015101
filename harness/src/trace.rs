//! Traces: a failing case written down (seed, policy, the concrete step list, expected and
//! actual replies) so `conform replay TRACE --target ...` reproduces it anywhere.

use std::path::Path;

use conform_model::{Policy, Service};
use serde::{Deserialize, Serialize};

use crate::driver::{CaseConfig, Finding};
use crate::gen::Step;
use crate::target::Capabilities;

/// One minimized failure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trace {
    /// `conform <version>`.
    pub tool: String,
    pub target: String,
    pub seed: u64,
    pub case: u64,
    pub services: Vec<Service>,
    pub events: bool,
    /// What the target's control plane took, where `events` does not say it all (every
    /// capability or none); read as `events` says when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    pub policy: Policy,
    pub steps: Vec<Step>,
    pub finding: Finding,
    /// The step weights the case was generated with (informative: a replay runs `steps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
}

impl Trace {
    pub fn config(&self) -> CaseConfig {
        CaseConfig {
            seed: self.seed,
            max_steps: self.steps.len(),
            policy: self.policy.clone(),
            services: self.services.clone(),
            capabilities: Capabilities::NONE,
            audit: true,
            mix: Default::default(),
            missing: Default::default(),
        }
        .with_events(self.events)
        .with_capabilities(self.capabilities)
    }

    /// The capabilities a trace of a case of `cfg` writes: none where `events` says them all.
    pub fn capabilities_told(cfg: &CaseConfig) -> Option<Capabilities> {
        let implied = if cfg.events() {
            Capabilities::ALL
        } else {
            Capabilities::NONE
        };
        (cfg.capabilities != implied).then_some(cfg.capabilities)
    }

    pub fn read(path: &Path) -> Result<Trace, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not a conform trace: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }
}
