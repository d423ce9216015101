//! Drawing steps: a seeded ChaCha8 generator with explicit weights, looking at what the case
//! has so far.

use rand::{Rng, SeedableRng};
// A named PRNG (as the model's id streams): `StdRng` promises no algorithm across versions, so
// a dependency upgrade could silently change every campaign's cases.
use rand_chacha::ChaCha8Rng;

use conform_model::{Service, World};

use super::*;

/// How many times a step meant to be valid is redrawn (same kind) until the model accepts it.
const TRIES: usize = 8;
/// How many kinds a step meant to be valid tries before it is sent as first drawn.
const KINDS: usize = 3;

/// Relative weights of the step kinds.
#[derive(Clone, Debug)]
pub struct Weights {
    pub license_manager: u32,
    pub evs: u32,
    pub events: u32,
    pub invalid: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            license_manager: 52,
            evs: 24,
            events: 19,
            invalid: 18,
        }
    }
}

/// Draws steps from a seeded RNG, looking at what the case has so far.
pub struct Generator {
    rng: ChaCha8Rng,
    weights: Weights,
    pub services: Vec<Service>,
    pub events: bool,
    /// The target has no control plane (cases share its state): no invalid step may be a list
    /// that reads other cases' resources.
    pub isolated: bool,
    /// The case's namespace, as the steps are concretized in it.
    pub ns: String,
    /// Percent of API steps drawn without asking the model whether they succeed (the rest are
    /// redrawn, within their kind, until the model accepts one); besides these, the invalid
    /// step kind is always invalid on purpose.
    pub unfiltered_percent: u32,
}

