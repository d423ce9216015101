//! The steps of the `sequence` target ([`Op`]) and what each turns into against the current
//! state: a request with real ids, or an environment event.

use arbitrary::Arbitrary;
use conform_model::events::{GuestOs, VmGuestOs};
use conform_model::evs::types::{CheckResult, ConnectorType};
use conform_model::{Caller, Event, Service, World};
use serde_json::{json, Value};

use super::worlds::{
    add_vm_event, entitlement_body, evs_placeholders, health_event, license_body, marketplace_event, vm_id,
    vm_ref,
};
use super::{
    evs_caller, evs_operation, lm_caller, lm_operation, substitute, CONNECTORS, ENVIRONMENTS, EVS_ACCOUNT,
    FINGERPRINT, MARKETPLACE_FINGERPRINT, VM_COUNT,
};

/// How many seconds an [`Op::Advance`] moves the clock: around sync boundaries (300 s), the
/// provisional TTL (60 min), the deletion delay (60 s) and the page token lifetime (24 h).
const ADVANCES: [i64; 12] = [0, 1, 59, 60, 61, 150, 299, 300, 301, 900, 3600, 86_400];
/// Quantities a checkout asks for: small counts and the malformed ones of SPEC 3.4.
const QUANTITIES: [&str; 8] = ["1", "2", "3", "0", "01", "-1", "x", "9223372036854775807"];
const SKUS: [&str; 3] = ["sku-a", "sku-b", "mkt"];
const BENEFICIARIES: [&str; 2] = ["customer-1", "customer-2"];

/// One step of the `sequence` target. Fields are small numbers mapped onto small domains, so that
/// references hit the licenses, tokens, grants, connectors and VMs the world already holds.
#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    CreateLicense {
        sku: u8,
        beneficiary: u8,
        max: u8,
        overage: bool,
        check_in: bool,
        borrow: bool,
        end_minutes: Option<u8>,
        token: u8,
    },
    CreateLicenseVersion {
        license: u8,
        max: u8,
        deactivate: bool,
        reset: bool,
        source: Option<bool>,
        token: u8,
    },
    Checkout {
        caller: u8,
        sku: u8,
        beneficiary: Option<u8>,
        quantity: u8,
        perpetual: bool,
        token: u8,
    },
    Borrow {
        caller: u8,
        license: u8,
        quantity: u8,
        token: u8,
    },
    CheckIn {
        caller: u8,
        token: u8,
    },
    Extend {
        caller: u8,
        token: u8,
        dry_run: bool,
    },
    DeleteLicense {
        license: u8,
        right_source: bool,
    },
    Read {
        caller: u8,
        license: u8,
        op: u8,
    },
    ListLicenses {
        sku: Option<u8>,
        max: Option<u8>,
    },
    CreateGrant {
        license: u8,
        to: u8,
        token: u8,
    },
    GrantChange {
        grant: u8,
        action: u8,
        caller: u8,
    },
    CreateEntitlement {
        connector: u8,
        vms: Vec<u8>,
    },
    DeleteEntitlement {
        connector: u8,
        vms: Vec<u8>,
    },
    ListVmEntitlements {
        connector: u8,
        max: u8,
    },
    CreateConnector {
        env: u8,
        kind: u8,
    },
    UpdateConnector {
        connector: u8,
        fqdn: bool,
    },
    DeleteConnector {
        connector: u8,
    },
    /// A body of arbitrary bytes (placeholders substituted) for an operation of either service.
    Raw {
        evs: bool,
        op: u8,
        caller: u8,
        body: Vec<u8>,
    },
    /// Sends an earlier request again, byte for byte (idempotent replays, SPEC 3.4).
    Replay {
        back: u8,
    },
    Advance {
        choice: u8,
    },
    AddVm {
        vm: u8,
        windows: bool,
    },
    RemoveVm {
        vm: u8,
    },
    SetGuestOs {
        vm: u8,
        windows: bool,
    },
    ConnectorHealth {
        connector: u8,
        health: u8,
    },
    SeedMarketplace {
        sku: u8,
        max: u8,
    },
    Reset,
}

