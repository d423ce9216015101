//! References bound to the resources they name, through shrinking.
//!
//! A step names a resource by its place in what the case has made so far (the k-th license,
//! the k-th token, the call `back` requests ago), because that is what the generator draws
//! from. Dropping an earlier step moves those places. [`without`] drops steps and renumbers
//! every later reference so it still names the resource it named before; a step whose
//! resource is gone goes too (and what it made, in turn), so no reference silently comes to
//! name another resource.

use super::*;

/// What a reference points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum List {
    License,
    Token,
    Grant,
    /// Connectors of environment index 0 or 1.
    Connector(u8),
    /// Requests sent, counted back from the newest ([`Step::Replay`]).
    Call,
    /// Lists answered with a next-page token ([`Step::NextPage`]).
    Page,
}

const LISTS: [List; 7] = [
    List::License,
    List::Token,
    List::Grant,
    List::Connector(0),
    List::Connector(1),
    List::Call,
    List::Page,
];

fn slot(list: List) -> usize {
    match list {
        List::License => 0,
        List::Token => 1,
        List::Grant => 2,
        List::Connector(e) => 3 + usize::from(e % 2),
        List::Call => 5,
        List::Page => 6,
    }
}

/// How long each list of a [`Known`] is.
pub type Lens = [usize; 7];

impl Known {
    /// The length of each list references point into.
    pub fn lens(&self) -> Lens {
        let mut out = [0; 7];
        for list in LISTS {
            out[slot(list)] = match list {
                List::License => self.licenses.len(),
                List::Token => self.tokens.len(),
                List::Grant => self.grants.len(),
                List::Connector(e) => self.connectors[usize::from(e)].len(),
                List::Call => self.calls.len(),
                List::Page => self.pages.len(),
            };
        }
        out
    }
}

/// What one step did to the lists: emptied them (a reset), then added to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    pub reset: bool,
    pub added: Lens,
}

impl Effect {
    /// The effect of a step that took the lists from `before` to `after`.
    pub fn between(step: &Step, before: Lens, after: Lens) -> Effect {
        let reset = matches!(step, Step::Reset);
        let added = std::array::from_fn(|i| after[i].saturating_sub(if reset { 0 } else { before[i] }));
        Effect { reset, added }
    }
}

/// Calls `f` on each reference of `step` (nested ones of a [`Step::Refusal`] too), with the
/// list it points into; `f` may change it.
pub fn each_ref(step: &mut Step, f: &mut dyn FnMut(List, &mut u32)) {
    match step {
        Step::CreateLicenseVersion { license, .. }
        | Step::Borrow { license, .. }
        | Step::DeleteLicense { license, .. }
        | Step::Read { license, .. }
        | Step::CreateGrant { license, .. } => f(List::License, license),
        Step::CheckIn { token, .. } | Step::Extend { token, .. } => f(List::Token, token),
        Step::GrantAction { grant, .. } => f(List::Grant, grant),
        Step::DeleteConnector { env, connector }
        | Step::CreateEntitlement { env, connector, .. }
        | Step::DeleteEntitlement { env, connector, .. }
        | Step::ListEntitlements { env, connector, .. }
        | Step::SetHealth { env, connector, .. }
        | Step::UpdateConnector { env, connector, .. } => f(List::Connector(*env % 2), connector),
        Step::AdvanceTo { to, item, .. } => match to {
            Instant::TokenExpiry => f(List::Token, item),
            Instant::ValidityEnd | Instant::DeletionDue => f(List::License, item),
            Instant::IdempotencyEnd => f(List::Call, item),
            Instant::PageTokenEnd => f(List::Page, item),
            Instant::NextSync => {}
        },
        Step::NextPage { page } => f(List::Page, page),
        Step::Replay { back } => {
            let mut b = u32::from(*back);
            f(List::Call, &mut b);
            *back = u8::try_from(b).unwrap_or(*back);
        }
        Step::Refusal { of } => each_ref(of, f),
        _ => {}
    }
}

/// A resource: made by step `by` (or before the first step, `None`), the `nth` it made there.
type Resource = (Option<usize>, usize);

/// Where a reference `k` lands in a list of `len` (as concretization resolves it), if anywhere.
fn position(list: List, k: u32, len: usize) -> Option<usize> {
    match list {
        // The call `back % 8` requests before the newest.
        List::Call => len.checked_sub(1 + (k % 8) as usize),
        _ => (len > 0).then(|| k as usize % len),
    }
}

/// The reference that lands on `pos` in a list of `len`.
fn reference(list: List, pos: usize, len: usize) -> u32 {
    match list {
        List::Call => (len - 1 - pos) as u32,
        _ => pos as u32,
    }
}

