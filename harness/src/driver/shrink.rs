//! Shrinking a failing case to a 1-minimal one.

use super::{execute, CaseConfig, Finding};
use crate::gen::Step;
use crate::target::{InfraError, Target};

/// Shrinks a failing case to a 1-minimal one: no single step can be removed and still fail the
/// same way (same operation, same classification).
pub fn shrink(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: Vec<Step>,
    finding: &Finding,
) -> Result<(Vec<Step>, Finding), InfraError> {
    let same = |f: &Finding| f.operation == finding.operation;
    let mut best = steps[..finding.step.min(steps.len())].to_vec();
    let mut best_finding = finding.clone();
    // Chunks first, halving, then single steps until nothing more can go.
    let mut chunk = (best.len() / 2).max(1);
    loop {
        let mut removed_any = false;
        let mut i = 0;
        while i < best.len() {
            let end = (i + chunk).min(best.len());
            let mut candidate = best.clone();
            candidate.drain(i..end);
            if candidate.is_empty() {
                i = end;
                continue;
            }
            match execute(target, cfg, case, &candidate)?.finding {
                Some(f) if same(&f) => {
                    candidate.truncate(f.step);
                    best = candidate;
                    best_finding = f;
                    removed_any = true;
                }
                _ => i = end,
            }
        }
        if chunk == 1 && !removed_any {
            break;
        }
        if !removed_any {
            chunk = (chunk / 2).max(1);
        }
    }
    Ok((best, best_finding))
}
