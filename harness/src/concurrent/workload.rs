//! The concurrent workload: a shared setup (two small licenses, a grant of each to the buyer)
//! and one program of [`Step`]s per client, in the one workload's vocabulary, contending on
//! those licenses. Each client works on one license, so the history splits into one group per
//! license (plus the clock, which every group sees).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::gen::{GrantActionKind, Qty, ReadOp, Step, Who};

/// The licenses every round sets up, one group each.
pub const LICENSES: usize = 2;
/// Seats per license: few, so clients contend.
pub const SEATS: i64 = 2;

/// One round's programs: `programs[c]` is client `c`'s steps, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Programs {
    pub programs: Vec<Vec<Step>>,
    /// `tokens[c][j]`: the ClientToken number client `c`'s step `j` is sent with. Unique per
    /// request, except that an idempotent replay shares its source's: the same body and
    /// ClientToken sent on another connection at about the same time.
    pub tokens: Vec<Vec<u32>>,
}

impl Programs {
    pub fn calls(&self) -> usize {
        self.programs.iter().map(Vec::len).sum()
    }

    pub fn clients(&self) -> usize {
        self.programs.len()
    }

    /// The programs without client `c`'s steps (its column stays, empty).
    pub fn without_client(&self, c: usize) -> Programs {
        let mut p = self.clone();
        p.programs[c].clear();
        p.tokens[c].clear();
        p
    }

    /// The programs without client `c`'s step `j`.
    pub fn without_step(&self, c: usize, j: usize) -> Programs {
        let mut p = self.clone();
        p.programs[c].remove(j);
        p.tokens[c].remove(j);
        p
    }

    /// How many requests are sent twice (the same ClientToken on two clients).
    pub fn replays(&self) -> usize {
        let mut seen = std::collections::BTreeMap::<u32, usize>::new();
        for t in self.tokens.iter().flatten() {
            *seen.entry(*t).or_default() += 1;
        }
        seen.values().filter(|n| **n > 1).count()
    }
}

/// Clients per namespace: each eight clients get a namespace (two licenses) of their own, so
/// no license has more than four clients on it and each group's search stays small.
pub const CLIENTS_PER_SPACE: usize = 8;

/// The namespace client `c` works in.
pub fn space_of(c: usize) -> usize {
    c / CLIENTS_PER_SPACE
}

/// The namespaces `clients` clients need.
pub fn spaces(clients: usize) -> usize {
    clients.div_ceil(CLIENTS_PER_SPACE).max(1)
}

/// The group (one license of one namespace) client `c`'s calls belong to.
pub fn group_of(c: usize) -> usize {
    space_of(c) * LICENSES + license_of(c)
}

/// Who client `c` acts as: two issuers' clients, then two buyers', in turn.
pub fn who_of(c: usize) -> Who {
    if c % 4 < 2 {
        Who::Seller
    } else {
        Who::Buyer
    }
}

/// The license of its namespace client `c` works on.
pub fn license_of(c: usize) -> usize {
    c % LICENSES
}

/// The group of the EVS calls (entitlements of the first namespace's environment) when the
/// round has `spaces` namespaces.
pub fn evs_group(spaces: usize) -> usize {
    spaces * LICENSES
}

/// The setup steps, run in sequence before the clients start: the licenses (tokens of `ttl`
/// minutes), then a grant of each to the buyer, accepted; with `evs`, a connector of the
/// seeded environment.
pub fn setup(ttl_minutes: i32, evs: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if evs {
        steps.push(Step::CreateConnector { env: 0, token: 0 });
    }
    for k in 0..LICENSES as u8 {
        steps.push(Step::CreateLicense {
            sku: k,
            beneficiary: 0,
            max: SEATS,
            overage: false,
            check_in: true,
            ttl: ttl_minutes,
            borrow: true,
            early: true,
            end_minutes: None,
            token: k,
            cores: None,
        });
    }
    for k in 0..LICENSES as u32 {
        steps.push(Step::CreateGrant {
            license: k,
            to: Who::Buyer,
            token: k as u8,
        });
        steps.push(Step::GrantAction {
            who: Who::Buyer,
            grant: k,
            action: GrantActionKind::Accept,
        });
    }
    steps
}

