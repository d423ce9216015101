//! Concretizing a step: references resolved against the reference model's state, the request
//! or event built in the case's namespace.

use std::cell::Cell;

use serde_json::{json, Value};

use conform_model::{Service, World};

use super::instant::{instant, pick_page};
use super::*;

/// Resolves references and builds the request of one step, in `ns` (the case's namespace:
/// its SKUs, beneficiaries and issuer name, so cases do not meet on a target that cannot reset).
///
/// `isolated`: the target has no control plane, so cases share its state; lists that would read
/// every case's resources are filtered to this case's issuer.
pub fn concretize(step: &Step, ns: &str, isolated: bool, known: &Known, world: &World) -> Concrete {
    concretize_parsed(step, ns, isolated, known, world).0
}

/// [`concretize`], with the call's body as the JSON value it was serialized from, where the
/// step built one (raw and invalid bodies, replays and next pages have none): the audit reads
/// the request's members, and parsing the body again was a tenth of an explored transition.
pub(crate) fn concretize_parsed(
    step: &Step,
    ns: &str,
    isolated: bool,
    known: &Known,
    world: &World,
) -> (Concrete, Option<Value>) {
    let built: Built = Cell::new(None);
    let concrete = build(step, ns, isolated, known, world, &built);
    let parsed = match (&concrete, built.into_inner()) {
        // Only the body `call` made, untouched since (a next page's body is made anew).
        (Concrete::Call { body, .. }, Some((value, at, len))) if body.as_ptr() == at && body.len() == len => {
            Some(value)
        }
        _ => None,
    };
    (concrete, parsed)
}

/// The value `call` serialized last, with the address and length of the bytes it made.
type Built = Cell<Option<(Value, *const u8, usize)>>;

