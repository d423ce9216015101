//! Request/response transcripts for insta snapshots of EVS scenarios. Generated ids (`env-…`,
//! `cnctr-…`, page tokens) become numbered placeholders in order of first appearance, wherever they
//! occur (inside ARNs and messages too), so the same id is the same placeholder everywhere; times
//! the model produced (epoch seconds) become offsets from the transcript's start.

use std::collections::HashMap;

use conform_model::{Caller, Event, Reply, Service, World};
use regex::{Captures, Regex};
use serde_json::{json, Value};

/// Members that carry epoch-second timestamps in EVS replies.
const TIME_MEMBERS: &[&str] = &[
    "createdAt",
    "modifiedAt",
    "lastSyncedAt",
    "startedAt",
    "stoppedAt",
    "lastCheckAttempt",
    "impairedSince",
];

pub struct Transcript {
    start_ms: i64,
    steps: Vec<Value>,
    /// Arrays longer than this are shown as their count, first and last items.
    max_list: usize,
}

impl Transcript {
    pub fn new(world: &World) -> Self {
        Transcript {
            start_ms: world.now_ms(),
            steps: Vec::new(),
            max_list: usize::MAX,
        }
    }

    /// Shows arrays longer than `n` items as `{count, first, last}` (for pagination scenarios).
    pub fn compact_lists(mut self, n: usize) -> Self {
        self.max_list = n;
        self
    }

    /// Sends an EVS request and records it with its reply.
    pub fn call(&mut self, world: &mut World, caller: &Caller, op: &str, body: &Value) -> Reply {
        let reply = world.handle(caller, Service::Evs, op, body.to_string().as_bytes());
        self.record(world, op, body.clone(), &reply);
        reply
    }

    /// Sends raw bytes (for malformed requests) and records them as a string.
    pub fn call_raw(&mut self, world: &mut World, caller: &Caller, op: &str, body: &[u8]) -> Reply {
        let reply = world.handle(caller, Service::Evs, op, body);
        let shown = Value::String(String::from_utf8_lossy(body).into_owned());
        self.record(world, op, json!({ "raw": shown }), &reply);
        reply
    }

    fn record(&mut self, world: &World, op: &str, request: Value, reply: &Reply) {
        let mut step = json!({
            "at": offset(world.now_ms() - self.start_ms),
            "operation": op,
            "request": request,
            "status": reply.status,
        });
        match reply.error_type() {
            Some(e) => {
                step["error"] = json!(e);
                step["body"] = reply.body.clone();
            }
            None => step["reply"] = reply.body.clone(),
        }
        self.steps.push(step);
    }

    /// Applies an environment event and records it with its result.
    pub fn event(&mut self, world: &mut World, event: Event) -> Value {
        let shown = serde_json::to_value(&event).expect("events serialize");
        let result = world.apply(event).expect("event applies");
        self.steps.push(json!({
            "at": offset(world.now_ms() - self.start_ms),
            "event": shown,
            "result": result,
        }));
        result
    }

    /// The transcript with ids and times normalized.
    pub fn render(&self) -> Value {
        let mut n = Normalizer::new(self.start_ms, self.max_list);
        Value::Array(self.steps.iter().map(|s| n.value(s, None)).collect())
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
    max_list: usize,
    seen: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
    ids: Regex,
    token: Regex,
}

impl Normalizer {
    fn new(start_ms: i64, max_list: usize) -> Self {
        Normalizer {
            start_ms,
            max_list,
            seen: HashMap::new(),
            counts: HashMap::new(),
            ids: Regex::new(r"\b(env|cnctr)-[a-z0-9]{10}\b").expect("regex"),
            token: Regex::new(r"^[0-9a-f]{48}$").expect("regex"),
        }
    }

    fn value(&mut self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.value(x, Some(k))))
                    .collect(),
            ),
            Value::Array(a) if a.len() > self.max_list => {
                let first = a.first().map(|x| self.value(x, key));
                let last = a.last().map(|x| self.value(x, key));
                json!({ "count": a.len(), "first": first, "last": last })
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x, key)).collect()),
            Value::String(s) => Value::String(self.string(s)),
            Value::Number(n) if key.is_some_and(|k| TIME_MEMBERS.contains(&k)) => match n.as_i64() {
                Some(secs) => json!(format!("<{}>", offset(secs * 1000 - self.start_ms))),
                None => v.clone(),
            },
            // The clock an AdvanceClock event reports, in milliseconds.
            Value::Number(n) if key == Some("now_ms") => match n.as_i64() {
                Some(ms) => json!(format!("<{}>", offset(ms - self.start_ms))),
                None => v.clone(),
            },
            other => other.clone(),
        }
    }

    fn string(&mut self, s: &str) -> String {
        if self.token.is_match(s) {
            return self.placeholder("next-token", s);
        }
        let ids = self.ids.clone();
        ids.replace_all(s, |c: &Captures| {
            let kind = if &c[1] == "env" { "env" } else { "cnctr" };
            self.placeholder(kind, &c[0])
        })
        .into_owned()
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

/// insta settings shared by every transcript snapshot: files live in the top-level `snapshots/`.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}
