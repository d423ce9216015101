//! State-aware generation of operation sequences. A case is a list of abstract [`Step`]s whose
//! references (the k-th license, the k-th token) are resolved against the reference model's
//! state when the step runs, so a shrunk sequence still makes sense: removing the step that made
//! license 2 makes later references to it pick another license, not a dangling id.

use rand::{Rng, SeedableRng};
// A named PRNG (as the model's id streams): `StdRng` promises no algorithm across versions, so
// a dependency upgrade could silently change every campaign's cases.
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use conform_model::{Service, World};

pub use crate::accounts::Who;

/// A quantity as sent: mostly well-formed, sometimes not (SPEC 3.4 quantity grammar).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Qty(pub String);

/// One abstract step of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    CreateLicense {
        sku: u8,
        beneficiary: u8,
        max: i64,
        overage: bool,
        check_in: bool,
        ttl: i32,
        borrow: bool,
        early: bool,
        end_minutes: Option<i64>,
        token: u8,
    },
    CreateLicenseVersion {
        license: u32,
        max: i64,
        deactivate: bool,
        reset: bool,
        source: Option<bool>,
        token: u8,
    },
    Checkout {
        who: Who,
        sku: u8,
        beneficiary: Option<u8>,
        qty: Qty,
        perpetual: bool,
        marketplace: bool,
        token: u8,
    },
    Borrow {
        who: Who,
        license: u32,
        qty: Qty,
        token: u8,
    },
    CheckIn {
        who: Who,
        token: u32,
    },
    Extend {
        who: Who,
        token: u32,
        dry_run: bool,
    },
    DeleteLicense {
        license: u32,
        right_source: bool,
    },
    Read {
        who: Who,
        license: u32,
        op: u8,
    },
    ListLicenses {
        sku: Option<u8>,
        max: Option<u8>,
    },
    CreateGrant {
        license: u32,
        to: Who,
        token: u8,
    },
    GrantAction {
        who: Who,
        grant: u32,
        action: u8,
    },
    ListReceived {
        who: Who,
        op: u8,
    },
    CreateConnector {
        env: u8,
        token: u8,
    },
    DeleteConnector {
        env: u8,
        connector: u32,
    },
    CreateEntitlement {
        env: u8,
        connector: u32,
        vms: Vec<u8>,
    },
    DeleteEntitlement {
        env: u8,
        connector: u32,
        vms: Vec<u8>,
    },
    ListEntitlements {
        env: u8,
        connector: u32,
        max: Option<u8>,
    },
    Advance {
        seconds: i64,
    },
    Marketplace {
        sku: u8,
        max: i64,
    },
    AddVm {
        env: u8,
        vm: u8,
        windows: bool,
    },
    RemoveVm {
        env: u8,
        vm: u8,
    },
    SetGuestOs {
        env: u8,
        vm: u8,
        windows: bool,
    },
    SetHealth {
        env: u8,
        connector: u32,
        health: u8,
    },
    Invalid {
        op: u16,
        kind: u8,
    },
    /// A constraint-derived invalid request from specs/ (`specs::cases`), by index.
    Constraint {
        index: u32,
    },
}

/// A step made concrete against the reference model's state: a request or an event, in the
/// reference model's ids.
#[derive(Clone, Debug, PartialEq)]
pub enum Concrete {
    Call {
        who: Who,
        service: Service,
        op: String,
        body: Vec<u8>,
    },
    Event(Value),
}

/// Ids the reference model has handed out in this case, in order of appearance.
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub licenses: Vec<String>,
    pub tokens: Vec<(Who, String)>,
    pub grants: Vec<String>,
    /// Connectors per environment index.
    pub connectors: [Vec<String>; 2],
}