fn build(step: &Step, ns: &str, isolated: bool, known: &Known, world: &World, built: &Built) -> Concrete {
    let call = |who: Who, service: Service, op: &str, body: Value| {
        // Straight into bytes (Display wrote through a formatter: half again as slow). A
        // value's serialization cannot fail: its keys are strings.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        built.set(Some((body, bytes.as_ptr(), bytes.len())));
        Concrete::Call {
            who,
            service,
            op: op.to_string(),
            body: bytes,
        }
    };
    let lm = |who: Who, op: &str, body: Value| call(who, Service::LicenseManager, op, body);
    let evs = |op: &str, body: Value| call(Who::Seller, Service::Evs, op, body);
    let sku = |s: u8| format!("{ns}-sku-{}", s % 2);
    // Made where a step needs them, not for every step.
    let issuer = || format!("Issuer {ns}");
    let fingerprint = || format!("aws:{}:{}:issuer-fingerprint", Who::Seller.account(), issuer());
    let license = |k: u32| pick(&known.licenses, k, NO_LICENSE.to_string());
    let latest = |arn: &str| {
        world
            .lm()
            .license_by_arn(arn)
            .map_or(1, |id| world.lm().license(id).versions.len())
    };
    let connector = |env: u8, k: u32| {
        pick(
            &known.connectors[usize::from(env % 2)],
            k,
            NO_CONNECTOR.to_string(),
        )
    };
    let env_id = |env: u8| ENVIRONMENTS[usize::from(env % 2)];
    let vm_ids = |vms: &[u8]| {
        vms.iter()
            .map(|v| format!("vm-{}", 100 + u32::from(v % 6)))
            .collect::<Vec<_>>()
    };
    match step.clone() {
        Step::CreateLicense {
            sku: s,
            beneficiary,
            max,
            overage,
            check_in,
            ttl,
            borrow,
            early,
            end_minutes,
            token,
            cores,
        } => {
            let mut body = license_content(
                &issuer(),
                max,
                overage,
                check_in,
                ttl,
                borrow,
                early,
                end_minutes.map(|m| world.now_ms() + m * 60_000),
            );
            if let (Some(n), Some(items)) = (cores, body["Entitlements"].as_array_mut()) {
                items.push(json!({"Name": "Core", "Unit": "Count", "MaxCount": n, "AllowCheckIn": check_in}));
            }
            body["ProductSKU"] = json!(sku(s));
            body["Beneficiary"] = json!(format!("{ns}-ben-{}", beneficiary % 2));
            body["ClientToken"] = json!(format!("{ns}-c{token}"));
            lm(Who::Seller, "CreateLicense", body)
        }
        Step::CreateLicenseVersion {
            license: k,
            max,
            deactivate,
            reset,
            source,
            token,
        } => {
            let arn = license(k);
            let mut body = license_content(&issuer(), max, false, true, 1, true, true, None);
            body["LicenseArn"] = json!(arn);
            body["Status"] = json!(if deactivate { "DEACTIVATED" } else { "AVAILABLE" });
            body["ResetUsage"] = json!(reset);
            body["ClientToken"] = json!(format!("{ns}-v{token}"));
            if let Some(right) = source {
                let v = latest(&arn);
                body["SourceVersion"] = json!(if right { v } else { v + 1 }.to_string());
            }
            lm(Who::Seller, "CreateLicenseVersion", body)
        }
        Step::Checkout {
            who,
            sku: s,
            beneficiary,
            qty,
            perpetual,
            marketplace,
            token,
            extra,
        } => {
            let (product, print) = if marketplace {
                (
                    format!("{ns}-mkt-{}", s % 2),
                    "aws:294406891311:AWS/Marketplace:issuer-fingerprint".to_string(),
                )
            } else {
                (sku(s), fingerprint())
            };
            let mut body = json!({
                "ProductSKU": product, "CheckoutType": if perpetual { "PERPETUAL" } else { "PROVISIONAL" },
                "KeyFingerprint": print, "ClientToken": format!("{ns}-k{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty.0}, {"Name": "Flag", "Unit": "None"}],
            });
            if let (Some(extra), Some(items)) = (extra, body["Entitlements"].as_array_mut()) {
                items.push(extra_item(extra));
            }
            if let Some(b) = beneficiary {
                body["Beneficiary"] = json!(format!("{ns}-ben-{}", b % 2));
            }
            lm(who, "CheckoutLicense", body)
        }
        Step::Borrow {
            who,
            license: k,
            qty,
            token,
            extra,
        } => {
            let mut items = vec![json!({"Name": "Seat", "Unit": "Count", "Value": qty.0})];
            items.extend(extra.map(extra_item));
            lm(
                who,
                "CheckoutBorrowLicense",
                json!({
                    "LicenseArn": license(k), "DigitalSignatureMethod": "JWT_PS384", "ClientToken": format!("{ns}-b{token}"),
                    "Entitlements": items,
                }),
            )
        }
        Step::CheckIn { who, token } => {
            let t = pick(&known.tokens, token, (who, NO_TOKEN.to_string())).1;
            lm(who, "CheckInLicense", json!({"LicenseConsumptionToken": t}))
        }
        Step::Extend { who, token, dry_run } => {
            let t = pick(&known.tokens, token, (who, NO_TOKEN.to_string())).1;
            lm(
                who,
                "ExtendLicenseConsumption",
                json!({"LicenseConsumptionToken": t, "DryRun": dry_run}),
            )
        }
        Step::DeleteLicense {
            license: k,
            right_source,
        } => {
            let arn = license(k);
            let v = latest(&arn);
            lm(
                Who::Seller,
                "DeleteLicense",
                json!({"LicenseArn": arn, "SourceVersion": if right_source { v } else { v + 1 }.to_string()}),
            )
        }
        Step::Read { who, license: k, op } => {
            let op = match op {
                ReadOp::GetLicense => "GetLicense",
                ReadOp::ListLicenseVersions => "ListLicenseVersions",
                ReadOp::GetLicenseUsage => "GetLicenseUsage",
            };
            lm(who, op, json!({"LicenseArn": license(k)}))
        }
        Step::ListLicenses { sku: s, max } => {
            let mut body = json!({"Filters": [{"Name": "Fingerprint", "Values": [fingerprint()]}]});
            if let Some(s) = s {
                body["Filters"] = json!([{"Name": "ProductSKU", "Values": [sku(s)]}]);
            }
            if let Some(m) = max {
                body["MaxResults"] = json!(1 + m % 3);
            }
            lm(Who::Seller, "ListLicenses", body)
        }
        Step::CreateGrant {
            license: k,
            to,
            token,
        } => lm(
            Who::Seller,
            "CreateGrant",
            json!({
                "ClientToken": format!("{ns}-g{token}"), "GrantName": "Buyer seats", "LicenseArn": license(k),
                "Principals": [format!("arn:aws:iam::{}:root", to.account())], "HomeRegion": "us-east-1",
                "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "CheckoutBorrowLicense", "ExtendConsumptionLicense"],
            }),
        ),
        Step::GrantAction { who, grant, action } => {
            let arn = pick(&known.grants, grant, NO_GRANT.to_string());
            let version = world
                .lm()
                .grants()
                .iter()
                .find(|g| g.arn == arn)
                .map_or("1".to_string(), |g| g.version());
            match action {
                GrantActionKind::Accept => lm(who, "AcceptGrant", json!({"GrantArn": arn})),
                GrantActionKind::Reject => lm(who, "RejectGrant", json!({"GrantArn": arn})),
                GrantActionKind::Activate => lm(
                    who,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("{ns}-a{grant}-{version}"), "Status": "ACTIVE"}),
                ),
                GrantActionKind::Disable => lm(
                    who,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("{ns}-d{grant}-{version}"), "Status": "DISABLED"}),
                ),
                GrantActionKind::Delete => {
                    lm(who, "DeleteGrant", json!({"GrantArn": arn, "Version": version}))
                }
                GrantActionKind::Get => lm(who, "GetGrant", json!({"GrantArn": arn})),
                // The issuer takes operations away: only checkouts remain.
                GrantActionKind::Narrow => lm(
                    who,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("{ns}-w{grant}-{version}"), "AllowedOperations": ["CheckoutLicense"]}),
                ),
            }
        }
        Step::ListReceived { who, op } => {
            let op = match op {
                ReceivedOp::ListReceivedLicenses => "ListReceivedLicenses",
                ReceivedOp::ListReceivedGrants => "ListReceivedGrants",
                ReceivedOp::ListDistributedGrants => "ListDistributedGrants",
            };
            let filter = if op == "ListReceivedLicenses" {
                "IssuerName"
            } else {
                "LicenseIssuerName"
            };
            let body = if isolated {
                json!({"Filters": [{"Name": filter, "Values": [issuer()]}]})
            } else {
                json!({})
            };
            lm(who, op, body)
        }
        Step::CreateConnector { env, token } => evs(
            "CreateEnvironmentConnector",
            json!({
                "environmentId": env_id(env), "type": "VCENTER", "applianceFqdn": format!("vcenter{token}.{ns}.example.com"),
                "secretIdentifier": format!("{ns}-secret"), "clientToken": format!("{ns}-n{token}"),
            }),
        ),
        Step::DeleteConnector { env, connector: k } => evs(
            "DeleteEnvironmentConnector",
            json!({"environmentId": env_id(env), "connectorId": connector(env, k)}),
        ),
        Step::CreateEntitlement {
            env,
            connector: k,
            vms,
        }
        | Step::DeleteEntitlement {
            env,
            connector: k,
            vms,
        } => {
            let op = if matches!(step, Step::CreateEntitlement { .. }) {
                "CreateEntitlement"
            } else {
                "DeleteEntitlement"
            };
            evs(
                op,
                json!({"environmentId": env_id(env), "connectorId": connector(env, k), "entitlementType": "WINDOWS_SERVER", "vmIds": vm_ids(&vms)}),
            )
        }
        Step::ListEntitlements {
            env,
            connector: k,
            max,
        } => {
            let mut body = json!({"environmentId": env_id(env), "connectorId": connector(env, k), "entitlementType": "WINDOWS_SERVER"});
            if let Some(m) = max {
                body["maxResults"] = json!(1 + u32::from(m % 3));
            }
            evs("ListVmEntitlements", body)
        }
        Step::Advance { seconds } => Concrete::Event(json!({"event": "advance_clock", "seconds": seconds})),
        Step::AdvanceTo { to, item, offset_ms } => {
            let now = world.now_ms();
            let at = instant(to, item, known, world);
            let delta = at.map_or(0, |t| (t + i64::from(offset_ms) - now).max(0));
            Concrete::Event(
                json!({"event": "advance_clock", "seconds": delta / 1000, "millis": delta % 1000}),
            )
        }
        Step::Marketplace { sku: s, max } => Concrete::Event(json!({
            "event": "seed_marketplace_license", "buyer_account": Who::Buyer.account(), "product_sku": format!("{ns}-mkt-{}", s % 2),
            "entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": max, "AllowCheckIn": true}, {"Name": "Flag", "Unit": "None", "Value": "On"}]
        })),
        Step::AddVm { env, vm, windows } => Concrete::Event(json!({
            "event": "add_vm", "environment_id": env_id(env), "account": Who::Seller.account(), "region": "us-east-1", "vm_id": format!("vm-{}", 100 + u32::from(vm % 6)),
            "name": format!("host-{vm}"), "guest_os": if windows { "windows_server" } else { "other" },
        })),
        Step::RemoveVm { env, vm } => Concrete::Event(
            json!({"event": "remove_vm", "environment_id": env_id(env), "account": Who::Seller.account(), "region": "us-east-1", "vm_id": format!("vm-{}", 100 + u32::from(vm % 6))}),
        ),
        Step::SetGuestOs { env, vm, windows } => Concrete::Event(json!({
            "event": "set_vm_guest_os", "environment_id": env_id(env), "account": Who::Seller.account(), "region": "us-east-1", "vm_id": format!("vm-{}", 100 + u32::from(vm % 6)),
            "guest_os": if windows { "windows_server" } else { "other" },
        })),
        Step::SetHealth {
            env,
            connector: k,
            health,
        } => {
            let health = match health {
                Health::Passed => "PASSED",
                Health::Failed => "FAILED",
                Health::Unknown => "UNKNOWN",
            };
            Concrete::Event(
                json!({"event": "set_connector_health", "connector_id": connector(env, k), "account": Who::Seller.account(), "region": "us-east-1", "health": health}),
            )
        }
        Step::Constraint { index } => constraint_call(invalid_cases(), index),
        Step::AtLimit { index } => constraint_call(at_limit_cases(), index),
        Step::Refusal { of } => concretize(&of, ns, isolated, known, world),
        Step::EvsRead { env, op } => match op {
            EvsReadOp::GetEnvironment => evs("GetEnvironment", json!({"environmentId": env_id(env)})),
            EvsReadOp::ListEnvironmentConnectors => evs(
                "ListEnvironmentConnectors",
                json!({"environmentId": env_id(env), "maxResults": 1 + u32::from(env % 3)}),
            ),
            EvsReadOp::ListEnvironments => evs("ListEnvironments", json!({"state": ["CREATED", "CREATING"]})),
        },
        Step::UpdateConnector {
            env,
            connector: k,
            fqdn,
        } => {
            let mut body = json!({"environmentId": env_id(env), "connectorId": connector(env, k)});
            if fqdn {
                body["applianceFqdn"] = json!(format!("vcenter-new.{ns}.example.com"));
            } else {
                body["secretIdentifier"] = json!(format!("{ns}-secret-2"));
            }
            evs("UpdateEnvironmentConnector", body)
        }
        Step::Replay { back } => {
            match known.calls.len().checked_sub(1 + usize::from(back % 8)) {
                Some(i) => Concrete::clone(&known.calls[i]),
                // Nothing sent yet: a read that any target takes, control plane or not.
                None => {
                    let list = Step::ListLicenses { sku: None, max: None };
                    concretize(&list, ns, isolated, known, world)
                }
            }
        }
        Step::NextPage { page } => match pick_page(known, page) {
            Some(Page { call, token, .. }) => with_next_token(call, &token),
            None => {
                let list = Step::ListLicenses { sku: None, max: None };
                concretize(&list, ns, isolated, known, world)
            }
        },
        Step::Reset => Concrete::Event(json!({"event": "reset"})),
        Step::Raw { operation, who, body } => {
            let mut ids = Vec::new();
            let named = [
                ("license", &known.licenses),
                ("grant", &known.grants),
                ("cnctr", &known.connectors[0]),
            ];
            for (name, items) in named {
                for (i, id) in items.iter().rev().take(3).enumerate() {
                    ids.push((format!("<{name}-{}>", i + 1), id.clone()));
                }
            }
            for (i, (_, id)) in known.tokens.iter().rev().take(3).enumerate() {
                ids.push((format!("<token-{}>", i + 1), id.clone()));
            }
            for (i, env) in ENVIRONMENTS.iter().enumerate() {
                ids.push((format!("<env-{}>", i + 1), env.to_string()));
            }
            Concrete::Call {
                who,
                service: service_of(&operation),
                op: operation,
                body: substitute(&body, &ids),
            }
        }
        Step::Invalid { operation, body } => {
            let service = service_of(&operation);
            let body: Vec<u8> = match body {
                InvalidBody::Unterminated => b"{\"unterminated".to_vec(),
                InvalidBody::Array => b"[]".to_vec(),
                InvalidBody::WrongTypes => json!({"LicenseArn": 7, "environmentId": 7})
                    .to_string()
                    .into_bytes(),
                InvalidBody::ZeroMax => json!({"MaxResults": 0, "maxResults": 0}).to_string().into_bytes(),
                InvalidBody::BadTokens => json!({"ClientToken": "has space", "clientToken": "\u{7f}"})
                    .to_string()
                    .into_bytes(),
                InvalidBody::Empty => b"{}".to_vec(),
            };
            Concrete::Call {
                who: Who::Seller,
                service,
                op: operation,
                body,
            }
        }
    }
}

