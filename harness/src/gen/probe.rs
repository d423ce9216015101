//! Probes: the steps that look at a boundary right after a case reached it. A clock step
//! onto a license's `Validity.End` is worth most with a checkout at that instant; an extend,
//! with the clock moved past the old expiry; a reset of usage, with a check-in of a token of
//! the period before; an unhealthy connector or a VM gone, with the deletion its records
//! must refuse or keep. Drawn steps alone reach these pairs by luck.

use rand::Rng;

use conform_model::evs::types::EntitlementStatus;
use conform_model::lm::TokenState;
use conform_model::World;

use super::generator::Generator;
use super::*;

impl Generator {
    /// The probes that follow `last` (a drawn step that has run), given what the case holds
    /// now; mostly none. A probe is sent as it is, not redrawn: what it meets is the point.
    /// Probes are of the services and events the case takes: each follows a step of its own
    /// group, and the one clock step after an extend is sent only where events are.
    pub(super) fn probes(&mut self, last: &Step, known: &Known, world: &World) -> Vec<Step> {
        let sync = Step::AdvanceTo {
            to: Instant::NextSync,
            item: 0,
            offset_ms: 0,
        };
        match last {
            // A checkout at the instant the clock landed on, if it is the license's end.
            Step::AdvanceTo {
                to: Instant::ValidityEnd,
                item,
                ..
            } => {
                let Some(record) = license_of(known, world, *item) else {
                    return Vec::new();
                };
                let near_end = record
                    .latest()
                    .end_ms
                    .is_some_and(|end| (end - world.now_ms()).abs() <= 1);
                match (near_end, self.checkout_of(record)) {
                    (true, Some(checkout)) => vec![checkout],
                    _ => Vec::new(),
                }
            }
            // At the end of a ClientToken's window (or a millisecond either side), the request
            // again: replayed before the end, run anew (or refused as a mismatch) after it.
            Step::AdvanceTo {
                to: Instant::IdempotencyEnd,
                item,
                ..
            } if !known.calls.is_empty() => vec![Step::Replay {
                back: u8::try_from(item % 8).unwrap_or(0),
            }],
            // A list just answered with a next-page token: the next page, half the time.
            Step::ListLicenses { max: Some(_), .. } | Step::ListEntitlements { max: Some(_), .. }
                if known
                    .pages
                    .last()
                    .is_some_and(|p| known.calls.last().map(|c| &**c) == Some(&p.call))
                    && self.rng.gen_ratio(1, 2) =>
            {
                vec![Step::NextPage {
                    page: known.pages.len() as u32 - 1,
                }]
            }
            // At the end of a page token's life, the next page it names.
            Step::AdvanceTo {
                to: Instant::PageTokenEnd,
                item,
                ..
            } if !known.pages.is_empty() => vec![Step::NextPage { page: *item }],
            // The clock just short of the token's (new) expiry: past the old one.
            Step::Extend {
                token,
                dry_run: false,
                ..
            } if self.capabilities.clock && live_token(known, world, *token).is_some() => {
                vec![Step::AdvanceTo {
                    to: Instant::TokenExpiry,
                    item: *token,
                    offset_ms: -1,
                }]
            }
            // A checkout in the new period, then a check-in of a token of the old one.
            Step::CreateLicenseVersion {
                license, reset: true, ..
            } => {
                let Some(record) = license_of(known, world, *license) else {
                    return Vec::new();
                };
                let old = (0..known.tokens.len() as u32).find(|k| {
                    live_token(known, world, *k).is_some_and(|t| {
                        world.lm().license(t.license).arn == record.arn && t.period < record.usage_period
                    })
                });
                match (old, self.checkout_of(record)) {
                    (Some(token), Some(checkout)) => {
                        let who = known.tokens[token as usize].0;
                        vec![checkout, Step::CheckIn { who, token }]
                    }
                    _ => Vec::new(),
                }
            }
            // A grant just made, taken through its life: accepted by its grantee, then
            // narrowed by its issuer, or disabled by its grantee and then activated again or
            // deleted by its issuer.
            Step::CreateGrant { to: Who::Buyer, .. } if self.rng.gen_ratio(1, 2) => {
                let Some(grant) = known.grants.len().checked_sub(1) else {
                    return Vec::new();
                };
                let pending = world.lm().grants().iter().any(|g| {
                    g.arn == known.grants[grant]
                        && g.status() == conform_model::lm::types::GrantStatus::PendingAccept
                });
                let act = |who, action| Step::GrantAction {
                    who,
                    grant: grant as u32,
                    action,
                };
                match (pending, self.rng.gen_ratio(1, 2)) {
                    (false, _) => Vec::new(),
                    (true, true) => vec![
                        act(Who::Buyer, GrantActionKind::Accept),
                        act(Who::Seller, GrantActionKind::Narrow),
                    ],
                    (true, false) => vec![
                        act(Who::Buyer, GrantActionKind::Accept),
                        act(Who::Buyer, GrantActionKind::Disable),
                        if self.rng.gen_ratio(1, 2) {
                            act(Who::Buyer, GrantActionKind::Activate)
                        } else {
                            act(Who::Seller, GrantActionKind::Delete)
                        },
                    ],
                }
            }
            // After the sync (its CREATED records AT_RISK by then), a deletion of the connector
            // they must block, or its recovery and the sync that brings them back.
            Step::SetHealth {
                env,
                connector,
                health: Health::Failed | Health::Unknown,
            } => {
                let (env, connector) = (*env, *connector);
                match self.rng.gen_range(0..3) {
                    0 => vec![sync, Step::DeleteConnector { env, connector }],
                    1 => vec![
                        sync.clone(),
                        Step::SetHealth {
                            env,
                            connector,
                            health: Health::Passed,
                        },
                        sync,
                    ],
                    _ => Vec::new(),
                }
            }
            // The sync at which AT_RISK records come back to CREATED.
            Step::SetHealth {
                env,
                connector,
                health: Health::Passed,
            } if has_at_risk(known, world, *env, *connector) => vec![sync],
            // Past the next sync (one clock step a little longer than the sync interval), a
            // read of the VM's record, ENTITLEMENT_REMOVED by then, and its deletion, which
            // keeps the stoppedAt the sync set.
            Step::RemoveVm { env, vm }
            | Step::SetGuestOs {
                env,
                vm,
                windows: false,
            } => {
                let (env, vm) = (*env, *vm);
                let past_sync = Step::Advance {
                    seconds: world.policy().sync_interval_seconds.max(1) + 30,
                };
                match entitled_connector(known, world, env, vm) {
                    Some(connector) => vec![
                        past_sync,
                        Step::ListEntitlements {
                            env,
                            connector,
                            max: None,
                        },
                        Step::DeleteEntitlement {
                            env,
                            connector,
                            vms: vec![vm],
                        },
                    ],
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// A checkout of one seat of `record` by its issuer for its beneficiary (the SKU and
    /// beneficiary names read back into the step's indices), if the license is the case's.
    fn checkout_of(&mut self, record: &conform_model::lm::LicenseRecord) -> Option<Step> {
        let index = |name: &str, what: &str| -> Option<u8> {
            name.strip_prefix(&format!("{}-{what}-", self.ns))?.parse().ok()
        };
        Some(Step::Checkout {
            who: Who::Seller,
            sku: index(&record.product_sku, "sku")?,
            beneficiary: Some(index(&record.beneficiary, "ben")?),
            qty: Qty("1".into()),
            perpetual: false,
            marketplace: false,
            token: self.rng.gen_range(0..20),
            extra: None,
        })
    }
}

/// The `k`-th known license's record, as concretize resolves the reference.
pub(super) fn license_of<'w>(
    known: &Known,
    world: &'w World,
    k: u32,
) -> Option<&'w conform_model::lm::LicenseRecord> {
    let arn = pick(&known.licenses, k, String::new());
    let lm = world.lm();
    Some(lm.license(lm.license_by_arn(&arn)?))
}

/// The `k`-th known token, if it is live.
fn live_token<'w>(known: &Known, world: &'w World, k: u32) -> Option<&'w conform_model::lm::Token> {
    let (_, id) = known.tokens.get(k as usize)?;
    world
        .lm()
        .tokens()
        .iter()
        .find(|t| t.id == *id && t.state == TokenState::Live)
}

