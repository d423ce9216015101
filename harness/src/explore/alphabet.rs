//! The small world the explorer starts from and the finite alphabet of actions it tries in
//! every state, all as the workload's own [`Step`]s, so a path is a case any target can run.
//!
//! Actions name resources by their creation order (the k-th token, the k-th grant), as every
//! `Step` does, so an action means the same in two states with equal fingerprints. Each step
//! that sends a ClientToken sends a fresh one (its position in the case), but for three
//! actions made to meet the idempotency rules (SPEC 3.4): a replay of the most recent request,
//! a checkout reusing the setup checkout's ClientToken with other parameters, and the clock to
//! the end of the most recent request's window. The explorer merges states with
//! `World::fingerprint_without_client_tokens`, so these three are explored from the first path
//! that reached a state (the one a covering case takes down the search tree): what they send
//! depends on the requests of that path, not on the state alone.

use conform_model::lm::TokenState;

use crate::driver::Reference;
use crate::gen::{instant, GrantActionKind, Health, Instant, Qty, Step, Who};

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

/// ClientTokens of the setup steps: above any position a path can reach (`MAX_DEPTH` and the
/// setup's length); [`fresh`] leaves tokens from here up as they are.
const SETUP_TOKEN: u8 = 250;
/// The ClientToken of the setup's checkout, which one action reuses with other parameters.
const SETUP_CHECKOUT_TOKEN: u8 = SETUP_TOKEN + 3;
/// The deepest exploration: every step of a path gets its position as ClientToken, and the
/// setup's tokens are above it.
pub const MAX_DEPTH: usize = 200;

impl SmallWorld {
    /// The steps that make the world from a case's start: the license and a second one of
    /// another SKU (one seat, overage allowed, borrowable without early check-in), the
    /// connector and a Windows VM's entitlement, one seat of the first license checked out, and
    /// the clock to the next sync (the entitlement CREATED). So the start state already holds
    /// what the deeper rules act on: a live token, a live entitlement and requests with
    /// ClientToken records (the environment and its VMs are the case's fixtures).
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
            Step::CreateLicense {
                sku: 1,
                beneficiary: 0,
                max: 1,
                overage: true,
                check_in: true,
                ttl: 60,
                borrow: self.borrow,
                early: false,
                end_minutes: None,
                token: SETUP_TOKEN + 1,
                cores: None,
            },
            Step::CreateConnector {
                env: 0,
                token: SETUP_TOKEN + 2,
            },
            // (With no VMs in the world, no entitlement either.)
            Step::CreateEntitlement {
                env: 0,
                connector: 0,
                vms: vec![0],
            },
            with_token(
                checkout(Who::Seller, 0, Some(0), "1", false),
                SETUP_CHECKOUT_TOKEN,
            ),
            advance_to(Instant::NextSync, 0),
        ]
        .into_iter()
        .filter(|s| self.vms > 0 || !matches!(s, Step::CreateEntitlement { .. }))
        .collect()
    }

    /// Every action tried in the state `r` holds (its position in the case's path, for the
    /// ClientTokens, is set by [`fresh`]).
    pub fn actions(&self, r: &Reference) -> Vec<Step> {
        let world = r.world();
        let known = r.known();
        let now = world.now_ms();
        let mut out = Vec::with_capacity(48);
        for perpetual in [false, true] {
            for qty in ["1", "2"] {
                out.push(checkout(Who::Seller, 0, Some(0), qty, perpetual));
            }
        }
        // Past the second license's one seat: granted only because it allows overage.
        out.push(checkout(Who::Seller, 1, Some(0), "2", false));
        // The setup checkout's ClientToken with other parameters (SPEC 3.4): refused while
        // its record lasts, a new request after.
        out.push(with_token(
            checkout(Who::Seller, 0, Some(0), "1", true),
            SETUP_CHECKOUT_TOKEN,
        ));
        if self.grants > 0 {
            out.push(checkout(Who::Buyer, 0, None, "1", false));
        }
        if self.borrow {
            for license in [0, 1] {
                out.push(Step::Borrow {
                    who: Who::Seller,
                    license,
                    qty: Qty("1".into()),
                    token: 0,
                    extra: None,
                });
            }
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
            // The clock to a live token's expiry and to just before it (past ones move
            // nothing).
            if tokens
                .iter()
                .any(|t| &t.id == id && t.state == TokenState::Live && t.expires_ms > now)
            {
                out.push(advance_to(Instant::TokenExpiry, k));
                out.push(Step::AdvanceTo {
                    to: Instant::TokenExpiry,
                    item: k,
                    offset_ms: -1,
                });
            }
        }
        out.push(advance_to(Instant::NextSync, 0));
        // The clock to the first license's validity end and deletion, and to the end of the
        // most recent request's ClientToken window (SPEC 3.4), where they are still ahead: as
        // the step resolves them.
        for to in [
            Instant::ValidityEnd,
            Instant::DeletionDue,
            Instant::IdempotencyEnd,
        ] {
            if instant(to, 0, known, world).is_some_and(|at| at > now) {
                out.push(advance_to(to, 0));
            }
        }
        // The most recent request again.
        out.push(Step::Replay { back: 0 });
        for (max, deactivate, reset) in [
            (self.seats, true, false),
            (self.seats - 1, false, false),
            (self.seats, false, false),
            (self.seats, false, true),
        ] {
            out.push(Step::CreateLicenseVersion {
                license: 0,
                max,
                deactivate,
                reset,
                source: None,
                token: 0,
            });
        }
        for right_source in [true, false] {
            out.push(Step::DeleteLicense {
                license: 0,
                right_source,
            });
        }
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
        self.evs_actions(&mut out);
        out
    }

    /// The EVS actions: entitle, delete and remove each VM, take the first off Windows Server,
    /// read the entitlements a page of one at a time, change the connector's FQDN, delete it,
    /// and turn its health.
    fn evs_actions(&self, out: &mut Vec<Step>) {
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
        if self.vms > 0 {
            out.push(Step::SetGuestOs {
                env: 0,
                vm: 0,
                windows: false,
            });
        }
        // `max` 0 asks for pages of one record.
        out.push(Step::ListEntitlements {
            env: 0,
            connector: 0,
            max: Some(0),
        });
        out.push(Step::UpdateConnector {
            env: 0,
            connector: 0,
            fqdn: true,
        });
        out.push(Step::DeleteConnector { env: 0, connector: 0 });
        for health in [Health::Failed, Health::Passed] {
            out.push(Step::SetHealth {
                env: 0,
                connector: 0,
                health,
            });
        }
    }
}

