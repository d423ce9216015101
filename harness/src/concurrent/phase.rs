//! Running one round: the setup in sequence (compared like any case), the clients at once,
//! each on its own connection, then the read-back in sequence.

use std::sync::Barrier;
use std::time::Instant;

use conform_model::{Event, Policy, World};
use serde_json::Value;

use super::history::{Entry, Outcome, Request, FINAL};
use super::workload::{self, evs_group, group_of, space_of, Programs, LICENSES};
use crate::driver::{caller, shift_times, CaseConfig, Session};
use crate::gen::{concretize, Concrete, GrantActionKind, Known, ReadOp, Step, Who};
use crate::normalize::Normalizer;
use crate::target::{Capabilities, InfraError, Response, Target};
use conform_model::Service;

/// Another client of the target, on a connection of its own.
pub type Connect<'a> = &'a dyn Fn() -> Result<Box<dyn Target + Send>, InfraError>;

/// The state a round's clients start from, on both sides.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The reference model after the setup.
    pub world: World,
    pub model_n: Normalizer,
    pub target_n: Normalizer,
    /// The target's start minus the model's (input times are shifted by it).
    pub delta_ms: i64,
    pub tolerance_seconds: Option<i64>,
    /// The ids the target handed out in the setup.
    pub known: Known,
    /// Each license group's index among the case's licenses.
    pub licenses: [u32; LICENSES],
    pub ns: String,
    pub isolated: bool,
    /// Whether the namespace has the case's EVS environment and a connector of it.
    pub evs: bool,
}

/// Token minutes where the clock is ours to move (expiries happen within a round), and
/// where it is not (none do, so a wall clock decides nothing).
pub fn ttl_minutes(clock: bool) -> i32 {
    if clock {
        2
    } else {
        60
    }
}

/// Resets the target (where it can) and runs the setup on it beside the model.
pub fn setup(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    round: u64,
    policy: &Policy,
) -> Result<Setup, InfraError> {
    let mut session = Session::start(target, cfg, round, policy)?;
    for step in workload::setup(ttl_minutes(target.capabilities().clock), cfg.events()) {
        let (_, finding) = session.step(target, &step)?;
        if let Some(f) = finding {
            return Err(InfraError::Other(format!(
                "the concurrent round's setup differs from the model at {} ({}): the target answered {}",
                f.operation,
                f.paths.join(", "),
                serde_json::to_string(&f.actual).unwrap_or_default()
            )));
        }
    }
    let (model_n, target_n) = session.bindings();
    let model_known = session.known();
    let created = model_known.licenses.len().saturating_sub(LICENSES) as u32;
    let translate = |v: &String| {
        model_n
            .translate_str(v, target_n)
            .map_or_else(|| v.clone(), str::to_string)
    };
    let known = Known {
        licenses: model_known.licenses.iter().map(translate).collect(),
        grants: model_known.grants.iter().map(translate).collect(),
        connectors: [0, 1].map(|e| model_known.connectors[e].iter().map(translate).collect()),
        ..Known::default()
    };
    Ok(Setup {
        world: session.world().clone(),
        model_n: model_n.clone(),
        target_n: target_n.clone(),
        delta_ms: session.delta_ms(),
        tolerance_seconds: session.tolerance_seconds(),
        known,
        licenses: [created, created + 1],
        ns: cfg.namespace(round),
        isolated: cfg.isolated(),
        evs: cfg.events(),
    })
}

/// The target for a namespace set up after the first: never reset again (the first's setup
/// stays), otherwise the target itself.
struct Kept<'a>(&'a mut dyn Target);

impl Target for Kept<'_> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            reset: false,
            ..self.0.capabilities()
        }
    }
    fn call(
        &mut self,
        caller: &conform_model::Caller,
        service: conform_model::Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        self.0.call(caller, service, operation, body)
    }
    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        self.0.event(event)
    }
    fn reset(&mut self) -> Result<(), InfraError> {
        Ok(())
    }
    fn now_ms(&mut self) -> Result<Option<i64>, InfraError> {
        self.0.now_ms()
    }
}

/// The setups of `spaces` namespaces, in order: the first resets the target (where it can)
/// and seeds the case's fixtures, the others only add their licenses. `case(s)` numbers
/// namespace `s`.
pub fn setups(
    target: &mut dyn Target,
    cfg: &CaseConfig,
    spaces: usize,
    case: &dyn Fn(usize) -> u64,
    policy: &Policy,
) -> Result<Vec<Setup>, InfraError> {
    let mut out = Vec::with_capacity(spaces);
    out.push(setup(target, cfg, case(0), policy)?);
    let later = cfg.clone().with_events(false);
    for s in 1..spaces {
        // Fixtures are seeded once: a second seeding of the same environments would be refused.
        out.push(setup(&mut Kept(&mut *target), &later, case(s), policy)?);
    }
    Ok(out)
}

/// A step made concrete for client `client` against what it knows: the request in the
/// target's ids and time frame, its ClientToken the program's number `token`.
pub(crate) fn request(setup: &Setup, known: &Known, step: &Step, token: u32) -> (Request, Concrete) {
    match concretize(step, &setup.ns, setup.isolated, known, &setup.world) {
        Concrete::Call {
            who,
            service,
            op,
            body,
        } => {
            let mut v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if v.get("ClientToken").is_some() {
                v["ClientToken"] = Value::from(format!("{}-x{token}", setup.ns));
            }
            let v = shift_times(v, setup.delta_ms);
            let sent = Concrete::Call {
                who,
                service,
                op: op.clone(),
                body: v.to_string().into_bytes(),
            };
            (
                Request::Call {
                    who,
                    service,
                    op,
                    body: v,
                },
                sent,
            )
        }
        Concrete::Event(e) => (Request::Event(e.clone()), Concrete::Event(e)),
    }
}