impl Known {
    /// Learns the ids a reply of the reference model carries.
    pub fn learn(&mut self, concrete: &Concrete, reply: &Value) {
        let op = match concrete {
            Concrete::Call { op, .. } => op.as_str(),
            Concrete::Event(e) => e["event"].as_str().unwrap_or_default(),
        };
        let text = |p: &str| reply.pointer(p).and_then(Value::as_str).map(str::to_string);
        match op {
            "CreateLicense" | "seed_marketplace_license" => self.licenses.extend(text("/LicenseArn")),
            "CheckoutLicense" | "CheckoutBorrowLicense" => {
                if let (Some(t), Concrete::Call { who, .. }) = (text("/LicenseConsumptionToken"), concrete) {
                    self.tokens.push((*who, t));
                }
            }
            "CreateGrant" => self.grants.extend(text("/GrantArn")),
            "CreateEnvironmentConnector" => {
                let env = reply.pointer("/connector/environmentId").and_then(Value::as_str);
                if let (Some(id), Some(env)) = (text("/connector/connectorId"), env) {
                    let i = ENVIRONMENTS.iter().position(|e| *e == env).unwrap_or(0);
                    self.connectors[i].push(id);
                }
            }
            _ => {}
        }
        self.licenses.dedup();
        self.grants.dedup();
    }
}

/// The case's seeded environments: a CREATED one and one still CREATING.
pub const ENVIRONMENTS: [&str; 2] = ["env-conform001", "env-conform002"];

fn pick<T: Clone>(items: &[T], k: u32, fallback: T) -> T {
    if items.is_empty() {
        fallback
    } else {
        items[k as usize % items.len()].clone()
    }
}

const NO_LICENSE: &str = "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000";
const NO_GRANT: &str = "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000";
const NO_TOKEN: &str = "00000000000000000000000000000000";
const NO_CONNECTOR: &str = "cnctr-0000000000";

/// The constraint-derived cases of specs/ that break a constraint, in a fixed order.
pub fn invalid_cases() -> &'static [crate::specs::cases::Case] {
    static CASES: std::sync::OnceLock<Vec<crate::specs::cases::Case>> = std::sync::OnceLock::new();
    CASES.get_or_init(|| {
        crate::specs::cases::all_cases()
            .into_iter()
            .filter(|c| !c.valid)
            .collect()
    })
}

/// Every operation a generated request may name, License Manager first.
pub fn all_operations() -> Vec<(Service, &'static str)> {
    let lm = conform_model::lm::LmRequest::OPERATIONS
        .iter()
        .map(|o| (Service::LicenseManager, *o));
    let evs = conform_model::evs::EvsRequest::OPERATIONS
        .iter()
        .map(|o| (Service::Evs, *o));
    lm.chain(evs).collect()
}

