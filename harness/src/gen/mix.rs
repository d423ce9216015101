//! What a case draws, and how often: the weight of every step kind, the share of requests that
//! are invalid on purpose, and whether references hammer one resource. By default every case
//! draws its own mix from its seed (swarm testing: some cases never check in, some only draw
//! down, some hammer one license), so interleavings the average mix makes rare show up; a
//! fixed mix (`--mix`) makes every case use the same weights.

use std::fmt;
use std::str::FromStr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use conform_model::Service;

/// Where a step kind belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    LicenseManager,
    Evs,
    /// An environment event (the clock, VM inventory, connector health, Marketplace seeding).
    Event(Option<Service>),
}

macro_rules! kinds {
    ($($kind:ident = $name:literal, $group:expr, $weight:literal;)+) => {
        /// A kind of step the generator draws.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind { $($kind),+ }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),+];

            /// The kind's name in a mix (`checkout=12`).
            pub fn name(self) -> &'static str {
                match self { $(Kind::$kind => $name),+ }
            }

            pub fn group(self) -> Group {
                match self { $(Kind::$kind => $group),+ }
            }

            /// The kind's weight in the default mix.
            pub fn default_weight(self) -> u32 {
                match self { $(Kind::$kind => $weight),+ }
            }
        }
    };
}

const LM: Group = Group::LicenseManager;
const EVS: Group = Group::Evs;
const ANY_EVENT: Group = Group::Event(None);
const LM_EVENT: Group = Group::Event(Some(Service::LicenseManager));
const EVS_EVENT: Group = Group::Event(Some(Service::Evs));

kinds! {
    CreateLicense = "create_license", LM, 6;
    CreateVersion = "create_version", LM, 3;
    Checkout = "checkout", LM, 12;
    Borrow = "borrow", LM, 3;
    CheckIn = "check_in", LM, 6;
    Extend = "extend", LM, 4;
    DeleteLicense = "delete_license", LM, 2;
    Read = "read", LM, 4;
    ListLicenses = "list_licenses", LM, 2;
    CreateGrant = "create_grant", LM, 3;
    GrantAction = "grant_action", LM, 4;
    Replay = "replay", LM, 1;
    NextPage = "next_page", LM, 2;
    ListReceived = "list_received", LM, 2;
    AtLimit = "at_limit", LM, 1;
    CreateConnector = "create_connector", EVS, 4;
    DeleteConnector = "delete_connector", EVS, 1;
    UpdateConnector = "update_connector", EVS, 1;
    CreateEntitlement = "create_entitlement", EVS, 9;
    DeleteEntitlement = "delete_entitlement", EVS, 5;
    ListEntitlements = "list_entitlements", EVS, 3;
    EvsRead = "evs_read", EVS, 2;
    Advance = "advance", ANY_EVENT, 7;
    AdvanceTo = "advance_to", ANY_EVENT, 5;
    Marketplace = "marketplace", LM_EVENT, 2;
    AddVm = "add_vm", EVS_EVENT, 2;
    RemoveVm = "remove_vm", EVS_EVENT, 2;
    SetGuestOs = "set_guest_os", EVS_EVENT, 2;
    SetHealth = "set_health", EVS_EVENT, 4;
}

/// The kinds a swarm mix never leaves out: without them a case has nothing to act on.
const ANCHORS: &[Kind] = &[Kind::CreateLicense, Kind::CreateConnector, Kind::Advance];

/// The default share of generated requests that are invalid on purpose, in percent.
pub const INVALID_PERCENT: u32 = 20;

/// One case's weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    weights: Vec<u32>,
    /// Percent of generated requests drawn to be refused: half malformed (broken bodies,
    /// constraint-derived cases), half well formed but refused by the model in its state
    /// (stale versions, foreign accounts, ended tokens, instants past a boundary).
    pub invalid_percent: u32,
    /// References mostly name the case's first resource of their kind.
    pub focus: bool,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            weights: Kind::ALL.iter().map(|k| k.default_weight()).collect(),
            invalid_percent: INVALID_PERCENT,
            focus: false,
        }
    }
}

impl Mix {
    /// A mix drawn from `rng`: each kind but the anchors is left out with probability 1/3,
    /// the others weighted 1, 2 or 4 times their default; one case in four focuses.
    pub fn swarm(rng: &mut ChaCha8Rng, invalid_percent: u32) -> Mix {
        let weights = Kind::ALL
            .iter()
            .map(|k| {
                let keep = ANCHORS.contains(k) || !rng.gen_ratio(1, 3);
                let factor = [1, 1, 2, 4][rng.gen_range(0..4)];
                if keep {
                    k.default_weight() * factor
                } else {
                    0
                }
            })
            .collect();
        Mix {
            weights,
            invalid_percent,
            focus: rng.gen_ratio(1, 4),
        }
    }

    pub fn weight(&self, kind: Kind) -> u32 {
        self.weights[kind as usize]
    }

    pub fn set_weight(&mut self, kind: Kind, weight: u32) {
        self.weights[kind as usize] = weight;
    }