/// An EVS step on the seeded environment's VMs: entitlements created and deleted on the same
/// VMs by several clients, and read.
fn draw_evs(rng: &mut ChaCha8Rng) -> Step {
    let pick = rng.next_u32();
    let mut vms = vec![(pick % 4) as u8];
    if pick.is_multiple_of(3) {
        vms.push(((pick / 4) % 4) as u8);
        vms.dedup();
    }
    match rng.next_u32() % 20 {
        0..=8 => Step::CreateEntitlement {
            env: 0,
            connector: 0,
            vms,
        },
        9..=15 => Step::DeleteEntitlement {
            env: 0,
            connector: 0,
            vms,
        },
        _ => Step::ListEntitlements {
            env: 0,
            connector: 0,
            max: None,
        },
    }
}

/// The step weights of a client's program; `evs`: the client also works on entitlements.
fn draw(rng: &mut ChaCha8Rng, c: usize, license: u32, clock: bool, evs: bool) -> Step {
    if evs && rng.next_u32() % 100 < 12 {
        return draw_evs(rng);
    }
    let who = who_of(c);
    let sku = license_of(c) as u8;
    let token = 0; // every ClientToken is made unique per client and step when sent
    let roll = rng.next_u32() % 100;
    let pick = rng.next_u32();
    match roll {
        0..=33 => Step::Checkout {
            who,
            sku,
            beneficiary: Some(0),
            qty: Qty(if pick.is_multiple_of(6) { "2" } else { "1" }.into()),
            perpetual: pick.is_multiple_of(11),
            marketplace: false,
            token,
            extra: None,
        },
        34..=55 => Step::CheckIn { who, token: pick },
        56..=63 => Step::Extend {
            who,
            token: pick,
            dry_run: false,
        },
        64..=68 => Step::Borrow {
            who,
            license,
            qty: Qty("1".into()),
            token,
            extra: None,
        },
        69..=82 => Step::Read {
            who: Who::Seller,
            license,
            op: if pick.is_multiple_of(4) {
                ReadOp::GetLicense
            } else {
                ReadOp::GetLicenseUsage
            },
        },
        83..=87 if clock => Step::Advance {
            seconds: 20 + i64::from(pick % 70),
        },
        88..=90 => Step::CreateLicenseVersion {
            license,
            max: 1 + i64::from(pick % 3),
            deactivate: false,
            reset: pick.is_multiple_of(5),
            source: None,
            token,
        },
        91..=95 => {
            let (who, action) = match pick % 3 {
                0 => (Who::Seller, GrantActionKind::Narrow),
                1 => (Who::Buyer, GrantActionKind::Disable),
                _ => (Who::Buyer, GrantActionKind::Activate),
            };
            Step::GrantAction {
                who,
                grant: license_of(c) as u32,
                action,
            }
        }
        _ => Step::Read {
            who: Who::Seller,
            license,
            op: ReadOp::GetLicenseUsage,
        },
    }
}

