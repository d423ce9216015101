//! The state journal's bytes (docs/state-journal.md): one line per record, `CHECK SP JSON LF`,
//! where CHECK is 16 lowercase hex digits, the first 8 bytes of the SHA-256 of the JSON. The
//! first line is the header; every later line is a `Record`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use conform_model::restore::Counters;
use conform_model::{Event, Policy, Service};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::fixtures::{Account, Fixtures};

/// The `format` member of every header.
pub(crate) const FORMAT: &str = "conform-state-journal";
/// The version this build writes and reads; any other is refused. Version 2: the journal is
/// in segments, each after a snapshot, and the header names its `generation`.
pub(crate) const VERSION: u32 = 2;

/// What must be the same for a journal to replay into the same world: the model that
/// replays it and everything a fresh world and its startup fixtures are made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Setup {
    /// `conform-model`'s crate version.
    pub(crate) model: String,
    pub(crate) seed: u64,
    /// SHA-256 (hex) of the policy as JSON.
    pub(crate) policy: String,
    /// SHA-256 (hex) of the startup fixtures as JSON.
    pub(crate) fixtures: String,
    pub(crate) faults: Vec<String>,
    pub(crate) frozen_clock: bool,
    pub(crate) start_ms: Option<i64>,
}

impl Setup {
    pub(crate) fn new(
        seed: u64,
        policy: &Policy,
        fixtures: &Fixtures,
        faults: &[String],
        frozen_clock: bool,
        start_ms: Option<i64>,
    ) -> Setup {
        Setup {
            model: conform_model::VERSION.to_string(),
            seed,
            policy: digest_of(policy),
            fixtures: digest_of(fixtures),
            faults: faults.to_vec(),
            frozen_clock,
            start_ms,
        }
    }

    /// What differs from `other` (the journal's), as flag names, or `None`.
    pub(crate) fn differences(&self, journal: &Setup) -> Option<String> {
        let mut diff = Vec::new();
        if self.model != journal.model {
            diff.push(format!(
                "model version {} (this build: {})",
                journal.model, self.model
            ));
        }
        if self.seed != journal.seed {
            diff.push(format!("--seed {} (now {})", journal.seed, self.seed));
        }
        for (same, what) in [
            (self.policy == journal.policy, "another --policy"),
            (self.fixtures == journal.fixtures, "other --fixtures"),
            (self.faults == journal.faults, "other --fault switches"),
            (
                self.frozen_clock == journal.frozen_clock,
                "another --frozen-clock setting",
            ),
            (self.start_ms == journal.start_ms, "another --start-time"),
        ] {
            if !same {
                diff.push(what.to_string());
            }
        }
        (!diff.is_empty()).then(|| diff.join(", "))
    }
}

fn digest_of(value: &impl Serialize) -> String {
    sha256_hex(&serde_json::to_vec(value).unwrap_or_default())
}

/// The SHA-256 of `bytes` in lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The first line of a journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: String,
    pub(crate) version: u32,
    pub(crate) setup: Setup,
    /// Which segment this is: 0 replays onto a fresh world, N onto `snapshot.N`.
    pub(crate) generation: u64,
    /// The model clock of the world the records replay onto (ms since the epoch).
    pub(crate) start_ms: i64,
    /// Model clock minus wall clock when the journal was made: a clock that follows wall time
    /// keeps this offset across restarts.
    pub(crate) wall_offset_ms: i64,
}

/// One change to the world, as replay needs it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Change {
    /// An AWS request the model did not refuse (or that panicked in it: status 500).
    Aws {
        account: String,
        region: String,
        service: Service,
        operation: String,
        /// The HTTP status the model answered; replay must answer the same.
        status: u16,
        body: Body,
    },
    /// A control-plane change: fixtures' accounts added and model events applied, all or
    /// nothing (`/_conform/fixtures`, `/events`, `/clock`, `/reset`, the startup fixtures).
    Control {
        accounts: Vec<Account>,
        events: Vec<Event>,
    },
    /// A clean shutdown: the counters after the refusals since the last record, and the
    /// position of the simulator's own request-id stream.
    Checkpoint {
        fault_ids: conform_model::ids::StreamPositions,
    },
}

/// A request body: its text when it is UTF-8 (every body the model accepts is JSON), else
/// base64 (a body the model panicked on).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base64: Option<String>,
}

impl Body {
    pub(crate) fn of(bytes: &[u8]) -> Body {
        match std::str::from_utf8(bytes) {
            Ok(text) => Body {
                text: Some(text.to_string()),
                base64: None,
            },
            Err(_) => Body {
                text: None,
                base64: Some(STANDARD.encode(bytes)),
            },
        }
    }

    pub(crate) fn bytes(&self) -> Result<Vec<u8>, String> {
        match (&self.text, &self.base64) {
            (Some(text), None) => Ok(text.as_bytes().to_vec()),
            (None, Some(b64)) => STANDARD.decode(b64).map_err(|e| format!("body base64: {e}")),
            _ => Err("a body has both or neither of text and base64".into()),
        }
    }
}

/// One journaled change, with the clock instant and counters the model saw before it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub(crate) at_ms: i64,
    pub(crate) counters: Counters,
    pub(crate) change: Change,
}

/// `CHECK SP JSON LF` for a value.
pub(crate) fn line(value: &impl Serialize) -> Vec<u8> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len() + 18);
    out.extend_from_slice(check(&json).as_bytes());
    out.push(b' ');
    out.extend_from_slice(&json);
    out.push(b'\n');
    out
}

