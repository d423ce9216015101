//! Each always property fails on a broken step, and the goals fire on the steps that reach them.

use conform_model::{Caller, Policy, Service, World};
use serde_json::json;

use super::*;
use crate::driver::{CaseConfig, Reference};
use crate::gen::{Health, Step, Who};

fn seller() -> Caller {
    Caller::new(Who::Seller.account(), "us-east-1")
}

fn license_body() -> Value {
    json!({
        "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": "sku", "Issuer": {"Name": "Example Corp"},
        "HomeRegion": "us-east-1", "Validity": {"Begin": "2025-01-01T00:00:00Z"}, "Beneficiary": "ben", "ClientToken": "c1",
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 2, "AllowCheckIn": true}],
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}},
    })
}

/// A world before, the same world with a license created behind the step's back, and a reply.
fn broken(reply_of: impl Fn(&mut World) -> Reply) -> (World, World, Reply) {
    let mut before = World::new(1, Policy::default());
    let reply = reply_of(&mut before);
    let mut after = before.clone();
    let created = after.handle(
        &seller(),
        Service::LicenseManager,
        "CreateLicense",
        license_body().to_string().as_bytes(),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    (before, after, reply)
}

#[allow(clippy::too_many_arguments)]
fn violated(
    step: Option<&Step>,
    before: &World,
    after: &World,
    caller: &Caller,
    op: &str,
    body: &[u8],
    reply: &Reply,
    replay: bool,
) -> Option<&'static str> {
    let obs = Observation {
        step,
        before: Some(before),
        after,
        outcome: Outcome::Call {
            caller,
            service: Service::LicenseManager,
            op,
            body,
            reply,
        },
        replay,
        history: &[],
        parsed: Default::default(),
    };
    Auditor::new(true).observe(&obs).err().map(|v| v.property)
}

#[test]
fn a_refused_request_that_changes_state_is_a_violation() {
    let body = json!({"LicenseArn": 7});
    let (before, after, reply) = broken(|w| {
        w.handle(
            &seller(),
            Service::LicenseManager,
            "GetLicense",
            body.to_string().as_bytes(),
        )
    });
    assert!(reply.is_error());
    let bytes = body.to_string().into_bytes();
    assert_eq!(
        violated(
            None,
            &before,
            &after,
            &seller(),
            "GetLicense",
            &bytes,
            &reply,
            false
        ),
        Some("a_refused_request_changes_nothing")
    );
    assert_eq!(
        violated(
            None,
            &before,
            &before,
            &seller(),
            "GetLicense",
            &bytes,
            &reply,
            false
        ),
        None
    );
}

#[test]
fn an_idempotent_replay_that_changes_state_is_a_violation() {
    let body = license_body();
    let bytes = body.to_string().into_bytes();
    let mut before = World::new(1, Policy::default());
    let reply = before.handle(&seller(), Service::LicenseManager, "CreateLicense", &bytes);
    let after = {
        let mut w = before.clone();
        let mut other = license_body();
        other["ClientToken"] = json!("c2");
        w.handle(
            &seller(),
            Service::LicenseManager,
            "CreateLicense",
            other.to_string().as_bytes(),
        );
        w
    };
    assert_eq!(
        violated(
            None,
            &before,
            &after,
            &seller(),
            "CreateLicense",
            &bytes,
            &reply,
            true
        ),
        Some("an_idempotent_replay_changes_nothing")
    );
    assert_eq!(
        violated(
            None,
            &before,
            &before,
            &seller(),
            "CreateLicense",
            &bytes,
            &reply,
            true
        ),
        None
    );
}

