//! Property tests over random License Manager operation sequences (valid and invalid requests,
//! clock advances): the invariants of SPEC 3.10 after every step (`conform_model::invariants`,
//! shared with the fuzz targets), determinism (SPEC 2), and request round trips.

// Test scaffolding: generated steps carry many knobs and events travel in Err; neither is API.
#![allow(clippy::too_many_arguments, clippy::result_large_err, clippy::type_complexity)]

use crate::support::lm::{BUYER, SELLER, STRANGER};
use conform_model::invariants;
use conform_model::lm::LmRequest;
use conform_model::{Caller, Event, Policy, Service, World};
use proptest::prelude::*;
use serde_json::{json, Value};

const SKUS: [&str; 2] = ["sku-a", "sku-b"];
const BENEFICIARIES: [&str; 2] = ["ben-1", "ben-2"];

#[derive(Clone, Debug)]
enum Step {
    Create {
        sku: usize,
        ben: usize,
        max: i64,
        overage: bool,
        check_in: bool,
        ttl: i32,
        borrow: bool,
        end_minutes: Option<i64>,
        token: u8,
    },
    Version {
        license: usize,
        max: i64,
        deactivate: bool,
        reset: bool,
        right_source: Option<bool>,
        token: u8,
    },
    Checkout {
        caller: usize,
        sku: usize,
        ben: Option<usize>,
        qty: String,
        perpetual: bool,
        token: u8,
    },
    Borrow {
        caller: usize,
        license: usize,
        qty: String,
        token: u8,
    },
    CheckIn {
        caller: usize,
        token: usize,
    },
    Extend {
        caller: usize,
        token: usize,
        dry_run: bool,
    },
    Delete {
        license: usize,
        right_source: bool,
    },
    Read {
        caller: usize,
        license: usize,
        op: usize,
    },
    List {
        sku: Option<usize>,
        max: Option<i32>,
    },
    Advance {
        seconds: i64,
    },
    Marketplace {
        max: i64,
    },
    Replay {
        back: usize,
    },
    Garbage {
        op: usize,
        body: Vec<u8>,
    },
    WrongType {
        op: usize,
        member: usize,
    },
    Grant {
        license: usize,
        to: usize,
        token: u8,
    },
    GrantChange {
        grant: usize,
        action: usize,
        caller: usize,
    },
    BuyerCheckout {
        sku: usize,
        qty: String,
        token: u8,
    },
}

fn qty() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (1i64..4).prop_map(|q| q.to_string()),
        1 => prop_oneof![Just("0".to_string()), Just("01".to_string()), Just("-1".to_string()), Just("x".to_string()), Just("9223372036854775807".to_string())],
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..2usize, 0..2usize, 0i64..5, any::<bool>(), any::<bool>(), 1i32..3, any::<bool>(), proptest::option::of(1i64..200), 0u8..6)
            .prop_map(|(sku, ben, max, overage, check_in, ttl, borrow, end_minutes, token)| Step::Create { sku, ben, max, overage, check_in, ttl, borrow, end_minutes, token }),
        2 => (any::<usize>(), 0i64..5, any::<bool>(), any::<bool>(), proptest::option::of(any::<bool>()), 0u8..6)
            .prop_map(|(license, max, deactivate, reset, right_source, token)| Step::Version { license, max, deactivate, reset, right_source, token }),
        6 => (0..3usize, 0..2usize, proptest::option::of(0..2usize), qty(), any::<bool>(), 0u8..12)
            .prop_map(|(caller, sku, ben, qty, perpetual, token)| Step::Checkout { caller, sku, ben, qty, perpetual, token }),
        2 => (0..3usize, any::<usize>(), qty(), 0u8..12).prop_map(|(caller, license, qty, token)| Step::Borrow { caller, license, qty, token }),
        3 => (0..3usize, any::<usize>()).prop_map(|(caller, token)| Step::CheckIn { caller, token }),
        2 => (0..3usize, any::<usize>(), any::<bool>()).prop_map(|(caller, token, dry_run)| Step::Extend { caller, token, dry_run }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(license, right_source)| Step::Delete { license, right_source }),
        2 => (0..3usize, any::<usize>(), 0..3usize).prop_map(|(caller, license, op)| Step::Read { caller, license, op }),
        1 => (proptest::option::of(0..2usize), proptest::option::of(1i32..3)).prop_map(|(sku, max)| Step::List { sku, max }),
        3 => prop_oneof![0i64..120, 3000i64..4000, Just(86_400i64)].prop_map(|seconds| Step::Advance { seconds }),
        1 => (0i64..4).prop_map(|max| Step::Marketplace { max }),
        2 => (1usize..6).prop_map(|back| Step::Replay { back }),
        1 => (0..LmRequest::OPERATIONS.len(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(op, body)| Step::Garbage { op, body }),
        1 => (0..LmRequest::OPERATIONS.len(), 0..8usize).prop_map(|(op, member)| Step::WrongType { op, member }),
        2 => (any::<usize>(), 1..3usize, 0u8..4).prop_map(|(license, to, token)| Step::Grant { license, to, token }),
        3 => (any::<usize>(), 0..6usize, 0..3usize).prop_map(|(grant, action, caller)| Step::GrantChange { grant, action, caller }),
        3 => (0..2usize, qty(), 0u8..12).prop_map(|(sku, qty, token)| Step::BuyerCheckout { sku, qty, token }),
    ]
}

