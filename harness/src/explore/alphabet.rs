//! The small world the explorer starts from and the finite alphabet of actions it tries in
//! every state, all as the workload's own [`Step`]s, so a path is a case any target can run.
//!
//! Actions name resources by their creation order (the k-th token, the k-th grant), as every
//! `Step` does, so an action means the same in two states with equal fingerprints. Each step
//! that sends a ClientToken sends a fresh one (its position in the case), so no idempotency
//! record can answer a later request: that is why the explorer may merge states with
//! `World::fingerprint_without_client_tokens`.

use conform_model::lm::TokenState;

use crate::driver::Reference;
use crate::gen::{GrantActionKind, Health, Instant, Qty, Step, Who};

/// The shape of the small world: what the setup creates and how far the alphabet may grow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallWorld {
    /// MaxCount of the license's seats.
    pub seats: i64,
    /// How many grants (to the buyer) the alphabet may create.
    pub grants: usize,
    /// The environment's VMs the alphabet entitles and removes (of the case's fixtures).
    pub vms: u8,
    /// Whether borrows are in the alphabet (each one signs a token with RSA-PSS).
    pub borrow: bool,
    /// The license's validity ends this many minutes after its creation (`None`: never).
    pub validity_minutes: Option<i64>,
}

impl Default for SmallWorld {
    /// One license of two seats, the seller and the buyer, one grant, one EVS environment with
    /// two VMs and a connector.
    fn default() -> Self {
        SmallWorld {
            seats: 2,
            grants: 1,
            vms: 2,
            borrow: true,
            validity_minutes: Some(24 * 60),
        }
    }
}

/// ClientTokens of the setup steps: above any position a path can reach (`MAX_DEPTH`).
const SETUP_TOKEN: u8 = 250;
/// The deepest exploration: every step of a path gets its position as ClientToken, and the
/// setup's tokens are above it.
pub const MAX_DEPTH: usize = 200;

impl SmallWorld {
    /// The steps that make the world from a case's start: the license and the connector
    /// (the environment and its VMs are the case's fixtures).
    pub fn setup(&self) -> Vec<Step> {
        vec![
            Step::CreateLicense {
                sku: 0,
                beneficiary: 0,
                max: self.seats,
                overage: false,
                check_in: true,
                ttl: 60,
                borrow: self.borrow,
                early: true,
                end_minutes: self.validity_minutes,
                token: SETUP_TOKEN,
                cores: None,
            },
            Step::CreateConnector {
                env: 0,
                token: SETUP_TOKEN + 1,
            },
        ]
    }

    /// Every action tried in the state `r` holds (its position in the case's path, for the
    /// ClientTokens, is set by [`fresh`]).
    pub fn actions(&self, r: &Reference) -> Vec<Step> {
        let world = r.world();
        let known = r.known();
        let now = world.now_ms();
        let mut out = Vec::with_capacity(32);
        for perpetual in [false, true] {
            for qty in ["1", "2"] {
                out.push(checkout(Who::Seller, Some(0), qty, perpetual));
            }
        }
        if self.grants > 0 {
            out.push(checkout(Who::Buyer, None, "1", false));
        }
        if self.borrow {
            out.push(Step::Borrow {
                who: Who::Seller,
                license: 0,
                qty: Qty("1".into()),
                token: 0,
                extra: None,
            });
        }
        let tokens = world.lm().tokens();
        for (k, (who, id)) in known.tokens.iter().enumerate() {
            let k = k as u32;
            out.push(Step::CheckIn { who: *who, token: k });
            out.push(Step::Extend {
                who: *who,
                token: k,
                dry_run: false,
            });
            // The clock to a live token's expiry (past ones move nothing).
            if tokens
                .iter()
                .any(|t| &t.id == id && t.state == TokenState::Live && t.expires_ms > now)
            {
                out.push(advance_to(Instant::TokenExpiry, k));
            }
        }
        out.push(advance_to(Instant::NextSync, 0));
        if let Some(l) = world.lm().licenses().first() {
            if l.latest().end_ms.is_some_and(|end| end > now) {
                out.push(advance_to(Instant::ValidityEnd, 0));
            }
            if l.deletion_ms.is_some_and(|due| due > now) {
                out.push(advance_to(Instant::DeletionDue, 0));
            }
        }
        for (max, deactivate) in [(self.seats, true), (self.seats - 1, false), (self.seats, false)] {
            out.push(Step::CreateLicenseVersion {
                license: 0,
                max,
                deactivate,
                reset: false,
                source: None,
                token: 0,
            });
        }
        out.push(Step::DeleteLicense {
            license: 0,
            right_source: true,
        });
        if known.grants.len() < self.grants {
            out.push(Step::CreateGrant {
                license: 0,
                to: Who::Buyer,
                token: 0,
            });
        }
        for g in 0..known.grants.len() as u32 {
            for action in [
                GrantActionKind::Accept,
                GrantActionKind::Reject,
                GrantActionKind::Activate,
            ] {
                out.push(Step::GrantAction {
                    who: Who::Buyer,
                    grant: g,
                    action,
                });
            }
        }
        for vm in 0..self.vms {
            out.push(Step::CreateEntitlement {
                env: 0,
                connector: 0,
                vms: vec![vm],
            });
            out.push(Step::DeleteEntitlement {
                env: 0,
                connector: 0,
                vms: vec![vm],
            });
            out.push(Step::RemoveVm { env: 0, vm });
        }
        for health in [Health::Failed, Health::Passed] {
            out.push(Step::SetHealth {
                env: 0,
                connector: 0,
                health,
            });
        }
        out
    }
}

fn checkout(who: Who, beneficiary: Option<u8>, qty: &str, perpetual: bool) -> Step {
    Step::Checkout {
        who,
        sku: 0,
        beneficiary,
        qty: Qty(qty.into()),
        perpetual,
        marketplace: false,
        token: 0,
        extra: None,
    }
}

fn advance_to(to: Instant, item: u32) -> Step {
    Step::AdvanceTo {
        to,
        item,
        offset_ms: 0,
    }
}

/// `step` as sent at `position` of a case's path: its ClientToken, if it sends one, is the
/// position, so no step of the path replays another's.
pub fn fresh(mut step: Step, position: usize) -> Step {
    let t = u8::try_from(position).unwrap_or(u8::MAX);
    match &mut step {
        Step::Checkout { token, .. }
        | Step::Borrow { token, .. }
        | Step::CreateLicenseVersion { token, .. }
        | Step::CreateGrant { token, .. } => *token = t,
        _ => {}
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_sets_the_client_token_of_sending_steps_only() {
        let a = fresh(checkout(Who::Seller, Some(0), "1", false), 7);
        assert!(matches!(a, Step::Checkout { token: 7, .. }));
        let sync = advance_to(Instant::NextSync, 0);
        assert_eq!(fresh(sync.clone(), 7), sync);
    }
}
