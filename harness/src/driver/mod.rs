//! The seed-driven driver: generate a case on the reference model, run it against a target step
//! by step ([`Session`]), compare every reply with the model's after normalization
//! ([`compare`]), and classify ([`classify`]) and shrink ([`shrink`]) the first difference.

mod classify;
pub mod compare;
mod decoded;
mod readback;
mod reference;
mod session;
mod shrink;

pub use classify::classify;
pub(crate) use compare::reply_of;
pub use compare::{diff_paths, differences_within, normalized_time_ms, WALL_CLOCK_TOLERANCE_SECONDS};
pub(crate) use reference::{apply_event, caller};
pub use reference::{Depth, Ran, Reference};
pub(crate) use session::shift_times;
pub use session::{case_world, to_phase, tolerance_of, Session, SYNC_PHASE_MS};
pub use shrink::{shrink, shrink_with_account, smaller, Shrinking};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use conform_model::{Policy, Service};

use crate::gen::{read_back_steps, Generator, Mix, MixChoice, Step, Who};
use crate::target::{Capabilities, InfraError, Target};

/// What a run generates and where.
#[derive(Clone, Debug)]
pub struct CaseConfig {
    pub seed: u64,
    pub max_steps: usize,
    pub policy: Policy,
    pub services: Vec<Service>,
    /// What the target's control plane takes: the events a case may draw, each on its own
    /// capability, and whether the case's fixtures are seeded.
    pub capabilities: Capabilities,
    /// Whether the reference model is audited against the always properties at every step
    /// ([`crate::audit`]; costs a world clone per step). The goals are counted either way.
    pub audit: bool,
    /// How each case gets its step weights and invalid share (by default its own, drawn from
    /// its seed).
    pub mix: MixChoice,
    /// Operations the target does not implement (learned as a run goes): a drawn step that
    /// would send one is drawn again, so later cases test what is there.
    pub missing: std::collections::BTreeSet<String>,
}

impl Default for CaseConfig {
    fn default() -> Self {
        CaseConfig {
            seed: 1,
            max_steps: 40,
            policy: Policy::default(),
            services: vec![Service::LicenseManager, Service::Evs],
            capabilities: Capabilities::ALL,
            audit: true,
            mix: MixChoice::default(),
            missing: Default::default(),
        }
    }
}

impl CaseConfig {
    /// The namespace of case `case`: its SKUs, issuer and beneficiaries.
    pub fn namespace(&self, case: u64) -> String {
        format!("s{}c{case}", self.seed)
    }

    /// Whether cases share the target's state (it has no control plane to reset it or seed
    /// fixtures): each case then touches and reads only its own resources.
    pub fn isolated(&self) -> bool {
        !self.events()
    }

    /// Whether the target takes every event the generator draws (the clock and every seed).
    pub fn events(&self) -> bool {
        self.capabilities.events()
    }

    /// Whether the case's fixtures (EVS environments and VMs) are seeded on both sides: where
    /// the target seeds EVS inventory and either takes every event or forgets the fixtures of
    /// the case before (a second seeding of the same environments would be refused).
    pub fn seeds_fixtures(&self) -> bool {
        self.capabilities.evs_inventory && (self.capabilities.reset || self.events())
    }

    /// These settings with `capabilities` where given.
    pub fn with_capabilities(mut self, capabilities: Option<Capabilities>) -> CaseConfig {
        if let Some(c) = capabilities {
            self.capabilities = c;
        }
        self
    }

    /// The settings of a case against a target with every capability (`true`) or none.
    pub fn with_events(mut self, events: bool) -> CaseConfig {
        self.capabilities = if events {
            Capabilities::ALL
        } else {
            Capabilities::NONE
        };
        self
    }

    /// The seed of case `case`.
    pub fn case_seed(&self, case: u64) -> u64 {
        self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(case)
    }

    /// The step weights of case `case`: drawn from its seed (a stream of its own, so the
    /// steps' draws do not depend on it), or the fixed mix.
    pub fn mix_of(&self, case: u64) -> Mix {
        match &self.mix {
            MixChoice::Swarm { invalid_percent } => {
                use rand::SeedableRng;
                let seed = self.case_seed(case) ^ 0x5357_4152_4d00_0000;
                Mix::swarm(
                    &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed),
                    *invalid_percent,
                )
            }
            MixChoice::Fixed(mix) => mix.clone(),
        }
    }
}