fn caller(i: usize) -> Caller {
    Caller::new([SELLER, BUYER, STRANGER][i % 3], "us-east-1")
}

/// A request as sent: who, which operation, which bytes.
#[derive(Clone, Debug)]
struct Sent {
    caller: Caller,
    op: String,
    body: Vec<u8>,
}

fn license_arn(w: &World, i: usize) -> String {
    let ls = w.lm().licenses();
    if ls.is_empty() {
        "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000".into()
    } else {
        ls[i % ls.len()].arn.clone()
    }
}

fn token_id(w: &World, i: usize) -> String {
    let ts = w.lm().tokens();
    if ts.is_empty() {
        "00000000000000000000000000000000".into()
    } else {
        ts[i % ts.len()].id.clone()
    }
}

fn license_body(
    sku: usize,
    ben: usize,
    max: i64,
    overage: bool,
    check_in: bool,
    ttl: i32,
    borrow: bool,
    end_ms: Option<i64>,
) -> Value {
    let mut cc = json!({"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": ttl}});
    if borrow {
        cc["BorrowConfiguration"] = json!({"AllowEarlyCheckIn": check_in, "MaxTimeToLiveInMinutes": ttl + 1});
    }
    let mut validity = json!({"Begin": "2025-01-01T00:00:00Z"});
    if let Some(end) = end_ms {
        validity["End"] = json!(conform_model::timefmt::iso_millis(end));
    }
    json!({
        "LicenseName": "L", "ProductName": "P", "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "ProductSKU": SKUS[sku], "Beneficiary": BENEFICIARIES[ben], "Validity": validity,
        "Entitlements": [
            {"Name": "Seat", "Unit": "Count", "MaxCount": max, "Overage": overage, "AllowCheckIn": check_in},
            {"Name": "Flag", "Unit": "None", "Value": "On"}
        ],
        "ConsumptionConfiguration": cc,
    })
}

