//! Property tests of the EVS model (SPEC 4.4): random sequences mixing API calls through
//! `World::handle`, syncs (clock advances), VM and health events and invalid requests. After every
//! step the invariants of SPEC 4.4 hold (`conform_model::invariants`, shared with the fuzz
//! targets); the same seed and steps give byte-identical replies; and typed requests survive the trip through a JSON body and the service model's decoder.

use std::collections::BTreeMap;

use crate::support::evs::{seed_environment_and_connector, CONN, ENV};
use conform_model::events::{ConnectorHealth, VmGuestOs, VmRef};
use conform_model::evs::environment::{GuestOs, VmFixture};
use conform_model::evs::types::*;
use conform_model::evs::EvsRequest;
use conform_model::invariants::{self, Cause};
use conform_model::{Caller, Event, Policy, Service, World};
use proptest::prelude::*;
use serde_json::{json, Value};

const VMS: usize = 6;

#[derive(Clone, Debug)]
enum Step {
    Create(Vec<usize>),
    Delete(Vec<usize>),
    List(i32),
    CreateConnector(ConnectorType),
    UpdateConnector { fqdn: bool },
    DeleteConnector,
    Advance(i64),
    AddVm(usize, bool),
    RemoveVm(usize),
    SetOs(usize, bool),
    Health(CheckResult),
    Invalid(usize),
}

fn vm(i: usize) -> String {
    format!("vm-{}", i + 1)
}

fn step() -> impl Strategy<Value = Step> {
    let vms = prop::collection::btree_set(0..VMS, 1..4).prop_map(|s| s.into_iter().collect::<Vec<_>>());
    prop_oneof![
        4 => vms.clone().prop_map(Step::Create),
        2 => vms.prop_map(Step::Delete),
        1 => (1..4i32).prop_map(Step::List),
        1 => prop::sample::select(ConnectorType::ALL.to_vec()).prop_map(Step::CreateConnector),
        1 => any::<bool>().prop_map(|fqdn| Step::UpdateConnector { fqdn }),
        1 => Just(Step::DeleteConnector),
        4 => prop::sample::select(vec![1i64, 150, 299, 300, 301, 900, 7200]).prop_map(Step::Advance),
        1 => (0..VMS, any::<bool>()).prop_map(|(i, w)| Step::AddVm(i, w)),
        1 => (0..VMS).prop_map(Step::RemoveVm),
        1 => (0..VMS, any::<bool>()).prop_map(|(i, w)| Step::SetOs(i, w)),
        2 => prop::sample::select(CheckResult::ALL.to_vec()).prop_map(Step::Health),
        2 => (0..INVALID.len()).prop_map(Step::Invalid),
    ]
}