/// A request as sent, and the reply it got.
#[derive(Clone, Debug)]
pub(super) struct Sent {
    pub(super) service: Service,
    pub(super) caller: Caller,
    pub(super) op: &'static str,
    pub(super) body: Vec<u8>,
    pub(super) reply: Option<Value>,
}

fn at<T: Clone>(items: &[T], i: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[usize::from(i) % items.len()].clone())
}

/// What a step turns into against the current state: a request, or an event.
pub(super) enum Action {
    Request(Sent),
    Event(Event),
}

fn lm_step(caller: Caller, op: &'static str, body: Value) -> Action {
    Action::Request(Sent {
        service: Service::LicenseManager,
        caller,
        op,
        body: body.to_string().into_bytes(),
        reply: None,
    })
}

fn evs_step(op: &'static str, body: Value) -> Action {
    Action::Request(Sent {
        service: Service::Evs,
        caller: evs_caller(0),
        op,
        body: body.to_string().into_bytes(),
        reply: None,
    })
}

fn connectors(w: &World) -> Vec<String> {
    let mut cs: Vec<(u64, String)> = w
        .evs()
        .partition(EVS_ACCOUNT, "us-east-1")
        .map(|p| p.connectors.values().map(|c| (c.seq, c.id.clone())).collect())
        .unwrap_or_default();
    cs.sort();
    cs.into_iter().map(|(_, id)| id).collect()
}

fn connector_env(w: &World, id: &str) -> String {
    w.evs()
        .partition(EVS_ACCOUNT, "us-east-1")
        .and_then(|p| p.connectors.get(id))
        .map_or_else(|| ENVIRONMENTS[0].to_string(), |c| c.environment_id.clone())
}

fn vm_list(vms: &[u8]) -> Vec<String> {
    // Up to five VMs; duplicates stay in, as the shape check must refuse them (SPEC 4.2).
    vms.iter()
        .take(5)
        .map(|&v| vm_id(usize::from(v) % (VM_COUNT + 1)))
        .collect()
}

const NO_LICENSE: &str = "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000";
const NO_GRANT: &str = "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000";
const NO_TOKEN: &str = "00000000000000000000000000000000";

