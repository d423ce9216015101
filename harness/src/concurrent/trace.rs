//! A concurrent finding written down: the seed, the round and every client's program, so
//! `conform replay` runs the same clients at once again and checks the history anew.

use std::path::Path;

use conform_model::Policy;
use serde::{Deserialize, Serialize};

use super::workload::Programs;
use super::Config;

/// The marker of a concurrent trace.
pub const KIND: &str = "concurrent";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConcurrentTrace {
    /// `conform <version>`.
    pub tool: String,
    /// Always [`KIND`].
    pub kind: String,
    pub target: String,
    pub seed: u64,
    pub round: u64,
    pub policy: Policy,
    pub calls_per_client: usize,
    pub programs: Programs,
    /// The finding as it was printed.
    pub finding: String,
}

impl ConcurrentTrace {
    pub fn new(cfg: &Config, round: u64, programs: Programs, finding: String) -> ConcurrentTrace {
        ConcurrentTrace {
            tool: format!("conform {}", env!("CARGO_PKG_VERSION")),
            kind: KIND.into(),
            target: cfg.target_label.clone(),
            seed: cfg.seed,
            round,
            policy: cfg.policy.clone(),
            calls_per_client: cfg.calls_per_client,
            programs,
            finding,
        }
    }

    /// The config a replay runs with.
    pub fn config(&self) -> Config {
        Config {
            clients: self.programs.clients(),
            calls_per_client: self.calls_per_client,
            seed: self.seed,
            policy: self.policy.clone(),
            ..Config::default()
        }
    }

    /// Whether the file at `path` is a concurrent trace (and not a case's).
    pub fn is_one(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["kind"] == KIND)
    }

    pub fn read(path: &Path) -> Result<ConcurrentTrace, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a conform concurrent trace: {e}", path.display()))
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }
}
