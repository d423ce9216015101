//! A world restored from a snapshot is indistinguishable from the one snapshotted (issue #18:
//! snapshots bound the replay time of `conform serve --state-dir`): seeded runs of both
//! services' operations (ClientToken replays and mismatches, grants, checkouts, check-ins,
//! borrows, EVS entitlements, clock moves that expire tokens and ClientToken records) are
//! snapshotted mid-way, the snapshot goes through bytes (CBOR, as the simulator keeps it), and
//! the restored world runs the same tail: every reply must be the same byte for byte (status,
//! error, body, request id, relied rules), and so must the dump and the counters at the end.

use conform_model::evs::environment::{ConnectorHealth, VmFixture};
use conform_model::evs::types::{CheckResult, EnvironmentState};
use conform_model::evs::GuestOs;
use conform_model::snapshot::Snapshot;
use conform_model::{Caller, Event, Service, World};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{json, Value};

use crate::support::evs::{seed_connector, seed_environment, CONN, ENV};
use crate::support::lm::*;

/// What a run has seen, to pick later steps from.
#[derive(Default)]
struct Seen {
    licenses: Vec<String>,
    grants: Vec<String>,
    tokens: Vec<String>,
}

enum Step {
    Lm(Caller, &'static str, Value),
    Evs(&'static str, Value),
    Event(Event),
}

fn pick<'a>(rng: &mut ChaCha8Rng, from: &'a [String]) -> Option<&'a String> {
    (!from.is_empty()).then(|| &from[rng.next_u32() as usize % from.len()])
}

/// A ClientToken from a small pool, so tokens are reused (replays and mismatches).
fn client_token(rng: &mut ChaCha8Rng) -> String {
    format!("t{}", rng.next_u32() % 6)
}

fn draw(rng: &mut ChaCha8Rng, seen: &Seen) -> Step {
    let arn = pick(rng, &seen.licenses).cloned().unwrap_or_default();
    let token = pick(rng, &seen.tokens).cloned().unwrap_or_default();
    let grant = pick(rng, &seen.grants).cloned().unwrap_or_default();
    let ct = client_token(rng);
    let seats = (1 + rng.next_u32() % 3).to_string();
    let vm = format!("vm-{}", rng.next_u32() % 5);
    let evs_body = json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER", "vmIds": [vm]});
    match rng.next_u32() % 17 {
        0 | 1 => {
            let sku = if rng.next_u32().is_multiple_of(2) {
                "editor-pro"
            } else {
                "other"
            };
            let body = with(create_license_body(&ct), "ProductSKU", json!(sku));
            Step::Lm(seller(), "CreateLicense", body)
        }
        2 => Step::Lm(seller(), "CreateLicenseVersion", version_body(&arn, &ct)),
        3 => Step::Lm(
            seller(),
            "CreateGrant",
            json!({
                "ClientToken": ct, "GrantName": "Buyer seats", "LicenseArn": arn,
                "Principals": [format!("arn:aws:iam::{BUYER}:root")], "HomeRegion": "us-east-1",
                "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "CheckoutBorrowLicense"]
            }),
        ),
        4 => Step::Lm(buyer(), "AcceptGrant", json!({"GrantArn": grant})),
        5 => Step::Lm(
            buyer(),
            "CreateGrantVersion",
            json!({"GrantArn": grant, "ClientToken": ct, "Status": "ACTIVE"}),
        ),
        6..=8 => {
            let who = if rng.next_u32().is_multiple_of(3) {
                buyer()
            } else {
                seller()
            };
            Step::Lm(who, "CheckoutLicense", checkout_body(&ct, &seats))
        }
        9 => Step::Lm(seller(), "CheckoutBorrowLicense", borrow_body(&arn, &ct)),
        10 => Step::Lm(
            seller(),
            "CheckInLicense",
            json!({"LicenseConsumptionToken": token}),
        ),
        11 => Step::Lm(
            seller(),
            "ExtendLicenseConsumption",
            json!({"LicenseConsumptionToken": token}),
        ),
        12 => {
            let op = ["GetLicenseUsage", "GetLicense", "DeleteLicense"][rng.next_u32() as usize % 3];
            let mut body = json!({"LicenseArn": arn});
            if op == "DeleteLicense" {
                body["SourceVersion"] = json!("1");
            }
            Step::Lm(seller(), op, body)
        }
        13 => Step::Evs(
            ["CreateEntitlement", "DeleteEntitlement"][rng.next_u32() as usize % 2],
            evs_body,
        ),
        14 => match rng.next_u32() % 3 {
            0 => Step::Event(Event::AddVm(VmFixture {
                account: None,
                region: None,
                environment_id: ENV.into(),
                vm_id: vm.clone(),
                name: format!("{vm} name"),
                guest_os: GuestOs::WindowsServer,
            })),
            1 => Step::Event(Event::SetConnectorHealth(ConnectorHealth {
                account: None,
                region: None,
                connector_id: CONN.into(),
                health: [CheckResult::Passed, CheckResult::Failed][rng.next_u32() as usize % 2],
            })),
            _ => Step::Evs(
                "ListVmEntitlements",
                json!({"environmentId": ENV, "connectorId": CONN, "entitlementType": "WINDOWS_SERVER"}),
            ),
        },
        15 => Step::Event(Event::AdvanceClock {
            seconds: i64::from(rng.next_u32() % 4_000),
            millis: i64::from(rng.next_u32() % 1_000),
        }),
        _ => Step::Lm(seller(), "ListLicenses", json!({})),
    }
}

