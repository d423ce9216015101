//! Drawing steps: a seeded ChaCha8 generator with a case's [`Mix`], looking at what the case has
//! so far. A step meant to be valid is redrawn until the reference model accepts it; a share of
//! requests is invalid on purpose, malformed or drawn until the model refuses it.

use rand::{Rng, SeedableRng};
// A named PRNG (as the model's id streams): `StdRng` promises no algorithm across versions, so
// a dependency upgrade could silently change every campaign's cases.
use rand_chacha::ChaCha8Rng;

use conform_model::{Service, World};

use crate::target::Capabilities;

use super::mix::Group;
use super::*;

/// How many times a step is redrawn (same kind) until the model answers as wanted.
const TRIES: usize = 8;
/// How many kinds a step tries before it is sent as first drawn.
const KINDS: usize = 3;

/// Draws steps from a seeded RNG, looking at what the case has so far.
pub struct Generator {
    pub(super) rng: ChaCha8Rng,
    pub(super) mix: Mix,
    pub services: Vec<Service>,
    /// What the target's control plane takes: each kind of event is drawn only where its
    /// capability is there.
    pub capabilities: Capabilities,
    /// Whether the case's fixtures (the EVS environments and VMs the EVS events act on) are
    /// seeded.
    pub fixtures: bool,
    /// The target has no control plane (cases share its state): no invalid step may be a list
    /// that reads other cases' resources.
    pub isolated: bool,
    /// The case's namespace, as the steps are concretized in it.
    pub ns: String,
    /// Percent of valid-meant API steps drawn without asking the model whether they succeed
    /// (the rest are redrawn until the model accepts one).
    pub unfiltered_percent: u32,
    /// Operations the target does not implement: a drawn step that would send one is drawn
    /// again (up to [`TRIES`] times), and a probe that would is left out.
    pub missing: std::collections::BTreeSet<String>,
    /// The last drawn step (not a probe), whose probes are chosen once it has run.
    last: Option<Step>,
    /// Probes still to send ([`Generator::probes`]).
    pending: std::collections::VecDeque<Step>,
}