/// How a difference is classified (DESIGN: three vocabularies stay apart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Classification {
    /// A documented or observed rule is broken.
    HardFailure,
    /// The target behaves like the model under another value of a `[P]` switch.
    PolicyDivergence { switch: String },
    /// The reply agrees with the model after normalization but breaks its JSON Schema.
    SchemaViolation,
}

/// The first step where the target differed from the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// 1-based index of the step.
    pub step: usize,
    pub operation: String,
    pub classification: Classification,
    pub expected: Reply,
    pub actual: Reply,
    /// JSON paths that differ.
    pub paths: Vec<String>,
    /// The `[P]` rules the model's reply relied on.
    pub rules: Vec<String>,
}

/// A normalized reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub status: u16,
    pub error: Option<String>,
    pub body: Value,
}

/// One executed step, both sides normalized.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub step: Step,
    pub operation: String,
    pub who: Option<Who>,
    pub expected: Reply,
    pub actual: Reply,
}

/// A case run: its steps, what happened, and the finding if any.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Execution {
    pub records: Vec<Record>,
    pub finding: Option<Finding>,
    /// Steps left out, and why (see [`Session::warnings`]).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The goals the reference model reached in the case, with how often ([`crate::audit`]).
    #[serde(default)]
    pub goals: std::collections::BTreeMap<String, u64>,
    /// How deep the case went on the reference model.
    #[serde(default)]
    pub depth: Depth,
    /// How many of `records` are the end-of-case read-back (the last ones).
    #[serde(default)]
    pub read_backs: usize,
}

/// The generator of case `case`, drawing from `seed`.
pub fn case_generator(cfg: &CaseConfig, case: u64, seed: u64) -> Generator {
    let mut gen = Generator::new(seed, cfg.mix_of(case), cfg.services.clone(), cfg.capabilities);
    gen.fixtures = cfg.seeds_fixtures();
    gen.missing.clone_from(&cfg.missing);
    gen.isolated = cfg.isolated();
    gen.ns = cfg.namespace(case);
    gen
}

/// Generates the steps of case `case` by running the generator against the reference model.
pub fn generate(cfg: &CaseConfig, case: u64) -> Vec<Step> {
    let mut gen = case_generator(cfg, case, cfg.case_seed(case));
    let mut state = Reference::new(cfg, case, false);
    let mut steps = Vec::with_capacity(cfg.max_steps);
    for _ in 0..cfg.max_steps {
        let step = gen.step(state.known(), state.world());
        // Only always properties can be violated, and none is checked here.
        let _ = state.advance(&step);
        steps.push(step);
    }
    steps
}

/// Runs `steps` against `target` with the model as reference; stops at the first difference
/// (or where the case cannot go on comparing, with a warning).
pub fn execute(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: &[Step],
) -> Result<Execution, InfraError> {
    execute_with(target, cfg, case, steps, &cfg.policy)
}

fn execute_with(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    case: u64,
    steps: &[Step],
    policy: &Policy,
) -> Result<Execution, InfraError> {
    let mut session = Session::start(target, cfg, case, policy)?;
    let mut records = Vec::with_capacity(steps.len());
    let mut finding = None;
    for step in steps {
        let (record, found) = session.step(target, step)?;
        records.push(record);
        if found.is_some() || session.stopped() {
            finding = found;
            break;
        }
    }
    let generated = records.len();
    if finding.is_none() && !session.stopped() {
        // The case ends by reading back what it touched on both sides (a finding there is
        // one like any other: its step number counts on past the case's own steps); on a wall
        // clock, only what cannot change within the tolerance.
        let reads = read_back_steps(session.known(), &cfg.services);
        for step in reads {
            if !session.settled(&step) {
                continue;
            }
            let (record, found) = session.step(target, &step)?;
            records.push(record);
            if found.is_some() || session.stopped() {
                finding = found;
                break;
            }
        }
    }
    let goals = session.reference().auditor().reached();
    let read_backs = records.len() - generated;
    Ok(Execution {
        records,
        finding,
        warnings: session.warnings().to_vec(),
        goals: goals.iter().map(|(g, n)| (g.to_string(), *n)).collect(),
        depth: session.reference().depth(),
        read_backs,
    })
}