/// `call` (a list request) asking for the page after `token`: `NextToken` in License
/// Manager, `nextToken` in EVS.
fn with_next_token(mut call: Concrete, token: &str) -> Concrete {
    if let Concrete::Call { service, body, .. } = &mut call {
        let member = match service {
            Service::LicenseManager => "NextToken",
            Service::Evs => "nextToken",
        };
        let mut request: Value = serde_json::from_slice(body).unwrap_or_else(|_| json!({}));
        if let Some(fields) = request.as_object_mut() {
            fields.insert(member.to_string(), json!(token));
        }
        *body = request.to_string().into_bytes();
    }
    call
}

/// The request of the `index`-th of `cases` (modulo their number), sent by the seller.
fn constraint_call(cases: &[crate::specs::cases::Case], index: u32) -> Concrete {
    match cases.get(index as usize % cases.len().max(1)) {
        Some(case) => Concrete::Call {
            who: Who::Seller,
            service: case.service,
            op: case.operation.to_string(),
            body: case.body.to_string().into_bytes(),
        },
        None => Concrete::Call {
            who: Who::Seller,
            service: Service::LicenseManager,
            op: "ListLicenses".into(),
            body: b"{}".to_vec(),
        },
    }
}

/// The service whose model names `operation`; an operation no model names goes to License
/// Manager, as any unknown target would.
fn service_of(operation: &str) -> Service {
    all_operations()
        .into_iter()
        .find(|(_, name)| *name == operation)
        .map_or(Service::LicenseManager, |(service, _)| service)
}