    /// Draws a kind among those `allowed`, by weight (`None`: all allowed ones weigh 0).
    pub fn draw(&self, rng: &mut ChaCha8Rng, allowed: impl Fn(Kind) -> bool) -> Option<Kind> {
        let total: u32 = Kind::ALL
            .iter()
            .filter(|k| allowed(**k))
            .map(|k| self.weight(*k))
            .sum();
        if total == 0 {
            return None;
        }
        let mut roll = rng.gen_range(0..total);
        for k in Kind::ALL.iter().filter(|k| allowed(**k)) {
            let w = self.weight(*k);
            if roll < w {
                return Some(*k);
            }
            roll -= w;
        }
        None
    }
}

/// `create_license=6,checkout=12,...,invalid=20` (kinds of weight 0 left out), and `focus`
/// when on: what `--mix` takes back.
impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for k in Kind::ALL {
            let w = self.weight(*k);
            if w > 0 {
                write!(f, "{}={w},", k.name())?;
            }
        }
        write!(f, "invalid={}", self.invalid_percent)?;
        if self.focus {
            write!(f, ",focus")?;
        }
        Ok(())
    }
}

impl FromStr for Mix {
    type Err = String;

    /// `default`, or the [`Display`](fmt::Display) form; kinds not named weigh 0, `invalid`
    /// defaults to [`INVALID_PERCENT`].
    fn from_str(s: &str) -> Result<Mix, String> {
        if s.trim() == "default" {
            return Ok(Mix::default());
        }
        let mut mix = Mix {
            weights: vec![0; Kind::ALL.len()],
            invalid_percent: INVALID_PERCENT,
            focus: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "focus" {
                mix.focus = true;
                continue;
            }
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected NAME=WEIGHT, `focus` or `default`"))?;
            let value: u32 = value
                .parse()
                .map_err(|_| format!("`{part}`: the weight must be a whole number"))?;
            if name == "invalid" {
                if value > 100 {
                    return Err(format!("`{part}`: invalid is a percent (0-100)"));
                }
                mix.invalid_percent = value;
                continue;
            }
            let kind = Kind::ALL.iter().find(|k| k.name() == name).ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "`{name}`: not a step kind (one of {}, invalid, focus)",
                    names.join(", ")
                )
            })?;
            mix.set_weight(*kind, value);
        }
        Ok(mix)
    }
}

/// How the cases of a run get their mix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MixChoice {
    /// Each case draws its own from its seed ([`Mix::swarm`]), with this invalid share.
    Swarm { invalid_percent: u32 },
    /// Every case uses this one.
    Fixed(Mix),
}

impl Default for MixChoice {
    fn default() -> Self {
        MixChoice::Swarm {
            invalid_percent: INVALID_PERCENT,
        }
    }
}

impl FromStr for MixChoice {
    type Err = String;

    /// `swarm` (the default), `swarm,invalid=N`, `default`, or a mix.
    fn from_str(s: &str) -> Result<MixChoice, String> {
        let mut parts = s.split(',').map(str::trim);
        if parts.next() == Some("swarm") {
            let mut invalid_percent = INVALID_PERCENT;
            for part in parts {
                match part.split_once('=') {
                    Some(("invalid", v)) => {
                        invalid_percent = v
                            .parse::<u32>()
                            .ok()
                            .filter(|v| *v <= 100)
                            .ok_or_else(|| format!("`{part}`: invalid is a percent (0-100)"))?;
                    }
                    _ => return Err(format!("`{part}`: a swarm mix takes only invalid=N")),
                }
            }
            return Ok(MixChoice::Swarm { invalid_percent });
        }
        s.parse().map(MixChoice::Fixed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_mix_reads_back_what_it_prints() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..50 {
            let mix = Mix::swarm(&mut rng, 20);
            assert_eq!(mix.to_string().parse::<Mix>(), Ok(mix.clone()), "{mix}");
        }
        assert_eq!("default".parse::<Mix>(), Ok(Mix::default()));
        assert_eq!(Mix::default().to_string().parse::<Mix>(), Ok(Mix::default()));
    }

    #[test]
    fn swarm_mixes_differ_and_keep_their_anchors() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mixes: Vec<Mix> = (0..40).map(|_| Mix::swarm(&mut rng, 20)).collect();
        assert!(
            mixes.iter().any(|m| m.weight(Kind::CheckIn) == 0),
            "some cases never check in"
        );
        assert!(mixes.iter().any(|m| m.weight(Kind::CheckIn) > 0));
        assert!(mixes.iter().any(|m| m.focus) && mixes.iter().any(|m| !m.focus));
        for m in &mixes {
            for a in ANCHORS {
                assert!(m.weight(*a) > 0, "{m}");
            }
        }
    }

    #[test]
    fn bad_mixes_are_refused_with_the_part_named() {
        let e = "checkout=x".parse::<Mix>().unwrap_err();
        assert!(e.contains("checkout=x"), "{e}");
        let e = "chekout=3".parse::<Mix>().unwrap_err();
        assert!(e.contains("chekout") && e.contains("checkout"), "{e}");
        assert!("invalid=101".parse::<Mix>().is_err());
        assert!("swarm,checkout=1".parse::<MixChoice>().is_err());
        assert_eq!(
            "swarm,invalid=35".parse::<MixChoice>(),
            Ok(MixChoice::Swarm { invalid_percent: 35 })
        );
    }
}
