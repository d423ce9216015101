//! The explorer (issue #16): breadth first over every sequence of actions of a small world, in
//! the spirit of stateright's BFS checker and TLA+'s TLC. States are merged by the model's
//! canonical fingerprint (`World::fingerprint_without_client_tokens`: ids as creation order,
//! times relative to now); every transition runs through the one place a step runs on the model
//! ([`crate::driver::Reference`]), so every always property of [`crate::audit`] is checked on
//! every transition, and the sometimes properties report whether any path reaches them.
//!
//! Only the graph is kept: per state its parent and the action that first reached it (BFS: the
//! shortest path), per level the frontier's states. A violation's path is rebuilt by running
//! the actions again from the start, and written as a [`Trace`] that `conform replay` runs.
//!
//! ```
//! use conform_harness::explore::{explore, Bounds, ExploreConfig};
//!
//! let cfg = ExploreConfig { bounds: Bounds { depth: 2, ..Bounds::default() }, ..ExploreConfig::default() };
//! let report = explore(&cfg);
//! assert!(report.violations.is_empty());
//! assert!(report.unique_states > 10);
//! assert_eq!(report.depth_reached, 2);
//! ```

mod alphabet;
mod cover;
mod engine;
mod workers;

pub use alphabet::{fresh, SmallWorld, MAX_DEPTH};
pub use cover::{cover, Coverage};
pub use engine::{explore, Edge, Graph};

use std::time::Duration;

use conform_model::Policy;

use crate::audit::Violation;
use crate::gen::Step;
use crate::trace::Trace;

/// The depth of `conform run --exhaustive` when none is given, and of the fault proof.
pub const DEFAULT_EXHAUSTIVE_DEPTH: usize = 3;

/// Where exploration stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Actions after the setup.
    pub depth: usize,
    /// Unique states.
    pub states: usize,
    /// Resident memory of the process, in bytes (read from `/proc/self/status` where there is
    /// one; elsewhere not enforced).
    pub memory_bytes: u64,
    /// Wall time.
    pub time: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            depth: 4,
            states: 2_000_000,
            memory_bytes: 2 << 30,
            time: Duration::from_secs(300),
        }
    }
}

/// What to explore.
#[derive(Clone, Debug)]
pub struct ExploreConfig {
    /// Seed of the world (its ids; the fingerprint abstracts them).
    pub seed: u64,
    pub policy: Policy,
    pub world: SmallWorld,
    pub bounds: Bounds,
    /// Worker threads expanding a level (1: this thread only).
    pub threads: usize,
    /// Keep every edge (state, action, state) for [`cover`] (`conform run --exhaustive`).
    pub keep_edges: bool,
    /// Changes the start world before the setup: the switch a test uses to inject a model
    /// bug (a `faults` feature fault) and show the explorer finds it.
    pub start: Option<fn(&mut conform_model::World)>,
}

impl Default for ExploreConfig {
    fn default() -> Self {
        ExploreConfig {
            seed: 1,
            policy: Policy::default(),
            world: SmallWorld::default(),
            bounds: Bounds::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
            keep_edges: false,
            start: None,
        }
    }
}

/// The bound that stopped an exploration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every state within the depth bound was explored.
    Depth,
    /// No action leads to a state not seen: every reachable state was explored.
    Exhausted,
    States,
    Memory,
    Time,
    /// An always property failed; the level it failed in was finished.
    Violation,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stop::Depth => "the depth bound",
            Stop::Exhausted => "nothing new: every reachable state was explored",
            Stop::States => "the state bound",
            Stop::Memory => "the memory bound",
            Stop::Time => "the time bound",
            Stop::Violation => "a violated always property",
        })
    }
}

/// A violated always property and the shortest path to it.
#[derive(Clone, Debug)]
pub struct Found {
    pub violation: Violation,
    /// The steps after the setup, the last one breaking the property.
    pub path: Vec<Step>,
    /// The whole case, setup included, for `conform replay`.
    pub trace: Trace,
}

/// What an exploration covered.
#[derive(Clone, Debug)]
pub struct Report {
    /// Transitions run (every action in every expanded state).
    pub transitions: u64,
    pub unique_states: usize,
    /// The deepest level with every state expanded (`depth_reached` + 1 may be partial).
    pub depth_reached: usize,
    /// Unique states per level, from the start state (level 0).
    pub levels: Vec<usize>,
    pub stop: Stop,
    pub elapsed: Duration,
    /// The graph's own bytes per unique state (node and fingerprint index), and the peak
    /// resident memory growth per unique state, where the process's memory can be read.
    pub graph_bytes_per_state: usize,
    pub resident_bytes_per_state: Option<u64>,
    /// Each always property broken, with the shortest path found (first found per property).
    pub violations: Vec<Found>,
    /// Every sometimes property by name, with whether some explored path reaches it.
    pub goals: Vec<(&'static str, bool)>,
    /// The edges, when kept.
    pub graph: Option<Graph>,
}

impl Report {
    pub fn states_per_second(&self) -> f64 {
        self.unique_states as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The report as text, one fact a line.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        line(
            &mut out,
            format!(
                "{} transitions, {} unique states, depth {} complete (levels {:?}), in {:.2} s: {:.0} unique states/s",
                self.transitions,
                self.unique_states,
                self.depth_reached,
                self.levels,
                self.elapsed.as_secs_f64(),
                self.states_per_second()
            ),
        );
        let resident = self
            .resident_bytes_per_state
            .map_or("unknown".to_string(), |b| format!("{b} bytes"));
        line(
            &mut out,
            format!(
                "memory per stored state: {} bytes of graph, {resident} resident (frontier included)",
                self.graph_bytes_per_state
            ),
        );
        line(&mut out, format!("stopped by {}", self.stop));
        for (name, reached) in &self.goals {
            line(
                &mut out,
                format!(
                    "  sometimes {name}: {}",
                    if *reached { "reached" } else { "not reached" }
                ),
            );
        }
        if self.violations.is_empty() {
            line(
                &mut out,
                "every always property held in every explored state".into(),
            );
        }
        for f in &self.violations {
            line(
                &mut out,
                format!("VIOLATED {} after {} step(s):", f.violation, f.path.len()),
            );
            for (i, s) in f.path.iter().enumerate() {
                line(
                    &mut out,
                    format!("  {}. {}", i + 1, serde_json::to_string(s).unwrap_or_default()),
                );
            }
        }
        out
    }
}

/// The resident memory of this process, in bytes, where `/proc` tells it.
pub(crate) fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
