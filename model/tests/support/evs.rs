//! EVS fixtures: the environment and VCENTER connector the EVS tests seed.

use conform_model::evs::environment::{ConnectorFixture, EnvironmentFixture};
use conform_model::evs::types::{CheckResult, ConnectorState, ConnectorType, EnvironmentState};
use conform_model::{Event, World};

pub const ENV: &str = "env-aaaaaaaaaa";
pub const CONN: &str = "cnctr-aaaaaaaaaa";

/// Seeds a CREATED environment `ENV` with an ACTIVE VCENTER connector `CONN` of `health`, in
/// the default account and region.
pub fn seed_environment_and_connector(w: &mut World, health: CheckResult) {
    let env = EnvironmentFixture {
        account: None,
        region: None,
        environment_id: Some(ENV.into()),
        state: EnvironmentState::Created,
        name: None,
        vcf_version: None,
    };
    w.apply(Event::SeedEvsEnvironment(env)).expect("seeds");
    let conn = ConnectorFixture {
        account: None,
        region: None,
        environment_id: ENV.into(),
        connector_id: Some(CONN.into()),
        connector_type: ConnectorType::Vcenter,
        appliance_fqdn: "vc.example.com".into(),
        secret_identifier: "secret".into(),
        state: ConnectorState::Active,
        health,
    };
    w.apply(Event::SeedEvsConnector(conn)).expect("seeds");
}