fn check(json: &[u8]) -> String {
    Sha256::digest(json)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A line's JSON text if its check matches (the line without its LF).
pub(crate) fn verified(line: &[u8]) -> Option<&[u8]> {
    if line.len() < 18 || line[16] != b' ' {
        return None;
    }
    let (head, json) = (&line[..16], &line[17..]);
    (head == check(json).as_bytes()).then_some(json)
}

/// A journal read from disk: its header, its records, and the torn tail dropped if any.
#[derive(Debug)]
pub(crate) struct Read {
    pub(crate) header: Header,
    pub(crate) records: Vec<Record>,
    /// Bytes of the records kept (where the next record goes).
    pub(crate) good_len: u64,
    /// The dropped tail: its length in bytes.
    pub(crate) torn: Option<usize>,
}

/// Reads a journal, refusing what is not one of this version or is damaged other than at
/// its tail. `path` names the file in messages.
pub(crate) fn read(path: &str, bytes: &[u8]) -> Result<Read, String> {
    let foreign = || {
        format!("{path} is not a conform state journal; refusing to read it (move it away or choose another --state-dir)")
    };
    let header_end = bytes.iter().position(|&b| b == b'\n').ok_or_else(foreign)?;
    let header = verified(&bytes[..header_end])
        .and_then(|json| serde_json::from_slice::<Value>(json).ok())
        .ok_or_else(foreign)?;
    if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(foreign());
    }
    let version = header.get("version").and_then(Value::as_u64);
    if version != Some(u64::from(VERSION)) {
        let shown = version.map_or_else(|| "an unknown".to_string(), |v| v.to_string());
        return Err(format!(
            "{path} was written in state journal format version {shown}; this conform reads version {VERSION} only (use the conform that wrote it, or another --state-dir)"
        ));
    }
    let header: Header = serde_json::from_value(header).map_err(|e| format!("{path}: header: {e}"))?;
    let mut records = Vec::new();
    let mut at = header_end + 1;
    while at < bytes.len() {
        let end = bytes[at..].iter().position(|&b| b == b'\n').map(|i| at + i);
        let parsed = end
            .and_then(|end| verified(&bytes[at..end]))
            .map(serde_json::from_slice::<Record>);
        match (end, parsed) {
            (Some(end), Some(Ok(record))) => {
                records.push(record);
                at = end + 1;
            }
            (Some(_), Some(Err(e))) => {
                return Err(format!(
                    "{path}: record {} is not one this conform reads: {e}",
                    records.len() + 1
                ));
            }
            // A damaged line that is the last one is a write the process died in.
            (None, _) | (Some(_), None) if end.is_none_or(|e| e + 1 == bytes.len()) => {
                return Ok(Read {
                    header,
                    records,
                    good_len: at as u64,
                    torn: Some(bytes.len() - at),
                });
            }
            _ => {
                return Err(format!(
                    "{path}: record {} (byte {at}) is damaged and records follow it; refusing to guess (this is not a torn last write)",
                    records.len() + 1
                ));
            }
        }
    }
    Ok(Read {
        header,
        records,
        good_len: at as u64,
        torn: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            setup: Setup::new(1, &Policy::default(), &Fixtures::default(), &[], true, None),
            generation: 0,
            start_ms: 5,
            wall_offset_ms: 0,
        }
    }

    fn record(at_ms: i64) -> Record {
        Record {
            at_ms,
            counters: conform_model::World::new(1, Policy::default()).counters(),
            change: Change::Aws {
                account: "111122223333".into(),
                region: "us-east-1".into(),
                service: Service::LicenseManager,
                operation: "GetLicense".into(),
                status: 200,
                body: Body::of(b"{\"LicenseArn\": \"x\"}"),
            },
        }
    }

    fn journal(records: &[Record]) -> Vec<u8> {
        let mut bytes = line(&header());
        for r in records {
            bytes.extend(line(r));
        }
        bytes
    }

    #[test]
    fn records_read_back_and_a_torn_tail_is_dropped() {
        let bytes = journal(&[record(5), record(6)]);
        let whole = read("j", &bytes).unwrap();
        assert_eq!(whole.records.len(), 2);
        assert_eq!(whole.records[1].at_ms, 6);
        assert!(whole.torn.is_none());
        assert_eq!(whole.good_len as usize, bytes.len());
        for cut in [1, 10, 40] {
            let torn = &bytes[..bytes.len() - cut];
            let cut_off = read("j", torn).unwrap();
            assert_eq!(cut_off.records.len(), 1, "cut {cut}");
            assert!(cut_off.torn.is_some());
        }
    }

    #[test]
    fn damage_before_the_last_record_and_foreign_files_are_refused() {
        let mut bytes = journal(&[record(5), record(6)]);
        let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 30;
        bytes[second] ^= 1;
        assert!(read("j", &bytes)
            .unwrap_err()
            .contains("damaged and records follow"));
        for foreign in [&b""[..], b"hello\n", b"{\"format\": \"conform-state-journal\"}\n"] {
            assert!(read("j", foreign)
                .unwrap_err()
                .contains("not a conform state journal"));
        }
        let mut other = serde_json::to_value(header()).unwrap();
        other["version"] = 1.into();
        assert!(read("j", &line(&other)).unwrap_err().contains("format version 1"));
    }

    #[test]
    fn bodies_that_are_not_utf8_survive() {
        let raw = [0xff, 0x00, b'{'];
        let body = Body::of(&raw);
        assert!(body.text.is_none() && body.base64.is_some());
        assert_eq!(body.bytes().unwrap(), raw);
    }
}
