//! A faithful implementation that is not the simulator: a [`Target`] around the embedded
//! simulator that writes every id, ARN id and token in its own formats (mapping them back in
//! requests), rewords every error message, keeps its clock hours behind or ahead of the
//! simulator's, and may hide its control plane (its clock then shows only through `now_ms`, as
//! a `Date` header would).

use std::collections::HashMap;

use conform_harness::http::HttpTarget;
use conform_harness::target::{Capabilities, InfraError, Response, Target};
use conform_model::timefmt::{iso_millis, iso_seconds_no_zone};
use conform_model::{Caller, Event, Service};
use serde_json::{json, Value};

/// The simulator's formats (prefix, length and alphabet of the rest), each with the prefix of
/// the foreign format it becomes.
const FORMATS: &[(&str, usize, &str, &str)] = &[
    ("l-", 32, "0123456789abcdef", "LIC_"),
    ("g-", 32, "0123456789abcdef", "GR_"),
    ("", 32, "0123456789abcdef", "tok_"),
    ("", 48, "0123456789abcdef", "pg_"),
    ("env-", 10, "abcdefghijklmnopqrstuvwxyz0123456789", "env-F"),
    ("cnctr-", 10, "abcdefghijklmnopqrstuvwxyz0123456789", "cnctr-K"),
];

/// The foreign prefix `piece` (a whole word of a string) takes, if it is a simulator id.
fn simulator_id(piece: &str) -> Option<&'static str> {
    FORMATS.iter().find_map(|(prefix, len, alphabet, foreign)| {
        let rest = piece.strip_prefix(prefix)?;
        (rest.len() == *len && rest.chars().all(|c| alphabet.contains(c))).then_some(*foreign)
    })
}