/// Resolves references and builds the request of one step, in `ns` (the case's namespace:
/// its SKUs, beneficiaries and issuer name, so cases do not meet on a target that cannot reset).
///
/// `isolated`: the target has no control plane, so cases share its state; lists that would read
/// every case's resources are filtered to this case's issuer.
pub fn concretize(step: &Step, ns: &str, isolated: bool, known: &Known, world: &World) -> Concrete {
    let call = |who: Who, service: Service, op: &str, body: Value| Concrete::Call {
        who,
        service,
        op: op.to_string(),
        body: body.to_string().into_bytes(),
    };
    let lm = |who: Who, op: &str, body: Value| call(who, Service::LicenseManager, op, body);
    let evs = |op: &str, body: Value| call(Who::Seller, Service::Evs, op, body);
    let sku = |s: u8| format!("{ns}-sku-{}", s % 2);
    let issuer = format!("Issuer {ns}");
    let fingerprint = format!("aws:{}:{issuer}:issuer-fingerprint", Who::Seller.account());
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
        } => {
            let mut body = license_content(
                &issuer,
                max,
                overage,
                check_in,
                ttl,
                borrow,
                early,
                end_minutes.map(|m| world.now_ms() + m * 60_000),
            );
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
            let mut body = license_content(&issuer, max, false, true, 1, true, true, None);
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
        } => {
            let (product, print) = if marketplace {
                (
                    format!("{ns}-mkt-{}", s % 2),
                    "aws:294406891311:AWS/Marketplace:issuer-fingerprint".to_string(),
                )
            } else {
                (sku(s), fingerprint.clone())
            };
            let mut body = json!({
                "ProductSKU": product, "CheckoutType": if perpetual { "PERPETUAL" } else { "PROVISIONAL" },
                "KeyFingerprint": print, "ClientToken": format!("{ns}-k{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty.0}, {"Name": "Flag", "Unit": "None"}],
            });
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
        } => lm(
            who,
            "CheckoutBorrowLicense",
            json!({
                "LicenseArn": license(k), "DigitalSignatureMethod": "JWT_PS384", "ClientToken": format!("{ns}-b{token}"),
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty.0}],
            }),
        ),
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
            let op = ["GetLicense", "ListLicenseVersions", "GetLicenseUsage"][usize::from(op % 3)];
            lm(who, op, json!({"LicenseArn": license(k)}))
        }
        Step::ListLicenses { sku: s, max } => {
            let mut body = json!({"Filters": [{"Name": "Fingerprint", "Values": [fingerprint]}]});
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
            match action % 6 {
                0 => lm(who, "AcceptGrant", json!({"GrantArn": arn})),
                1 => lm(who, "RejectGrant", json!({"GrantArn": arn})),
                2 => lm(
                    who,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("{ns}-a{grant}-{version}"), "Status": "ACTIVE"}),
                ),
                3 => lm(
                    who,
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("{ns}-d{grant}-{version}"), "Status": "DISABLED"}),
                ),
                4 => lm(who, "DeleteGrant", json!({"GrantArn": arn, "Version": version})),
                _ => lm(who, "GetGrant", json!({"GrantArn": arn})),
            }
        }
        Step::ListReceived { who, op } => {
            let op = [
                "ListReceivedLicenses",
                "ListReceivedGrants",
                "ListDistributedGrants",
            ][usize::from(op % 3)];
            let filter = if op == "ListReceivedLicenses" {
                "IssuerName"
            } else {
                "LicenseIssuerName"
            };
            let body = if isolated {
                json!({"Filters": [{"Name": filter, "Values": [issuer]}]})
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
            let health = ["PASSED", "FAILED", "UNKNOWN"][usize::from(health % 3)];
            Concrete::Event(
                json!({"event": "set_connector_health", "connector_id": connector(env, k), "account": Who::Seller.account(), "region": "us-east-1", "health": health}),
            )
        }
        Step::Constraint { index } => {
            let cases = invalid_cases();
            let case = &cases[index as usize % cases.len().max(1)];
            call(Who::Seller, case.service, case.operation, case.body.clone())
        }
        Step::Invalid { op, kind } => {
            let ops = all_operations();
            let (service, name) = ops[usize::from(op) % ops.len()];
            let body: Vec<u8> = match kind % 6 {
                0 => b"{\"unterminated".to_vec(),
                1 => b"[]".to_vec(),
                2 => json!({"LicenseArn": 7, "environmentId": 7})
                    .to_string()
                    .into_bytes(),
                3 => json!({"MaxResults": 0, "maxResults": 0}).to_string().into_bytes(),
                4 => json!({"ClientToken": "has space", "clientToken": "\u{7f}"})
                    .to_string()
                    .into_bytes(),
                _ => b"{}".to_vec(),
            };
            Concrete::Call {
                who: Who::Seller,
                service,
                op: name.to_string(),
                body,
            }
        }
    }
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

/// Whether invalid step `op` names a list, which a lenient body turns into a read of the
/// account's every resource.
fn reads_everything(op: u16) -> bool {
    let ops = all_operations();
    ops.get(usize::from(op) % ops.len().max(1))
        .is_some_and(|(_, name)| name.starts_with("List"))
}

/// Relative weights of the step kinds.
#[derive(Clone, Debug)]
pub struct Weights {
    pub license_manager: u32,
    pub evs: u32,
    pub events: u32,
    pub invalid: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            license_manager: 52,
            evs: 24,
            events: 19,
            invalid: 5,
        }
    }
}

/// Draws steps from a seeded RNG, looking at what the case has so far.
pub struct Generator {
    rng: ChaCha8Rng,
    weights: Weights,
    pub services: Vec<Service>,
    pub events: bool,
    /// The target has no control plane (cases share its state): no invalid step may be a list
    /// that reads other cases' resources.
    pub isolated: bool,
}

