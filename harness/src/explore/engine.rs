//! The breadth-first search: levels expanded in parallel (each worker runs every action of its
//! share of the frontier on clones of the states), merged in one thread in a fixed order, so
//! state numbers, shortest paths and reports do not depend on the number of threads.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::Instant as Clock;

use conform_model::Service;
// State fingerprints are hashes already: foldhash's, not SipHash, to place them.
use foldhash::{HashMap, HashMapExt};

use super::workers::{Expanded, Shared, Workers};
use super::{fresh, resident_bytes, ExploreConfig, Found, Report, Stop};
use crate::audit::{goals, Violation};
use crate::driver::{CaseConfig, Classification, Finding, Reference, Reply};
use crate::gen::{Concrete, Step};
use crate::trace::Trace;

/// States expanded by each thread between two merges.
const BATCH: usize = 512;

/// One state of the graph: the state and the action (an index into its parent's actions)
/// that first reached it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Node {
    parent: u32,
    action: u16,
}

/// One transition: from a state, by an action, to a state (`u32` state numbers, BFS order;
/// 0 is the start).
#[derive(Clone, Debug)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    /// The action (its ClientToken as sent at the source's depth; [`super::cover`] renumbers).
    pub step: Step,
}

/// The explored graph, kept for transition coverage.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub edges: Vec<Edge>,
    /// Each state's depth.
    pub depth: Vec<u16>,
    /// The setup steps before state 0.
    pub setup: Vec<Step>,
}

/// What one worker made of one transition.
pub(super) enum Outcome {
    /// A state this level had not seen when the worker ran it (it may still be a duplicate of
    /// another worker's).
    New(u64),
    Seen(u64),
    Broken(Violation),
}

pub(super) struct Transition {
    pub from: u32,
    pub action: u16,
    pub step: Option<Step>,
    pub outcome: Outcome,
}

/// The case configuration every explored path runs under (so a trace replays it).
fn case_config(cfg: &ExploreConfig) -> CaseConfig {
    CaseConfig {
        seed: cfg.seed,
        max_steps: cfg.bounds.depth + cfg.world.setup().len(),
        policy: cfg.policy.clone(),
        services: vec![Service::LicenseManager, Service::Evs],
        capabilities: crate::target::Capabilities::ALL,
        audit: true,
        mix: Default::default(),
        missing: Default::default(),
    }
}

/// Explores `cfg`'s small world breadth first within its bounds.
pub fn explore(cfg: &ExploreConfig) -> Report {
    let started = Clock::now();
    let resident_at_start = resident_bytes();
    let case = case_config(cfg);
    let setup = cfg.world.setup();
    let depth_bound = cfg.bounds.depth.min(super::MAX_DEPTH);
    let mut root = Reference::new(&case, 0, true);
    if let Some(start) = cfg.start {
        start(root.world_mut());
    }
    let mut report = Report {
        transitions: 0,
        unique_states: 1,
        depth_reached: 0,
        levels: vec![1],
        stop: Stop::Depth,
        elapsed: Default::default(),
        graph_bytes_per_state: 0,
        resident_bytes_per_state: None,
        violations: Vec::new(),
        goals: Vec::new(),
        graph: cfg.keep_edges.then(|| Graph {
            edges: Vec::new(),
            depth: vec![0],
            setup: setup.clone(),
        }),
    };
    for (i, step) in setup.iter().enumerate() {
        if let Err(v) = root.advance(step) {
            let path = setup[..=i].to_vec();
            let trace = trace_of(cfg, &case, &root, step, &path, &v);
            report.violations.push(Found {
                violation: v,
                path: Vec::new(),
                trace,
            });
            report.stop = Stop::Violation;
            report.elapsed = started.elapsed();
            return report;
        }
    }
    let start = root;
    let nodes = RwLock::new(vec![Node { parent: 0, action: 0 }]);
    let mut index: HashMap<u64, u32> = HashMap::new();
    index.insert(start.world().fingerprint_without_client_tokens(), 0);
    let index = RwLock::new(index);
    // The frontier holds state numbers only: each state is made again by its path when it is
    // expanded, from the nearest state of the path a worker still holds ([`Paths`]), so memory
    // holds the graph and the paths being expanded, not a level of worlds.
    let mut frontier: Vec<u32> = vec![0];
    let mut reached: BTreeSet<&'static str> = BTreeSet::new();
    let mut peak_resident = resident_at_start;
    let stop_flag = AtomicBool::new(false);
    let threads = cfg.threads.max(1);
    let shared = Shared {
        cfg,
        nodes: &nodes,
        index: &index,
        stop: &stop_flag,
        started,
    };
    std::thread::scope(|scope| {
        let mut workers = Workers::start(scope, threads, &start, &shared);
        'levels: for depth in 0..depth_bound {
            if frontier.is_empty() {
                report.stop = Stop::Exhausted;
                break;
            }
            let position = setup.len() + depth;
            let current = std::mem::take(&mut frontier);
            let mut level = Level {
                depth,
                states: 0,
                complete: true,
                broken: Vec::new(),
            };
            // In batches, so that the state bound stops the work, not only the counting.
            for batch in current.chunks(BATCH * threads) {
                if write(&nodes).len() >= cfg.bounds.states {
                    report.stop = Stop::States;
                    level.complete = false;
                    break;
                }
                let results = workers.run(batch, position);
                if stop_flag.load(Ordering::Relaxed) {
                    level.complete = false;
                }
                let mut graph = Merge {
                    nodes: &mut write(&nodes),
                    index: &mut write(&index),
                    frontier: &mut frontier,
                    reached: &mut reached,
                };
                for expanded in results {
                    graph.merge(cfg, expanded, &mut level, &mut report);
                }
            }
            let Level {
                states: level_states,
                complete,
                broken,
                ..
            } = level;
            report.levels.push(level_states);
            let resident = resident_bytes();
            peak_resident = peak_resident.max(resident);
            for (from, action, v) in broken {
                if report
                    .violations
                    .iter()
                    .any(|f| f.violation.property == v.property)
                {
                    continue;
                }
                let found = rebuild(cfg, &case, &start, &write(&nodes), from, action, v);
                report.violations.push(found);
            }
            if !report.violations.is_empty() {
                report.stop = Stop::Violation;
                if complete {
                    report.depth_reached = depth + 1;
                }
                break 'levels;
            }
            if !complete {
                if stop_flag.load(Ordering::Relaxed) {
                    report.stop = Stop::Time;
                }
                break;
            }
            report.depth_reached = depth + 1;
            if resident.is_some_and(|r| r >= cfg.bounds.memory_bytes) {
                report.stop = Stop::Memory;
                break;
            }
            if started.elapsed() >= cfg.bounds.time && depth + 1 < depth_bound {
                report.stop = Stop::Time;
                break;
            }
            if level_states == 0 {
                report.stop = Stop::Exhausted;
                break;
            }
        }
        workers.finish();
    });
    let nodes = nodes.into_inner().unwrap_or_else(|e| e.into_inner());
    report.unique_states = nodes.len();
    report.elapsed = started.elapsed();
    report.goals = goals().map(|p| (p.name, reached.contains(p.name))).collect();
    // A node, and its fingerprint's entry in the index (key, value and the map's control byte,
    // at its load factor of 7/8).
    let entry = std::mem::size_of::<(u64, u32)>() + 1;
    report.graph_bytes_per_state = std::mem::size_of::<Node>() + entry * 8 / 7;
    report.resident_bytes_per_state = match (resident_at_start, peak_resident) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) / nodes.len().max(1) as u64),
        _ => None,
    };
    report
}