/// `s` with every word (between `:`, `/`, spaces and quotes) rewritten by `f`.
fn map_words(s: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut word = String::new();
    for c in s.chars() {
        if [':', '/', ' ', '\'', '"', ',', '(', ')'].contains(&c) {
            out.push_str(&f(&word).unwrap_or_else(|| word.clone()));
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    out.push_str(&f(&word).unwrap_or(word));
    out
}

/// Members holding ISO times, and members holding epoch seconds.
const ISO_TIMES: &[&str] = &[
    "IssuedAt",
    "Expiration",
    "DeletionDate",
    "issuedAt",
    "expiration",
    "Begin",
    "End",
];
const EPOCH_TIMES: &[&str] = &[
    "CreateTime",
    "createdAt",
    "modifiedAt",
    "startedAt",
    "stoppedAt",
    "lastSyncedAt",
    "impairedSince",
    "lastCheckAttempt",
];

pub struct Foreign {
    inner: HttpTarget,
    control: bool,
    /// This target's clock minus the simulator's.
    offset_ms: i64,
    to_foreign: HashMap<String, String>,
    to_ours: HashMap<String, String>,
}

fn b64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= (T.iter().position(|t| t == c)? as u32) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// An ISO time moved by `by`, written the same way (milliseconds and `Z`, whole seconds and
/// `Z`, or whole seconds without a zone).
fn shift_iso(s: &str, by: i64) -> Option<String> {
    let ms = conform_harness::normalize::parse_time(s)?;
    let styles: [fn(i64) -> String; 3] = [
        iso_millis,
        |ms| format!("{}Z", iso_seconds_no_zone(ms)),
        iso_seconds_no_zone,
    ];
    styles.iter().find(|f| f(ms) == s).map(|f| f(ms + by))
}

impl Foreign {
    /// `offset_ms` must be a whole number of sync intervals: a faithful target syncs at
    /// multiples of 300 s of its own clock.
    pub fn new(inner: HttpTarget, control: bool, offset_ms: i64) -> Foreign {
        Foreign {
            inner,
            control,
            offset_ms,
            to_foreign: HashMap::new(),
            to_ours: HashMap::new(),
        }
    }

    fn foreign_id(&mut self, ours: &str, prefix: &str) -> String {
        if let Some(f) = self.to_foreign.get(ours) {
            return f.clone();
        }
        let n = self.to_foreign.len() + 1;
        let f = if prefix.ends_with('F') || prefix.ends_with('K') {
            format!("{prefix}{n:09}")
        } else {
            format!("{prefix}{n}")
        };
        self.to_foreign.insert(ours.to_string(), f.clone());
        self.to_ours.insert(f.clone(), ours.to_string());
        f
    }

    fn string_out(&mut self, s: &str) -> String {
        map_words(s, |w| simulator_id(w).map(|prefix| self.foreign_id(w, prefix)))
    }

    fn string_in(&self, s: &str) -> String {
        map_words(s, |w| self.to_ours.get(w).cloned())
    }

    /// A reply as this target writes it.
    fn out(&mut self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(m) => {
                let mut o = serde_json::Map::new();
                for (k, x) in m {
                    o.insert(k.clone(), self.out(x, Some(k)));
                }
                Value::Object(o)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.out(x, key)).collect()),
            Value::String(s) if key == Some("SignedToken") => Value::String(self.resign(s)),
            Value::String(s) if key.is_some_and(|k| ISO_TIMES.contains(&k)) => {
                Value::String(shift_iso(s, self.offset_ms).unwrap_or_else(|| s.clone()))
            }
            Value::String(s) if key.is_some_and(|k| EPOCH_TIMES.contains(&k)) => match s.parse::<i64>() {
                Ok(secs) => Value::String((secs + self.offset_ms / 1000).to_string()),
                Err(_) => v.clone(),
            },
            Value::Number(n) if key.is_some_and(|k| EPOCH_TIMES.contains(&k)) => match n.as_i64() {
                Some(secs) => json!(secs + self.offset_ms / 1000),
                None => v.clone(),
            },
            Value::Number(n) if key == Some("now_ms") => json!(n.as_i64().unwrap_or(0) + self.offset_ms),
            Value::String(s) => Value::String(self.string_out(s)),
            other => other.clone(),
        }
    }

    /// A request as the simulator reads it.
    fn as_ours(&self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.as_ours(x, Some(k))))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.as_ours(x, key)).collect()),
            Value::String(s) if key.is_some_and(|k| k == "Begin" || k == "End") => {
                Value::String(shift_iso(s, -self.offset_ms).unwrap_or_else(|| s.clone()))
            }
            Value::String(s) => Value::String(self.string_in(s)),
            other => other.clone(),
        }
    }

    /// Rewrites the claims of a SignedToken and signs with "another key".
    fn resign(&mut self, token: &str) -> String {
        let mut parts = token.split('.');
        let (Some(h), Some(c)) = (parts.next(), parts.next()) else {
            return token.to_string();
        };
        let Some(claims) = unb64(c).and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else {
            return token.to_string();
        };
        let claims = self.out(&claims, None);
        format!(
            "{h}.{}.{}",
            b64(claims.to_string().as_bytes()),
            b64(b"another key")
        )
    }

    fn reword(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| {
                        let x = if ["Message", "message", "error"].contains(&k.as_str()) && x.is_string() {
                            json!("refused (in other words)")
                        } else {
                            Foreign::reword(x)
                        };
                        (k.clone(), x)
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(Foreign::reword).collect()),
            other => other.clone(),
        }
    }

    fn event_in(&self, event: &Event) -> Result<Event, InfraError> {
        let v = serde_json::to_value(event).map_err(|e| InfraError::Other(e.to_string()))?;
        serde_json::from_value(self.as_ours(&v, None)).map_err(|e| InfraError::Other(e.to_string()))
    }
}

impl Target for Foreign {
    fn name(&self) -> String {
        format!("foreign({})", self.inner.name())
    }

    fn capabilities(&self) -> Capabilities {
        if self.control {
            Capabilities::ALL
        } else {
            Capabilities::NONE
        }
    }

    fn call(
        &mut self,
        caller: &Caller,
        service: Service,
        operation: &str,
        body: &[u8],
    ) -> Result<Response, InfraError> {
        let sent = match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => self.as_ours(&v, None).to_string().into_bytes(),
            _ => body.to_vec(),
        };
        let r = self.inner.call(caller, service, operation, &sent)?;
        let body = if r.error_type.is_some() {
            Foreign::reword(&r.body)
        } else {
            r.body
        };
        Ok(Response {
            body: self.out(&body, None),
            ..r
        })
    }

    fn event(&mut self, event: &Event) -> Result<Value, InfraError> {
        if !self.control {
            return Err(InfraError::Other("no control plane".into()));
        }
        let ours = self.event_in(event)?;
        let reply = self.inner.event(&ours)?;
        Ok(self.out(&Foreign::reword(&reply), None))
    }

    fn reset(&mut self) -> Result<(), InfraError> {
        if !self.control {
            return Err(InfraError::Other("no control plane".into()));
        }
        self.inner.reset()
    }

    fn now_ms(&mut self) -> Result<Option<i64>, InfraError> {
        if self.control {
            return Ok(None);
        }
        // The simulator's frozen clock, as this target's Date header would show it.
        let now = self.inner.event(&Event::advance_seconds(0))?;
        Ok(now["now_ms"].as_i64().map(|ms| ms + self.offset_ms))
    }
}