impl Generator {
    pub fn new(seed: u64, weights: Weights, services: Vec<Service>, events: bool) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            weights,
            services,
            events,
            isolated: false,
            ns: String::new(),
            unfiltered_percent: 15,
        }
    }

    /// Whether the model, in its current state, accepts the request `step` stands for.
    fn succeeds(&self, step: &Step, known: &Known, world: &World) -> bool {
        let concrete = concretize(step, &self.ns, self.isolated, known, world);
        let Some(now) = concrete.reply_on(world) else {
            return true;
        };
        if now.is_error() || !self.isolated {
            return !now.is_error();
        }
        // On a target whose clock only runs, a step is valid only if it also succeeds once the
        // clock has moved by the comparison tolerance, and a read answers the same (else the
        // case would stop there as time-dependent).
        let mut later = world.clone();
        let seconds = crate::driver::WALL_CLOCK_TOLERANCE_SECONDS;
        if later
            .apply(conform_model::Event::advance_seconds(seconds))
            .is_err()
        {
            return false;
        }
        let Some(then) = concrete.reply_on(&later) else {
            return true;
        };
        let read =
            matches!(&concrete, Concrete::Call { op, .. } if op.starts_with("Get") || op.starts_with("List"));
        !then.is_error() && (!read || then.body == now.body)
    }

    /// Draws with `draw` (a kind from 0..100, then a step of that kind) until the model accepts
    /// the step: [`TRIES`] draws of one kind, then of another kind, up to [`KINDS`] kinds (a kind
    /// whose precondition the state does not meet, such as a check-in with no live token, gives
    /// way to one whose does). Unless the step is one of the unfiltered share; the first draw if
    /// none is accepted.
    fn filtered(
        &mut self,
        known: &Known,
        world: &World,
        mut draw: impl FnMut(&mut Self, u32, &Known) -> Step,
    ) -> Step {
        let kind = self.rng.gen_range(0..100);
        let first = draw(self, kind, known);
        if self.rng.gen_ratio(self.unfiltered_percent.min(100), 100) {
            return first;
        }
        let mut step = first.clone();
        for attempt in 0..KINDS * TRIES {
            if self.succeeds(&step, known, world) {
                return step;
            }
            let kind = if attempt % TRIES == TRIES - 1 {
                self.rng.gen_range(0..100)
            } else {
                kind
            };
            step = draw(self, kind, known);
        }
        first
    }

    fn qty(&mut self) -> Qty {
        if self.rng.gen_ratio(1, 12) {
            let bad = ["0", "01", "-1", "x", "", "9223372036854775807"];
            Qty(bad[self.rng.gen_range(0..bad.len())].to_string())
        } else {
            Qty(self.rng.gen_range(1..4).to_string())
        }
    }

    fn who(&mut self) -> Who {
        match self.rng.gen_range(0..10) {
            0..=4 => Who::Seller,
            5..=8 => Who::Buyer,
            _ => Who::Stranger,
        }
    }

    /// The next step, given what is known so far and the reference model's state.
    pub fn step(&mut self, known: &Known, world: &World) -> Step {
        let lm = if self.services.contains(&Service::LicenseManager) {
            self.weights.license_manager
        } else {
            0
        };
        let evs = if self.services.contains(&Service::Evs) {
            self.weights.evs
        } else {
            0
        };
        let events = if self.events { self.weights.events } else { 0 };
        let total = lm + evs + events + self.weights.invalid;
        let mut roll = self.rng.gen_range(0..total.max(1));
        if roll < lm {
            return self.filtered(known, world, Self::lm_step);
        }
        roll -= lm;
        if roll < evs {
            return self.filtered(known, world, Self::evs_step);
        }
        roll -= evs;
        if roll < events {
            return self.event_step(known);
        }
        if self.rng.gen_ratio(1, 2) {
            if let Some(index) = self.constraint_case() {
                return Step::Constraint { index };
            }
        }
        let ops = all_operations();
        let op: u16 = self.rng.gen();
        let operation = ops[usize::from(op) % ops.len()].1.to_string();
        let mut kind: u8 = self.rng.gen();
        if self.isolated && operation.starts_with("List") {
            // Only the bodies no list accepts (not JSON, not an object): the others may be
            // answered with every case's resources.
            kind %= 2;
        }
        Step::Invalid {
            operation,
            body: InvalidBody::from_draw(kind),
        }
    }

    /// An invalid constraint-derived case of one of the generator's services.
    fn constraint_case(&mut self) -> Option<u32> {
        let cases = invalid_cases();
        for _ in 0..8 {
            let i = self.rng.gen_range(0..cases.len().max(1));
            if cases.get(i).is_some_and(|c| self.services.contains(&c.service)) {
                return Some(i as u32);
            }
        }
        None
    }

    /// A token reference and who sends it: mostly the account that checked it out (a token
    /// belongs to it, SPEC 3.6), sometimes anyone.
    fn token(&mut self, known: &Known) -> (Who, u32) {
        let token = self.index(known.tokens.len());
        let owner = known.tokens.get(token as usize).map(|(w, _)| *w);
        match owner {
            Some(w) if self.rng.gen_ratio(4, 5) => (w, token),
            _ => (self.who(), token),
        }
    }

    fn index(&mut self, len: usize) -> u32 {
        // Mostly recent items, which is where the interesting state is.
        let len = len.max(1) as u32;
        if self.rng.gen_ratio(2, 3) {
            len - 1 - self.rng.gen_range(0..len.min(3))
        } else {
            self.rng.gen_range(0..len)
        }
    }

    fn lm_step(&mut self, kind: u32, known: &Known) -> Step {
        let isolated = self.isolated;
        let r = &mut self.rng;
        let sku = r.gen_range(0..2);
        let token = r.gen_range(0..10);
        match kind {
            0..=11 => Step::CreateLicense {
                sku,
                beneficiary: r.gen_range(0..2),
                max: r.gen_range(0..5),
                overage: r.gen_ratio(1, 5),
                check_in: r.gen_ratio(4, 5),
                // Minutes: some tokens expire within a case, most outlive a few syncs. On a
                // target whose clock only runs (no control plane) a token that expires within
                // the comparison tolerance would stop the case, so only long ones there.
                ttl: if isolated {
                    [30, 60][r.gen_range(0..2)]
                } else {
                    [1, 2, 30, 60][r.gen_range(0..4)]
                },
                borrow: r.gen_ratio(1, 2),
                early: r.gen_ratio(1, 2),
                end_minutes: r
                    .gen_ratio(1, 4)
                    .then(|| r.gen_range(if isolated { 10 } else { 1 }..200)),
                token,
            },
            12..=17 => Step::CreateLicenseVersion {
                license: 0,
                max: r.gen_range(0..5),
                deactivate: r.gen_ratio(1, 4),
                reset: r.gen_ratio(1, 5),
                source: [None, Some(true), Some(false)][r.gen_range(0..3)],
                token,
            }
            .with_license(self.index(known.licenses.len())),
            18..=41 => {
                let who = self.who();
                let marketplace = who == Who::Buyer && self.rng.gen_ratio(1, 2);
                let beneficiary =
                    (who == Who::Seller && self.rng.gen_ratio(9, 10)).then(|| self.rng.gen_range(0..2));
                let qty = self.qty();
                Step::Checkout {
                    who,
                    sku,
                    beneficiary,
                    qty,
                    perpetual: self.rng.gen_ratio(1, 5),
                    marketplace,
                    token: self.rng.gen_range(0..20),
                }
            }
            42..=47 => {
                let who = self.who();
                let qty = self.qty();
                Step::Borrow {
                    who,
                    license: self.index(known.licenses.len()),
                    qty,
                    token,
                }
            }
            48..=58 => {
                let (who, token) = self.token(known);
                Step::CheckIn { who, token }
            }
            59..=65 => {
                let (who, token) = self.token(known);
                Step::Extend {
                    who,
                    token,
                    dry_run: self.rng.gen_ratio(1, 4),
                }
            }
            66..=68 => Step::DeleteLicense {
                license: self.index(known.licenses.len()),
                right_source: self.rng.gen_ratio(3, 4),
            },
            69..=76 => {
                let who = self.who();
                Step::Read {
                    who,
                    license: self.index(known.licenses.len()),
                    op: ReadOp::from_draw(self.rng.gen()),
                }
            }
            77..=79 => Step::ListLicenses {
                sku: self.rng.gen_ratio(1, 2).then_some(sku),
                max: self.rng.gen_ratio(1, 2).then(|| self.rng.gen()),
            },
            80..=85 => {
                let to = if self.rng.gen_ratio(4, 5) {
                    Who::Buyer
                } else {
                    Who::Stranger
                };
                Step::CreateGrant {
                    license: self.index(known.licenses.len()),
                    to,
                    token,
                }
            }
            86..=93 => {
                let who = self.who();
                Step::GrantAction {
                    who,
                    grant: self.index(known.grants.len()),
                    action: GrantActionKind::from_draw(self.rng.gen()),
                }
            }
            94..=95 => Step::Replay {
                back: self.rng.gen_range(0..4),
            },
            _ => {
                let who = self.who();
                Step::ListReceived {
                    who,
                    op: ReceivedOp::from_draw(self.rng.gen()),
                }
            }
        }
    }

    fn evs_step(&mut self, kind: u32, known: &Known) -> Step {
        let env = if self.rng.gen_ratio(9, 10) { 0 } else { 1 };
        let connector = self.index(known.connectors[usize::from(env)].len());
        let vms: Vec<u8> = (0..[1, 1, 2, 3][self.rng.gen_range(0..4)])
            .map(|_| self.rng.gen_range(0..6))
            .collect();
        match kind {
            0..=14 => Step::CreateConnector {
                env,
                token: self.rng.gen(),
            },
            15..=19 => Step::DeleteConnector { env, connector },
            20..=23 => Step::UpdateConnector {
                env,
                connector,
                fqdn: self.rng.gen_ratio(1, 2),
            },
            24..=59 => Step::CreateEntitlement { env, connector, vms },
            60..=79 => Step::DeleteEntitlement { env, connector, vms },
            80..=91 => Step::ListEntitlements {
                env,
                connector,
                max: self.rng.gen_ratio(1, 3).then(|| self.rng.gen()),
            },
            _ => {
                // A list of environments reads every case's on a shared target.
                let choices = if self.isolated { 2 } else { 3 };
                Step::EvsRead {
                    env,
                    op: EvsReadOp::ALL[self.rng.gen_range(0..choices)],
                }
            }
        }
    }

    fn event_step(&mut self, known: &Known) -> Step {
        let env = if self.rng.gen_ratio(9, 10) { 0 } else { 1 };
        let vm = self.rng.gen_range(0..6);
        let evs = self.services.contains(&Service::Evs);
        let lm = self.services.contains(&Service::LicenseManager);
        match self.rng.gen_range(0..100) {
            0..=39 => Step::Advance {
                seconds: [1, 30, 299, 300, 300, 300, 1800, 3600, 86_400][self.rng.gen_range(0..9)],
            },
            40..=49 if lm => Step::Marketplace {
                sku: self.rng.gen_range(0..2),
                max: self.rng.gen_range(0..4),
            },
            50..=61 if evs => Step::AddVm {
                env,
                vm,
                windows: self.rng.gen_ratio(4, 5),
            },
            62..=69 if evs => Step::RemoveVm { env, vm },
            70..=77 if evs => Step::SetGuestOs {
                env,
                vm,
                windows: self.rng.gen_ratio(1, 2),
            },
            78..=99 if evs => {
                let connector = self.index(known.connectors[usize::from(env)].len());
                // FAILED most often: it is what moves entitlements to AT_RISK.
                let health = [Health::Failed, Health::Failed, Health::Unknown, Health::Passed]
                    [self.rng.gen_range(0..4)];
                Step::SetHealth {
                    env,
                    connector,
                    health,
                }
            }
            _ => Step::Advance { seconds: 300 },
        }
    }
}

impl Step {
    fn with_license(mut self, k: u32) -> Step {
        if let Step::CreateLicenseVersion { license, .. } = &mut self {
            *license = k;
        }
        self
    }
}
