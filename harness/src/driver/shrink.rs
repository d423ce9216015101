//! Shrinking a failing case: first steps (to a 1-minimal list: no single step can go and the
//! case still fail the same way), then values (quantities, maxima, list lengths, clock steps
//! lowered toward the smallest that still fails), with an account of what was done.

use super::{execute, CaseConfig, Finding, Reference};
use crate::gen::refs::{self, Effect, Lens};
use crate::gen::{Qty, Step};
use crate::target::{InfraError, Target};

/// What shrinking did, for people (`conform run --verbose` prints it).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shrinking {
    /// Steps up to the finding before shrinking, and after.
    pub steps_before: usize,
    pub steps_after: usize,
    /// Each value lowered, as `step N: what` (`step 3: qty 4 -> 1`) or, for two lowered
    /// together, `steps N and M: ...`.
    pub values: Vec<String>,
}

/// Shrinks a failing case: steps, then values. A smaller case is kept only if it fails the same
/// way (at the same operation).
pub fn shrink(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: Vec<Step>,
    finding: &Finding,
) -> Result<(Vec<Step>, Finding), InfraError> {
    shrink_with_account(target, cfg, case, steps, finding).map(|(s, f, _)| (s, f))
}

/// [`shrink`], with what it did.
pub fn shrink_with_account(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: Vec<Step>,
    finding: &Finding,
) -> Result<(Vec<Step>, Finding, Shrinking), InfraError> {
    let steps_before = finding.step.min(steps.len());
    let (steps, found) = shrink_steps(target, cfg, case, steps, finding)?;
    let (steps, found, values) = shrink_values(target, cfg, case, steps, found)?;
    // A lowered value (a clock step onto an instant made a plain one) may free the steps that
    // were kept only for it: one more pass over the steps.
    let (steps, found) = if values.is_empty() {
        (steps, found)
    } else {
        shrink_steps(target, cfg, case, steps, &found)?
    };
    let account = Shrinking {
        steps_before,
        steps_after: steps.len(),
        values,
    };
    Ok((steps, found, account))
}

