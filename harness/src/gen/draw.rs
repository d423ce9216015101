//! One step of a given kind, its values drawn: mostly ordinary ones, and boundaries as values
//! of their own (quantities at what is left of a license and one past it, maxima at what is in
//! use, clock steps onto the instants rules name).

use rand::Rng;

use conform_model::evs::types::EntitlementStatus;
use conform_model::lm::types::Unit;
use conform_model::World;

use super::generator::Generator;
use super::instant::instant;
use super::*;

impl Generator {
    /// A step of `kind`, its references drawn from what is known and its values from the
    /// state of `world`.
    pub(super) fn draw(&mut self, kind: Kind, known: &Known, world: &World) -> Step {
        let sku: u8 = self.rng.gen_range(0..2);
        let token: u8 = self.rng.gen_range(0..10);
        match kind {
            Kind::CreateLicense => self.create_license(sku, token),
            Kind::CreateVersion => {
                let license = self.index(known.licenses.len());
                let in_use = seats_of(world, known, license).map(|(_, used)| used);
                let r = &mut self.rng;
                // The new maximum: anything, or exactly what is in use, or one below it.
                let max = match in_use {
                    Some(used) if r.gen_ratio(1, 3) => (used - r.gen_range(0..2)).max(0),
                    _ => r.gen_range(0..5),
                };
                Step::CreateLicenseVersion {
                    license,
                    max,
                    deactivate: r.gen_ratio(1, 4),
                    reset: r.gen_ratio(1, 5),
                    source: [None, Some(true), Some(false)][r.gen_range(0..3)],
                    token,
                }
            }
            Kind::Checkout => {
                let who = self.who();
                let marketplace = who == Who::Buyer && self.rng.gen_ratio(1, 2);
                let beneficiary =
                    (who == Who::Seller && self.rng.gen_ratio(9, 10)).then(|| self.rng.gen_range(0..2));
                let sku_name = format!("{}-sku-{sku}", self.ns);
                let left = (!marketplace)
                    .then(|| {
                        world
                            .lm()
                            .licenses()
                            .iter()
                            .filter(|r| r.product_sku == sku_name)
                            .find_map(seats)
                    })
                    .flatten();
                let qty = self.qty(left);
                Step::Checkout {
                    who,
                    sku,
                    beneficiary,
                    qty,
                    perpetual: self.rng.gen_ratio(1, 5),
                    marketplace,
                    token: self.rng.gen_range(0..20),
                    extra: self.extra(),
                }
            }
            Kind::Borrow => {
                let who = self.who();
                let license = self.index(known.licenses.len());
                let qty = self.qty(seats_of(world, known, license));
                Step::Borrow {
                    who,
                    license,
                    qty,
                    token,
                    extra: self.extra(),
                }
            }
            Kind::CheckIn => {
                let (who, token) = self.token(known);
                Step::CheckIn { who, token }
            }
            Kind::Extend => {
                let (who, token) = self.token(known);
                Step::Extend {
                    who,
                    token,
                    dry_run: self.rng.gen_ratio(1, 4),
                }
            }
            Kind::DeleteLicense => Step::DeleteLicense {
                license: self.index(known.licenses.len()),
                right_source: self.rng.gen_ratio(3, 4),
            },
            Kind::Read => Step::Read {
                who: self.who(),
                license: self.index(known.licenses.len()),
                op: ReadOp::from_draw(self.rng.gen()),
            },
            Kind::ListLicenses => Step::ListLicenses {
                sku: self.rng.gen_ratio(1, 2).then_some(sku),
                max: self.rng.gen_ratio(1, 2).then(|| self.rng.gen()),
            },
            Kind::CreateGrant => Step::CreateGrant {
                license: self.index(known.licenses.len()),
                to: if self.rng.gen_ratio(4, 5) {
                    Who::Buyer
                } else {
                    Who::Stranger
                },
                token,
            },
            Kind::GrantAction => self.grant_action(known, world),
            Kind::Replay => Step::Replay {
                back: self.rng.gen_range(0..4),
            },
            Kind::NextPage => Step::NextPage {
                page: self.index(known.pages.len()),
            },
            Kind::ListReceived => Step::ListReceived {
                who: self.who(),
                op: ReceivedOp::from_draw(self.rng.gen()),
            },
            Kind::AtLimit => match self.case_of(at_limit_cases()) {
                Some(index) => Step::AtLimit { index },
                None => Step::ListLicenses { sku: None, max: None },
            },
            Kind::CreateConnector
            | Kind::DeleteConnector
            | Kind::UpdateConnector
            | Kind::CreateEntitlement
            | Kind::DeleteEntitlement
            | Kind::ListEntitlements
            | Kind::EvsRead => self.evs_step(kind, known),
            Kind::Advance
            | Kind::AdvanceTo
            | Kind::Marketplace
            | Kind::AddVm
            | Kind::RemoveVm
            | Kind::SetGuestOs
            | Kind::SetHealth => self.event_step(kind, known, world),
        }
    }