/// Turns a generated step into a concrete request against the current state (or an event).
fn concretize(w: &World, step: &Step, history: &[Sent]) -> Result<Sent, Event> {
    let sent = |c: Caller, op: &str, body: Value| {
        Ok(Sent {
            caller: c,
            op: op.into(),
            body: body.to_string().into_bytes(),
        })
    };
    match step.clone() {
        Step::Create {
            sku,
            ben,
            max,
            overage,
            check_in,
            ttl,
            borrow,
            end_minutes,
            token,
        } => {
            let mut b = license_body(
                sku,
                ben,
                max,
                overage,
                check_in,
                ttl,
                borrow,
                end_minutes.map(|m| w.now_ms() + m * 60_000),
            );
            b["ClientToken"] = json!(format!("c{token}"));
            sent(caller(0), "CreateLicense", b)
        }
        Step::Version {
            license,
            max,
            deactivate,
            reset,
            right_source,
            token,
        } => {
            let arn = license_arn(w, license);
            let mut b = license_body(0, 0, max, false, true, 1, true, None);
            let o = b.as_object_mut().expect("object");
            o.remove("ProductSKU");
            o.remove("Beneficiary");
            b["LicenseArn"] = json!(arn);
            b["Status"] = json!(if deactivate { "DEACTIVATED" } else { "AVAILABLE" });
            b["ResetUsage"] = json!(reset);
            b["ClientToken"] = json!(format!("v{token}"));
            if let Some(right) = right_source {
                let latest = w
                    .lm()
                    .license_by_arn(&arn)
                    .map(|id| w.lm().license(id).versions.len())
                    .unwrap_or(1);
                b["SourceVersion"] = json!(if right {
                    latest.to_string()
                } else {
                    (latest + 1).to_string()
                });
            }
            sent(caller(0), "CreateLicenseVersion", b)
        }
        Step::Checkout {
            caller: c,
            sku,
            ben,
            qty,
            perpetual,
            token,
        } => {
            let market = c == 1 && ben.is_none();
            let mut b = json!({
                "ProductSKU": if market { "mkt" } else { SKUS[sku] },
                "CheckoutType": if perpetual { "PERPETUAL" } else { "PROVISIONAL" },
                "KeyFingerprint": if market { crate::support::lm::MARKETPLACE_FINGERPRINT } else { "aws:111122223333:Example Corp:issuer-fingerprint" },
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty}, {"Name": "Flag", "Unit": "None"}],
                "ClientToken": format!("k{token}"),
            });
            if let Some(ben) = ben {
                b["Beneficiary"] = json!(BENEFICIARIES[ben]);
            }
            sent(caller(c), "CheckoutLicense", b)
        }
        Step::Borrow {
            caller: c,
            license,
            qty,
            token,
        } => sent(
            caller(c),
            "CheckoutBorrowLicense",
            json!({
                "LicenseArn": license_arn(w, license), "DigitalSignatureMethod": "JWT_PS384",
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty}], "ClientToken": format!("b{token}"),
            }),
        ),
        Step::CheckIn { caller: c, token } => sent(
            caller(c),
            "CheckInLicense",
            json!({"LicenseConsumptionToken": token_id(w, token)}),
        ),
        Step::Extend {
            caller: c,
            token,
            dry_run,
        } => sent(
            caller(c),
            "ExtendLicenseConsumption",
            json!({"LicenseConsumptionToken": token_id(w, token), "DryRun": dry_run}),
        ),
        Step::Delete {
            license,
            right_source,
        } => {
            let arn = license_arn(w, license);
            let latest = w
                .lm()
                .license_by_arn(&arn)
                .map(|id| w.lm().license(id).versions.len())
                .unwrap_or(1);
            let v = if right_source { latest } else { latest + 1 };
            sent(
                caller(0),
                "DeleteLicense",
                json!({"LicenseArn": arn, "SourceVersion": v.to_string()}),
            )
        }
        Step::Read {
            caller: c,
            license,
            op,
        } => {
            let op = ["GetLicense", "ListLicenseVersions", "GetLicenseUsage"][op];
            sent(caller(c), op, json!({"LicenseArn": license_arn(w, license)}))
        }
        Step::List { sku, max } => {
            let mut b = json!({});
            if let Some(s) = sku {
                b["Filters"] = json!([{"Name": "ProductSKU", "Values": [SKUS[s]]}]);
            }
            if let Some(m) = max {
                b["MaxResults"] = json!(m);
            }
            sent(caller(0), "ListLicenses", b)
        }
        Step::Advance { seconds } => Err(Event::advance_seconds(seconds)),
        Step::Marketplace { max } => Err(serde_json::from_value(json!({
            "event": "seed_marketplace_license", "buyer_account": BUYER, "product_sku": "mkt",
            "entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": max, "AllowCheckIn": true}]
        }))
        .expect("event")),
        Step::Replay { back } => match history.len().checked_sub(back) {
            Some(i) => Ok(history[i].clone()),
            None => Err(Event::advance_seconds(0)),
        },
        Step::Grant { license, to, token } => sent(
            caller(0),
            "CreateGrant",
            json!({
                "ClientToken": format!("g{token}"), "GrantName": "G", "LicenseArn": license_arn(w, license),
                "Principals": [format!("arn:aws:iam::{}:root", caller(to).account)], "HomeRegion": "us-east-1",
                "AllowedOperations": ["CheckoutLicense", "CheckInLicense", "CheckoutBorrowLicense", "ExtendConsumptionLicense"],
            }),
        ),
        Step::GrantChange {
            grant,
            action,
            caller: c,
        } => {
            let gs = w.lm().grants();
            let (arn, version) = if gs.is_empty() {
                (
                    "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000"
                        .to_string(),
                    "1".to_string(),
                )
            } else {
                let g = &gs[grant % gs.len()];
                (g.arn.clone(), g.version())
            };
            match action {
                0 => sent(caller(c), "AcceptGrant", json!({"GrantArn": arn})),
                1 => sent(caller(c), "RejectGrant", json!({"GrantArn": arn})),
                2 => sent(
                    caller(c),
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("a{grant}"), "Status": "ACTIVE"}),
                ),
                3 => sent(
                    caller(c),
                    "CreateGrantVersion",
                    json!({"GrantArn": arn, "ClientToken": format!("d{grant}"), "Status": "DISABLED"}),
                ),
                4 => sent(
                    caller(c),
                    "DeleteGrant",
                    json!({"GrantArn": arn, "Version": version}),
                ),
                _ => sent(caller(c), "GetGrant", json!({"GrantArn": arn})),
            }
        }
        Step::BuyerCheckout { sku, qty, token } => sent(
            caller(1),
            "CheckoutLicense",
            json!({
                "ProductSKU": SKUS[sku], "CheckoutType": "PROVISIONAL", "KeyFingerprint": "aws:111122223333:Example Corp:issuer-fingerprint",
                "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": qty}], "ClientToken": format!("bk{token}"),
            }),
        ),
        Step::Garbage { op, body } => Ok(Sent {
            caller: caller(0),
            op: LmRequest::OPERATIONS[op].into(),
            body,
        }),
        Step::WrongType { op, member } => {
            let members = [
                "LicenseArn",
                "ProductSKU",
                "Entitlements",
                "ClientToken",
                "MaxResults",
                "CheckoutType",
                "Filters",
                "LicenseConsumptionToken",
            ];
            let wrong = [
                json!(5),
                json!({"a": 1}),
                json!("x"),
                json!([1]),
                json!(1.5),
                json!(true),
                json!("y"),
                json!(-1),
            ];
            let b = json!({ members[member]: wrong[member] });
            Ok(Sent {
                caller: caller(0),
                op: LmRequest::OPERATIONS[op].into(),
                body: b.to_string().into_bytes(),
            })
        }
    }
}

