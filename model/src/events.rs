//! Environment events (SPEC 2): operations of the model that are not AWS APIs. The simulator
//! exposes them under `/_conform/`; the harness generates them when a target supports them.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::AwsError;
use crate::lm::types::Entitlement;
use crate::world::World;

pub use crate::evs::{
    ConnectorFixture, ConnectorHealth, EnvironmentFixture, GuestOs, VmFixture, VmGuestOs, VmRef,
};
pub use crate::lm::MarketplaceLicense;

/// One environment event.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// Moves the clock forward by `seconds` (and `millis`), settling what falls due.
    AdvanceClock {
        #[serde(default)]
        seconds: i64,
        #[serde(default)]
        millis: i64,
    },
    /// Seeds a Marketplace-issued license for a buyer account (SPEC 3.9).
    SeedMarketplaceLicense(MarketplaceLicense),
    /// Seeds an EVS environment (SPEC 4.1); answers its `environmentId`.
    SeedEvsEnvironment(EnvironmentFixture),
    /// Seeds an EVS connector directly (ACTIVE and PASSED unless told); answers its `connectorId`.
    SeedEvsConnector(ConnectorFixture),
    /// Adds a VM to an environment's vCenter inventory (or brings a removed one back).
    AddVm(VmFixture),
    /// Removes a present VM from the inventory.
    RemoveVm(VmRef),
    /// Changes a present VM's guest OS.
    SetVmGuestOs(VmGuestOs),
    /// Sets an EVS connector's health: PASSED, FAILED or UNKNOWN.
    SetConnectorHealth(ConnectorHealth),
    /// Forgets everything: a fresh world of the same seed and policy; the clock stays.
    Reset,
}

impl Event {
    /// Shorthand for `AdvanceClock` by whole seconds.
    pub fn advance_seconds(seconds: i64) -> Event {
        Event::AdvanceClock { seconds, millis: 0 }
    }

    /// A Marketplace license with the given counted entitlements and defaults elsewhere.
    pub fn marketplace(buyer_account: &str, product_sku: &str, entitlements: Vec<Entitlement>) -> Event {
        Event::SeedMarketplaceLicense(MarketplaceLicense {
            buyer_account: buyer_account.into(),
            product_sku: product_sku.into(),
            product_name: "Marketplace product".into(),
            license_name: "Marketplace license".into(),
            home_region: "us-east-1".into(),
            entitlements,
            ttl_minutes: None,
            validity: None,
        })
    }
}

pub(crate) fn apply(world: &mut World, event: Event) -> Result<Value, AwsError> {
    world.settle();
    match event {
        Event::AdvanceClock { seconds, millis } => {
            if seconds < 0 || millis < 0 {
                return Err(AwsError::validation("the clock only moves forward"));
            }
            let delta = seconds.saturating_mul(1000).saturating_add(millis);
            world.clock.advance_by(delta);
            world.settle();
            Ok(json!({ "now_ms": world.now_ms() }))
        }
        Event::SeedMarketplaceLicense(m) => {
            let arn = crate::lm::seed_marketplace_license(world, m)?;
            Ok(json!({ "LicenseArn": arn }))
        }
        Event::SeedEvsEnvironment(f) => crate::evs::environment::seed_environment(world, f),
        Event::SeedEvsConnector(f) => crate::evs::environment::seed_connector(world, f),
        Event::AddVm(f) => crate::evs::environment::add_vm(world, f),
        Event::RemoveVm(f) => crate::evs::environment::remove_vm(world, f),
        Event::SetVmGuestOs(f) => crate::evs::environment::set_vm_guest_os(world, f),
        Event::SetConnectorHealth(f) => crate::evs::environment::set_connector_health(world, f),
        Event::Reset => {
            // A fresh world of the same seed and policy, so a reset target and a new reference
            // model draw the same ids; the clock stays where it is (it never moves backwards).
            let now = world.now_ms();
            #[cfg(feature = "faults")]
            let faults = world.faults.clone();
            let signatures = world.signatures;
            *world = World::starting_at(world.seed, world.policy.clone(), now);
            world.signatures = signatures;
            #[cfg(feature = "faults")]
            {
                world.faults = faults;
            }
            Ok(json!({}))
        }
    }
}