fn checkout(who: Who, sku: u8, beneficiary: Option<u8>, qty: &str, perpetual: bool) -> Step {
    Step::Checkout {
        who,
        sku,
        beneficiary,
        qty: Qty(qty.into()),
        perpetual,
        marketplace: false,
        token: 0,
        extra: None,
    }
}

/// A checkout with the ClientToken `t` (a setup token, which [`fresh`] keeps).
fn with_token(mut step: Step, t: u8) -> Step {
    if let Step::Checkout { token, .. } = &mut step {
        *token = t;
    }
    step
}

fn advance_to(to: Instant, item: u32) -> Step {
    Step::AdvanceTo {
        to,
        item,
        offset_ms: 0,
    }
}

/// `step` as sent at `position` of a case's path: its ClientToken, if it sends a fresh one, is
/// the position, so no step of the path replays another's by chance (a setup step's token,
/// which an action reuses on purpose, is left as it is).
pub fn fresh(mut step: Step, position: usize) -> Step {
    let t = u8::try_from(position).unwrap_or(u8::MAX);
    match &mut step {
        Step::Checkout { token, .. }
        | Step::Borrow { token, .. }
        | Step::CreateLicenseVersion { token, .. }
        | Step::CreateGrant { token, .. }
            if *token < SETUP_TOKEN =>
        {
            *token = t
        }
        _ => {}
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_sets_the_client_token_of_sending_steps_only() {
        let a = fresh(checkout(Who::Seller, 0, Some(0), "1", false), 7);
        assert!(matches!(a, Step::Checkout { token: 7, .. }));
        // The setup checkout's ClientToken, reused on purpose, stays.
        let reused = with_token(checkout(Who::Seller, 0, Some(0), "1", true), SETUP_CHECKOUT_TOKEN);
        assert_eq!(fresh(reused.clone(), 7), reused);
        let sync = advance_to(Instant::NextSync, 0);
        assert_eq!(fresh(sync.clone(), 7), sync);
    }
}
