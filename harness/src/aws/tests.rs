use super::*;

fn target(evs: Option<EvsScope>) -> Inner {
    Inner {
        agent: ureq::AgentBuilder::new().build(),
        options: AwsOptions {
            region: "us-east-1".into(),
            endpoint_url: None,
            run_id: "r1".into(),
            max_calls_per_minute: 10,
            max_calls: 2,
            sign_clock_skew_seconds: 0,
            unsigned: false,
            evs,
            interrupted: Arc::new(AtomicBool::new(false)),
        },
        identities: BTreeMap::new(),
        namespace: 3,
        sent: VecDeque::new(),
        calls: 0,
        owned: Owned::default(),
    }
}

#[test]
fn names_and_skus_get_the_run_prefix_and_lose_it_in_replies() {
    let t = target(None);
    let mut body = json!({"LicenseName": "L", "ProductSKU": "", "Issuer": {"Name": "I"},
        "Filters": [{"Name": "ProductSKU", "Values": ["A"]}, {"Name": "Status", "Values": ["AVAILABLE"]}]});
    t.prefix_names(&mut body);
    assert_eq!(body["LicenseName"], "conform-r1-3-L");
    assert_eq!(body["ProductSKU"], "", "an empty SKU stays invalid");
    assert_eq!(body["Issuer"]["Name"], "I");
    assert_eq!(body["Filters"][0]["Values"][0], "conform-r1-3-A");
    assert_eq!(body["Filters"][1]["Values"][0], "AVAILABLE");
    t.strip_prefix(&mut body);
    assert_eq!(body["LicenseName"], "L");
    assert_eq!(body["Filters"][0]["Values"][0], "A");
}

#[test]
fn mutations_of_anything_the_run_did_not_create_are_refused() {
    let mut t = target(None);
    let caller = Caller::new("111122223333", "us-east-1");
    let arn = "arn:aws:license-manager::111122223333:license:l-0123";
    for op in ["DeleteLicense", "CreateLicenseVersion", "CreateGrant"] {
        let e = t.guard(Service::LicenseManager, op, &json!({"LicenseArn": arn}), &caller);
        assert!(
            e.as_ref().is_err_and(|e| matches!(e, InfraError::Refused(_))),
            "{op}: {e:?}"
        );
    }
    let e = t.guard(
        Service::LicenseManager,
        "DeleteGrant",
        &json!({"GrantArn": "g"}),
        &caller,
    );
    assert!(e.is_err());
    assert!(t
        .guard(Service::LicenseManager, "CreateToken", &json!({}), &caller)
        .is_err());
    assert!(t
        .guard(
            Service::LicenseManager,
            "GetLicense",
            &json!({"LicenseArn": arn}),
            &caller
        )
        .is_ok());
    t.learn(&caller, "CreateLicense", &json!({}), &json!({"LicenseArn": arn}));
    assert!(t
        .guard(
            Service::LicenseManager,
            "DeleteLicense",
            &json!({"LicenseArn": arn}),
            &caller
        )
        .is_ok());
}

#[test]
fn evs_stays_inside_the_given_environment_connector_and_vms() {
    let scope = EvsScope {
        environment: "env-1".into(),
        connector: "c-1".into(),
        vms: ["vm-1".to_string()].into(),
    };
    let mut t = target(Some(scope));
    let caller = Caller::new("111122223333", "us-east-1");
    let body = |env: &str, vm: &str| json!({"environmentId": env, "connectorId": "c-1", "vmIds": [vm]});
    assert!(t
        .guard(Service::Evs, "CreateEntitlement", &body("env-1", "vm-1"), &caller)
        .is_ok());
    assert!(t
        .guard(Service::Evs, "CreateEntitlement", &body("env-2", "vm-1"), &caller)
        .is_err());
    assert!(t
        .guard(Service::Evs, "CreateEntitlement", &body("env-1", "vm-2"), &caller)
        .is_err());
    assert!(t
        .guard(Service::Evs, "DeleteEntitlement", &body("env-1", "vm-1"), &caller)
        .is_err());
    t.learn(&caller, "CreateEntitlement", &body("env-1", "vm-1"), &json!({}));
    assert!(t
        .guard(Service::Evs, "DeleteEntitlement", &body("env-1", "vm-1"), &caller)
        .is_ok());
    for op in [
        "DeleteEnvironmentConnector",
        "CreateEnvironmentConnector",
        "UpdateEnvironmentConnector",
    ] {
        assert!(t.guard(Service::Evs, op, &json!({}), &caller).is_err(), "{op}");
    }
}

#[test]
fn the_total_call_cap_stops_the_run_but_not_cleanup() {
    let mut t = target(None);
    assert!(t.admit(false).is_ok());
    assert!(t.admit(false).is_ok());
    let e = t.admit(false).unwrap_err();
    assert!(e.to_string().contains("--max-calls"), "{e}");
    assert!(t.admit(true).is_ok());
    t.options.interrupted.store(true, Ordering::SeqCst);
    assert!(t.admit(true).is_ok());
}
