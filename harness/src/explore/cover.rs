//! Transition coverage (`conform run --exhaustive`): from the explored graph, cases (the setup,
//! then actions) that together take every edge (state, action) at least once.
//!
//! Each case goes down the search tree to a state with an edge not yet taken, takes it, and
//! goes on taking untaken edges from wherever it lands while there are any, up to
//! [`MAX_CASE_STEPS`]. States with equal fingerprints answer every action alike, so an edge
//! taken from any path to its state counts (but for the alphabet's replay, reused ClientToken
//! and window's end, which answer by the requests of the path: a case takes the edges of a
//! state it went down the search tree to as they were explored). ClientTokens are renumbered
//! to each step's position in its case ([`super::fresh`]), so no step of a case replays
//! another's but by those actions.

use super::{fresh, Graph};
use crate::gen::Step;

/// The most actions (after the setup) in one covering case.
pub const MAX_CASE_STEPS: usize = 40;

/// Cases covering every edge of a graph.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// Each case's steps, setup first.
    pub cases: Vec<Vec<Step>>,
    /// How many edges each case takes for the first time.
    pub new_edges: Vec<usize>,
    /// Edges in the graph.
    pub edges: usize,
}

impl Coverage {
    /// Edges the first `cases` cases take (every edge once all are run).
    pub fn covered_by(&self, cases: usize) -> usize {
        self.new_edges.iter().take(cases).sum()
    }
}

/// Cases that take every edge of `graph`.
pub fn cover(graph: &Graph) -> Coverage {
    let states = graph.depth.len();
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); states];
    // The edge that discovered each state: the first edge into it.
    let mut tree: Vec<Option<usize>> = vec![None; states];
    for (i, e) in graph.edges.iter().enumerate() {
        out_edges[e.from as usize].push(i);
        if e.to != 0 && tree[e.to as usize].is_none() {
            tree[e.to as usize] = Some(i);
        }
    }
    let mut taken = vec![false; graph.edges.len()];
    let mut next_untaken = vec![0usize; states];
    let mut coverage = Coverage {
        edges: graph.edges.len(),
        ..Coverage::default()
    };
    let setup = graph.setup.len();
    for first in 0..graph.edges.len() {
        if taken[first] {
            continue;
        }
        // Down the tree to the edge's source.
        let mut chain = Vec::new();
        let mut at = graph.edges[first].from as usize;
        while let Some(e) = tree[at] {
            chain.push(e);
            at = graph.edges[e].from as usize;
        }
        chain.reverse();
        let mut new = chain.iter().filter(|e| !taken[**e]).count() + 1;
        for e in &chain {
            taken[*e] = true;
        }
        taken[first] = true;
        chain.push(first);
        let mut here = graph.edges[first].to as usize;
        while chain.len() < MAX_CASE_STEPS {
            let outs = &out_edges[here];
            while next_untaken[here] < outs.len() && taken[outs[next_untaken[here]]] {
                next_untaken[here] += 1;
            }
            let Some(&e) = outs.get(next_untaken[here]) else {
                break;
            };
            taken[e] = true;
            new += 1;
            chain.push(e);
            here = graph.edges[e].to as usize;
        }
        let mut steps = graph.setup.clone();
        for (position, e) in chain.iter().enumerate() {
            steps.push(fresh(graph.edges[*e].step.clone(), setup + position));
        }
        coverage.new_edges.push(new);
        coverage.cases.push(steps);
    }
    coverage
}
