//! Lanes: generated cases run side by side, each lane a worker thread with a target of its own
//! (another embedded simulator, another in-process model, another instance of an emulator),
//! and their results handed back in case order.
//!
//! A case starts by resetting its target, so what it does depends only on its configuration,
//! its index and its steps, never on which lane ran it or what ran before: a campaign with
//! lanes reports what the same campaign without them reports (`campaign::Campaign::run_lanes`).
//! Lanes are for targets that reset; cases that share a target's state (one without a control
//! plane) run one after another.
//!
//! ```
//! use conform_harness::driver::{self, CaseConfig};
//! use conform_harness::lanes::Lanes;
//! use conform_harness::target::{ModelTarget, Target};
//! use conform_model::Policy;
//!
//! let targets: Vec<Box<dyn Target + Send>> =
//!     (0..2).map(|_| Box::new(ModelTarget::new(1, Policy::default())) as _).collect();
//! let mut lanes = Lanes::new(targets);
//! let cfg = CaseConfig { max_steps: 8, ..CaseConfig::default() };
//! let runs = lanes.execute_all(&cfg, 0..4);
//! assert_eq!(runs.len(), 4);
//! assert!(runs.iter().all(|r| r.result.as_ref().is_ok_and(|e| e.finding.is_none())));
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::driver::{self, CaseConfig, Execution};
use crate::gen::Step;
use crate::target::{InfraError, Target};
use crate::unimplemented::Unimplemented;

/// One case for a lane: its configuration, its index and its steps (`None`: generated there).
struct Job {
    slot: usize,
    cfg: Arc<CaseConfig>,
    case: u64,
    steps: Option<Vec<Step>>,
}

/// A case a lane ran.
pub struct Done {
    /// The lane that ran it (for [`Lanes::recycle`]).
    pub lane: usize,
    /// The case's index.
    pub case: u64,
    /// The steps it ran (given, or generated from `cfg`).
    pub steps: Vec<Step>,
    pub result: Result<Execution, InfraError>,
    /// The operations the lane's target turned out not to implement in this case, with why and
    /// how often (as [`Unimplemented::seen`]).
    pub seen: BTreeMap<String, (String, usize)>,
    /// The operations the case was generated without (`CaseConfig::missing` when submitted).
    pub missing: BTreeSet<String>,
}

type Outcome = (usize, std::thread::Result<Done>);

/// What a lane is given back to free.
type Garbage = Box<dyn Send>;

/// Worker threads, one per target, that live as long as this does.
pub struct Lanes {
    jobs: Option<Sender<Job>>,
    queue: Arc<Mutex<Receiver<Job>>>,
    results: Receiver<Outcome>,
    workers: Vec<JoinHandle<()>>,
    /// Each lane's way back for what it allocated ([`Lanes::recycle`]).
    trash: Vec<Sender<Garbage>>,
    /// Results that came back before the one asked for.
    early: BTreeMap<usize, std::thread::Result<Done>>,
    submitted: usize,
    taken: usize,
}

impl Lanes {
    /// A lane for each target.
    pub fn new(targets: Vec<Box<dyn Target + Send>>) -> Lanes {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let (done, results) = mpsc::channel();
        let mut trash = Vec::new();
        let workers = targets
            .into_iter()
            .enumerate()
            .map(|(lane, target)| {
                let queue = Arc::clone(&queue);
                let done = done.clone();
                let (bin, garbage) = mpsc::channel();
                trash.push(bin);
                let lane = Lane {
                    index: lane,
                    target,
                    garbage,
                };
                std::thread::spawn(move || work(lane, &queue, &done))
            })
            .collect();
        Lanes {
            jobs: Some(jobs),
            queue,
            results,
            workers,
            trash,
            early: BTreeMap::new(),
            submitted: 0,
            taken: 0,
        }
    }

    /// How many lanes there are.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// Cases submitted and not yet taken.
    pub fn in_flight(&self) -> usize {
        self.submitted - self.taken
    }