/// What the merges of one level's batches gather.
struct Level {
    /// The level's depth after the setup (its new states are one deeper).
    depth: usize,
    /// New states found.
    states: usize,
    /// No bound cut the level short.
    complete: bool,
    /// The transitions that broke a property: (state, action, violation).
    broken: Vec<(u32, u16, Violation)>,
}

/// The search's state that the merge between batches writes.
struct Merge<'a> {
    nodes: &'a mut Vec<Node>,
    index: &'a mut HashMap<u64, u32>,
    /// The next level's states.
    frontier: &'a mut Vec<u32>,
    reached: &'a mut BTreeSet<&'static str>,
}

impl Merge<'_> {
    /// One expanded part into the graph, in its order: a fingerprint not seen yet becomes a
    /// state of the next level while the state bound allows, and every edge is kept if the
    /// graph is.
    fn merge(&mut self, cfg: &ExploreConfig, expanded: Expanded, level: &mut Level, report: &mut Report) {
        let (transitions, goals_seen, runs) = expanded;
        report.transitions += runs;
        self.reached.extend(goals_seen);
        for t in transitions {
            let fp = match t.outcome {
                Outcome::Broken(v) => {
                    level.broken.push((t.from, t.action, v));
                    continue;
                }
                Outcome::Seen(fp) | Outcome::New(fp) => fp,
            };
            let to = match self.index.get(&fp) {
                Some(&to) => to,
                None if self.nodes.len() >= cfg.bounds.states => {
                    report.stop = Stop::States;
                    level.complete = false;
                    continue;
                }
                None => {
                    let id = self.nodes.len() as u32;
                    self.nodes.push(Node {
                        parent: t.from,
                        action: t.action,
                    });
                    self.index.insert(fp, id);
                    if let Some(g) = report.graph.as_mut() {
                        g.depth.push(level.depth as u16 + 1);
                    }
                    level.states += 1;
                    self.frontier.push(id);
                    id
                }
            };
            if let (Some(g), Some(step)) = (report.graph.as_mut(), t.step) {
                g.edges.push(Edge {
                    from: t.from,
                    to,
                    step,
                });
            }
        }
    }
}

/// The lock's value, whether or not a thread panicked holding it (a panic is resumed anyway).
fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// The states on the path to the state last expanded, from the start: the frontier is in BFS
/// order, so the next state shares most of its path with the last one and is made again from
/// their common ancestor by the actions after it (one transition for a sibling), not from the
/// start. Each action held every property when explored, so none can fail now.
pub(super) struct Paths {
    start: Reference,
    /// `(state, its state)` for the states at depth 1, 2, ... of the last path made.
    chain: Vec<(u32, Reference)>,
}

