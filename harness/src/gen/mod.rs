//! The one workload: abstract [`Step`]s of both services and environment events, their
//! concretization into requests, and their seeded generation. Every way of exercising a target
//! or the model speaks this vocabulary: the campaign, the proptest-state-machine adapter, the
//! property tests and the fuzz `sequence` target (which decodes steps with `arbitrary`).
//!
//! A case is a list of steps whose references (the k-th license, the k-th token) are resolved
//! against the reference model's state when the step runs, so a shrunk sequence still makes
//! sense: removing the step that made license 2 makes later references to it pick another
//! license, not a dangling id.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use conform_model::Service;

pub use crate::accounts::Who;

/// A quantity as sent: mostly well-formed, sometimes not (SPEC 3.4 quantity grammar).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct Qty(pub String);

/// One abstract step of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    CreateLicense {
        sku: u8,
        beneficiary: u8,
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::count))]
        max: i64,
        overage: bool,
        check_in: bool,
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::ttl))]
        ttl: i32,
        borrow: bool,
        early: bool,
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::minutes))]
        end_minutes: Option<i64>,
        token: u8,
        /// A second counted entitlement, `Core`, with this MaxCount.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::cores))]
        cores: Option<i64>,
    },
    CreateLicenseVersion {
        license: u32,
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::count))]
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
        /// An item asked for besides the seats (multi-item requests, all or nothing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<ExtraItem>,
    },
    Borrow {
        who: Who,
        license: u32,
        qty: Qty,
        token: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extra: Option<ExtraItem>,
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
        op: ReadOp,
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
        action: GrantActionKind,
    },
    ListReceived {
        who: Who,
        op: ReceivedOp,
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
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::seconds))]
        seconds: i64,
    },
    /// Moves the clock to an instant a rule names, or one millisecond either side of it
    /// (`offset_ms`); `item` is the token or license whose instant it is. An instant already
    /// past, or absent, moves the clock by nothing.
    AdvanceTo {
        to: Instant,
        item: u32,
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::offset))]
        offset_ms: i8,
    },
    Marketplace {
        sku: u8,
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::count))]
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
        health: Health,
    },
    Invalid {
        /// Any operation of either service's model, by name.
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::operation))]
        operation: String,
        body: InvalidBody,
    },
    /// A constraint-derived invalid request from specs/ (`specs::cases`), by index.
    Constraint {
        index: u32,
    },
    /// A constraint-derived request at the limit of a constraint (a string of the maximum
    /// length, a count at its bound), valid in shape, by index.
    AtLimit {
        index: u32,
    },
    /// A well-formed step drawn to be refused by the model in its state when drawn (a stale
    /// version, a foreign account, an ended token, an instant past a boundary): the share of
    /// requests invalid on purpose that are not malformed.
    Refusal {
        of: Box<Step>,
    },
    /// Reads an environment or its connectors, or lists environments (SPEC 4.1).
    EvsRead {
        env: u8,
        op: EvsReadOp,
    },
    /// Changes a connector's appliance FQDN or its secret (SPEC 4.1).
    UpdateConnector {
        env: u8,
        connector: u32,
        fqdn: bool,
    },
    /// Sends the `back`-th most recent request again, byte for byte (idempotent replays,
    /// SPEC 3.4); with none sent yet, the case's ListLicenses.
    Replay {
        back: u8,
    },
    /// Asks for the next page of the `page`-th list answered with a next-page token (SPEC 3.2,
    /// 4.2); with none yet, the case's ListLicenses.
    NextPage {
        page: u32,
    },
    /// Resets the world to its seeded start (SPEC 2).
    Reset,
    /// Any bytes as the body of an operation, by name; the placeholders `<license-1>`,
    /// `<token-1>`, `<grant-1>`, `<env-1>`, `<cnctr-1>` (and -2, -3) name the case's resources.
    Raw {
        #[cfg_attr(feature = "fuzzing", arbitrary(with = arb::operation))]
        operation: String,
        who: Who,
        body: Vec<u8>,
    },
}

impl Step {
    /// A license of `max` seats of the case's first SKU for its first beneficiary: check-in
    /// allowed, no overage, no end, tokens of `ttl` minutes, borrowable (with early check-in)
    /// as `borrow` says; `token` names its ClientToken.
    pub fn license(max: i64, ttl: i32, borrow: bool, token: u8) -> Step {
        Step::CreateLicense {
            sku: 0,
            beneficiary: 0,
            max,
            overage: false,
            check_in: true,
            ttl,
            borrow,
            early: borrow,
            end_minutes: None,
            token,
            cores: None,
        }
    }