/// `steps` without those `drop` marks, every reference renumbered to name the resource it
/// named in `steps`. `initial` is the lists' lengths before the first step and `effects` what
/// each step did to them when `steps` ran. A kept step whose resource is dropped is dropped
/// too.
pub fn without(steps: &[Step], drop: &[bool], initial: Lens, effects: &[Effect]) -> Vec<Step> {
    let start = |lens: Lens| -> Vec<Vec<Resource>> {
        lens.iter()
            .map(|&n| (0..n).map(|i| (None, i)).collect())
            .collect()
    };
    let apply = |lists: &mut Vec<Vec<Resource>>, i: usize, e: &Effect| {
        if e.reset {
            lists.iter_mut().for_each(Vec::clear);
        }
        for (l, &n) in lists.iter_mut().zip(&e.added) {
            l.extend((0..n).map(|nth| (Some(i), nth)));
        }
    };
    let mut before = start(initial);
    let mut after = start(initial);
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let effect = effects.get(i).copied().unwrap_or_default();
        let mut keep = !drop.get(i).copied().unwrap_or(false);
        let mut step = step.clone();
        if keep {
            let mut lost = false;
            each_ref(&mut step, &mut |list, k| {
                let old = &before[slot(list)];
                let Some(resource) = position(list, *k, old.len()).map(|p| old[p]) else {
                    return; // named nothing before: resolves as it did
                };
                let new = &after[slot(list)];
                match new.iter().position(|r| *r == resource) {
                    Some(p) => *k = reference(list, p, new.len()),
                    None => lost = true,
                }
            });
            keep = !lost;
        }
        apply(&mut before, i, &effect);
        if keep {
            apply(&mut after, i, &effect);
            out.push(step);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create() -> Step {
        Step::CreateGrant {
            license: 0,
            to: Who::Buyer,
            token: 0,
        }
    }

    fn made(license: usize, grant: usize, call: usize) -> Effect {
        let mut added = [0; 7];
        added[0] = license;
        added[2] = grant;
        added[5] = call;
        Effect { reset: false, added }
    }

    fn read(license: u32) -> Step {
        Step::Read {
            who: Who::Seller,
            license,
            op: ReadOp::GetLicense,
        }
    }

    /// A step that names nothing (what it made is given by its effect).
    fn mk() -> Step {
        Step::ListLicenses { sku: None, max: None }
    }

    #[test]
    fn a_later_reference_follows_its_resource_when_an_earlier_one_goes() {
        let steps = [mk(), mk(), read(1), Step::Replay { back: 1 }];
        // Steps 0 and 1 each made a license; step 2 read the second; the replay repeats step 1.
        let effects = [made(1, 0, 1), made(1, 0, 1), made(0, 0, 1), made(0, 0, 1)];
        let out = without(&steps, &[true, false, false, false], [0; 7], &effects);
        assert_eq!(out, vec![mk(), read(0), Step::Replay { back: 1 }]);
        // Dropping step 2 brings the replay's request one nearer.
        let out = without(&steps, &[false, false, true, false], [0; 7], &effects);
        assert_eq!(out, vec![mk(), mk(), Step::Replay { back: 0 }]);
    }

    #[test]
    fn a_step_whose_resource_goes_goes_too_and_so_do_its_own() {
        let grant = |g| Step::GrantAction {
            who: Who::Buyer,
            grant: g,
            action: GrantActionKind::Accept,
        };
        // A license, a grant of it, an action on the grant; a second license, read.
        let steps = [mk(), create(), grant(0), mk(), read(1)];
        let effects = [
            made(1, 0, 1),
            made(0, 1, 1),
            made(0, 0, 1),
            made(1, 0, 1),
            made(0, 0, 1),
        ];
        let out = without(&steps, &[true, false, false, false, false], [0; 7], &effects);
        // The grant was of the first license: it and the action on it go; the read now names
        // the second license at its new place.
        assert_eq!(out, vec![mk(), read(0)]);
    }

    #[test]
    fn dropping_a_reset_moves_later_references_past_what_came_before_it() {
        let steps = [mk(), Step::Reset, mk(), read(0)];
        let reset = Effect {
            reset: true,
            ..Effect::default()
        };
        let effects = [made(1, 0, 1), reset, made(1, 0, 1), made(0, 0, 1)];
        let out = without(&steps, &[false, true, false, false], [0; 7], &effects);
        assert_eq!(out, vec![mk(), mk(), read(1)]);
    }

    #[test]
    fn references_to_resources_made_before_the_first_step_and_unresolved_ones_stay() {
        let steps = [read(0), read(5)];
        let effects = [made(0, 0, 1), made(0, 0, 1)];
        // Two licenses existed before; step 0 named the first, step 1 the second (5 % 2).
        let mut initial = [0; 7];
        initial[0] = 2;
        assert_eq!(
            without(&steps, &[false, false], initial, &effects),
            vec![read(0), read(1)]
        );
        // Nothing existed: references resolve to nothing, as before, and stay.
        assert_eq!(without(&steps, &[false, false], [0; 7], &effects), steps.to_vec());
    }
}