/// What must not change on a refused request or an idempotent replay.
fn digest(w: &World) -> String {
    invariants::lm_digest(w)
}

/// SPEC 3.2 `access`, 3.3, 3.9: a successful read needs the issuer or a visible grant; a
/// successful checkout or borrow needs the issuer or an ACTIVE grant listing the operation. So a
/// stranger never reads or checks out another account's license.
fn check_access(w: &World, sent: &Sent, reply: &Value) -> Result<(), String> {
    use conform_model::lm::types::{AllowedOperation, GrantStatus, GrantType};
    let needed = match sent.op.as_str() {
        "CheckoutLicense" => Some(AllowedOperation::CheckoutLicense),
        "CheckoutBorrowLicense" => Some(AllowedOperation::CheckoutBorrowLicense),
        "GetLicense" | "ListLicenseVersions" | "GetLicenseUsage" => None,
        _ => return Ok(()),
    };
    let arn = reply["LicenseArn"]
        .as_str()
        .or(reply["License"]["LicenseArn"].as_str())
        .or(reply["Licenses"][0]["LicenseArn"].as_str());
    let arn = match (arn, serde_json::from_slice::<Value>(&sent.body)) {
        (Some(a), _) => a.to_string(),
        (None, Ok(body)) => match body["LicenseArn"].as_str() {
            Some(a) => a.to_string(),
            None => return Ok(()),
        },
        (None, Err(_)) => return Ok(()),
    };
    let Some(id) = w.lm().license_by_arn(&arn) else {
        return Err(format!("{} answered for unknown {arn}", sent.op));
    };
    if w.lm().license(id).issuer_account == sent.caller.account {
        return Ok(());
    }
    let grants: Vec<_> = w
        .lm()
        .grants()
        .iter()
        .filter(|g| g.license == id && g.grantee_account == sent.caller.account)
        .collect();
    let ok = match needed {
        // Written out here rather than through GrantRecord's helpers, so a bug there shows.
        Some(op) => grants.iter().any(|g| {
            let v = g.current();
            v.status == GrantStatus::Active
                && g.grant_type == GrantType::BuyerGrant
                && v.allowed_operations.contains(&op)
        }),
        None => grants
            .iter()
            .any(|g| !matches!(g.status(), GrantStatus::Deleted | GrantStatus::Rejected)),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} by {} succeeded on {arn} without issuer or grant",
            sent.op, sent.caller.account
        ))
    }
}

