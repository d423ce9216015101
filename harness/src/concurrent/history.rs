//! A concurrent history: every call as an invocation and a return on one monotonic clock,
//! with the client that made it and what it got, or "unknown" when it got nothing (a timeout,
//! a dropped connection: the call may or may not have taken effect).

use std::fmt::Write as _;

use conform_model::Service;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::gen::Who;
use crate::target::Response;

/// What one entry asked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// An AWS call, its body as sent (the target's ids, the target's time frame).
    Call {
        who: Who,
        service: Service,
        op: String,
        body: Value,
    },
    /// An environment event (the clock), sent through the target's control plane.
    Event(Value),
}

/// What one entry got back.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Reply(Response),
    /// No reply: the call may or may not have taken effect.
    Unknown(String),
}

/// One call of the history.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The client that made it; [`FINAL`] for the read-back after every client finished.
    pub client: usize,
    /// Its position in the client's program.
    pub index: usize,
    /// The license group it belongs to; `None` for an event every group sees.
    pub group: Option<usize>,
    pub request: Request,
    pub outcome: Outcome,
    /// Nanoseconds since the phase began, when it was sent and when its reply was read.
    pub invoked: u64,
    pub returned: u64,
}

/// The last six characters of an id: enough to tell a round's ids apart in a column.
fn tail(id: &str) -> String {
    let skip = id.chars().count().saturating_sub(6);
    id.chars().skip(skip).collect()
}

/// The client number of the read-back entries.
pub const FINAL: usize = usize::MAX;

impl Entry {
    /// `CheckoutLicense`, `advance_clock`.
    pub fn name(&self) -> String {
        match &self.request {
            Request::Call { op, .. } => op.clone(),
            Request::Event(e) => e["event"].as_str().unwrap_or("event").to_string(),
        }
    }

    /// A short line: the call with the values that tell it apart.
    pub fn describe(&self) -> String {
        match &self.request {
            Request::Call { who, op, body, .. } => {
                let mut s = op.clone();
                let short = |v: &Value| tail(v.as_str().unwrap_or_default());
                if let Some(t) = body.get("CheckoutType").and_then(Value::as_str) {
                    let units = body
                        .pointer("/Entitlements/0/Value")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    let _ = write!(s, " {units} {t}");
                }
                if let Some(t) = body.get("LicenseConsumptionToken") {
                    let _ = write!(s, " …{}", short(t));
                }
                if let Some(t) = body.get("ClientToken") {
                    let _ = write!(s, " ct…{}", short(t));
                }
                if matches!(who, Who::Buyer) {
                    s.push_str(" (buyer)");
                }
                s
            }
            Request::Event(e) => match e["seconds"].as_i64() {
                Some(n) => format!("clock +{n}s"),
                None => self.name(),
            },
        }
    }

    /// The reply in a few words: `ok`, the error type, `unknown`.
    pub fn result(&self) -> String {
        match &self.outcome {
            Outcome::Reply(r) => match &r.error_type {
                Some(t) => t.trim_end_matches("Exception").to_string(),
                None => {
                    let b = &r.body;
                    if let Some(t) = b.get("LicenseConsumptionToken").and_then(Value::as_str) {
                        format!("ok …{}", tail(t))
                    } else if let Some(u) = b.pointer("/LicenseUsage/EntitlementUsages/0/ConsumedValue") {
                        format!("ok used {}", u.as_str().unwrap_or("?"))
                    } else {
                        "ok".into()
                    }
                }
            },
            Outcome::Unknown(_) => "unknown".into(),
        }
    }
}

/// The history as one column per client, in time order: `▶` where a call was sent, `◀` with
/// its result where its reply came back. `only`: the entries to show (all when `None`).
pub fn columns(entries: &[Entry], only: Option<&[usize]>) -> String {
    let shown: Vec<usize> = match only {
        Some(ids) => ids.to_vec(),
        None => (0..entries.len()).collect(),
    };
    let mut clients: Vec<usize> = shown.iter().map(|&i| entries[i].client).collect();
    clients.sort_unstable();
    clients.dedup();
    let col = |c: usize| clients.iter().position(|x| *x == c).unwrap_or(0);
    // (time, is_return, entry)
    let mut marks: Vec<(u64, bool, usize)> = Vec::new();
    for &i in &shown {
        marks.push((entries[i].invoked, false, i));
        marks.push((entries[i].returned, true, i));
    }
    marks.sort_unstable();
    const WIDTH: usize = 38;
    let mut out = String::new();
    let header: Vec<String> = clients
        .iter()
        .map(|c| {
            let name = if *c == FINAL {
                "read-back".to_string()
            } else {
                format!("client {c}")
            };
            format!("{name:<WIDTH$}")
        })
        .collect();
    let _ = writeln!(out, "{:>10}  {}", "ms", header.join(" ").trim_end());
    for (at, back, i) in marks {
        let e = &entries[i];
        let text = if back {
            format!("◀ #{} {}", e.index, e.result())
        } else {
            format!("▶ #{} {}", e.index, e.describe())
        };
        let text: String = text.chars().take(WIDTH).collect();
        let pad = col(e.client) * (WIDTH + 1);
        let _ = writeln!(out, "{:>10.3}  {:pad$}{text}", at as f64 / 1e6, "", pad = pad);
    }
    out
}
