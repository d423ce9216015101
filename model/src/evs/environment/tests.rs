//! Unit tests of `evs::environment`.

use serde_json::json;

use super::super::testkit::*;
use super::*;
use crate::events::Event;
use crate::policy::Policy;

fn fixture(id: Option<&str>, state: EnvironmentState) -> EnvironmentFixture {
    EnvironmentFixture {
        account: None,
        region: None,
        environment_id: id.map(str::to_string),
        state,
        name: None,
        vcf_version: None,
    }
}

#[test]
fn spec_4_1_seeded_environment_ids_are_drawn_as_env_and_ten_alphanumerics() {
    let mut w = World::new(11, Policy::default());
    let r = w
        .apply(Event::SeedEvsEnvironment(fixture(
            None,
            EnvironmentState::Created,
        )))
        .unwrap();
    let id = r["environmentId"].as_str().unwrap();
    assert!(
        is_id(id, "env-", 10) && id.bytes().all(|b| !b.is_ascii_uppercase()),
        "{id}"
    );
    let cases = [
        (Some("env-short"), false),
        (Some(id), false),
        (Some("env-bbbbbbbbbb"), true),
    ];
    for (given, accepted) in cases {
        let r = w.apply(Event::SeedEvsEnvironment(fixture(
            given,
            EnvironmentState::Created,
        )));
        assert_eq!(r.is_ok(), accepted, "{given:?}");
    }
}

/// SPEC 4.1: members a fixture does not give are absent from replies, never defaulted; the
/// state defaults to CREATED and the name to the id; `checks` and `credentials` are absent.
#[test]
fn spec_4_1_fixture_members_not_given_are_absent() {
    let mut w = World::new(11, Policy::default());
    let event: Event =
        serde_json::from_value(json!({"event": "seed_evs_environment", "environment_id": "env-cccccccccc"}))
            .unwrap();
    w.apply(event).unwrap();
    let caller = crate::Caller::new("123456789012", "us-east-1");
    let body = json!({"environmentId": "env-cccccccccc"}).to_string();
    let r = w.handle(&caller, crate::Service::Evs, "GetEnvironment", body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let env = r.body["environment"].as_object().unwrap();
    assert_eq!(env["environmentState"], json!("CREATED"));
    assert_eq!(env["environmentName"], json!("env-cccccccccc"));
    for absent in ["vcfVersion", "environmentStatus", "checks", "credentials"] {
        assert!(!env.contains_key(absent), "{absent} in {}", r.body);
    }
}

#[test]
fn spec_4_1_vm_fixtures_need_vm_ids_and_a_known_environment() {
    let mut w = world();
    let vm = |env: &str, vm: &str| VmFixture {
        account: None,
        region: None,
        environment_id: env.into(),
        vm_id: vm.into(),
        name: "n".into(),
        guest_os: GuestOs::Other,
    };
    let cases = [
        (ENV, "vm-42", true),
        (ENV, "vm-", false),
        (ENV, "i-42", false),
        ("env-zzzzzzzzzz", "vm-1", false),
    ];
    for (env, id, accepted) in cases {
        assert_eq!(w.apply(Event::AddVm(vm(env, id))).is_ok(), accepted, "{env} {id}");
    }
    let gone = VmRef {
        account: None,
        region: None,
        environment_id: ENV.into(),
        vm_id: "vm-42".into(),
    };
    assert!(w.apply(Event::RemoveVm(gone.clone())).is_ok());
    assert!(
        w.apply(Event::RemoveVm(gone)).is_err(),
        "a removed VM cannot be removed again"
    );
}

#[test]
fn spec_5_get_and_list_environments_are_read_views_per_account_and_region() {
    let mut w = world();
    seed_env(&mut w, "env-cccccccccc", EnvironmentState::Creating);
    let r = call(&mut w, "GetEnvironment", json!({"environmentId": ENV}));
    assert_eq!(r.body["environment"]["environmentState"], "CREATED");
    assert_eq!(
        r.body["environment"]["environmentArn"],
        format!("arn:aws:evs:us-east-1:123456789012:environment/{ENV}")
    );
    let r = call(
        &mut w,
        "GetEnvironment",
        json!({"environmentId": "env-zzzzzzzzzz"}),
    );
    assert_eq!(
        (r.status, r.body["resourceType"].as_str()),
        (404, Some("environment"))
    );
    let other = crate::world::Caller::new("123456789012", "eu-west-1");
    let r = w.handle(
        &other,
        crate::Service::Evs,
        "GetEnvironment",
        json!({"environmentId": ENV}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 404, "state is per region");
    let ids = |w: &mut World, body: serde_json::Value| -> Vec<String> {
        let r = call(w, "ListEnvironments", body);
        r.body["environmentSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["environmentId"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&mut w, json!({})),
        vec![ENV.to_string(), "env-cccccccccc".to_string()],
        "creation order"
    );
    assert_eq!(
        ids(&mut w, json!({"state": []})),
        ids(&mut w, json!({})),
        "an empty filter is no filter"
    );
    assert_eq!(
        ids(&mut w, json!({"state": ["CREATING"]})),
        vec!["env-cccccccccc".to_string()]
    );
    let r = call(&mut w, "ListEnvironments", json!({"maxResults": 1}));
    assert!(r.body["nextToken"].is_string());
    let r = call(
        &mut w,
        "ListEnvironments",
        json!({"maxResults": 1, "nextToken": r.body["nextToken"], "state": ["CREATED"]}),
    );
    assert_eq!(r.body["reason"], "other", "a token is bound to its filter");
}

#[test]
fn policy_evs_deleted_environments_visible() {
    for visible in [true, false] {
        let mut w = World::new(
            1,
            Policy {
                evs_deleted_environments_visible: visible,
                ..Policy::default()
            },
        );
        seed_env(&mut w, ENV, EnvironmentState::Deleted);
        let r = call(&mut w, "GetEnvironment", json!({"environmentId": ENV}));
        assert_eq!(r.status == 200, visible);
        let r = call(&mut w, "ListEnvironments", json!({}));
        assert_eq!(
            r.body["environmentSummaries"].as_array().unwrap().len(),
            usize::from(visible)
        );
        assert!(r.policies.contains(&PolicyRule::EvsDeletedEnvironments));
    }
}