/// The programs of round `round`: `clients` programs of `calls` steps each, seeded. `license`
/// maps a client to its license's index among its namespace's licenses; `clock`: the target
/// takes clock events; `evs`: the first namespace's clients also create and delete entitlements
/// on the seeded environment's VMs. About one checkout in four of the last four clients of a namespace is
/// the same request as the checkout the client four before it made at the same position: an
/// idempotent replay sent on two connections at about the same time.
pub fn programs(
    seed: u64,
    round: u64,
    clients: usize,
    calls: usize,
    license: &dyn Fn(usize) -> u32,
    clock: bool,
    evs: bool,
) -> Programs {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ round.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x636f_6e63);
    let mut programs: Vec<Vec<Step>> = Vec::with_capacity(clients);
    let mut tokens: Vec<Vec<u32>> = Vec::with_capacity(clients);
    let mut next = 0u32;
    for c in 0..clients {
        let mut steps = Vec::with_capacity(calls);
        let mut ids = Vec::with_capacity(calls);
        for j in 0..calls {
            // The clock is one for every license: only the first namespace's clients move it,
            // so the events each group must place do not grow with the clients.
            let first = space_of(c) == 0;
            let step = draw(&mut rng, c, license(c), clock && first, evs && first);
            let twin = (c % CLIENTS_PER_SPACE >= 4).then(|| c - 4).filter(|&o| {
                matches!(programs[o].get(j), Some(Step::Checkout { .. })) && rng.next_u32().is_multiple_of(4)
            });
            match twin {
                Some(o) => {
                    steps.push(programs[o][j].clone());
                    ids.push(tokens[o][j]);
                }
                None => {
                    steps.push(step);
                    ids.push(next);
                    next += 1;
                }
            }
        }
        programs.push(steps);
        tokens.push(ids);
    }
    Programs { programs, tokens }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_seeded_and_replays_repeat_their_source() {
        let a = programs(7, 3, 8, 30, &|k| k as u32, true, false);
        assert_eq!(a, programs(7, 3, 8, 30, &|k| k as u32, true, false));
        assert_ne!(a, programs(8, 3, 8, 30, &|k| k as u32, true, false));
        assert!(a.replays() > 0, "some checkouts are sent twice");
        // A shared ClientToken is always the same request by the same role on the same license.
        for c in 0..a.clients() {
            for o in 0..c {
                for (j, t) in a.tokens[c].iter().enumerate() {
                    if let Some(oj) = a.tokens[o].iter().position(|x| x == t) {
                        assert_eq!(a.programs[c][j], a.programs[o][oj]);
                        assert!(matches!(a.programs[c][j], Step::Checkout { .. }));
                        assert_eq!((group_of(c), who_of(c)), (group_of(o), who_of(o)));
                    }
                }
            }
        }
        assert!(programs(7, 3, 4, 30, &|k| k as u32, true, false).replays() == 0);
        assert_eq!((spaces(8), spaces(9), spaces(64)), (1, 2, 8));
        assert_eq!((group_of(7), group_of(8), group_of(63)), (1, 2, 15));
    }

    fn is_evs(s: &Step) -> bool {
        matches!(
            s,
            Step::CreateEntitlement { .. } | Step::DeleteEntitlement { .. } | Step::ListEntitlements { .. }
        )
    }

    #[test]
    fn without_clock_events_no_program_moves_the_clock() {
        let a = programs(2, 0, 8, 50, &|k| k as u32, false, false);
        assert!(a
            .programs
            .iter()
            .flatten()
            .all(|s| !matches!(s, Step::Advance { .. })));
        let b = programs(2, 0, 8, 50, &|k| k as u32, true, false);
        assert!(b
            .programs
            .iter()
            .flatten()
            .any(|s| matches!(s, Step::Advance { .. })));
        assert!(!b.programs.iter().flatten().any(is_evs));
        let e = programs(2, 0, 16, 50, &|k| k as u32, true, true);
        assert!(e.programs[..8].iter().flatten().any(is_evs));
        assert!(
            !e.programs[8..].iter().flatten().any(is_evs),
            "only the first namespace has an environment"
        );
        let advances = |p: &[Vec<Step>]| {
            p.iter()
                .flatten()
                .filter(|s| matches!(s, Step::Advance { .. }))
                .count()
        };
        assert!(advances(&e.programs[..8]) > 0);
        assert_eq!(
            advances(&e.programs[8..]),
            0,
            "only the first namespace moves the clock"
        );
    }
}
