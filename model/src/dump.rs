//! A JSON dump of a world's state, for the simulator's `GET /_conform/state` and for checking that
//! refused requests change nothing. Ordered by creation, so equal worlds dump equal text.

use serde_json::{json, Value};

use crate::lm::LicenseManager;
use crate::timefmt::iso_millis;
use crate::world::World;

/// Clock, licenses with every version (stored and effective status) and usage, tokens with their
/// state, grants, and the EVS environments, connectors and entitlement records.
pub fn dump(world: &World) -> Value {
    let now = world.now_ms();
    let lm: &LicenseManager = world.lm();
    let licenses: Vec<Value> = lm
        .licenses()
        .iter()
        .map(|r| {
            let versions: Vec<Value> = r
                .versions
                .iter()
                .map(|v| {
                    json!({
                        "Version": v.version.to_string(),
                        "Status": v.status.as_str(),
                        "EffectiveStatus": r.effective_status(v, now).as_str(),
                        "CreatedMs": v.created_ms,
                        "LicenseName": v.license_name,
                        "ProductName": v.product_name,
                        "KeyFingerprint": v.key_fingerprint,
                        "Validity": v.validity,
                        "Entitlements": v.entitlements,
                    })
                })
                .collect();
            let usage: Vec<Value> = r
                .in_use
                .iter()
                .map(|((name, unit), n)| json!({ "Name": name, "Unit": unit.as_str(), "InUse": n.to_string() }))
                .collect();
            json!({
                "LicenseArn": r.arn,
                "Seq": r.seq,
                "IssuerAccount": r.issuer_account,
                "HomeRegion": r.home_region,
                "ProductSKU": r.product_sku,
                "Beneficiary": r.beneficiary,
                "DeletionMs": r.deletion_ms,
                "UsagePeriod": r.usage_period,
                "Versions": versions,
                "Usage": usage,
            })
        })
        .collect();
    let arn_of = |id: usize| lm.licenses().get(id).map(|r| r.arn.clone());
    let tokens: Vec<Value> = lm
        .tokens()
        .iter()
        .map(|t| {
            json!({
                "LicenseConsumptionToken": t.id,
                "Seq": t.seq,
                "Account": t.account,
                "LicenseArn": arn_of(t.license),
                "Kind": t.kind,
                "State": t.state,
                "ExpiresMs": t.expires_ms,
                "Period": t.period,
                "Held": t.held.iter().map(|(n, u, q)| json!({"Name": n, "Unit": u.as_str(), "Value": q.to_string()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let grants: Vec<Value> = lm
        .grants()
        .iter()
        .map(|g| {
            json!({
                "GrantArn": g.arn,
                "Seq": g.seq,
                "LicenseArn": arn_of(g.license),
                "OwnerAccount": g.owner_account,
                "GranteeAccount": g.grantee_account,
                "Status": g.status(),
                "AllowedOperations": g.current().allowed_operations,
                "GrantType": g.grant_type,
                "Version": g.version(),
            })
        })
        .collect();
    json!({
        "clock": { "now_ms": now, "now": iso_millis(now) },
        "seed": world.seed(),
        "licenses": licenses,
        "tokens": tokens,
        "grants": grants,
        "evs": evs(world),
    })
}

fn evs(world: &World) -> Value {
    let partitions: Vec<Value> = world
        .evs
        .partitions
        .iter()
        .map(|(key, p)| {
            let environments: Vec<Value> = p
                .environments
                .values()
                .map(|e| {
                    let vms: Vec<Value> = e
                        .vms
                        .iter()
                        .map(|(id, vm)| json!({"vmId": id, "name": vm.name, "guestOs": vm.guest_os, "present": vm.present}))
                        .collect();
                    json!({"environmentId": e.id, "state": e.state, "vms": vms})
                })
                .collect();
            let connectors: Vec<Value> = p
                .connectors
                .values()
                .map(|c| {
                    let records: Vec<Value> = c.records.values().map(|r| json!(c.view(r, world.policy().evs_timestamps))).collect();
                    json!({
                        "connectorId": c.id, "environmentId": c.environment_id, "type": c.kind,
                        "state": c.state, "health": c.health, "entitlements": records,
                    })
                })
                .collect();
            json!({"partition": format!("{key:?}"), "environments": environments, "connectors": connectors})
        })
        .collect();
    Value::Array(partitions)
}

impl World {
    /// The whole state as JSON (see the module doc).
    pub fn dump(&self) -> Value {
        dump(self)
    }
}