/// Runs a step; its outcome as text, every part of the reply included.
fn run(world: &mut World, step: &Step) -> String {
    let reply = match step {
        Step::Lm(caller, op, body) => {
            world.handle(caller, Service::LicenseManager, op, body.to_string().as_bytes())
        }
        Step::Evs(op, body) => {
            let caller = world.default_caller();
            world.handle(&caller, Service::Evs, op, body.to_string().as_bytes())
        }
        Step::Event(event) => return format!("{:?}", world.apply(event.clone())),
    };
    format!(
        "{} {:?} {} rid:{} {:?} {:?}",
        reply.status,
        reply.error_type(),
        reply.body,
        reply.request_id,
        reply.location,
        reply.policies
    )
}

fn learn(seen: &mut Seen, step: &Step, outcome: &str) {
    let Some(body) = outcome
        .split_once(' ')
        .and_then(|(status, rest)| (status == "200").then(|| rest.split_once(' ').map(|(_, b)| b))?)
    else {
        return;
    };
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<Value>();
    let Some(Ok(body)) = stream.next() else { return };
    let keep = |list: &mut Vec<String>, key: &str| {
        if let Some(v) = body[key].as_str() {
            if !list.iter().any(|s| s == v) {
                list.push(v.to_string());
            }
        }
    };
    if let Step::Lm(..) = step {
        keep(&mut seen.licenses, "LicenseArn");
        keep(&mut seen.grants, "GrantArn");
        keep(&mut seen.tokens, "LicenseConsumptionToken");
    }
}

fn through_bytes(snapshot: &Snapshot) -> Snapshot {
    let mut bytes = Vec::new();
    ciborium::into_writer(snapshot, &mut bytes).expect("encodes");
    ciborium::from_reader(&bytes[..]).expect("decodes")
}

fn start() -> World {
    let mut w = world();
    seed_environment(&mut w, EnvironmentState::Created);
    seed_connector(
        &mut w,
        CONN,
        conform_model::evs::types::ConnectorType::Vcenter,
        conform_model::evs::types::ConnectorState::Active,
        CheckResult::Passed,
    );
    w
}

const STEPS: usize = 150;
const SNAPSHOT_AT: [usize; 4] = [1, 30, 75, 140];

#[test]
fn a_restored_snapshot_answers_every_later_request_as_the_world_it_was_taken_of() {
    let mut replays = 0;
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut live = start();
        let mut seen = Seen::default();
        let mut steps = Vec::new();
        let mut outcomes = Vec::new();
        let mut snapshots = Vec::new();
        for i in 0..STEPS {
            if SNAPSHOT_AT.contains(&i) {
                snapshots.push((i, through_bytes(&live.snapshot().expect("snapshots"))));
            }
            let step = draw(&mut rng, &seen);
            let outcome = run(&mut live, &step);
            learn(&mut seen, &step, &outcome);
            // A 200 whose body an earlier reply had: only a ClientToken record answers that.
            let body = |o: &str| {
                o.strip_prefix("200 None ")
                    .and_then(|b| b.split(" rid:").next())
                    .map(str::to_string)
            };
            if body(&outcome).is_some_and(|b| outcomes.iter().any(|o: &String| body(o).as_ref() == Some(&b)))
            {
                replays += 1;
            }
            steps.push(step);
            outcomes.push(outcome);
        }
        for (at, snapshot) in snapshots {
            let mut restored = World::restore(snapshot).expect("restores");
            for (i, step) in steps.iter().enumerate().skip(at) {
                assert_eq!(
                    run(&mut restored, step),
                    outcomes[i],
                    "seed {seed}, snapshot before step {at}: step {i} answered differently"
                );
            }
            assert_eq!(restored.dump(), live.dump(), "seed {seed}, snapshot at {at}");
            assert_eq!(
                restored.counters(),
                live.counters(),
                "seed {seed}, snapshot at {at}"
            );
        }
    }
    // The runs reach what only the ClientToken records can answer: the same reply again.
    assert!(replays > 50, "only {replays} replayed replies");
    eprintln!("{replays} replayed replies");
}

#[test]
fn a_snapshot_of_another_layout_or_model_version_is_refused() {
    let w = start();
    let snapshot = w.snapshot().expect("snapshots");
    let mut other = snapshot.clone();
    other.version += 1;
    let err = World::restore(other).expect_err("refused").to_string();
    assert!(err.contains("layout version 2"), "{err}");
    let mut older = snapshot;
    older.model = "0.0.1".into();
    let err = World::restore(older).expect_err("refused").to_string();
    assert!(err.contains("model version 0.0.1"), "{err}");
}