    /// A grant step, mostly the next one of the grant's life by the party that may take it (the
    /// grantee accepts a PENDING_ACCEPT grant, activates a DISABLED one, disables an ACTIVE
    /// one; the issuer narrows an ACTIVE one), otherwise any action by anyone.
    fn grant_action(&mut self, known: &Known, world: &World) -> Step {
        use conform_model::lm::types::GrantStatus;
        let grant = self.index(known.grants.len());
        let record = known
            .grants
            .get(grant as usize)
            .and_then(|arn| world.lm().grants().iter().find(|g| g.arn == *arn));
        let party = |account: &str| {
            [Who::Seller, Who::Buyer, Who::Stranger]
                .into_iter()
                .find(|w| w.account() == account)
        };
        let next = record.and_then(|g| {
            let grantee = party(&g.grantee_account)?;
            let issuer = party(&g.owner_account)?;
            Some(match g.status() {
                GrantStatus::PendingAccept if self.rng.gen_ratio(1, 4) => (grantee, GrantActionKind::Reject),
                GrantStatus::PendingAccept => (grantee, GrantActionKind::Accept),
                GrantStatus::Disabled => (grantee, GrantActionKind::Activate),
                GrantStatus::Active if self.rng.gen_ratio(1, 2) => (issuer, GrantActionKind::Narrow),
                GrantStatus::Active => (grantee, GrantActionKind::Disable),
                _ => return None,
            })
        });
        let (who, action) = match next {
            Some(next) if self.rng.gen_ratio(2, 3) => next,
            _ => (self.who(), GrantActionKind::from_draw(self.rng.gen())),
        };
        Step::GrantAction { who, grant, action }
    }

    fn create_license(&mut self, sku: u8, token: u8) -> Step {
        let isolated = self.isolated;
        let r = &mut self.rng;
        Step::CreateLicense {
            sku,
            beneficiary: r.gen_range(0..2),
            max: r.gen_range(0..5),
            overage: r.gen_ratio(1, 5),
            check_in: r.gen_ratio(4, 5),
            // Minutes: some tokens expire within a case, most outlive a few syncs. On a target
            // whose clock only runs (no control plane) a token that expires within the
            // comparison tolerance would stop the case, so only long ones there.
            ttl: if isolated {
                [30, 60][r.gen_range(0..2)]
            } else {
                [1, 2, 30, 60][r.gen_range(0..4)]
            },
            borrow: r.gen_ratio(1, 2),
            early: r.gen_ratio(1, 2),
            end_minutes: r
                .gen_ratio(1, 4)
                .then(|| r.gen_range(if isolated { 10 } else { 1 }..200)),
            token,
            cores: r.gen_ratio(1, 3).then(|| r.gen_range(0..3)),
        }
    }

    /// Mostly no item besides the seats; one request in four asks for one more.
    fn extra(&mut self) -> Option<ExtraItem> {
        self.rng
            .gen_ratio(1, 4)
            .then(|| ExtraItem::from_draw(self.rng.gen()))
    }

    /// A quantity as sent: mostly 1 to 3, sometimes malformed or spelled otherwise (SPEC 3.4
    /// quantity grammar `^[1-9][0-9]*$` within i64),
    /// and given `left` (a license's seats: its MaxCount and what is in use), often exactly
    /// what is left, one past it, or the whole MaxCount.
    fn qty(&mut self, left: Option<(i64, i64)>) -> Qty {
        if self.rng.gen_ratio(1, 12) {
            // Zero, other spellings of one (a sign, a leading zero or space, a fraction, an
            // exponent, hexadecimal, a fullwidth digit), the largest i64 and one past it.
            let bad = [
                "0",
                "01",
                "-1",
                "x",
                "",
                "+1",
                " 1",
                "1.0",
                "1e0",
                "0x1",
                "\u{ff11}",
                "9223372036854775807",
                "9223372036854775808",
            ];
            return Qty(bad[self.rng.gen_range(0..bad.len())].to_string());
        }
        match left {
            Some((max, used)) if self.rng.gen_ratio(1, 3) => {
                let n = [max - used, max - used + 1, max][self.rng.gen_range(0..3)];
                Qty(n.max(1).to_string())
            }
            _ => Qty(self.rng.gen_range(1..4).to_string()),
        }
    }

    fn evs_step(&mut self, kind: Kind, known: &Known) -> Step {
        let env = if self.rng.gen_ratio(9, 10) { 0 } else { 1 };
        let connector = self.index(known.connectors[usize::from(env)].len());
        let vms: Vec<u8> = (0..[1, 1, 2, 3][self.rng.gen_range(0..4)])
            .map(|_| self.rng.gen_range(0..6))
            .collect();
        match kind {
            Kind::CreateConnector => Step::CreateConnector {
                env,
                token: self.rng.gen(),
            },
            Kind::DeleteConnector => Step::DeleteConnector { env, connector },
            Kind::UpdateConnector => Step::UpdateConnector {
                env,
                connector,
                fqdn: self.rng.gen_ratio(1, 2),
            },
            Kind::CreateEntitlement => Step::CreateEntitlement { env, connector, vms },
            Kind::DeleteEntitlement => Step::DeleteEntitlement { env, connector, vms },
            Kind::ListEntitlements => Step::ListEntitlements {
                env,
                connector,
                max: self.rng.gen_ratio(1, 3).then(|| self.rng.gen()),
            },
            _ => {
                // A list of environments reads every case's on a shared target.
                let choices = if self.isolated { 2 } else { 3 };
                Step::EvsRead {
                    env,
                    op: EvsReadOp::ALL[self.rng.gen_range(0..choices)],
                }
            }
        }
    }

