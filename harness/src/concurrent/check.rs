//! The linearizability check: is there one order of a group's calls, consistent with real
//! time (a call that returned before another was sent comes first), in which the reference
//! model gives every reply that was observed? The search is Wing and Gong's with Lowe's
//! memoization: calls are linearized one at a time, each among those no unlinearized call
//! must precede, backtracking when the model disagrees, and never exploring twice a set of
//! linearized calls that left the model and the bindings in the same state. A call with no
//! reply may take effect at any point after it was sent, or never. A budget of model steps per
//! group ends the search with "unknown", never with a pass.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use conform_model::World;
use serde::Serialize;

use super::history::{Entry, Outcome, Request};
use super::phase::Setup;
use super::workload::LICENSES;
use crate::driver::{apply_event, caller, differences_within, reply_of, shift_times, Reply};
use crate::normalize::Normalizer;
use crate::target::Response;

/// What the search concluded for one group.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// An order exists: the entries' indices in it.
    Linearizable { order: Vec<usize> },
    /// No order exists.
    Violation(Box<Violation>),
    /// The budget ran out first.
    Unknown,
}

/// Why no order exists: the longest prefix that did fit, and what the model would have
/// answered to each call that could come next.
#[derive(Clone, Debug, Serialize)]
pub struct Violation {
    pub linearized: Vec<usize>,
    pub stuck: Vec<Mismatch>,
}

/// One call that could not come next: the model's reply against the observed one.
#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    pub entry: usize,
    pub expected: Reply,
    pub observed: Reply,
    pub paths: Vec<String>,
}

/// One group's check.
#[derive(Clone, Debug)]
pub struct Checked {
    pub group: usize,
    /// The entries of the history in the group (its own and the events every group sees).
    pub entries: Vec<usize>,
    pub verdict: Verdict,
    /// Model steps the search took.
    pub explored: u64,
}

#[derive(Clone)]
struct State {
    world: World,
    model_n: Normalizer,
    target_n: Normalizer,
}

/// Feeds formatted text into a hasher without building the string.
struct HashWriter<'a>(&'a mut std::collections::hash_map::DefaultHasher);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl State {
    /// Equal only for equal states: the whole world as its `Debug` form (every field, ids
    /// included; `World::fingerprint` merges states that reply differently, such as creation
    /// times, so it cannot prune here) and both sides' bindings.
    fn fingerprint(&self) -> u64 {
        use std::fmt::Write as _;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let _ = write!(HashWriter(&mut h), "{:?}", self.world);
        self.model_n.fingerprint().hash(&mut h);
        self.target_n.fingerprint().hash(&mut h);
        h.finish()
    }
}

struct Search<'a> {
    entries: &'a [Entry],
    /// The group's entries, sorted by invocation.
    ops: Vec<usize>,
    delta_ms: i64,
    tolerance: Option<i64>,
    budget: u64,
    explored: u64,
    memo: HashSet<(Vec<u64>, u64)>,
    path: Vec<usize>,
    best: Option<Violation>,
}

struct OutOfBudget;

impl Search<'_> {
    fn returned(&self, i: usize) -> u64 {
        match self.entries[i].outcome {
            Outcome::Reply(_) => self.entries[i].returned,
            Outcome::Unknown(_) => u64::MAX,
        }
    }

    /// Applies entry `i` to `state`; the mismatch when the model answers otherwise.
    fn apply(&self, state: &mut State, i: usize) -> Result<(), Box<Mismatch>> {
        let e = &self.entries[i];
        match (&e.request, &e.outcome) {
            (Request::Event(ev), _) => {
                apply_event(&mut state.world, ev);
                Ok(())
            }
            (
                Request::Call {
                    who,
                    service,
                    op,
                    body,
                },
                outcome,
            ) => {
                let body = shift_times(state.target_n.translate(body, &state.model_n), -self.delta_ms);
                let reply = state
                    .world
                    .handle(&caller(*who), *service, op, body.to_string().as_bytes());
                let model = Response::from(reply);
                let Outcome::Reply(observed) = outcome else {
                    // No reply seen: the model's is taken, its ids bound on its side only.
                    reply_of(&model, &mut state.model_n);
                    return Ok(());
                };
                let expected = reply_of(&model, &mut state.model_n);
                let observed = reply_of(observed, &mut state.target_n);
                let paths = differences_within(&expected, &observed, self.tolerance);
                if paths.is_empty() {
                    Ok(())
                } else {
                    Err(Box::new(Mismatch {
                        entry: i,
                        expected,
                        observed,
                        paths,
                    }))
                }
            }
        }
    }

    /// Whether the remaining calls can be linearized from `state`, `done` marking those that are.
    fn search(&mut self, state: &State, done: &mut Vec<u64>) -> Result<bool, OutOfBudget> {
        let bit = |d: &Vec<u64>, k: usize| d[k / 64] >> (k % 64) & 1 == 1;
        let pending: Vec<usize> = (0..self.ops.len()).filter(|&k| !bit(done, k)).collect();
        if pending
            .iter()
            .all(|&k| matches!(self.entries[self.ops[k]].outcome, Outcome::Unknown(_)))
        {
            return Ok(true);
        }
        let horizon = pending
            .iter()
            .map(|&k| self.returned(self.ops[k]))
            .min()
            .unwrap_or(u64::MAX);
        let mut stuck = Vec::new();
        for &k in &pending {
            let i = self.ops[k];
            if self.entries[i].invoked > horizon {
                break;
            }
            self.explored += 1;
            if self.explored > self.budget {
                return Err(OutOfBudget);
            }
            let mut next = state.clone();
            if let Err(m) = self.apply(&mut next, i) {
                stuck.push(*m);
                continue;
            }
            done[k / 64] |= 1 << (k % 64);
            if self.memo.insert((done.clone(), next.fingerprint())) {
                self.path.push(i);
                if self.search(&next, done)? {
                    return Ok(true);
                }
                self.path.pop();
            }
            done[k / 64] &= !(1 << (k % 64));
        }
        let deeper = self
            .best
            .as_ref()
            .is_none_or(|b| self.path.len() >= b.linearized.len());
        if deeper && !stuck.is_empty() {
            self.best = Some(Violation {
                linearized: self.path.clone(),
                stuck,
            });
        }
        Ok(false)
    }
}