fn shrink_steps(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: Vec<Step>,
    finding: &Finding,
) -> Result<(Vec<Step>, Finding), InfraError> {
    let same = |f: &Finding| f.operation == finding.operation;
    let mut best = steps[..finding.step.min(steps.len())].to_vec();
    let mut best_finding = finding.clone();
    let mut ran = run(cfg, case, &best);
    // Chunks first, halving, then single steps until nothing more can go.
    let mut chunk = (best.len() / 2).max(1);
    loop {
        let mut removed_any = false;
        let mut i = 0;
        while i < best.len() {
            let end = (i + chunk).min(best.len());
            let dropped: Vec<bool> = (0..best.len()).map(|j| (i..end).contains(&j)).collect();
            // Later references renumbered to name what they named (refs::without).
            let mut candidate = refs::without(&best, &dropped, ran.initial, &ran.effects);
            if candidate.is_empty() {
                i = end;
                continue;
            }
            match execute(target, cfg, case, &candidate)?.finding {
                Some(f) if same(&f) => {
                    candidate.truncate(f.step);
                    best = candidate;
                    best_finding = f;
                    ran = run(cfg, case, &best);
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

/// What the steps of a case did on its reference model.
struct Ran {
    /// The lengths of the lists references point into before the first step.
    initial: Lens,
    /// What each step did to those lists.
    effects: Vec<Effect>,
    /// How far each step moved the clock, in milliseconds.
    moved_ms: Vec<i64>,
}

/// Runs `steps` on the case's reference model.
fn run(cfg: &CaseConfig, case: u64, steps: &[Step]) -> Ran {
    let mut reference = Reference::new(cfg, case, false);
    let initial = reference.known().lens();
    let mut effects = Vec::with_capacity(steps.len());
    let mut moved_ms = Vec::with_capacity(steps.len());
    for step in steps {
        let (before, then) = (reference.known().lens(), reference.world().now_ms());
        // Only always properties can be violated, and none is checked here.
        let _ = reference.advance(step);
        effects.push(Effect::between(step, before, reference.known().lens()));
        moved_ms.push(reference.world().now_ms() - then);
    }
    Ran {
        initial,
        effects,
        moved_ms,
    }
}

/// `step` made simpler knowing it moved the clock by `moved_ms`: a clock step onto a named
/// instant (which names a token, license or request) as the plain step of whole seconds it
/// came to.
fn unnamed(step: &Step, moved_ms: i64) -> Option<(Step, String)> {
    match step {
        Step::AdvanceTo { to, .. } if moved_ms > 0 && moved_ms % 1000 == 0 => {
            let seconds = moved_ms / 1000;
            Some((
                Step::Advance { seconds },
                format!("advance to {to:?} -> advance {seconds} s"),
            ))
        }
        _ => None,
    }
}

/// How many passes over the steps value shrinking makes at most.
const VALUE_PASSES: usize = 4;

fn shrink_values(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    mut best: Vec<Step>,
    mut best_finding: Finding,
) -> Result<(Vec<Step>, Finding, Vec<String>), InfraError> {
    let mut done = Vec::new();
    for _ in 0..VALUE_PASSES {
        let mut lowered = false;
        for i in 0..best.len() {
            let moved = run(cfg, case, &best).moved_ms;
            let plain = moved.get(i).and_then(|m| unnamed(&best[i], *m));
            for (smaller, what) in plain.into_iter().chain(smaller(&best[i])) {
                let mut candidate = best.clone();
                candidate[i] = smaller;
                match execute(target, cfg, case, &candidate)?.finding {
                    Some(f) if f.operation == best_finding.operation => {
                        candidate.truncate(f.step);
                        done.push(format!("step {}: {what}", i + 1));
                        best = candidate;
                        best_finding = f;
                        lowered = true;
                        break;
                    }
                    _ => {}
                }
            }
            if i + 1 >= best.len() {
                break;
            }
        }
        if !lowered {
            'pairs: for i in 0..best.len() {
                for j in i + 1..best.len() {
                    for (candidate, what) in smaller_together(&best, i, j) {
                        if let Some(f) = execute(target, cfg, case, &candidate)?.finding {
                            if f.operation == best_finding.operation {
                                done.push(what);
                                best = candidate;
                                best.truncate(f.step);
                                best_finding = f;
                                lowered = true;
                                break 'pairs;
                            }
                        }
                    }
                }
            }
        }
        if !lowered {
            break;
        }
    }
    Ok((best, best_finding, done))
}

/// A number in a step that shrinking may lower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Qty,
    Max,
    EndMinutes,
    Seconds,
    Cores,
}

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::Qty => "qty",
            Slot::Max => "max",
            Slot::EndMinutes => "end_minutes",
            Slot::Seconds => "advance seconds",
            Slot::Cores => "cores",
        }
    }
}

/// The numbers of `step` shrinking may lower, with the least each may go to.
fn numbers(step: &Step) -> Vec<(Slot, i64, i64)> {
    match step {
        // A malformed or non-canonical quantity is kept: its form may be the bug.
        Step::Checkout { qty, .. } | Step::Borrow { qty, .. } => match qty.0.parse::<i64>() {
            Ok(n) if qty.0 == n.to_string() && n >= 1 => vec![(Slot::Qty, n, 1)],
            _ => Vec::new(),
        },
        Step::CreateLicense {
            max,
            end_minutes,
            cores,
            ..
        } => {
            let mut out = vec![(Slot::Max, *max, 0)];
            out.extend(end_minutes.map(|e| (Slot::EndMinutes, e, 1)));
            out.extend(cores.map(|c| (Slot::Cores, c, 0)));
            out
        }
        Step::CreateLicenseVersion { max, .. } | Step::Marketplace { max, .. } => vec![(Slot::Max, *max, 0)],
        Step::Advance { seconds } => vec![(Slot::Seconds, *seconds, 1)],
        _ => Vec::new(),
    }
}

/// `step` with the number in `slot` set to `v`.
fn with_number(step: &Step, slot: Slot, v: i64) -> Step {
    let mut s = step.clone();
    match (&mut s, slot) {
        (Step::Checkout { qty, .. } | Step::Borrow { qty, .. }, Slot::Qty) => *qty = Qty(v.to_string()),
        (
            Step::CreateLicense { max, .. }
            | Step::CreateLicenseVersion { max, .. }
            | Step::Marketplace { max, .. },
            Slot::Max,
        ) => *max = v,
        (Step::CreateLicense { end_minutes, .. }, Slot::EndMinutes) => *end_minutes = Some(v),
        (Step::CreateLicense { cores, .. }, Slot::Cores) => *cores = Some(v),
        (Step::Advance { seconds }, Slot::Seconds) => *seconds = v,
        _ => {}
    }
    s
}