    fn event_step(&mut self, kind: Kind, known: &Known, world: &World) -> Step {
        let env = if self.rng.gen_ratio(9, 10) { 0 } else { 1 };
        // Mostly a VM that holds an entitlement, when one does: what moves records.
        let entitled = entitled_vms(world, ENVIRONMENTS[usize::from(env)]);
        let (vm, entitled) = match entitled.len() {
            n if n > 0 && self.rng.gen_ratio(2, 3) => (entitled[self.rng.gen_range(0..n)], true),
            _ => (self.rng.gen_range(0..6), false),
        };
        match kind {
            Kind::Advance => Step::Advance {
                seconds: [1, 30, 299, 300, 300, 300, 1800, 3600, 86_400][self.rng.gen_range(0..9)],
            },
            Kind::AdvanceTo => {
                let to = Instant::from_draw(self.rng.gen());
                // Mostly an item whose instant is still ahead.
                let items = match to {
                    Instant::TokenExpiry => known.tokens.len(),
                    Instant::IdempotencyEnd => known.calls.len().min(8),
                    Instant::PageTokenEnd => known.pages.len(),
                    _ => known.licenses.len(),
                };
                // A sync names no item: it is drawn as for a deletion (so seeds keep their cases).
                let of = if to == Instant::NextSync {
                    Instant::DeletionDue
                } else {
                    to
                };
                let ahead: Vec<u32> = (0..items as u32)
                    .filter(|k| instant(of, *k, known, world).is_some_and(|t| t > world.now_ms()))
                    .collect();
                let item = match ahead.len() {
                    n if n > 0 && self.rng.gen_ratio(3, 4) => ahead[self.rng.gen_range(0..n)],
                    _ => self.index(items),
                };
                Step::AdvanceTo {
                    to,
                    item,
                    offset_ms: [-1, 0, 1][self.rng.gen_range(0..3)],
                }
            }
            Kind::Marketplace => Step::Marketplace {
                sku: self.rng.gen_range(0..2),
                max: self.rng.gen_range(0..4),
            },
            Kind::AddVm => Step::AddVm {
                env,
                vm,
                windows: self.rng.gen_ratio(4, 5),
            },
            Kind::RemoveVm => Step::RemoveVm { env, vm },
            Kind::SetGuestOs => Step::SetGuestOs {
                env,
                vm,
                // An entitled VM mostly leaves Windows Server.
                windows: self.rng.gen_ratio(1, if entitled { 4 } else { 2 }),
            },
            _ => {
                let connector = self.index(known.connectors[usize::from(env)].len());
                // FAILED most often: it is what moves entitlements to AT_RISK; but a FAILED
                // connector mostly recovers, which is what brings them back.
                let failed = known.connectors[usize::from(env)]
                    .get(connector as usize)
                    .and_then(|id| {
                        let p = world.evs().partition(Who::Seller.account(), "us-east-1")?;
                        p.connectors.get(id)
                    })
                    .is_some_and(|c| c.health == conform_model::evs::types::CheckResult::Failed);
                let choices = if failed {
                    [Health::Passed, Health::Passed, Health::Passed, Health::Unknown]
                } else {
                    [Health::Failed, Health::Failed, Health::Unknown, Health::Passed]
                };
                let health = choices[self.rng.gen_range(0..4)];
                Step::SetHealth {
                    env,
                    connector,
                    health,
                }
            }
        }
    }
}

/// A license's counted seats in its latest version: its MaxCount and what is in use.
fn seats(r: &conform_model::lm::LicenseRecord) -> Option<(i64, i64)> {
    let e = r
        .latest()
        .entitlements
        .iter()
        .find(|e| e.unit == Unit::Count && e.max_count.is_some())?;
    let used = i64::try_from(r.in_use(&e.name, e.unit)).unwrap_or(i64::MAX);
    Some((e.max_count?, used))
}

/// The seats of the `k`-th known license, as concretize resolves the reference.
fn seats_of(world: &World, known: &Known, k: u32) -> Option<(i64, i64)> {
    seats(super::probe::license_of(known, world, k)?)
}

/// The VMs (as step indices, `vm-1NN` is NN) of environment `env` that hold a CREATED or
/// AT_RISK entitlement record.
fn entitled_vms(world: &World, env: &str) -> Vec<u8> {
    let Some(p) = world.evs().partition(Who::Seller.account(), "us-east-1") else {
        return Vec::new();
    };
    let mut out: Vec<u8> = p
        .connectors
        .values()
        .filter(|c| c.environment_id == env)
        .flat_map(|c| c.records.values())
        .filter(|r| matches!(r.status, EntitlementStatus::Created | EntitlementStatus::AtRisk))
        .filter_map(|r| r.vm_id.strip_prefix("vm-1")?.parse().ok())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