/// Checks each license group of `entries` from its namespace's setup, with at most `budget`
/// model steps per group.
pub fn check(setups: &[Setup], entries: &[Entry], budget: u64) -> Vec<Checked> {
    let evs = setups.first().is_some_and(|s| s.evs);
    (0..setups.len() * LICENSES + usize::from(evs))
        .map(|g| {
            // The EVS group (the last) is the first namespace's environment.
            let setup = setups.get(g / LICENSES).unwrap_or(&setups[0]);
            let mut ops: Vec<usize> = (0..entries.len())
                .filter(|&i| entries[i].group.is_none_or(|x| x == g))
                .collect();
            ops.sort_by_key(|&i| (entries[i].invoked, i));
            let mut search = Search {
                entries,
                ops: ops.clone(),
                delta_ms: setup.delta_ms,
                tolerance: setup.tolerance_seconds,
                budget,
                explored: 0,
                memo: HashSet::new(),
                path: Vec::new(),
                best: None,
            };
            let state = State {
                world: setup.world.clone(),
                model_n: setup.model_n.clone(),
                target_n: setup.target_n.clone(),
            };
            let mut done = vec![0u64; ops.len().div_ceil(64).max(1)];
            let verdict = match search.search(&state, &mut done) {
                Ok(true) => Verdict::Linearizable {
                    order: search.path.clone(),
                },
                Ok(false) => Verdict::Violation(Box::new(search.best.take().unwrap_or(Violation {
                    linearized: Vec::new(),
                    stuck: Vec::new(),
                }))),
                Err(OutOfBudget) => Verdict::Unknown,
            };
            Checked {
                group: g,
                entries: ops,
                verdict,
                explored: search.explored,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::history::{Entry, Outcome, Request};
    use super::super::phase::{request, setup};
    use super::super::Config;
    use super::*;
    use crate::gen::Step;
    use crate::target::ModelTarget;

    /// A PROVISIONAL checkout of `qty` seats of license 0 by its issuer, as a client sends it.
    fn checkout(s: &Setup, qty: &str, token: u32) -> Request {
        request(s, &s.known, &Step::checkout(qty, 0), token).0
    }

    fn entry(client: usize, request: Request, outcome: Response, invoked: u64, returned: u64) -> Entry {
        Entry {
            client,
            index: 0,
            group: Some(0),
            request,
            outcome: Outcome::Reply(outcome),
            invoked,
            returned,
        }
    }

    fn send(world: &mut World, r: &Request) -> Response {
        let Request::Call {
            who,
            service,
            op,
            body,
        } = r
        else {
            unreachable!("calls only")
        };
        Response::from(world.handle(&caller(*who), *service, op, body.to_string().as_bytes()))
    }

    #[test]
    fn a_history_the_target_really_made_fits_and_one_with_a_lost_update_does_not() {
        // Two seats: 2 taken, then 1 more refused is what one order allows; both granted fits
        // no order, in sequence or overlapping.
        let cfg = Config::default();
        let mut target = ModelTarget::new(99, cfg.policy.clone());
        let s = setup(&mut target, &cfg.case_config(true), 5, &cfg.policy).expect("setup");
        let a = checkout(&s, "2", 1);
        let b = checkout(&s, "1", 2);
        let mut before = target.world().clone();
        let mut real = target.world().clone();
        let ra = send(&mut real, &a);
        let rb = send(&mut real, &b);
        assert_eq!(ra.error_type, None);
        assert_eq!(rb.error_type.as_deref(), Some("NoEntitlementsAllowedException"));
        let fits = vec![
            entry(0, a.clone(), ra.clone(), 0, 10),
            entry(1, b.clone(), rb, 20, 30),
        ];
        let checked = check(std::slice::from_ref(&s), &fits, 10_000);
        assert!(
            matches!(checked[0].verdict, Verdict::Linearizable { .. }),
            "{:?}",
            checked[0].verdict
        );

        // B answered as if A never happened: a lost update.
        let lost = send(&mut before, &b);
        assert_eq!(lost.error_type, None);
        for (ib, rb_) in [(20, 30), (5, 8)] {
            let broken = vec![
                entry(0, a.clone(), ra.clone(), 0, 10),
                entry(1, b.clone(), lost.clone(), ib, rb_),
            ];
            let checked = check(std::slice::from_ref(&s), &broken, 10_000);
            let Verdict::Violation(v) = &checked[0].verdict else {
                panic!("no order fits a lost update: {:?}", checked[0].verdict);
            };
            assert!(!v.stuck.is_empty());
        }
        // With no budget the verdict is unknown, never a pass.
        let checked = check(std::slice::from_ref(&s), &fits, 0);
        assert!(matches!(checked[0].verdict, Verdict::Unknown));
    }
}