pub(super) fn concretize(w: &World, op: &Op, history: &[Sent]) -> Option<Action> {
    let lm = w.lm();
    let license = |i: u8| at(lm.licenses(), i).map_or_else(|| NO_LICENSE.to_string(), |l| l.arn.clone());
    let latest = |arn: &str| {
        lm.license_by_arn(arn)
            .map_or(1, |id| lm.license(id).versions.len())
    };
    let token = |i: u8| at(lm.tokens(), i).map_or_else(|| NO_TOKEN.to_string(), |t| t.id.clone());
    let quantity = |q: u8| QUANTITIES[usize::from(q) % QUANTITIES.len()];
    let conn = |i: u8| at(&connectors(w), i).unwrap_or_else(|| CONNECTORS[0].to_string());
    Some(match op.clone() {
        Op::CreateLicense {
            sku,
            beneficiary,
            max,
            overage,
            check_in,
            borrow,
            end_minutes,
            token,
        } => {
            let mut b = license_body(
                &format!("c{token}"),
                SKUS[usize::from(sku) % 2],
                i64::from(max % 6),
                overage,
                check_in,
                borrow,
            );
            b["Beneficiary"] = json!(BENEFICIARIES[usize::from(beneficiary) % 2]);
            if let Some(m) = end_minutes {
                let end = w.now_ms() + i64::from(m) * 60_000;
                b["Validity"]["End"] = json!(conform_model::timefmt::iso_millis(end));
            }
            lm_step(lm_caller(0), "CreateLicense", b)
        }
        Op::CreateLicenseVersion {
            license: l,
            max,
            deactivate,
            reset,
            source,
            token,
        } => {
            let arn = license(l);
            let mut b = license_body(&format!("v{token}"), "", i64::from(max % 6), false, true, true);
            if let Some(o) = b.as_object_mut() {
                o.remove("ProductSKU");
                o.remove("Beneficiary");
            }
            b["Status"] = json!(if deactivate { "DEACTIVATED" } else { "AVAILABLE" });
            b["ResetUsage"] = json!(reset);
            if let Some(right) = source {
                let v = latest(&arn) + usize::from(!right);
                b["SourceVersion"] = json!(v.to_string());
            }
            b["LicenseArn"] = json!(arn);
            lm_step(lm_caller(0), "CreateLicenseVersion", b)
        }
        Op::Checkout {
            caller,
            sku,
            beneficiary,
            quantity: q,
            perpetual,
            token,
        } => {
            let sku = SKUS[usize::from(sku) % SKUS.len()];
            let fingerprint = if sku == "mkt" {
                MARKETPLACE_FINGERPRINT
            } else {
                FINGERPRINT
            };
            let mut b = json!({
                "ProductSKU": sku, "CheckoutType": if perpetual { "PERPETUAL" } else { "PROVISIONAL" },
                "KeyFingerprint": fingerprint, "ClientToken": format!("k{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": quantity(q)}, {"Name": "Premium", "Unit": "None"}],
            });
            if let Some(ben) = beneficiary {
                b["Beneficiary"] = json!(BENEFICIARIES[usize::from(ben) % 2]);
            }
            lm_step(lm_caller(caller % 3), "CheckoutLicense", b)
        }
        Op::Borrow {
            caller,
            license: l,
            quantity: q,
            token,
        } => lm_step(
            lm_caller(caller % 3),
            "CheckoutBorrowLicense",
            json!({
                "LicenseArn": license(l), "DigitalSignatureMethod": "JWT_PS384", "ClientToken": format!("b{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": quantity(q)}],
            }),
        ),
        Op::CheckIn { caller, token: t } => lm_step(
            lm_caller(caller % 3),
            "CheckInLicense",
            json!({"LicenseConsumptionToken": token(t)}),
        ),
        Op::Extend {
            caller,
            token: t,
            dry_run,
        } => lm_step(
            lm_caller(caller % 3),
            "ExtendLicenseConsumption",
            json!({"LicenseConsumptionToken": token(t), "DryRun": dry_run}),
        ),
        Op::DeleteLicense {
            license: l,
            right_source,
        } => {
            let arn = license(l);
            let v = latest(&arn) + usize::from(!right_source);
            lm_step(
                lm_caller(0),
                "DeleteLicense",
                json!({"LicenseArn": arn, "SourceVersion": v.to_string()}),
            )
        }
        Op::Read {
            caller,
            license: l,
            op,
        } => {
            let op = [
                "GetLicense",
                "ListLicenseVersions",
                "GetLicenseUsage",
                "ListReceivedLicenses",
            ][usize::from(op) % 4];
            lm_step(lm_caller(caller % 3), op, json!({"LicenseArn": license(l)}))
        }
        Op::ListLicenses { sku, max } => {
            let mut b = json!({});
            if let Some(s) = sku {
                b["Filters"] = json!([{"Name": "ProductSKU", "Values": [SKUS[usize::from(s) % 2]]}]);
            }
            if let Some(m) = max {
                b["MaxResults"] = json!(1 + m % 3);
            }
            lm_step(lm_caller(0), "ListLicenses", b)
        }
        Op::CreateGrant {
            license: l,
            to,
            token,
        } => lm_step(
            lm_caller(0),
            "CreateGrant",
            json!({
                "ClientToken": format!("g{token}"), "GrantName": "G", "LicenseArn": license(l), "HomeRegion": "us-east-1",
                "Principals": [format!("arn:aws:iam::{}:root", lm_caller(1 + to % 2).account)],
                "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "CheckoutBorrowLicense", "ExtendConsumptionLicense"],
            }),
        ),
        Op::GrantChange {
            grant,
            action,
            caller,
        } => {
            let (arn, version) = at(lm.grants(), grant).map_or_else(
                || (NO_GRANT.to_string(), "1".to_string()),
                |g| (g.arn.clone(), g.versions.len().to_string()),
            );
            let c = lm_caller(caller % 3);
            match action % 6 {
                0 => lm_step(c, "AcceptGrant", json!({"GrantArn": arn})),
                1 => lm_step(c, "RejectGrant", json!({"GrantArn": arn})),
                2 => lm_step(
                    c,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("a{grant}"), "Status": "ACTIVE"}),
                ),
                3 => lm_step(
                    c,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("d{grant}"), "Status": "DISABLED"}),
                ),
                4 => lm_step(c, "DeleteGrant", json!({"GrantArn": arn, "Version": version})),
                _ => lm_step(c, "GetGrant", json!({"GrantArn": arn})),
            }
        }
        Op::CreateEntitlement { connector, vms } => {
            let id = conn(connector);
            let mut b = entitlement_body(&id, &[]);
            b["environmentId"] = json!(connector_env(w, &id));
            b["vmIds"] = json!(vm_list(&vms));
            evs_step("CreateEntitlement", b)
        }
        Op::DeleteEntitlement { connector, vms } => {
            let id = conn(connector);
            let mut b = entitlement_body(&id, &[]);
            b["environmentId"] = json!(connector_env(w, &id));
            b["vmIds"] = json!(vm_list(&vms));
            evs_step("DeleteEntitlement", b)
        }
        Op::ListVmEntitlements { connector, max } => {
            let id = conn(connector);
            evs_step(
                "ListVmEntitlements",
                json!({"environmentId": connector_env(w, &id), "connectorId": id, "entitlementType": "WINDOWS_SERVER", "maxResults": 1 + max % 4}),
            )
        }
        Op::CreateConnector { env, kind } => evs_step(
            "CreateEnvironmentConnector",
            json!({
                "environmentId": ENVIRONMENTS[usize::from(env) % 2], "type": ConnectorType::ALL[usize::from(kind) % ConnectorType::ALL.len()],
                "applianceFqdn": "vc.example.com", "secretIdentifier": "s",
            }),
        ),
        Op::UpdateConnector { connector, fqdn } => {
            let id = conn(connector);
            let mut b = json!({"environmentId": connector_env(w, &id), "connectorId": id});
            if fqdn {
                b["applianceFqdn"] = json!("vc2.example.com");
            } else {
                b["secretIdentifier"] = json!("s2");
            }
            evs_step("UpdateEnvironmentConnector", b)
        }
        Op::DeleteConnector { connector } => {
            let id = conn(connector);
            evs_step(
                "DeleteEnvironmentConnector",
                json!({"environmentId": connector_env(w, &id), "connectorId": id}),
            )
        }
        Op::Raw {
            evs,
            op,
            caller,
            body,
        } => {
            let mut ids = evs_placeholders();
            ids.push(("<license-1>".into(), license(0)));
            ids.push(("<token-1>".into(), token(0)));
            let body = substitute(&body, &ids);
            let (service, op, caller) = if evs {
                (Service::Evs, evs_operation(op), evs_caller(caller))
            } else {
                (Service::LicenseManager, lm_operation(op), lm_caller(caller))
            };
            Action::Request(Sent {
                service,
                caller,
                op,
                body,
                reply: None,
            })
        }
        Op::Replay { back } => {
            let i = history.len().checked_sub(1 + usize::from(back) % 8)?;
            let mut sent = history[i].clone();
            sent.reply = None;
            Action::Request(sent)
        }
        Op::Advance { choice } => Action::Event(Event::advance_seconds(
            ADVANCES[usize::from(choice) % ADVANCES.len()],
        )),
        Op::AddVm { vm, windows } => Action::Event(add_vm_event(
            usize::from(vm) % VM_COUNT,
            if windows {
                GuestOs::WindowsServer
            } else {
                GuestOs::Other
            },
        )),
        Op::RemoveVm { vm } => Action::Event(Event::RemoveVm(vm_ref(usize::from(vm) % VM_COUNT))),
        Op::SetGuestOs { vm, windows } => {
            let r = vm_ref(usize::from(vm) % VM_COUNT);
            Action::Event(Event::SetVmGuestOs(VmGuestOs {
                account: r.account,
                region: r.region,
                environment_id: r.environment_id,
                vm_id: r.vm_id,
                guest_os: if windows {
                    GuestOs::WindowsServer
                } else {
                    GuestOs::Other
                },
            }))
        }
        Op::ConnectorHealth { connector, health } => Action::Event(health_event(
            &conn(connector),
            CheckResult::ALL[usize::from(health) % CheckResult::ALL.len()],
        )),
        Op::SeedMarketplace { sku, max } => Action::Event(marketplace_event(
            SKUS[2 - usize::from(sku) % 2],
            i64::from(max % 4),
        )),
        Op::Reset => Action::Event(Event::Reset),
    })
}
