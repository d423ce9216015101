//! Typed EVS requests survive the trip through a JSON body and the service model's decoder.
//! (The property tests over operation sequences run the harness's one workload:
//! `harness/tests/props.rs`.)

use conform_model::evs::types::*;
use conform_model::evs::EvsRequest;
use conform_model::Service;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

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