/// Sends one request and records it.
fn send(target: &mut dyn Target, request: &Request, epoch: Instant) -> (Outcome, u64, u64) {
    let invoked = epoch.elapsed().as_nanos() as u64;
    let outcome = match request {
        Request::Call {
            who,
            service,
            op,
            body,
        } => {
            let bytes = body.to_string().into_bytes();
            match target.call(&caller(*who), *service, op, &bytes) {
                Ok(r) => Outcome::Reply(r),
                Err(e) => Outcome::Unknown(e.to_string()),
            }
        }
        Request::Event(e) => match serde_json::from_value::<Event>(e.clone()) {
            Ok(event) => match target.event(&event) {
                Ok(body) => Outcome::Reply(Response {
                    status: 200,
                    error_type: None,
                    body,
                }),
                Err(e) => Outcome::Unknown(e.to_string()),
            },
            Err(e) => Outcome::Unknown(format!("bad event: {e}")),
        },
    };
    (outcome, invoked, epoch.elapsed().as_nanos() as u64)
}

/// One client's calls, in order; what it learned from its replies (its tokens).
fn client(
    target: &mut dyn Target,
    setups: &[Setup],
    c: usize,
    p: &Programs,
    epoch: Instant,
) -> (Vec<Entry>, Known) {
    let setup = &setups[space_of(c)];
    let mut known = setup.known.clone();
    let mut entries = Vec::with_capacity(p.programs[c].len());
    for (j, step) in p.programs[c].iter().enumerate() {
        let (req, concrete) = request(setup, &known, step, p.tokens[c][j]);
        let (outcome, invoked, returned) = send(target, &req, epoch);
        if let Outcome::Reply(r) = &outcome {
            known.learn(&concrete, &r.body, 0);
        }
        let group = match req {
            Request::Event(_) => None,
            Request::Call {
                service: Service::Evs,
                ..
            } => Some(evs_group(setups.len())),
            Request::Call { .. } => Some(group_of(c)),
        };
        entries.push(Entry {
            client: c,
            index: j,
            group,
            request: req,
            outcome,
            invoked,
            returned,
        });
    }
    (entries, known)
}

/// Runs the programs: every client at once (released together by a barrier), each on a
/// connection of its own, then the read-back of each license in sequence on `main`: its
/// usage, the license, its grant, and a check-in of every token a client of it was given; and
/// of the environment's entitlement records.
pub fn execute(
    main: &mut dyn Target,
    connect: Connect,
    setups: &[Setup],
    p: &Programs,
) -> Result<Vec<Entry>, InfraError> {
    let clients = p.clients();
    let mut targets = Vec::with_capacity(clients);
    for _ in 0..clients {
        targets.push(connect()?);
    }
    let barrier = Barrier::new(clients);
    let epoch = Instant::now();
    let ran: Vec<(Vec<Entry>, Known)> = std::thread::scope(|s| {
        let runs: Vec<_> = targets
            .iter_mut()
            .enumerate()
            .map(|(c, t)| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    client(t.as_mut(), setups, c, p, epoch)
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut entries: Vec<Entry> = Vec::new();
    let mut tokens: Vec<Vec<(Who, String)>> = vec![Vec::new(); setups.len() * LICENSES];
    for (c, (e, known)) in ran.into_iter().enumerate() {
        entries.extend(e);
        tokens[group_of(c)].extend(known.tokens);
    }
    let mut index = 0;
    for (g, toks) in tokens.into_iter().enumerate() {
        let setup = &setups[g / LICENSES];
        let k = g % LICENSES;
        let mut known = setup.known.clone();
        known.tokens = toks;
        known.tokens.dedup();
        let license = setup.licenses[k];
        let mut reads = vec![
            Step::Read {
                who: Who::Seller,
                license,
                op: ReadOp::GetLicenseUsage,
            },
            Step::Read {
                who: Who::Seller,
                license,
                op: ReadOp::GetLicense,
            },
            Step::GrantAction {
                who: Who::Seller,
                grant: k as u32,
                action: GrantActionKind::Get,
            },
        ];
        reads.extend(
            known
                .tokens
                .iter()
                .enumerate()
                .map(|(t, (who, _))| Step::CheckIn {
                    who: *who,
                    token: t as u32,
                }),
        );
        reads.push(reads[0].clone());
        for step in reads {
            let (req, _) = request(setup, &known, &step, 0);
            let (outcome, invoked, returned) = send(main, &req, epoch);
            entries.push(Entry {
                client: FINAL,
                index,
                group: Some(g),
                request: req,
                outcome,
                invoked,
                returned,
            });
            index += 1;
        }
    }
    if setups.first().is_some_and(|s| s.evs) {
        let step = Step::ListEntitlements {
            env: 0,
            connector: 0,
            max: None,
        };
        let (req, _) = request(&setups[0], &setups[0].known, &step, 0);
        let (outcome, invoked, returned) = send(main, &req, epoch);
        entries.push(Entry {
            client: FINAL,
            index,
            group: Some(evs_group(setups.len())),
            request: req,
            outcome,
            invoked,
            returned,
        });
    }
    Ok(entries)
}