/// Replaces each placeholder (`<license-1>`, ...) in `body` by its id.
pub(crate) fn substitute(body: &[u8], ids: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    'scan: while i < body.len() {
        if body[i] == b'<' {
            for (name, id) in ids {
                if body[i..].starts_with(name.as_bytes()) {
                    out.extend_from_slice(id.as_bytes());
                    i += name.len();
                    continue 'scan;
                }
            }
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// The item `extra` stands for, beside the seats of a checkout or borrow.
fn extra_item(extra: ExtraItem) -> Value {
    let (name, unit) = match extra {
        ExtraItem::Core => ("Core", "Count"),
        ExtraItem::Unmatched => ("Spare", "Count"),
        ExtraItem::WrongUnit => ("Seat", "Bytes"),
        ExtraItem::Duplicate => ("Seat", "Count"),
    };
    json!({"Name": name, "Unit": unit, "Value": "1"})
}

#[allow(clippy::too_many_arguments)]
fn license_content(
    issuer: &str,
    max: i64,
    overage: bool,
    check_in: bool,
    ttl: i32,
    borrow: bool,
    early: bool,
    end_ms: Option<i64>,
) -> Value {
    let mut cc = json!({"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": ttl}});
    if borrow {
        cc["BorrowConfiguration"] = json!({"AllowEarlyCheckIn": early, "MaxTimeToLiveInMinutes": ttl + 1});
    }
    let mut validity = json!({"Begin": "2025-01-01T00:00:00Z"});
    if let Some(end) = end_ms {
        validity["End"] = json!(conform_model::timefmt::iso_millis(end));
    }
    json!({
        "LicenseName": "Seats", "ProductName": "Editor", "Issuer": {"Name": issuer}, "HomeRegion": "us-east-1",
        "Validity": validity,
        "Entitlements": [
            {"Name": "Seat", "Unit": "Count", "MaxCount": max, "Overage": overage, "AllowCheckIn": check_in},
            {"Name": "Flag", "Unit": "None", "Value": "On"}
        ],
        "ConsumptionConfiguration": cc,
    })
}
