//! The snapshot form of a transcript: the committed snapshots (`snapshots/*.snap`) are the
//! model's own transcripts, and this renders them as they were first written, recognizing the
//! model's id formats. It is never used to compare a target with the model: that is
//! [`super::Normalizer`]'s job, which goes by member, never by format.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::{number_offset, offset, time_offset};

/// Keys whose string values are times the target produced.
const TIME_KEYS: &[&str] = &["IssuedAt", "Expiration", "DeletionDate"];
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

fn rules() -> &'static [(&'static str, Regex)] {
    static RULES: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
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
            ("environment", r"^env-[a-z0-9]{10}$"),
            ("connector", r"^cnctr-[a-z0-9]{10}$"),
        ]
        .into_iter()
        .map(|(k, r)| (k, Regex::new(r).expect("normalizer patterns compile")))
        .collect()
    })
}

/// EVS ids inside longer strings (an environment's ARN, error messages), with the kind of
/// placeholder the whole-id rules above give them, so an ARN names the same `<environment-N>`.
fn embedded_evs_ids() -> &'static Regex {
    static IDS: OnceLock<Regex> = OnceLock::new();
    IDS.get_or_init(|| Regex::new(r"\b(env|cnctr)-[a-z0-9]{10}\b").expect("normalizer patterns compile"))
}

/// Maps the model's ids to placeholders, keeping the mapping across every value it sees.
pub struct Transcript {
    start_ms: i64,
    seen: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

impl Transcript {
    pub fn new(start_ms: i64) -> Self {
        Transcript {
            start_ms,
            seen: HashMap::new(),
            counts: HashMap::new(),
        }
    }

    /// Normalizes ids everywhere and times under the known time keys.
    pub fn value(&mut self, v: &Value) -> Value {
        self.walk(v, None)
    }

    fn walk(&mut self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.walk(x, Some(k))))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.walk(x, key)).collect()),
            Value::String(s) => Value::String(self.string(s, key)),
            Value::Number(n) => {
                number_offset(self.start_ms, n, key, EPOCH_KEYS).map_or_else(|| v.clone(), Value::String)
            }
            other => other.clone(),
        }
    }

    fn string(&mut self, s: &str, key: Option<&str>) -> String {
        if let Some(kind) = rules().iter().find(|(_, r)| r.is_match(s)).map(|(k, _)| *k) {
            return self.placeholder(kind, s);
        }
        if embedded_evs_ids().is_match(s) {
            return embedded_evs_ids()
                .replace_all(s, |c: &regex::Captures| {
                    let kind = if &c[1] == "env" {
                        "environment"
                    } else {
                        "connector"
                    };
                    self.placeholder(kind, &c[0])
                })
                .into_owned();
        }
        time_offset(self.start_ms, s, key, TIME_KEYS, EPOCH_KEYS).unwrap_or_else(|| s.to_string())
    }

    /// `t0+Ns` for an instant, relative to the start.
    pub fn offset(&self, ms: i64) -> String {
        offset(ms - self.start_ms)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_ids_get_equal_placeholders_in_order_of_first_appearance() {
        let arn = "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef";
        let other = "arn:aws:license-manager::111122223333:license:l-ffffffffffffffffffffffffffffffff";
        let mut n = Transcript::new(1_000_000);
        let v = n.value(
            &json!({"a": other, "b": [arn, other], "IssuedAt": "1970-01-01T00:16:41", "CreateTime": "1060"}),
        );
        assert_eq!(
            v,
            json!({"a": "<license-1>", "b": ["<license-2>", "<license-1>"], "IssuedAt": "<t0+1s>", "CreateTime": "<t0+60s>"})
        );
        assert_eq!(
            n.value(&json!(arn)),
            json!("<license-2>"),
            "the mapping lasts across values"
        );
    }

    #[test]
    fn evs_epoch_seconds_and_ids_are_normalized() {
        // 1_000_000 ms is 1000 s: EVS replies carry integer epoch seconds (SPEC 1.1).
        let mut n = Transcript::new(1_000_000);
        let v = n.value(&json!({
            "connectorId": "cnctr-abcdefghij", "environmentId": "env-0123456789",
            "checks": [{"lastCheckAttempt": 1000, "impairedSince": 1300}],
            "createdAt": 1000, "modifiedAt": 1010, "startedAt": 1290, "stoppedAt": 1590, "lastSyncedAt": 1590,
            "other": 1000, "vmId": "vm-1",
            "environmentArn": "arn:aws:evs:us-east-1:444455556666:environment/env-0123456789"
        }));
        assert_eq!(
            v,
            json!({
                "connectorId": "<connector-1>", "environmentId": "<environment-1>",
                "checks": [{"lastCheckAttempt": "<t0+0s>", "impairedSince": "<t0+300s>"}],
                "createdAt": "<t0+0s>", "modifiedAt": "<t0+10s>", "startedAt": "<t0+290s>",
                "stoppedAt": "<t0+590s>", "lastSyncedAt": "<t0+590s>",
                "other": 1000, "vmId": "vm-1",
                "environmentArn": "arn:aws:evs:us-east-1:444455556666:environment/<environment-1>"
            })
        );
    }
}