/// Smaller versions of one step's values, smallest first, each with what it lowers.
pub fn smaller(step: &Step) -> Vec<(Step, String)> {
    let mut out: Vec<(Step, String)> = numbers(step)
        .into_iter()
        .flat_map(|(slot, v, floor)| {
            lower(v, floor)
                .into_iter()
                .map(move |m| (with_number(step, slot, m), format!("{} {v} -> {m}", slot.name())))
        })
        .collect();
    match step {
        Step::CreateEntitlement { vms, .. } | Step::DeleteEntitlement { vms, .. } if vms.len() > 1 => {
            for keep in [1, vms.len() - 1] {
                let mut s = step.clone();
                if let Step::CreateEntitlement { vms: x, .. } | Step::DeleteEntitlement { vms: x, .. } =
                    &mut s
                {
                    x.truncate(keep);
                }
                out.push((s, format!("vms {} -> {keep}", vms.len())));
            }
        }
        Step::Checkout { extra: Some(e), .. } | Step::Borrow { extra: Some(e), .. } => {
            let mut s = step.clone();
            if let Step::Checkout { extra, .. } | Step::Borrow { extra, .. } = &mut s {
                *extra = None;
            }
            out.push((s, format!("extra item {e:?} dropped")));
        }
        Step::AdvanceTo { to, item, offset_ms } if *offset_ms != 0 => out.push((
            Step::AdvanceTo {
                to: *to,
                item: *item,
                offset_ms: 0,
            },
            format!("offset {offset_ms} ms -> 0"),
        )),
        _ => {}
    }
    out
}

/// Two numbers of two steps lowered together by the same amount (the most both can go, then
/// half of it): what keeps a relation such as "the quantity is one past the maximum" while
/// both get smaller, which lowering one at a time cannot.
fn smaller_together(steps: &[Step], i: usize, j: usize) -> Vec<(Vec<Step>, String)> {
    let mut out = Vec::new();
    for (si, vi, fi) in numbers(&steps[i]) {
        for (sj, vj, fj) in numbers(&steps[j]) {
            let most = (vi - fi).min(vj - fj);
            for d in [most, most / 2] {
                if d <= 0 {
                    continue;
                }
                let mut c = steps.to_vec();
                c[i] = with_number(&steps[i], si, vi - d);
                c[j] = with_number(&steps[j], sj, vj - d);
                let what = format!(
                    "steps {} and {}: {} {vi} -> {}, {} {vj} -> {}",
                    i + 1,
                    j + 1,
                    si.name(),
                    vi - d,
                    sj.name(),
                    vj - d
                );
                out.push((c, what));
            }
        }
    }
    out
}

/// Values below `v` down to `floor`, smallest first: the floor, half, one less.
fn lower(v: i64, floor: i64) -> Vec<i64> {
    let mut out: Vec<i64> = [floor, v / 2, v - 1]
        .into_iter()
        .filter(|x| *x >= floor && *x < v)
        .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::Who;

    fn checkout(qty: &str) -> Step {
        Step::checkout(qty, 0)
    }

    #[test]
    fn values_shrink_toward_their_floor_and_malformed_ones_stay() {
        assert_eq!(lower(10, 0), vec![0, 5, 9]);
        assert_eq!(lower(1, 1), Vec::<i64>::new());
        assert!(smaller(&checkout("04")).is_empty(), "a spelling is kept");
        assert_eq!(smaller(&checkout("4")).len(), 3);
        let borrow = Step::Borrow {
            who: Who::Buyer,
            license: 0,
            qty: Qty("3".into()),
            token: 0,
            extra: None,
        };
        let s = smaller(&borrow);
        assert_eq!(s.len(), 2);
        assert!(matches!(&s[0].0, Step::Borrow { qty, .. } if qty.0 == "1"));
        assert_eq!(s[0].1, "qty 3 -> 1");
    }
}