    /// A PROVISIONAL checkout of `qty` seats of the case's first SKU by its issuer for the
    /// first beneficiary; `token` names its ClientToken.
    pub fn checkout(qty: &str, token: u8) -> Step {
        Step::Checkout {
            who: Who::Seller,
            sku: 0,
            beneficiary: Some(0),
            qty: Qty(qty.into()),
            perpetual: false,
            marketplace: false,
            token,
            extra: None,
        }
    }

    /// Whether the step was drawn to be refused: a malformed request, or a well-formed one the
    /// model refused when it was drawn.
    pub fn invalid_on_purpose(&self) -> bool {
        matches!(
            self,
            Step::Invalid { .. } | Step::Constraint { .. } | Step::Refusal { .. }
        )
    }
}

/// Declares a closed choice a step makes, named in traces, with the mapping from a drawn byte
/// (`% N`, so a draw keeps its meaning and the generator's random stream stays as it was).
macro_rules! choice {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The choice a drawn byte stands for.
            pub fn from_draw(draw: u8) -> $name {
                Self::ALL[usize::from(draw) % Self::ALL.len()]
            }
        }
    };
}

choice!(
    /// Which read of one license.
    ReadOp { GetLicense, ListLicenseVersions, GetLicenseUsage }
);
choice!(
    /// What a grant step does.
    GrantActionKind { Accept, Reject, Activate, Disable, Delete, Get, Narrow }
);
choice!(
    /// Which received or distributed list.
    ReceivedOp { ListReceivedLicenses, ListReceivedGrants, ListDistributedGrants }
);
choice!(
    /// Which EVS environment read.
    EvsReadOp { GetEnvironment, ListEnvironmentConnectors, ListEnvironments }
);
choice!(
    /// An instant a rule names (SPEC 3.5 TTLs, 3.2 validity and deletion, 4.3 syncs, 3.4 the
    /// end of a ClientToken's idempotency window, 4.2 the end of an EVS page token's life).
    Instant { TokenExpiry, ValidityEnd, DeletionDue, NextSync, IdempotencyEnd, PageTokenEnd }
);
choice!(
    /// An item a checkout or borrow asks for besides one of its seats: one `Core` (a second
    /// counted entitlement, which may not fit where the seats do: SPEC 3.4 takes all or
    /// nothing), an unknown name or a known name in another unit (dropped by a checkout,
    /// refused by a borrow: SPEC 3.4 matching, 3.5), or the seats' (Name, Unit) again (IPVE).
    ExtraItem { Core, Unmatched, WrongUnit, Duplicate }
);
choice!(
    /// A connector health to set.
    Health { Passed, Failed, Unknown }
);
choice!(
    /// How a deliberately invalid request's body is broken.
    InvalidBody { Unterminated, Array, WrongTypes, ZeroMax, BadTokens, Empty }
);

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

impl Concrete {
    /// The model's reply to this request on a copy of `world` (`None` for an event): what a
    /// step would get, without taking it.
    pub fn reply_on(&self, world: &conform_model::World) -> Option<conform_model::Reply> {
        match self {
            Concrete::Call {
                who,
                service,
                op,
                body,
            } => {
                let caller = conform_model::Caller::new(who.account(), "us-east-1");
                Some(world.clone().handle(&caller, *service, op, body))
            }
            Concrete::Event(_) => None,
        }
    }
}

/// Ids the reference model has handed out in this case, in order of appearance, and the
/// requests sent (since the last reset).
#[derive(Clone, Debug, Default)]
pub struct Known {
    pub licenses: Vec<String>,
    pub tokens: Vec<(Who, String)>,
    pub grants: Vec<String>,
    /// Connectors per environment index.
    pub connectors: [Vec<String>; 2],
    /// Every request sent, oldest first, for [`Step::Replay`]; shared between the clones of a
    /// reference (an explored state's successors copy pointers, not bodies).
    pub calls: Vec<std::sync::Arc<Concrete>>,
    /// When each of `calls` was sent, on the reference model's clock.
    pub sent_ms: Vec<i64>,
    /// The lists answered with a next-page token, oldest first, for [`Step::NextPage`].
    pub pages: Vec<Page>,
}

