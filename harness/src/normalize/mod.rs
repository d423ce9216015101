//! Normalization of replies and transcripts (SPEC, "What a harness compares").
//!
//! - **Opaque values by member, never by format.** A string under an opaque member (see
//!   [`members`]: decided from the service models' member and shape names) is bound, by first
//!   appearance, to a numbered placeholder (`<connector-1>`), whatever its format, so equal
//!   values stay equal and another implementation's ids, ARNs and tokens compare by identity.
//! - **ARNs**: `arn:partition:service:region:account:` and the resource type (`license:`,
//!   `environment/`) are compared; the id after the type is opaque and shares its binding with
//!   the same id met bare (`environmentId`).
//! - **SignedToken**: compared as its decoded header and claims ([`jws`]), the ids in the claims
//!   bound like any other; the signature never.
//! - **Times** the target produced become offsets from the case's start (`<t0+5s>`).
//! - **Nothing is learned from free text**: error messages and other members that are not opaque
//!   are left as they are (and error bodies are never compared).
//!
//! - **Requests** ([`Normalizer::request`]) bind nothing: a value the caller made up is its own.
//!
//! The committed snapshots keep their first form ([`transcript`]); they are the model's own
//! transcripts, never a comparison.

pub mod jws;
pub mod members;
pub mod transcript;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde_json::Value;

pub use members::is_opaque;

/// Keys whose string values are times (ISO 8601): the target's, or the caller's moved into the
/// target's frame (a license's `Validity`).
const TIME_KEYS: &[&str] = &[
    "IssuedAt",
    "Expiration",
    "DeletionDate",
    "issuedAt",
    "expiration",
    "Begin",
    "End",
];
/// Keys whose values are epoch seconds (as strings or numbers) the target produced.
const EPOCH_KEYS: &[&str] = &[
    "CreateTime",
    "createdAt",
    "modifiedAt",
    "startedAt",
    "stoppedAt",
    "lastSyncedAt",
    "impairedSince",
    "lastCheckAttempt",
];

/// An ARN split into what is compared and what is opaque.
struct Arn<'a> {
    /// `arn:partition:service:region:account:`.
    prefix: &'a str,
    /// The resource type with its separator (`license:`, `environment/`), possibly empty.
    kind: &'a str,
    id: &'a str,
}

fn arn(s: &str) -> Option<Arn<'_>> {
    let rest = s.strip_prefix("arn:")?;
    let mut cut = 4;
    let mut fields = Vec::with_capacity(4);
    for (i, c) in rest.char_indices() {
        if c == ':' {
            fields.push(i);
            if fields.len() == 4 {
                cut += i + 1;
                break;
            }
        }
    }
    if fields.len() < 4 {
        return None;
    }
    let (prefix, resource) = s.split_at(cut);
    let split = resource.rfind(['/', ':']).map_or(0, |i| i + 1);
    let (kind, id) = resource.split_at(split);
    (!id.is_empty()).then_some(Arn { prefix, kind, id })
}

/// Maps opaque values to placeholders, keeping the bindings across every value it sees.
#[derive(Clone, Debug)]
pub struct Normalizer {
    start_ms: i64,
    /// Opaque value (a bare id, token or an ARN's id) → placeholder.
    ids: HashMap<String, String>,
    counts: HashMap<String, usize>,
    /// Whole opaque string as met → its rendering in [`Style::Compare`], and back.
    seen: HashMap<String, String>,
    back: HashMap<String, String>,
    /// Off while normalizing a request: values the caller wrote are its own, not the target's,
    /// so they bind nothing (a made-up `LicenseArn` stays as written).
    binding: bool,
}

