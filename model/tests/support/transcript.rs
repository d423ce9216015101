//! Request/response transcripts for insta snapshots. Ids are replaced by numbered placeholders in
//! order of first appearance (the same id is the same placeholder everywhere in a transcript) and
//! times the model produced by their offset from the transcript's start, so snapshots stay stable
//! and still show that an expiration is an hour after the checkout.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use conform_model::{Caller, Event, Reply, Service, World};
use regex::Regex;
use serde_json::{json, Value};

pub struct Transcript {
    start_ms: i64,
    steps: Vec<Value>,
}

impl Transcript {
    pub fn new(world: &World) -> Self {
        Transcript {
            start_ms: world.now_ms(),
            steps: Vec::new(),
        }
    }

    /// Sends a License Manager request and records it with its reply.
    pub fn call(&mut self, world: &mut World, who: &str, caller: &Caller, op: &str, body: &Value) -> Reply {
        let reply = world.handle(caller, Service::LicenseManager, op, body.to_string().as_bytes());
        self.record(world, who, op, body.clone(), &reply);
        reply
    }

    /// Sends raw bytes (for malformed requests) and records them as a string.
    pub fn call_raw(
        &mut self,
        world: &mut World,
        who: &str,
        caller: &Caller,
        op: &str,
        body: &[u8],
    ) -> Reply {
        let reply = world.handle(caller, Service::LicenseManager, op, body);
        let shown = Value::String(String::from_utf8_lossy(body).into_owned());
        self.record(world, who, op, json!({ "raw": shown }), &reply);
        reply
    }

    fn record(&mut self, world: &World, who: &str, op: &str, request: Value, reply: &Reply) {
        let mut step = json!({
            "at": offset(world.now_ms() - self.start_ms),
            "caller": who,
            "operation": op,
            "request": request,
            "status": reply.status,
        });
        match reply.error_type() {
            Some(e) => step["error"] = json!(e),
            None => step["reply"] = reply.body.clone(),
        }
        if let Some(message) = reply.body.get("Message") {
            step["message"] = message.clone();
        }
        self.steps.push(step);
    }

    /// Applies an environment event and records it.
    pub fn event(&mut self, world: &mut World, event: Event) -> Value {
        let shown = serde_json::to_value(&event).expect("events serialize");
        let result = world.apply(event).expect("event applies");
        self.steps
            .push(json!({ "at": offset(world.now_ms() - self.start_ms), "event": shown, "result": result }));
        result
    }

    /// The transcript with ids and times normalized.
    pub fn render(&self) -> Value {
        let mut n = Normalizer::new(self.start_ms);
        let steps = self.steps.iter().map(|s| n.value(s, None)).collect();
        Value::Array(steps)
    }
}

fn offset(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("t0+{}s", ms / 1000)
    } else {
        format!("t0+{ms}ms")
    }
}

struct Normalizer {
    start_ms: i64,
    seen: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
    rules: Vec<(&'static str, Regex)>,
}

impl Normalizer {
    fn new(start_ms: i64) -> Self {
        let rules = [
            (
                "license",
                r"^arn:aws:license-manager::\d{12}:license:l-[0-9a-f]{32}$",
            ),
            ("grant", r"^arn:aws:license-manager::\d{12}:grant:g-[0-9a-f]{32}$"),
            ("token", r"^[0-9a-f]{32}$"),
            ("next-token", r"^[0-9a-f]{48}$"),
            (
                "signed-token",
                r"^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
            ),
        ]
        .into_iter()
        .map(|(k, r)| (k, Regex::new(r).expect("regex")))
        .collect();
        Normalizer {
            start_ms,
            seen: HashMap::new(),
            counts: HashMap::new(),
            rules,
        }
    }

    fn value(&mut self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.value(x, Some(k))))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x, key)).collect()),
            Value::String(s) => Value::String(self.string(s, key)),
            other => other.clone(),
        }
    }

    fn string(&mut self, s: &str, key: Option<&str>) -> String {
        if let Some(kind) = self.rules.iter().find(|(_, r)| r.is_match(s)).map(|(k, _)| *k) {
            return self.placeholder(kind, s);
        }
        if key == Some("CreateTime") {
            if let Ok(secs) = s.parse::<i64>() {
                return format!("<{}>", offset(secs * 1000 - self.start_ms));
            }
        }
        // Times the model produced: the generated reply dates (not the request's inputs, which
        // are fixed strings in the test and stay as written).
        if matches!(key, Some("IssuedAt" | "Expiration" | "DeletionDate")) {
            if let Some(ms) = parse_time(s) {
                return format!("<{}>", offset(ms - self.start_ms));
            }
        }
        s.to_string()
    }

    fn placeholder(&mut self, kind: &'static str, s: &str) -> String {
        if let Some(p) = self.seen.get(s) {
            return p.clone();
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let p = format!("<{kind}-{n}>");
        self.seen.insert(s.to_string(), p.clone());
        p
    }
}

fn parse_time(s: &str) -> Option<i64> {
    let trimmed = s.trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(trimmed, f).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

/// insta settings shared by every transcript snapshot: files live in the top-level `snapshots/`.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}