#[test]
fn a_checkout_by_a_stranger_without_a_grant_is_a_violation() {
    let mut world = World::new(1, Policy::default());
    let created = world.handle(
        &seller(),
        Service::LicenseManager,
        "CreateLicense",
        license_body().to_string().as_bytes(),
    );
    let arn = created.body["LicenseArn"].clone();
    // A success as a broken target might give it.
    let reply = Reply {
        body: json!({"LicenseArn": arn, "CheckoutType": "PROVISIONAL"}),
        ..created.clone()
    };
    let stranger = Caller::new(Who::Stranger.account(), "us-east-1");
    assert_eq!(
        violated(
            None,
            &world,
            &world,
            &stranger,
            "CheckoutLicense",
            b"{}",
            &reply,
            false
        ),
        Some("access_needs_the_issuer_or_a_grant")
    );
    assert_eq!(
        violated(
            None,
            &world,
            &world,
            &seller(),
            "CheckoutLicense",
            b"{}",
            &reply,
            false
        ),
        None
    );
}

#[test]
fn a_reply_with_a_null_or_an_accepted_invalid_request_is_a_violation() {
    let world = World::new(1, Policy::default());
    let mut reply =
        World::new(1, Policy::default()).handle(&seller(), Service::LicenseManager, "ListLicenses", b"{}");
    assert_eq!(
        violated(
            None,
            &world,
            &world,
            &seller(),
            "ListLicenses",
            b"{}",
            &reply,
            false
        ),
        None
    );
    let constraint = Step::Constraint { index: 0 };
    assert_eq!(
        violated(
            Some(&constraint),
            &world,
            &world,
            &seller(),
            "ListLicenses",
            b"{}",
            &reply,
            false
        ),
        Some("an_invalid_request_is_refused")
    );
    reply.body["Licenses"] = Value::Null;
    assert_eq!(
        violated(
            None,
            &world,
            &world,
            &seller(),
            "ListLicenses",
            b"{}",
            &reply,
            false
        ),
        Some("a_reply_is_well_formed")
    );
}

fn case() -> CaseConfig {
    CaseConfig {
        max_steps: 0,
        ..CaseConfig::default()
    }
}

fn run(steps: &[Step]) -> BTreeMap<&'static str, u64> {
    let mut r = Reference::new(&case(), 0, true);
    for step in steps {
        r.advance(step).unwrap_or_else(|v| panic!("{step:?}: {v}"));
    }
    r.auditor().reached().clone()
}

fn create_license(max: i64) -> Step {
    Step::license(max, 2, true, 1)
}

fn checkout(token: u8) -> Step {
    Step::checkout("1", token)
}

#[test]
fn the_drawdown_goals_fire_on_the_steps_that_reach_them() {
    let reached = run(&[
        create_license(3),
        checkout(1),
        checkout(1),
        checkout(2),
        checkout(3),
        checkout(4),
    ]);
    for goal in [
        "a_checkout_granted",
        "an_idempotent_checkout_replay",
        "three_live_tokens_on_one_license",
        "a_seat_drawn_down_to_exactly_zero",
        "a_checkout_refused_at_zero_seats",
    ] {
        assert!(reached.contains_key(goal), "{goal} not in {reached:?}");
    }
    assert!(!reached.contains_key("a_license_at_version_4"));
}

#[test]
fn the_entitlement_goals_fire_on_the_steps_that_reach_them() {
    let entitle = |vms: Vec<u8>| Step::CreateEntitlement {
        env: 0,
        connector: 0,
        vms,
    };
    let advance = Step::Advance { seconds: 300 };
    let health = |health| Step::SetHealth {
        env: 0,
        connector: 0,
        health,
    };
    let reached = run(&[
        Step::CreateConnector { env: 0, token: 1 },
        advance.clone(),
        entitle(vec![0]),
        entitle(vec![1]),
        entitle(vec![2]),
        advance.clone(),
        health(Health::Failed),
        advance.clone(),
        health(Health::Passed),
        advance.clone(),
        Step::RemoveVm { env: 0, vm: 0 },
        Step::SetGuestOs {
            env: 0,
            vm: 1,
            windows: false,
        },
        advance.clone(),
    ]);
    for goal in [
        "an_entitlement_created",
        "an_entitlement_at_risk",
        "an_entitlement_back_from_at_risk",
        "an_entitlement_removed_with_its_vm",
        "an_entitlement_removed_by_a_guest_os_change",
    ] {
        assert!(reached.contains_key(goal), "{goal} not in {reached:?}");
    }
}