impl Normalizer {
    /// A normalizer with times relative to `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        Normalizer {
            start_ms,
            ids: HashMap::new(),
            counts: HashMap::new(),
            seen: HashMap::new(),
            back: HashMap::new(),
            binding: true,
        }
    }

    /// Normalizes opaque members and times everywhere in `v`.
    pub fn value(&mut self, v: &Value) -> Value {
        let mut out = v.clone();
        self.walk(&mut out, None);
        out
    }

    /// Normalizes a request: opaque values already bound become their placeholders; others
    /// (made up by the caller) stay as written and bind nothing.
    pub fn request(&mut self, v: &Value) -> Value {
        self.binding = false;
        let out = self.value(v);
        self.binding = true;
        out
    }

    /// Rewrites `v` in place: only opaque values and times change, so the rest of a reply is
    /// copied once and never rebuilt.
    fn walk(&mut self, v: &mut Value, key: Option<&str>) {
        let opaque = key.is_some_and(is_opaque);
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    self.walk(x, Some(k));
                }
            }
            Value::Array(a) => {
                for x in a.iter_mut() {
                    self.walk(x, key);
                }
            }
            Value::String(s) if opaque && key == Some("SignedToken") => {
                let normalized = match jws::decode(s) {
                    Some(mut decoded) => {
                        self.walk(&mut decoded, None);
                        decoded
                    }
                    None => Value::String(self.opaque(s, "SignedToken")),
                };
                *v = normalized;
            }
            Value::String(s) if opaque && !s.is_empty() => {
                *s = self.opaque(s, key.unwrap_or_default());
            }
            Value::String(s) => {
                if let Some(t) = time_offset(self.start_ms, s, key, TIME_KEYS, EPOCH_KEYS) {
                    *s = t;
                }
            }
            Value::Number(n) => {
                if let Some(t) = number_offset(self.start_ms, n, key, EPOCH_KEYS) {
                    *v = Value::String(t);
                }
            }
            _ => {}
        }
    }

    /// The rendering of an opaque value met under `member`, binding it on first appearance.
    fn opaque(&mut self, s: &str, member: &str) -> String {
        if !self.binding {
            return self.seen.get(s).cloned().unwrap_or_else(|| s.to_string());
        }
        let rendering = match arn(s) {
            Some(a) => {
                let kind = a.kind.trim_end_matches(['/', ':']);
                let kind = kind.rsplit(['/', ':']).next().unwrap_or(kind);
                let label = if kind.is_empty() {
                    members::label(member)
                } else {
                    kind.to_string()
                };
                let p = self.bind(a.id, label);
                format!("{}{}{p}", a.prefix, a.kind)
            }
            None => self.bind(s, members::label(member)),
        };
        if !self.seen.contains_key(s) {
            self.seen.insert(s.to_string(), rendering.clone());
            self.back
                .entry(rendering.clone())
                .or_insert_with(|| s.to_string());
        }
        rendering
    }

    fn bind(&mut self, id: &str, label: String) -> String {
        if let Some(p) = self.ids.get(id) {
            return p.clone();
        }
        let n = self.counts.entry(label.clone()).or_insert(0);
        *n += 1;
        let p = format!("<{label}-{n}>");
        self.ids.insert(id.to_string(), p.clone());
        p
    }

    /// The rendering an opaque value already has, without binding a new one.
    pub fn lookup(&self, value: &str) -> Option<&str> {
        self.seen.get(value).map(String::as_str)
    }

    /// The value first met with `rendering`.
    pub fn reverse(&self, rendering: &str) -> Option<&str> {
        self.back.get(rendering).map(String::as_str)
    }

    /// `value` (one this normalizer's side produced) as the other side wrote the same entity,
    /// through the two sides' bindings.
    pub fn translate_str<'a>(&self, value: &str, other: &'a Normalizer) -> Option<&'a str> {
        other.reverse(self.lookup(value)?)
    }

    /// Every string of `v` this side bound, rewritten into `other`'s values.
    pub fn translate(&self, v: &Value, other: &Normalizer) -> Value {
        match v {
            Value::String(s) => match self.translate_str(s, other) {
                Some(t) => Value::String(t.to_string()),
                None => v.clone(),
            },
            Value::Array(a) => Value::Array(a.iter().map(|x| self.translate(x, other)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.translate(x, other)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A hash of the bindings (not of the order they were made in): equal for two normalizers
    /// that render every value alike.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut pairs: Vec<(&String, &String)> = self.ids.iter().collect();
        pairs.sort_unstable();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.start_ms.hash(&mut h);
        pairs.hash(&mut h);
        h.finish()
    }

    /// The instant times are offsets from.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// `t0+Ns` for an instant, relative to the start.
    pub fn offset(&self, ms: i64) -> String {
        offset(ms - self.start_ms)
    }
}

/// A string under one of `time_keys` (ISO 8601) or `epoch_keys` (epoch seconds) as `<t0+Ns>`
/// from `start_ms`; `None` when the key is neither or the text is no time.
fn time_offset(
    start_ms: i64,
    s: &str,
    key: Option<&str>,
    time_keys: &[&str],
    epoch_keys: &[&str],
) -> Option<String> {
    let key = key?;
    let ms = if epoch_keys.contains(&key) {
        s.parse::<i64>().ok().map(|secs| secs * 1000)
    } else if time_keys.contains(&key) {
        parse_time(s)
    } else {
        None
    }?;
    Some(format!("<{}>", offset(ms - start_ms)))
}

/// A number under `now_ms` (milliseconds) or one of `epoch_keys` (epoch seconds) as `<t0+Ns>`
/// from `start_ms`; `None` for any other number.
fn number_offset(
    start_ms: i64,
    n: &serde_json::Number,
    key: Option<&str>,
    epoch_keys: &[&str],
) -> Option<String> {
    let key = key?;
    let ms = if key == "now_ms" {
        n.as_i64()
    } else if epoch_keys.contains(&key) {
        n.as_f64().map(|secs| (secs * 1000.0) as i64)
    } else {
        None
    }?;
    Some(format!("<{}>", offset(ms - start_ms)))
}

/// A duration from the start as `t0+Ns` (or milliseconds when not whole seconds).
pub fn offset(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("t0{:+}s", ms / 1000)
    } else {
        format!("t0{ms:+}ms")
    }
}

/// `s` moved by `delta_ms`, written the same way: with milliseconds or whole seconds, `Z`.
/// A time the services take written another way (with an offset, more digits) is moved and
/// written with milliseconds; a malformed one (as a constraint case sends) is left alone.
pub fn shift_time(s: &str, delta_ms: i64) -> Option<String> {
    let millis = conform_model::timefmt::iso_millis;
    let seconds = |ms: i64| format!("{}Z", conform_model::timefmt::iso_seconds_no_zone(ms));
    match parse_time(s) {
        Some(ms) if millis(ms) == s => Some(millis(ms + delta_ms)),
        Some(ms) if seconds(ms) == s => Some(seconds(ms + delta_ms)),
        // Any other spelling the services take (an offset, more digits: SPEC 3.1) names the
        // same instant in UTC milliseconds.
        _ => conform_model::timefmt::parse_input_date(s).map(|ms| millis(ms + delta_ms)),
    }
}

/// Milliseconds since the epoch of an ISO-8601 time (`Z` or no zone).
pub fn parse_time(s: &str) -> Option<i64> {
    let trimmed = s.trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(trimmed, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests;