impl Paths {
    pub(super) fn new(start: &Reference) -> Paths {
        Paths {
            // Detached: the states this worker makes share reference counts with each other,
            // not with another worker's (two threads counting on one cache line halved the
            // second thread's gain).
            start: start.detached(),
            chain: Vec::new(),
        }
    }

    /// The state numbered `id`.
    pub(super) fn state(&mut self, cfg: &ExploreConfig, nodes: &[Node], id: u32) -> &mut Reference {
        let mut path = Vec::new();
        let mut at = id;
        while at != 0 {
            path.push(at);
            at = nodes[at as usize].parent;
        }
        path.reverse();
        let common = self
            .chain
            .iter()
            .zip(&path)
            .take_while(|((have, _), want)| have == *want)
            .count();
        self.chain.truncate(common);
        let setup = cfg.world.setup().len();
        for (i, &n) in path.iter().enumerate().skip(common) {
            let parent = match self.chain.last_mut() {
                Some((_, r)) => r,
                None => &mut self.start,
            };
            let action = cfg
                .world
                .actions(parent)
                .into_iter()
                .nth(usize::from(nodes[n as usize].action));
            let next = match action {
                Some(action) => parent.successor(&fresh(action, setup + i)),
                // The graph's actions were enumerated from these same states: unreachable.
                None => Ok(parent.clone()),
            };
            let next = next.unwrap_or_else(|_| parent.clone());
            self.chain.push((n, next));
        }
        match self.chain.last_mut() {
            Some((_, r)) => r,
            None => &mut self.start,
        }
    }
}

/// The shortest path to a violation: the actions from the start to `from` run again (the
/// graph keeps only their indices), then `action`.
fn rebuild(
    cfg: &ExploreConfig,
    case: &CaseConfig,
    start: &Reference,
    nodes: &[Node],
    from: u32,
    action: u16,
    violation: Violation,
) -> Found {
    let mut chain = vec![action];
    let mut at = from;
    while at != 0 {
        let n = nodes[at as usize];
        chain.push(n.action);
        at = n.parent;
    }
    chain.reverse();
    let setup_len = cfg.world.setup().len();
    let mut state = start.clone();
    let mut path = Vec::with_capacity(chain.len());
    let last = chain.len() - 1;
    for (i, a) in chain.into_iter().enumerate() {
        let actions = cfg.world.actions(&state);
        let Some(action) = actions.into_iter().nth(usize::from(a)) else {
            break;
        };
        let step = fresh(action, setup_len + i);
        if i == last {
            let mut steps = cfg.world.setup();
            steps.extend(path.iter().cloned());
            steps.push(step.clone());
            path.push(step.clone());
            let trace = trace_of(cfg, case, &state, &step, &steps, &violation);
            return Found {
                violation,
                path,
                trace,
            };
        }
        // Steps before the last one held every property when explored.
        let _ = state.advance(&step);
        path.push(step);
    }
    // The graph's actions were enumerated from these same states: unreachable, but answered
    // with the path as far as it went rather than a panic.
    let mut steps = cfg.world.setup();
    steps.extend(path.iter().cloned());
    let trace = match path.last() {
        Some(last) => trace_of(cfg, case, &state, last, &steps, &violation),
        None => trace_of(cfg, case, &state, &steps[steps.len() - 1], &steps, &violation),
    };
    Found {
        violation,
        path,
        trace,
    }
}

/// A trace of the whole case for `conform replay`: the model's reply to the breaking step as
/// both sides of its finding, the property in its rules.
fn trace_of(
    cfg: &ExploreConfig,
    case: &CaseConfig,
    before: &Reference,
    step: &Step,
    steps: &[Step],
    violation: &Violation,
) -> Trace {
    let concrete = before.concretize(step);
    let (operation, reply) = match &concrete {
        Concrete::Call { op, .. } => {
            let r = concrete.reply_on(before.world());
            let reply = r.map_or(
                Reply {
                    status: 0,
                    error: None,
                    body: serde_json::Value::Null,
                },
                |r| Reply {
                    status: r.status,
                    error: r.error_type().map(str::to_string),
                    body: r.body,
                },
            );
            (op.clone(), reply)
        }
        Concrete::Event(e) => (
            e["event"].as_str().unwrap_or("event").to_string(),
            Reply {
                status: 200,
                error: None,
                body: serde_json::Value::Null,
            },
        ),
    };
    Trace {
        tool: format!("conform {}", env!("CARGO_PKG_VERSION")),
        target: "model (conform check)".into(),
        seed: cfg.seed,
        case: 0,
        services: case.services.clone(),
        events: true,
        capabilities: None,
        policy: cfg.policy.clone(),
        steps: steps.to_vec(),
        finding: Finding {
            step: steps.len(),
            operation,
            classification: Classification::HardFailure,
            expected: reply.clone(),
            actual: reply,
            paths: Vec::new(),
            rules: vec![violation.to_string()],
        },
        mix: None,
    }
}
