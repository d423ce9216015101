//! EVS fixtures: the environment and VCENTER connector the EVS tests seed.

use conform_model::evs::environment::{ConnectorFixture, EnvironmentFixture};
use conform_model::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use conform_model::{Event, World};

pub const ENV: &str = "env-aaaaaaaaaa";
pub const CONN: &str = "cnctr-aaaaaaaaaa";

/// Seeds a CREATED environment `ENV` with an ACTIVE VCENTER connector `CONN` of `health`, in
/// the default account and region.
pub fn seed_environment_and_connector(w: &mut World, health: CheckResult) {
    seed_environment(w, EnvironmentState::Created);
    seed_connector(w, CONN, ConnectorType::Vcenter, ConnectorState::Active, health);
}

/// Seeds environment `ENV` in `state`, in the default account and region.
pub fn seed_environment(w: &mut World, state: EnvironmentState) {
    let env = EnvironmentFixture {
        account: None,
        region: None,
        environment_id: Some(ENV.into()),
        state,
        name: None,
        vcf_version: None,
    };
    w.apply(Event::SeedEvsEnvironment(env)).expect("seeds");
}

/// Seeds connector `id` of `ENV`.
pub fn seed_connector(
    w: &mut World,
    id: &str,
    connector_type: ConnectorType,
    state: ConnectorState,
    health: CheckResult,
) {
    let conn = ConnectorFixture {
        account: None,
        region: None,
        environment_id: ENV.into(),
        connector_id: Some(id.into()),
        connector_type,
        appliance_fqdn: "vc.example.com".into(),
        secret_identifier: "secret".into(),
        state,
        health,
    };
    w.apply(Event::SeedEvsConnector(conn)).expect("seeds");
}