impl Generator {
    pub fn new(seed: u64, weights: Weights, services: Vec<Service>, events: bool) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            weights,
            services,
            events,
            isolated: false,
        }
    }

    fn qty(&mut self) -> Qty {
        if self.rng.gen_ratio(1, 12) {
            let bad = ["0", "01", "-1", "x", "", "9223372036854775807"];
            Qty(bad[self.rng.gen_range(0..bad.len())].to_string())
        } else {
            Qty(self.rng.gen_range(1..4).to_string())
        }
    }

    fn who(&mut self) -> Who {
        match self.rng.gen_range(0..10) {
            0..=4 => Who::Seller,
            5..=8 => Who::Buyer,
            _ => Who::Stranger,
        }
    }

    /// The next step, given what is known so far.
    pub fn step(&mut self, known: &Known) -> Step {
        let lm = if self.services.contains(&Service::LicenseManager) {
            self.weights.license_manager
        } else {
            0
        };
        let evs = if self.services.contains(&Service::Evs) {
            self.weights.evs
        } else {
            0
        };
        let events = if self.events { self.weights.events } else { 0 };
        let total = lm + evs + events + self.weights.invalid;
        let mut roll = self.rng.gen_range(0..total.max(1));
        if roll < lm {
            return self.lm_step(known);
        }
        roll -= lm;
        if roll < evs {
            return self.evs_step(known);
        }
        roll -= evs;
        if roll < events {
            return self.event_step(known);
        }
        if self.rng.gen_ratio(1, 2) {
            if let Some(index) = self.constraint_case() {
                return Step::Constraint { index };
            }
        }
        let op: u16 = self.rng.gen();
        let mut kind: u8 = self.rng.gen();
        if self.isolated && reads_everything(op) {
            // Only the bodies no list accepts (not JSON, not an object): the others may be
            // answered with every case's resources.
            kind %= 2;
        }
        Step::Invalid { op, kind }
    }

    /// An invalid constraint-derived case of one of the generator's services.
    fn constraint_case(&mut self) -> Option<u32> {
        let cases = invalid_cases();
        for _ in 0..8 {
            let i = self.rng.gen_range(0..cases.len().max(1));
            if cases.get(i).is_some_and(|c| self.services.contains(&c.service)) {
                return Some(i as u32);
            }
        }
        None
    }

    fn index(&mut self, len: usize) -> u32 {
        // Mostly recent items, which is where the interesting state is.
        let len = len.max(1) as u32;
        if self.rng.gen_ratio(2, 3) {
            len - 1 - self.rng.gen_range(0..len.min(3))
        } else {
            self.rng.gen_range(0..len)
        }
    }

    fn lm_step(&mut self, known: &Known) -> Step {
        let r = &mut self.rng;
        let sku = r.gen_range(0..2);
        let token = r.gen_range(0..10);
        match r.gen_range(0..100) {
            0..=11 => Step::CreateLicense {
                sku,
                beneficiary: r.gen_range(0..2),
                max: r.gen_range(0..5),
                overage: r.gen_ratio(1, 5),
                check_in: r.gen_ratio(4, 5),
                ttl: r.gen_range(1..3),
                borrow: r.gen_ratio(1, 2),
                early: r.gen_ratio(1, 2),
                end_minutes: r.gen_ratio(1, 4).then(|| r.gen_range(1..200)),
                token,
            },
            12..=17 => Step::CreateLicenseVersion {
                license: 0,
                max: r.gen_range(0..5),
                deactivate: r.gen_ratio(1, 4),
                reset: r.gen_ratio(1, 5),
                source: [None, Some(true), Some(false)][r.gen_range(0..3)],
                token,
            }
            .with_license(self.index(known.licenses.len())),
            18..=41 => {
                let who = self.who();
                let marketplace = who == Who::Buyer && self.rng.gen_ratio(1, 2);
                let beneficiary =
                    (who == Who::Seller && self.rng.gen_ratio(9, 10)).then(|| self.rng.gen_range(0..2));
                let qty = self.qty();
                Step::Checkout {
                    who,
                    sku,
                    beneficiary,
                    qty,
                    perpetual: self.rng.gen_ratio(1, 5),
                    marketplace,
                    token: self.rng.gen_range(0..20),
                }
            }
            42..=47 => {
                let who = self.who();
                let qty = self.qty();
                Step::Borrow {
                    who,
                    license: self.index(known.licenses.len()),
                    qty,
                    token,
                }
            }
            48..=58 => {
                let who = self.who();
                Step::CheckIn {
                    who,
                    token: self.index(known.tokens.len()),
                }
            }
            59..=65 => {
                let who = self.who();
                Step::Extend {
                    who,
                    token: self.index(known.tokens.len()),
                    dry_run: self.rng.gen_ratio(1, 4),
                }
            }
            66..=68 => Step::DeleteLicense {
                license: self.index(known.licenses.len()),
                right_source: self.rng.gen_ratio(3, 4),
            },
            69..=76 => {
                let who = self.who();
                Step::Read {
                    who,
                    license: self.index(known.licenses.len()),
                    op: self.rng.gen(),
                }
            }
            77..=79 => Step::ListLicenses {
                sku: self.rng.gen_ratio(1, 2).then_some(sku),
                max: self.rng.gen_ratio(1, 2).then(|| self.rng.gen()),
            },
            80..=85 => {
                let to = if self.rng.gen_ratio(4, 5) {
                    Who::Buyer
                } else {
                    Who::Stranger
                };
                Step::CreateGrant {
                    license: self.index(known.licenses.len()),
                    to,
                    token,
                }
            }
            86..=95 => {
                let who = self.who();
                Step::GrantAction {
                    who,
                    grant: self.index(known.grants.len()),
                    action: self.rng.gen(),
                }
            }
            _ => {
                let who = self.who();
                Step::ListReceived {
                    who,
                    op: self.rng.gen(),
                }
            }
        }
    }

    fn evs_step(&mut self, known: &Known) -> Step {
        let env = if self.rng.gen_ratio(9, 10) { 0 } else { 1 };
        let connector = self.index(known.connectors[usize::from(env)].len());
        let vms: Vec<u8> = (0..self.rng.gen_range(1..4))
            .map(|_| self.rng.gen_range(0..6))
            .collect();
        match self.rng.gen_range(0..100) {
            0..=14 => Step::CreateConnector {
                env,
                token: self.rng.gen(),
            },
            15..=19 => Step::DeleteConnector { env, connector },
            20..=59 => Step::CreateEntitlement { env, connector, vms },
            60..=79 => Step::DeleteEntitlement { env, connector, vms },
            _ => Step::ListEntitlements {
                env,
                connector,
                max: self.rng.gen_ratio(1, 3).then(|| self.rng.gen()),
            },
        }
    }

    fn event_step(&mut self, known: &Known) -> Step {
        let env = if self.rng.gen_ratio(9, 10) { 0 } else { 1 };
        let vm = self.rng.gen_range(0..6);
        let evs = self.services.contains(&Service::Evs);
        let lm = self.services.contains(&Service::LicenseManager);
        match self.rng.gen_range(0..100) {
            0..=39 => Step::Advance {
                seconds: [1, 30, 299, 300, 300, 300, 1800, 3600, 86_400][self.rng.gen_range(0..9)],
            },
            40..=49 if lm => Step::Marketplace {
                sku: self.rng.gen_range(0..2),
                max: self.rng.gen_range(0..4),
            },
            50..=61 if evs => Step::AddVm {
                env,
                vm,
                windows: self.rng.gen_ratio(4, 5),
            },
            62..=69 if evs => Step::RemoveVm { env, vm },
            70..=77 if evs => Step::SetGuestOs {
                env,
                vm,
                windows: self.rng.gen_ratio(1, 2),
            },
            78..=99 if evs => {
                let connector = self.index(known.connectors[usize::from(env)].len());
                // FAILED most often: it is what moves entitlements to AT_RISK.
                let health = [1, 1, 2, 0][self.rng.gen_range(0..4)];
                Step::SetHealth {
                    env,
                    connector,
                    health,
                }
            }
            _ => Step::Advance { seconds: 300 },
        }
    }
}

impl Step {
    fn with_license(mut self, k: u32) -> Step {
        if let Step::CreateLicenseVersion { license, .. } = &mut self {
            *license = k;
        }
        self
    }
}

/// The events that set up a case: its two environments (owned by the seller) with VMs.
pub fn case_fixtures() -> Vec<Value> {
    let owner = Who::Seller.account();
    let mut out = vec![
        json!({"event": "seed_evs_environment", "environment_id": ENVIRONMENTS[0], "state": "CREATED", "name": "conform-a", "account": owner, "region": "us-east-1"}),
        json!({"event": "seed_evs_environment", "environment_id": ENVIRONMENTS[1], "state": "CREATING", "name": "conform-b", "account": owner, "region": "us-east-1"}),
    ];
    for vm in 0..4u32 {
        out.push(json!({
            "event": "add_vm", "environment_id": ENVIRONMENTS[0], "vm_id": format!("vm-{}", 100 + vm), "account": owner, "region": "us-east-1",
            "name": format!("host-{vm}"), "guest_os": if vm == 3 { "other" } else { "windows_server" },
        }));
    }
    out
}