/// Malformed or refused requests: (operation, body). `{conn}` is replaced by the live connector.
const INVALID: &[(&str, &str)] = &[
    ("CreateEntitlement", "not json"),
    ("CreateEntitlement", "[]"),
    (
        "CreateEntitlement",
        r#"{"environmentId":"env-aaaaaaaaaa","connectorId":"{conn}","entitlementType":"WINDOWS_SERVER","vmIds":["vm-1","vm-1"]}"#,
    ),
    (
        "CreateEntitlement",
        r#"{"environmentId":"env-aaaaaaaaaa","connectorId":"{conn}","entitlementType":"LINUX","vmIds":["vm-1"]}"#,
    ),
    (
        "CreateEntitlement",
        r#"{"environmentId":"env-zzzzzzzzzz","connectorId":"{conn}","entitlementType":"WINDOWS_SERVER","vmIds":["vm-1"]}"#,
    ),
    (
        "DeleteEntitlement",
        r#"{"environmentId":"env-aaaaaaaaaa","connectorId":"cnctr-zzzzzzzzzz","entitlementType":"WINDOWS_SERVER","vmIds":["vm-1"]}"#,
    ),
    (
        "DeleteEntitlement",
        r#"{"environmentId":"env-aaaaaaaaaa","connectorId":"{conn}","entitlementType":"WINDOWS_SERVER","vmIds":["x-1"]}"#,
    ),
    (
        "ListVmEntitlements",
        r#"{"environmentId":"env-aaaaaaaaaa","connectorId":"{conn}","entitlementType":"WINDOWS_SERVER","nextToken":"00000000000000010000000000000000ffffffffffffffff"}"#,
    ),
    (
        "UpdateEnvironmentConnector",
        r#"{"environmentId":"env-aaaaaaaaaa","connectorId":"{conn}"}"#,
    ),
    ("GetEnvironment", r#"{"environmentId":"env-zzzzzzzzzz"}"#),
    ("CreateEnvironment", r#"{}"#),
];

fn caller() -> Caller {
    Caller::new("123456789012", "us-east-1")
}

fn world(seed: u64) -> World {
    world_under(seed, Policy::default())
}

fn world_under(seed: u64, policy: Policy) -> World {
    let mut w = World::new(seed, policy);
    seed_environment_and_connector(&mut w, CheckResult::Passed);
    for i in 0..VMS {
        add_vm(&mut w, i, i % 3 != 2).expect("vm adds");
    }
    w
}

fn add_vm(w: &mut World, i: usize, windows: bool) -> Result<Value, conform_model::AwsError> {
    let guest_os = if windows {
        GuestOs::WindowsServer
    } else {
        GuestOs::Other
    };
    let f = VmFixture {
        account: None,
        region: None,
        environment_id: ENV.into(),
        vm_id: vm(i),
        name: format!("host-{i}"),
        guest_os,
    };
    w.apply(Event::AddVm(f))
}

/// The environment's current VCENTER connector (picked from the model's state), else the seeded one.
fn live_vcenter(w: &World) -> String {
    w.evs()
        .partition("123456789012", "us-east-1")
        .and_then(|p| {
            p.connectors
                .values()
                .filter(|c| c.kind == ConnectorType::Vcenter && c.state != ConnectorState::Deleted)
                .min_by_key(|c| c.seq)
                .map(|c| c.id.clone())
        })
        .unwrap_or_else(|| CONN.to_string())
}

/// What one step produced, for the determinism check: (status, body, request id) or an event result.
fn run(w: &mut World, step: &Step) -> String {
    match reply(w, step) {
        Ok(r) => format!("{} {} {} {:?}", r.status, r.body, r.request_id, r.policies),
        Err(event) => event,
    }
}

/// The reply to one request step, or the outcome of an event step as text.
fn reply(w: &mut World, step: &Step) -> Result<conform_model::Reply, String> {
    let conn = live_vcenter(w);
    let vms = |ids: &[usize]| ids.iter().map(|&i| vm(i)).collect::<Vec<_>>();
    let target = json!({"environmentId": ENV, "connectorId": conn});
    let with = |extra: Value| {
        let mut b = target.clone();
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b
    };
    let (op, body): (&str, String) = match step {
        Step::Create(ids) => ("CreateEntitlement", with(json!({"entitlementType": "WINDOWS_SERVER", "vmIds": vms(ids)})).to_string()),
        Step::Delete(ids) => ("DeleteEntitlement", with(json!({"entitlementType": "WINDOWS_SERVER", "vmIds": vms(ids)})).to_string()),
        Step::List(max) => ("ListVmEntitlements", with(json!({"entitlementType": "WINDOWS_SERVER", "maxResults": max})).to_string()),
        Step::CreateConnector(kind) => (
            "CreateEnvironmentConnector",
            json!({"environmentId": ENV, "type": kind, "applianceFqdn": "vc.example.com", "secretIdentifier": "s"}).to_string(),
        ),
        Step::UpdateConnector { fqdn } => {
            let member = if *fqdn { json!({"applianceFqdn": "vc2.example.com"}) } else { json!({"secretIdentifier": "s2"}) };
            ("UpdateEnvironmentConnector", with(member).to_string())
        }
        Step::DeleteConnector => ("DeleteEnvironmentConnector", target.to_string()),
        Step::Invalid(i) => (INVALID[*i].0, INVALID[*i].1.replace("{conn}", &conn)),
        _ => return Err(format!("{:?}", event(w, step, &conn))),
    };
    Ok(w.handle(&caller(), Service::Evs, op, body.as_bytes()))
}

fn event(w: &mut World, step: &Step, conn: &str) -> Result<Value, String> {
    let vm_ref = |i: usize| VmRef {
        account: None,
        region: None,
        environment_id: ENV.into(),
        vm_id: vm(i),
    };
    let result = match step {
        Step::Advance(s) => w.apply(Event::advance_seconds(*s)),
        Step::AddVm(i, windows) => add_vm(w, *i, *windows),
        Step::RemoveVm(i) => w.apply(Event::RemoveVm(vm_ref(*i))),
        Step::SetOs(i, windows) => {
            let guest_os = if *windows {
                GuestOs::WindowsServer
            } else {
                GuestOs::Other
            };
            let r = vm_ref(*i);
            let f = VmGuestOs {
                account: r.account,
                region: r.region,
                environment_id: r.environment_id,
                vm_id: r.vm_id,
                guest_os,
            };
            w.apply(Event::SetVmGuestOs(f))
        }
        Step::Health(health) => {
            let f = ConnectorHealth {
                account: None,
                region: None,
                connector_id: conn.into(),
                health: *health,
            };
            w.apply(Event::SetConnectorHealth(f))
        }
        _ => Ok(Value::Null),
    };
    result.map_err(|e| e.to_string())
}

type Records = BTreeMap<u64, VmEntitlement>;

fn records(w: &World) -> Records {
    w.evs().entitlements().into_iter().collect()
}

/// What moved the world in `step`, for the shared SPEC 4.4 checks.
fn cause(step: &Step) -> Cause<'static> {
    let op = match step {
        Step::Create(_) => "CreateEntitlement",
        Step::Delete(_) => "DeleteEntitlement",
        Step::List(_) => "ListVmEntitlements",
        Step::CreateConnector(_) => "CreateEnvironmentConnector",
        Step::UpdateConnector { .. } => "UpdateEnvironmentConnector",
        Step::DeleteConnector => "DeleteEnvironmentConnector",
        Step::Invalid(i) => INVALID[*i].0,
        // Environment events: none of them may touch a terminal record, which is all the
        // checks ask of an event that is not Reset.
        Step::Advance(_) | Step::AddVm(..) | Step::RemoveVm(_) | Step::SetOs(..) | Step::Health(_) => {
            return Cause::Event(&ADVANCE)
        }
    };
    Cause::request(Service::Evs, op)
}

static ADVANCE: Event = Event::AdvanceClock {
    seconds: 0,
    millis: 0,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// Reply::policies is complete (SPEC: a reply names every [P] switch whose value shaped it):
    /// with one switch flipped, a reply that did not name it is unchanged, up to the first
    /// reply that named it and differs.
    #[test]
    fn spec_p_rules_a_reply_not_naming_a_switch_is_unchanged_when_it_flips(steps in prop::collection::vec(step(), 1..30)) {
        for (name, policy, rule) in crate::support::policies::alternatives() {
            let (mut a, mut b) = (world(5), world_under(5, policy));
            for (i, step) in steps.iter().enumerate() {
                match (reply(&mut a, step), reply(&mut b, step)) {
                    (Ok(x), Ok(y)) => {
                        if !crate::support::policies::agree(&name, rule, i, &x, &y).map_err(TestCaseError::fail)? {
                            break;
                        }
                    }
                    (Err(x), Err(y)) if x == y => {}
                    _ => break,
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn spec_4_4_invariants_hold_after_every_step(steps in prop::collection::vec(step(), 1..40)) {
        let mut w = world(5);
        for step in &steps {
            let before_world = w.clone();
            let before = records(&w);
            let out = run(&mut w, step);
            if let Step::Invalid(_) = step {
                prop_assert!(!out.starts_with("200"), "{step:?} was accepted: {out}");
                prop_assert_eq!(&records(&w), &before, "a refused request changes nothing");
            }
            invariants::check_evs(&w, &before_world, &cause(step)).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn spec_2_same_seed_and_steps_give_byte_identical_replies(seed in any::<u64>(), steps in prop::collection::vec(step(), 1..30)) {
        let mut a = world(seed);
        let mut b = world(seed);
        let left: Vec<String> = steps.iter().map(|s| run(&mut a, s)).collect();
        let right: Vec<String> = steps.iter().map(|s| run(&mut b, s)).collect();
        prop_assert_eq!(left, right);
    }

    #[test]
    fn typed_requests_round_trip_through_json_and_the_service_model(req in request()) {
        let model = Service::Evs.model();
        let op = model.operation(req.operation()).expect("a modelled operation");
        let body = serde_json::to_vec(&req.to_body()).expect("serializes");
        let decoded = model.decode(op, &body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = EvsRequest::from_body(req.operation(), decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, Some(req));
    }
}

fn id(prefix: &'static str) -> impl Strategy<Value = String> + Clone {
    "[a-z0-9]{10}".prop_map(move |s| format!("{prefix}{s}"))
}

fn request() -> impl Strategy<Value = EvsRequest> {
    let env = id("env-");
    let conn = id("cnctr-");
    let vm_ids =
        prop::collection::btree_set("vm-[0-9]{1,6}", 1..5).prop_map(|s| s.into_iter().collect::<Vec<_>>());
    let token = prop::option::of("[!-~]{1,20}");
    let max = prop::option::of(1..=100i32);
    let kind = prop::sample::select(ConnectorType::ALL.to_vec());
    let states = prop::option::of(prop::collection::vec(
        prop::sample::select(EnvironmentState::ALL.to_vec()),
        0..3,
    ));
    prop_oneof![
        (token.clone(), env.clone(), conn.clone(), vm_ids.clone()).prop_map(
            |(client_token, environment_id, connector_id, vm_ids)| {
                EvsRequest::CreateEntitlement(CreateEntitlementRequest {
                    client_token,
                    environment_id,
                    connector_id,
                    entitlement_type: EntitlementType::WindowsServer,
                    vm_ids,
                })
            }
        ),
        (token.clone(), env.clone(), conn.clone(), vm_ids).prop_map(
            |(client_token, environment_id, connector_id, vm_ids)| {
                EvsRequest::DeleteEntitlement(DeleteEntitlementRequest {
                    client_token,
                    environment_id,
                    connector_id,
                    entitlement_type: EntitlementType::WindowsServer,
                    vm_ids,
                })
            }
        ),
        (
            prop::option::of("[a-f0-9]{48}"),
            max.clone(),
            env.clone(),
            conn.clone()
        )
            .prop_map(|(next_token, max_results, environment_id, connector_id)| {
                EvsRequest::ListVmEntitlements(ListVmEntitlementsRequest {
                    next_token,
                    max_results,
                    environment_id,
                    connector_id,
                    entitlement_type: EntitlementType::WindowsServer,
                })
            }),
        (
            token.clone(),
            env.clone(),
            kind,
            "[a-z]{1,10}(\\.[a-z]{1,10}){0,2}",
            "[a-zA-Z0-9/_+=.@!-]{1,30}"
        )
            .prop_map(
                |(client_token, environment_id, r#type, appliance_fqdn, secret_identifier)| {
                    EvsRequest::CreateEnvironmentConnector(CreateEnvironmentConnectorRequest {
                        client_token,
                        environment_id,
                        r#type,
                        appliance_fqdn,
                        secret_identifier,
                    })
                }
            ),
        (
            token.clone(),
            env.clone(),
            conn.clone(),
            prop::option::of("[a-z]{1,10}"),
            prop::option::of("[a-z]{1,10}")
        )
            .prop_map(
                |(client_token, environment_id, connector_id, appliance_fqdn, secret_identifier)| {
                    EvsRequest::UpdateEnvironmentConnector(UpdateEnvironmentConnectorRequest {
                        client_token,
                        environment_id,
                        connector_id,
                        appliance_fqdn,
                        secret_identifier,
                    })
                }
            ),
        (token, env.clone(), conn).prop_map(|(client_token, environment_id, connector_id)| {
            EvsRequest::DeleteEnvironmentConnector(DeleteEnvironmentConnectorRequest {
                client_token,
                environment_id,
                connector_id,
            })
        }),
        (max.clone(), env.clone()).prop_map(|(max_results, environment_id)| {
            EvsRequest::ListEnvironmentConnectors(ListEnvironmentConnectorsRequest {
                next_token: None,
                max_results,
                environment_id,
            })
        }),
        env.prop_map(|environment_id| EvsRequest::GetEnvironment(GetEnvironmentRequest { environment_id })),
        (max, states).prop_map(|(max_results, state)| EvsRequest::ListEnvironments(
            ListEnvironmentsRequest {
                next_token: None,
                max_results,
                state
            }
        )),
    ]
}
