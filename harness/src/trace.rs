//! Traces: a failing case written down (seed, policy, the concrete step list, expected and
//! actual replies) so `conform replay TRACE --target ...` reproduces it anywhere.

use std::path::Path;

use conform_model::{Policy, Service};
use serde::{Deserialize, Serialize};

use crate::driver::{CaseConfig, Finding};
use crate::gen::Step;

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
            events: self.events,
            audit: true,
            mix: Default::default(),
        }
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