impl Generator {
    pub fn new(seed: u64, mix: Mix, services: Vec<Service>, capabilities: Capabilities) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            mix,
            services,
            capabilities,
            fixtures: capabilities.evs_inventory,
            isolated: false,
            ns: String::new(),
            unfiltered_percent: 15,
            missing: Default::default(),
            last: None,
            pending: Default::default(),
        }
    }

    /// The mix this generator draws with.
    pub fn mix(&self) -> &Mix {
        &self.mix
    }

    /// Whether the case may draw steps of `kind` (its service is exercised, its event taken).
    fn allows(&self, kind: Kind) -> bool {
        allows(&self.services, self.taken(), kind)
    }

    /// The events the target takes, as the generator may draw them.
    fn taken(&self) -> Taken {
        Taken {
            capabilities: self.capabilities,
            fixtures: self.fixtures,
        }
    }

    /// Whether `step` would send an operation the target does not implement.
    fn sends_missing(&self, step: &Step, known: &Known, world: &World) -> bool {
        if self.missing.is_empty() {
            return false;
        }
        match concretize(step, &self.ns, self.isolated, known, world) {
            Concrete::Call { op, .. } => self.missing.contains(op.as_str()),
            _ => false,
        }
    }

    /// Whether the target takes every event `step` sends (a probe is queued only then).
    pub(super) fn can_send(&self, step: &Step) -> bool {
        event_kind(step).is_none_or(|k| self.taken().takes(k))
    }

    /// Whether the model, in its current state, answers the request `step` stands for as
    /// wanted (`accepted`: with success; else with an error). On a target whose clock only
    /// runs, the answer must also stay the same once the clock has moved by the comparison
    /// tolerance (and a read must answer the same), else the case would stop there as
    /// time-dependent.
    fn answers(&self, step: &Step, known: &Known, world: &World, accepted: bool) -> bool {
        let concrete = concretize(step, &self.ns, self.isolated, known, world);
        let Some(now) = concrete.reply_on(world) else {
            return accepted;
        };
        if now.is_error() == accepted {
            return false;
        }
        if !self.isolated {
            return true;
        }
        let mut later = world.clone();
        let seconds = crate::driver::WALL_CLOCK_TOLERANCE_SECONDS;
        if later
            .apply(conform_model::Event::advance_seconds(seconds))
            .is_err()
        {
            return false;
        }
        let Some(then) = concrete.reply_on(&later) else {
            return accepted;
        };
        let read =
            matches!(&concrete, Concrete::Call { op, .. } if op.starts_with("Get") || op.starts_with("List"));
        if accepted {
            !then.is_error() && (!read || then.body == now.body)
        } else {
            then.error_type() == now.error_type()
        }
    }

    /// Draws a step of `kind` until the model answers it as wanted: [`TRIES`] draws of one
    /// kind, then of another kind of the same service, up to [`KINDS`] kinds (a kind whose
    /// precondition the state does not meet, such as a check-in with no live token, gives way
    /// to one whose does). `None` if no draw answers as wanted.
    fn redraw(&mut self, known: &Known, world: &World, mut kind: Kind, accepted: bool) -> Option<Step> {
        let group = kind.group();
        for attempt in 0..KINDS * TRIES {
            let step = self.draw(kind, known, world);
            if self.answers(&step, known, world, accepted) {
                return Some(step);
            }
            if attempt % TRIES == TRIES - 1 {
                let allowed = |k: Kind| k.group() == group && !matches!(k, Kind::AtLimit | Kind::Replay);
                kind = self.mix.draw(&mut self.rng, allowed).unwrap_or(kind);
            }
        }
        None
    }

    /// A step of `kind` meant to be valid: redrawn until the model accepts it, unless it is one
    /// of the unfiltered share (or a request at a constraint's limit, sent as drawn); the
    /// first draw if none is accepted.
    fn valid(&mut self, known: &Known, world: &World, kind: Kind) -> Step {
        let first = self.draw(kind, known, world);
        if kind == Kind::AtLimit || self.rng.gen_ratio(self.unfiltered_percent.min(100), 100) {
            return first;
        }
        if self.answers(&first, known, world, true) {
            return first;
        }
        self.redraw(known, world, kind, true).unwrap_or(first)
    }

    /// A request invalid on purpose: half malformed, half well formed and refused by the model
    /// in its state (a [`Step::Refusal`]).
    fn invalid(&mut self, known: &Known, world: &World) -> Step {
        if self.rng.gen_ratio(1, 2) {
            let allowed = |k: Kind| {
                matches!(k.group(), Group::LicenseManager | Group::Evs)
                    && !matches!(k, Kind::AtLimit | Kind::Replay)
                    && self.allows(k)
            };
            // Every kind may be refused: weigh them evenly, not by the mix.
            let kinds: Vec<Kind> = Kind::ALL.iter().copied().filter(|k| allowed(*k)).collect();
            if let Some(kind) = kinds.get(self.rng.gen_range(0..kinds.len().max(1))) {
                if let Some(step) = self.redraw(known, world, *kind, false) {
                    return Step::Refusal { of: Box::new(step) };
                }
            }
        }
        self.malformed()
    }

    /// A malformed request: a constraint-derived case or a broken body.
    fn malformed(&mut self) -> Step {
        if self.rng.gen_ratio(1, 2) {
            if let Some(index) = self.case_of(invalid_cases()) {
                return Step::Constraint { index };
            }
        }
        // Operations of the case's services only: an emulator of one service is asked nothing
        // of the other (with both, this is every operation, as it always was).
        let ops: Vec<&str> = all_operations()
            .into_iter()
            .filter(|(service, _)| self.services.contains(service))
            .map(|(_, op)| op)
            .collect();
        let op: u16 = self.rng.gen();
        let operation = ops
            .get(usize::from(op) % ops.len().max(1))
            .map_or("ListLicenses", |op| op)
            .to_string();
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

    /// The next step, given what is known so far and the reference model's state (which
    /// has run every step this generator gave before): the probes of the last drawn step, if
    /// any, else a drawn one.
    pub fn step(&mut self, known: &Known, world: &World) -> Step {
        if let Some(last) = self.last.take() {
            let probes = self.probes(&last, known, world);
            // A probe goes whole or not at all: its steps look at one boundary together.
            if probes
                .iter()
                .all(|s| self.can_send(s) && !self.sends_missing(s, known, world))
            {
                self.pending.extend(probes);
            }
        }
        if let Some(probe) = self.pending.pop_front() {
            return probe;
        }
        let mut step = self.drawn(known, world);
        for _ in 0..TRIES {
            if !self.sends_missing(&step, known, world) {
                break;
            }
            step = self.drawn(known, world);
        }
        self.last = Some(step.clone());
        step
    }

    /// A step drawn by the case's mix.
    fn drawn(&mut self, known: &Known, world: &World) -> Step {
        let weight = |g: &dyn Fn(Group) -> bool| -> u32 {
            Kind::ALL
                .iter()
                .filter(|k| g(k.group()) && self.allows(**k))
                .map(|k| self.mix.weight(*k))
                .sum()
        };
        let events = weight(&|g| matches!(g, Group::Event(_)));
        let requests = weight(&|g| !matches!(g, Group::Event(_)));
        if self.rng.gen_range(0..(events + requests).max(1)) < events {
            let (services, taken) = (&self.services, self.taken());
            let allowed = |k: Kind| matches!(k.group(), Group::Event(_)) && allows(services, taken, k);
            if let Some(kind) = self.mix.draw(&mut self.rng, allowed) {
                return self.draw(kind, known, world);
            }
        }
        if self.rng.gen_range(0..100) < self.mix.invalid_percent {
            return self.invalid(known, world);
        }
        // A request at a constraint's limit names fixed resources outside the case's namespace
        // (another case's, on a target whose state cases share).
        let (services, taken, isolated) = (&self.services, self.taken(), self.isolated);
        let allowed = |k: Kind| {
            !matches!(k.group(), Group::Event(_))
                && allows(services, taken, k)
                && !(isolated && k == Kind::AtLimit)
        };
        match self.mix.draw(&mut self.rng, allowed) {
            Some(kind) => self.valid(known, world, kind),
            None => self.malformed(),
        }
    }

    /// A case of `cases` of one of the generator's services, by index.
    pub(super) fn case_of(&mut self, cases: &[crate::specs::cases::Case]) -> Option<u32> {
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
    pub(super) fn token(&mut self, known: &Known) -> (Who, u32) {
        let token = self.index(known.tokens.len());
        let owner = known.tokens.get(token as usize).map(|(w, _)| *w);
        match owner {
            Some(w) if self.rng.gen_ratio(4, 5) => (w, token),
            _ => (self.who(), token),
        }
    }

    pub(super) fn who(&mut self) -> Who {
        match self.rng.gen_range(0..10) {
            0..=4 => Who::Seller,
            5..=8 => Who::Buyer,
            _ => Who::Stranger,
        }
    }

    /// A reference to one of `len` items: mostly recent ones, which is where the interesting
    /// state is; in a focused case mostly the first.
    pub(super) fn index(&mut self, len: usize) -> u32 {
        let len = len.max(1) as u32;
        if self.mix.focus && self.rng.gen_ratio(9, 10) {
            0
        } else if self.rng.gen_ratio(2, 3) {
            len - 1 - self.rng.gen_range(0..len.min(3))
        } else {
            self.rng.gen_range(0..len)
        }
    }
}

/// The events a target takes, as the generator draws them.
#[derive(Clone, Copy, Debug)]
struct Taken {
    capabilities: Capabilities,
    fixtures: bool,
}

impl Taken {
    /// Whether an event step of `kind` can be sent: its capability is there, and the EVS
    /// inventory and health events also need the case's environments seeded.
    fn takes(self, kind: Kind) -> bool {
        let c = self.capabilities;
        match kind {
            Kind::Advance | Kind::AdvanceTo => c.clock,
            Kind::Marketplace => c.marketplace,
            Kind::AddVm | Kind::RemoveVm | Kind::SetGuestOs => c.evs_inventory && self.fixtures,
            Kind::SetHealth => c.connector_health && self.fixtures,
            _ => true,
        }
    }
}

/// The kind of event `step` sends, if it sends one.
fn event_kind(step: &Step) -> Option<Kind> {
    Some(match step {
        Step::Advance { .. } => Kind::Advance,
        Step::AdvanceTo { .. } => Kind::AdvanceTo,
        Step::Marketplace { .. } => Kind::Marketplace,
        Step::AddVm { .. } => Kind::AddVm,
        Step::RemoveVm { .. } => Kind::RemoveVm,
        Step::SetGuestOs { .. } => Kind::SetGuestOs,
        Step::SetHealth { .. } => Kind::SetHealth,
        _ => return None,
    })
}

/// Whether a case of `services`, taking the events `taken` takes, may draw steps of `kind`.
fn allows(services: &[Service], taken: Taken, kind: Kind) -> bool {
    match kind.group() {
        Group::LicenseManager => services.contains(&Service::LicenseManager),
        Group::Evs => services.contains(&Service::Evs),
        Group::Event(service) => taken.takes(kind) && service.is_none_or(|s| services.contains(&s)),
    }
}