    /// Queues case `case` (its steps generated on the lane where `steps` is `None`).
    pub fn submit(&mut self, cfg: &Arc<CaseConfig>, case: u64, steps: Option<Vec<Step>>) {
        let job = Job {
            slot: self.submitted,
            cfg: Arc::clone(cfg),
            case,
            steps,
        };
        self.submitted += 1;
        if let Some(jobs) = &self.jobs {
            // The workers hold the queue until this is dropped; a send fails only when every
            // one of them is gone, which `take` then reports.
            let _ = jobs.send(job);
        }
    }

    /// The next submitted case's result, in the order of submission; a lane's panic is
    /// resumed here. `None` when nothing is in flight.
    pub fn take(&mut self) -> Option<Done> {
        if self.taken == self.submitted {
            return None;
        }
        let slot = self.taken;
        let outcome = loop {
            if let Some(o) = self.early.remove(&slot) {
                break o;
            }
            match self.results.recv() {
                Ok((s, o)) if s == slot => break o,
                Ok((s, o)) => {
                    self.early.insert(s, o);
                }
                Err(_) => panic!("every lane stopped with case slot {slot} unanswered"),
            }
        };
        self.taken += 1;
        Some(outcome.unwrap_or_else(|payload| panic::resume_unwind(payload)))
    }

    /// Hands `garbage` (what a taken result holds, its records above all) back to `lane`, the
    /// lane that allocated it, to be freed there before its next case. A free on another
    /// thread costs the allocator more later: freeing the records of every case on the
    /// campaign's thread slowed two lanes by a fifth (`cargo bench --bench harness`).
    pub fn recycle<T: Send + 'static>(&self, lane: usize, garbage: T) {
        if let Some(bin) = self.trash.get(lane) {
            // A lane that is gone frees it here instead.
            let _ = bin.send(Box::new(garbage));
        }
    }

    /// Runs `cases` with `cfg` and returns them in order (the bench's and the tests' way in).
    pub fn execute_all(&mut self, cfg: &CaseConfig, cases: impl IntoIterator<Item = u64>) -> Vec<Done> {
        let cfg = Arc::new(cfg.clone());
        let mut out = Vec::new();
        for case in cases {
            self.submit(&cfg, case, None);
        }
        while let Some(done) = self.take() {
            out.push(done);
        }
        out
    }

    /// Runs given cases (`(index, steps)`) with `cfg`, in order.
    pub fn execute_given(&mut self, cfg: &CaseConfig, cases: &[(u64, Vec<Step>)]) -> Vec<Done> {
        let cfg = Arc::new(cfg.clone());
        for (case, steps) in cases {
            self.submit(&cfg, *case, Some(steps.clone()));
        }
        let mut out = Vec::with_capacity(cases.len());
        while let Some(done) = self.take() {
            out.push(done);
        }
        out
    }
}

impl Drop for Lanes {
    fn drop(&mut self) {
        // Cases not started are dropped; closing the queue ends each worker after its current
        // case.
        self.jobs = None;
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        while queue.try_recv().is_ok() {}
        drop(queue);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker's own: its index, its target, what it is given back to free.
struct Lane {
    index: usize,
    target: Box<dyn Target + Send>,
    garbage: Receiver<Garbage>,
}

/// A lane: takes cases from the queue until it closes, each through a fresh [`Unimplemented`]
/// so the case's own not-implemented operations come back with it.
fn work(mut lane: Lane, queue: &Mutex<Receiver<Job>>, done: &Sender<Outcome>) {
    loop {
        let job = match queue.lock().unwrap_or_else(PoisonError::into_inner).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        while lane.garbage.try_recv().is_ok() {}
        let slot = job.slot;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| run(&mut lane, job)));
        if done.send((slot, outcome)).is_err() {
            return;
        }
    }
}

fn run(lane: &mut Lane, job: Job) -> Done {
    let Job { cfg, case, steps, .. } = job;
    let steps = steps.unwrap_or_else(|| driver::generate(&cfg, case));
    let mut wrapped = Unimplemented::new(lane.target.as_mut());
    let result = driver::execute(&mut wrapped, &cfg, case, &steps);
    Done {
        lane: lane.index,
        case,
        steps,
        result,
        seen: std::mem::take(&mut wrapped.seen),
        missing: cfg.missing.clone(),
    }
}
