//! The threads that expand a level: started once per search and kept from batch to batch and
//! level to level, each with the paths it holds ([`Paths`]) and its allocator's heap. Threads
//! spawned per batch started every batch from a cold heap: a fifth of their time went to page
//! faults on fresh memory.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Instant as Clock;

use foldhash::{HashMap, HashSet, HashSetExt};

use super::engine::{Node, Outcome, Paths, Transition};
use super::{fresh, ExploreConfig};
use crate::driver::Reference;

/// What the expanding threads read; the merge between batches writes `nodes` and `index`.
pub(super) struct Shared<'a> {
    pub cfg: &'a ExploreConfig,
    pub nodes: &'a RwLock<Vec<Node>>,
    pub index: &'a RwLock<HashMap<u64, u32>>,
    pub stop: &'a AtomicBool,
    pub started: Clock,
}

/// One part of a batch, expanded: its transitions, the goals its states reached, and how many
/// transitions it ran.
pub(super) type Expanded = (Vec<Transition>, BTreeSet<&'static str>, u64);

type Panic = Box<dyn std::any::Any + Send>;

/// Runs every action of every state of `part` (states at depth `position` after the setup).
fn expand(shared: &Shared, paths: &mut Paths, part: &[u32], position: usize) -> Expanded {
    let cfg = shared.cfg;
    let nodes = shared.nodes.read().unwrap_or_else(|e| e.into_inner());
    let index = shared.index.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    let mut local: HashSet<u64> = HashSet::new();
    let mut goals_seen = BTreeSet::new();
    let mut runs = 0u64;
    for from in part {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let state = paths.state(cfg, &nodes, *from);
        for (a, action) in cfg.world.actions(state).into_iter().enumerate() {
            let step = fresh(action, position);
            runs += 1;
            let outcome = match state.successor(&step) {
                Err(v) => Outcome::Broken(v),
                Ok(next) => {
                    goals_seen.extend(next.auditor().reached().keys().copied());
                    let fp = next.world().fingerprint_without_client_tokens();
                    if index.contains_key(&fp) || !local.insert(fp) {
                        Outcome::Seen(fp)
                    } else {
                        Outcome::New(fp)
                    }
                }
            };
            out.push(Transition {
                from: *from,
                action: a as u16,
                step: cfg.keep_edges.then_some(step),
                outcome,
            });
        }
        if shared.started.elapsed() >= cfg.bounds.time {
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
    (out, goals_seen, runs)
}

/// A part of a batch: its place in the batch, its states, their depth after the setup.
pub(super) struct Job {
    place: usize,
    part: Vec<u32>,
    position: usize,
}

/// Parts per thread in a batch: a thread that finishes early takes the next part, so the
/// threads wait less for the slowest one at the merge.
const PARTS_PER_THREAD: usize = 4;

/// The expanding threads (none for one thread: the search's own thread expands).
pub(super) enum Workers<'scope, 'env> {
    Inline {
        paths: Box<Paths>,
        shared: &'scope Shared<'env>,
    },
    Pool {
        jobs: mpsc::Sender<Job>,
        threads: usize,
        results: mpsc::Receiver<(usize, Result<Expanded, Panic>)>,
        handles: Vec<ScopedJoinHandle<'scope, ()>>,
    },
}

impl<'scope, 'env> Workers<'scope, 'env> {
    /// `threads` workers in `scope`, each starting from its own copy of `start`.
    pub fn start(
        scope: &'scope Scope<'scope, 'env>,
        threads: usize,
        start: &Reference,
        shared: &'scope Shared<'env>,
    ) -> Workers<'scope, 'env> {
        if threads <= 1 {
            return Workers::Inline {
                paths: Box::new(Paths::new(start)),
                shared,
            };
        }
        let (done, results) = mpsc::channel();
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (done, queue) = (done.clone(), Arc::clone(&queue));
            let mut paths = Paths::new(start);
            handles.push(scope.spawn(move || loop {
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok(job) = next else { break };
                let run =
                    std::panic::AssertUnwindSafe(|| expand(shared, &mut paths, &job.part, job.position));
                let result = std::panic::catch_unwind(run);
                let failed = result.is_err();
                if done.send((job.place, result)).is_err() || failed {
                    break;
                }
            }));
        }
        Workers::Pool {
            jobs,
            threads,
            results,
            handles,
        }
    }

    /// `batch` expanded, in parts in batch order whatever thread ran which.
    pub fn run(&mut self, batch: &[u32], position: usize) -> Vec<Expanded> {
        match self {
            Workers::Inline { paths, shared } => vec![expand(shared, paths, batch, position)],
            Workers::Pool {
                jobs,
                threads,
                results,
                ..
            } => {
                let chunk = batch.len().div_ceil(*threads * PARTS_PER_THREAD).max(1);
                let mut sent = 0;
                for (place, part) in batch.chunks(chunk).enumerate() {
                    let job = Job {
                        place,
                        part: part.to_vec(),
                        position,
                    };
                    // With no worker left (one panicked), the panic is received below.
                    if jobs.send(job).is_ok() {
                        sent += 1;
                    }
                }
                let mut parts: Vec<Option<Expanded>> = (0..sent).map(|_| None).collect();
                for _ in 0..sent {
                    match results.recv() {
                        Ok((place, Ok(expanded))) => parts[place] = Some(expanded),
                        Ok((_, Err(panic))) => std::panic::resume_unwind(panic),
                        Err(_) => break,
                    }
                }
                parts.into_iter().flatten().collect()
            }
        }
    }

    /// Stops the workers and waits for them.
    pub fn finish(self) {
        if let Workers::Pool { jobs, handles, .. } = self {
            drop(jobs);
            for h in handles {
                if let Err(panic) = h.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}