fn run(steps: &[Step]) -> Result<Vec<String>, TestCaseError> {
    let mut w = World::new(11, Policy::default());
    let mut history: Vec<Sent> = Vec::new();
    let mut replies: Vec<(Vec<u8>, String)> = Vec::new();
    let mut out = Vec::new();
    for step in steps {
        w.apply(Event::advance_seconds(0))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let before = w.clone();
        match concretize(&w, step, &history) {
            Err(event) => {
                let r = w.apply(event);
                out.push(format!("{r:?}"));
            }
            Ok(sent) => {
                let reply = w.handle(&sent.caller, Service::LicenseManager, &sent.op, &sent.body);
                prop_assert!(reply.status == 200 || reply.is_error());
                let body_text = reply.body.to_string();
                out.push(format!("{} {} {}", reply.status, reply.request_id, body_text));
                if reply.is_error() {
                    prop_assert_eq!(
                        digest(&w),
                        digest(&before),
                        "refused {} changed state: {}",
                        sent.op,
                        body_text
                    );
                }
                let replayed = replies.iter().any(|(b, r)| *b == sent.body && *r == body_text);
                if !reply.is_error() && replayed && sent.op.starts_with("Checkout") {
                    prop_assert_eq!(digest(&w), digest(&before), "idempotent replay changed state");
                }
                if !reply.is_error() {
                    check_access(&w, &sent, &reply.body).map_err(TestCaseError::fail)?;
                }
                invariants::check_lm(&w, &before).map_err(TestCaseError::fail)?;
                replies.push((sent.body.clone(), body_text));
                history.push(sent);
                continue;
            }
        }
        invariants::check_lm(&w, &before).map_err(TestCaseError::fail)?;
    }
    Ok(out)
}

/// Runs `steps` on a default world and on one under `policy` in lockstep (requests concretized
/// against the default world, so both get the same bytes), until the first reply that differs.
fn lockstep(
    steps: &[Step],
    name: &str,
    policy: &Policy,
    rule: conform_model::PolicyRule,
) -> Result<(), String> {
    let mut a = World::new(11, Policy::default());
    let mut b = World::new(11, policy.clone());
    let mut history: Vec<Sent> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let _ = a.apply(Event::advance_seconds(0));
        let _ = b.apply(Event::advance_seconds(0));
        match concretize(&a, step, &history) {
            Err(event) => {
                let (x, y) = (a.apply(event.clone()), b.apply(event));
                if format!("{x:?}") != format!("{y:?}") {
                    return Ok(());
                }
            }
            Ok(sent) => {
                let x = a.handle(&sent.caller, Service::LicenseManager, &sent.op, &sent.body);
                let y = b.handle(&sent.caller, Service::LicenseManager, &sent.op, &sent.body);
                if !crate::support::policies::agree(name, rule, i, &x, &y)? {
                    return Ok(());
                }
                history.push(sent);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// Reply::policies is complete (SPEC: a reply names every [P] switch whose value shaped it):
    /// with one switch flipped, a reply that did not name it is unchanged.
    #[test]
    fn spec_p_rules_a_reply_not_naming_a_switch_is_unchanged_when_it_flips(steps in proptest::collection::vec(step(), 1..30)) {
        for (name, policy, rule) in crate::support::policies::alternatives() {
            lockstep(&steps, &name, &policy, rule).map_err(TestCaseError::fail)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn spec_3_10_invariants_hold_after_every_step(steps in proptest::collection::vec(step(), 1..40)) {
        run(&steps)?;
    }

    #[test]
    fn spec_2_same_seed_same_requests_byte_identical_replies(steps in proptest::collection::vec(step(), 1..25)) {
        prop_assert_eq!(run(&steps)?, run(&steps)?);
    }

    #[test]
    fn parsing_the_serialization_of_a_request_gives_it_back(steps in proptest::collection::vec(step(), 1..20)) {
        let w = World::new(3, Policy::default());
        let model = Service::LicenseManager.model();
        for step in &steps {
            let Ok(sent) = concretize(&w, step, &[]) else { continue };
            let Some(op) = model.operation(&sent.op) else { continue };
            let Ok(decoded) = model.decode(op, &sent.body) else { continue };
            let req = LmRequest::from_body(&sent.op, decoded).expect("typed").expect("implemented");
            let body = req.to_body();
            let again = model.decode(op, body.to_string().as_bytes()).expect("a serialized request passes validation");
            prop_assert_eq!(LmRequest::from_body(&sent.op, again).expect("typed"), Some(req));
        }
    }
}