/// A list request answered with a next-page token.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub call: Concrete,
    pub token: String,
    /// When the token was issued, on the reference model's clock.
    pub issued_ms: i64,
}

impl Known {
    /// Learns the ids a reply of the reference model carries, given at `now_ms`.
    pub fn learn(&mut self, concrete: &Concrete, reply: &Value, now_ms: i64) {
        let op = match concrete {
            Concrete::Call { op, .. } => {
                self.calls.push(std::sync::Arc::new(concrete.clone()));
                self.sent_ms.push(now_ms);
                // `get`, not `pointer`: a pointer allocates each of its segments.
                let next = ["NextToken", "nextToken"]
                    .iter()
                    .find_map(|p| reply.get(p).and_then(Value::as_str));
                if let Some(token) = next {
                    self.pages.push(Page {
                        call: concrete.clone(),
                        token: token.to_string(),
                        issued_ms: now_ms,
                    });
                }
                op.as_str()
            }
            Concrete::Event(e) => e["event"].as_str().unwrap_or_default(),
        };
        if op == "reset" {
            // A reset world hands out the same ids again: nothing known survives it.
            *self = Known::default();
            return;
        }
        let text = |p: &str| reply.get(p).and_then(Value::as_str).map(str::to_string);
        match op {
            "CreateLicense" | "seed_marketplace_license" => self.licenses.extend(text("LicenseArn")),
            "CheckoutLicense" | "CheckoutBorrowLicense" => {
                if let (Some(t), Concrete::Call { who, .. }) = (text("LicenseConsumptionToken"), concrete) {
                    self.tokens.push((*who, t));
                }
            }
            "CreateGrant" => self.grants.extend(text("GrantArn")),
            "CreateEnvironmentConnector" => {
                let connector = |member: &str| reply.get("connector")?.get(member)?.as_str();
                let env = connector("environmentId");
                if let (Some(id), Some(env)) = (connector("connectorId").map(str::to_string), env) {
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

/// The constraint-derived cases of specs/ that vary a member and still meet its constraints
/// (values at a bound), in a fixed order.
pub fn at_limit_cases() -> &'static [crate::specs::cases::Case] {
    static CASES: std::sync::OnceLock<Vec<crate::specs::cases::Case>> = std::sync::OnceLock::new();
    CASES.get_or_init(|| {
        crate::specs::cases::all_cases()
            .into_iter()
            .filter(|c| c.valid && !c.member.is_empty())
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

#[cfg(feature = "fuzzing")]
mod arb;
mod concretize;
mod draw;
mod generator;
mod instant;
mod mix;
mod probe;
pub mod refs;

pub use concretize::concretize;
pub(crate) use concretize::concretize_parsed;
#[cfg(feature = "fuzzing")]
pub(crate) use concretize::substitute;
pub use generator::Generator;
pub(crate) use instant::instant;
pub use mix::{Group, Kind, Mix, MixChoice, INVALID_PERCENT};

/// The reads that end a case (SPEC 3.10 and 4.4 observed on the target): every license the case
/// made (GetLicense, ListLicenseVersions, GetLicenseUsage), every grant (GetGrant), the buyer's
/// received licenses, and every connector's entitlement records and the environment's connectors.
pub fn read_back_steps(known: &Known, services: &[Service]) -> Vec<Step> {
    let mut out = Vec::new();
    if services.contains(&Service::LicenseManager) {
        for k in 0..known.licenses.len() as u32 {
            for op in ReadOp::ALL {
                out.push(Step::Read {
                    who: Who::Seller,
                    license: k,
                    op: *op,
                });
            }
        }
        for k in 0..known.grants.len() as u32 {
            out.push(Step::GrantAction {
                who: Who::Seller,
                grant: k,
                action: GrantActionKind::Get,
            });
        }
        out.push(Step::ListReceived {
            who: Who::Buyer,
            op: ReceivedOp::ListReceivedLicenses,
        });
    }
    if services.contains(&Service::Evs) {
        for env in 0..2u8 {
            for k in 0..known.connectors[usize::from(env)].len() as u32 {
                out.push(Step::ListEntitlements {
                    env,
                    connector: k,
                    max: None,
                });
            }
        }
        out.push(Step::EvsRead {
            env: 0,
            op: EvsReadOp::ListEnvironmentConnectors,
        });
    }
    out
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