/// The reference (into the known connectors of `env`) of the connector through which VM `vm`
/// of `env` holds a live entitlement record, if one does.
fn entitled_connector(known: &Known, world: &World, env: u8, vm: u8) -> Option<u32> {
    let p = world.evs().partition(Who::Seller.account(), "us-east-1")?;
    let vm_id = format!("vm-{}", 100 + u32::from(vm % 6));
    let ids = &known.connectors[usize::from(env % 2)];
    ids.iter()
        .position(|id| {
            p.connectors.get(id).is_some_and(|c| {
                c.records.values().any(|r| {
                    r.vm_id == vm_id
                        && !matches!(
                            r.status,
                            EntitlementStatus::Deleted | EntitlementStatus::CreateFailed
                        )
                })
            })
        })
        .map(|i| i as u32)
}

/// Whether the `k`-th known connector of `env` holds an AT_RISK record.
fn has_at_risk(known: &Known, world: &World, env: u8, k: u32) -> bool {
    let id = pick(&known.connectors[usize::from(env % 2)], k, String::new());
    world
        .evs()
        .partition(Who::Seller.account(), "us-east-1")
        .and_then(|p| p.connectors.get(&id))
        .is_some_and(|c| c.records.values().any(|r| r.status == EntitlementStatus::AtRisk))
}
