//! The state journal in process: snapshots bound the replay and restore the same world; a
//! leftover temp file or a damaged snapshot restores from the one before; a foreign snapshot is
//! refused; the journal of a start that died before its fixtures were written.

use std::path::{Path, PathBuf};

use conform_model::{Event, Service, World};
use serde_json::json;

use super::snapshot::{segment_path, snapshot_path, temp_path};
use super::{StateConfig, SyncMode};
use crate::{Account, Config, Fixtures, Simulator};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-persist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(dir: &Path, snapshot_every: u64, fixtures: Fixtures) -> Config {
    Config {
        frozen_clock: true,
        fixtures,
        state: Some(StateConfig {
            snapshot_every,
            ..StateConfig::new(dir.to_path_buf(), SyncMode::Batch)
        }),
        ..Config::default()
    }
}

fn call(sim: &Simulator, op: &str, body: serde_json::Value) -> u16 {
    reply(sim, op, body).0
}

/// Status, body and request id.
fn reply(sim: &Simulator, op: &str, body: serde_json::Value) -> (u16, String, String) {
    let mut inner = sim.lock();
    let bytes = body.to_string().into_bytes();
    let decoded = World::decode(Service::LicenseManager, op, &bytes);
    let (reply, _) = sim.answer(&mut inner, &sim.default_caller, op, &bytes, decoded);
    reply.map_or((500, String::new(), String::new()), |r| {
        (r.status, r.body.to_string(), r.request_id)
    })
}

fn license(sku: &str) -> serde_json::Value {
    json!({
        "LicenseName": "Seats", "ProductName": "Editor", "ProductSKU": sku,
        "Issuer": {"Name": "Example Corp"}, "HomeRegion": "us-east-1",
        "Validity": {"Begin": "2025-01-01T00:00:00Z"},
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "MaxCount": 100}],
        "Beneficiary": "b", "ClientToken": sku,
        "ConsumptionConfiguration": {"ProvisionalConfiguration": {"MaxTimeToLiveInMinutes": 60}}
    })
}

fn checkout(sku: &str, token: &str) -> serde_json::Value {
    json!({
        "ProductSKU": sku, "CheckoutType": "PROVISIONAL", "Beneficiary": "b", "ClientToken": token,
        "KeyFingerprint": "aws:123456789012:Example Corp:issuer-fingerprint",
        "Entitlements": [{"Name": "Seat", "Unit": "Count", "Value": "1"}]
    })
}

fn account() -> Account {
    Account {
        access_key_id: "AKIDPERSIST".into(),
        secret_access_key: "s".into(),
        account_id: "210987654321".into(),
    }
}

/// A license, `n` checkouts (ClientTokens t0, t1, ...), a reset, an account and two more
/// requests: every kind of record.
fn script(sim: &Simulator, n: usize) {
    assert_eq!(call(sim, "CreateLicense", license("a")), 200);
    for i in 0..n {
        let status = call(sim, "CheckoutLicense", checkout("a", &format!("t{i}")));
        assert_eq!(status, 200);
    }
    sim.apply_events(vec![Event::Reset, Event::advance_seconds(5)])
        .unwrap();
    sim.load_fixtures(Fixtures {
        accounts: vec![account()],
        events: Vec::new(),
    })
    .unwrap();
    assert_eq!(call(sim, "CreateLicense", license("a")), 200);
    assert_eq!(call(sim, "CheckoutLicense", checkout("a", "t0")), 200);
}

fn restored(sim: &Simulator) -> Option<super::Restored> {
    sim.lock().store.as_ref().and_then(|s| s.restored)
}

/// Why a start on `config` was refused.
fn refusal(config: &Config) -> String {
    Simulator::new(config).err().expect("refused").to_string()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn a_restart_replays_at_most_one_segment_and_restores_the_same_world() {
    for every in [1, 4, 7] {
        let dir = fresh_dir(&format!("snapshots-{every}"));
        let sim = Simulator::new(&config(&dir, every, Fixtures::default())).unwrap();
        script(&sim, 30);
        let before = sim.state_text();
        drop(sim);
        let again = Simulator::new(&config(&dir, every, Fixtures::default())).unwrap();
        assert_eq!(again.state_text(), before, "every {every}");
        let report = restored(&again).expect("restored");
        assert!(report.snapshot.is_some(), "every {every}: {report:?}");
        assert!(report.records as u64 <= every, "every {every}: {report:?}");
        assert_eq!(again.account("AKIDPERSIST"), Some(account()));
        // Only the newest snapshot and its segment are left.
        let g = report.snapshot.unwrap();
        let names = files(&dir);
        assert_eq!(
            names,
            [format!("journal.{g}"), "lock".into(), format!("snapshot.{g}")]
        );

        // It answers what a simulator that never restarted answers: a ClientToken replay of a
        // checkout before the snapshots, and new requests with the ids that would follow.
        let never = Simulator::new(&Config {
            state: None,
            ..config(&dir, every, Fixtures::default())
        })
        .unwrap();
        script(&never, 30);
        for (op, body) in [
            ("CheckoutLicense", checkout("a", "t0")),
            ("CheckoutLicense", checkout("a", "t9")),
            ("CheckInLicense", json!({"LicenseConsumptionToken": "nope"})),
        ] {
            assert_eq!(reply(&again, op, body.clone()), reply(&never, op, body), "{op}");
        }
    }
}

/// A change to a snapshot's header.
type Edit = fn(&mut serde_json::Value);

/// What a test does to a snapshot's bytes in its directory.
type Mangle = dyn Fn(&Path, Vec<u8>);

/// A directory as a snapshot left it when the process was killed writing it: segment 0 whole,
/// segment 1 begun, and `snapshot.1` as `mangle` leaves it (taken from a run that finished it).
fn killed_mid_snapshot(name: &str, mangle: impl Fn(&Path, Vec<u8>)) -> (PathBuf, String) {
    // The same requests with snapshots never and every 8 records: journal.0 of the first holds
    // the 8 records that journal.0 of the second held before its snapshot removed it.
    let whole = fresh_dir(&format!("{name}-whole"));
    let sim = Simulator::new(&config(&whole, u64::MAX, Fixtures::default())).unwrap();
    script(&sim, 10);
    drop(sim);
    let dir = fresh_dir(name);
    let sim = Simulator::new(&config(&dir, 8, Fixtures::default())).unwrap();
    script(&sim, 10);
    let before = sim.state_text();
    drop(sim);
    assert_eq!(files(&dir), ["journal.1", "lock", "snapshot.1"]);
    let segment = std::fs::read(segment_path(&whole, 0)).unwrap();
    let kept: Vec<&[u8]> = segment.split_inclusive(|&b| b == b'\n').take(9).collect();
    std::fs::write(segment_path(&dir, 0), kept.concat()).unwrap();
    let snapshot = std::fs::read(snapshot_path(&dir, 1)).unwrap();
    std::fs::remove_file(snapshot_path(&dir, 1)).unwrap();
    mangle(&dir, snapshot);
    (dir, before)
}

#[test]
fn a_snapshot_killed_mid_write_or_damaged_is_never_used_and_the_journal_before_it_restores() {
    let cases: [(&str, Box<Mangle>); 3] = [
        (
            "tmp",
            Box::new(|dir, bytes| {
                std::fs::write(temp_path(&snapshot_path(dir, 1)), &bytes[..bytes.len() / 2]).unwrap()
            }),
        ),
        (
            "truncated",
            Box::new(|dir, bytes| std::fs::write(snapshot_path(dir, 1), &bytes[..bytes.len() - 1]).unwrap()),
        ),
        (
            "flipped",
            Box::new(|dir, mut bytes| {
                let at = bytes.len() - 10;
                bytes[at] ^= 1;
                std::fs::write(snapshot_path(dir, 1), bytes).unwrap()
            }),
        ),
    ];
    for (name, mangle) in cases {
        let (dir, before) = killed_mid_snapshot(&format!("mid-{name}"), mangle);
        let again = Simulator::new(&config(&dir, 8, Fixtures::default())).unwrap();
        assert_eq!(again.state_text(), before, "{name}");
        let report = restored(&again).expect("restored");
        assert_eq!(report.snapshot, None, "{name}: restored from the fresh world");
        assert!(!files(&dir).iter().any(|f| f.ends_with(".tmp")), "{name}");
    }
    // Damaged with the journal before it gone: nothing can restore the world; refused.
    let (dir, _) = killed_mid_snapshot("mid-gone", |dir, bytes| {
        std::fs::write(snapshot_path(dir, 1), &bytes[..bytes.len() - 1]).unwrap()
    });
    std::fs::remove_file(segment_path(&dir, 0)).unwrap();
    let err = refusal(&config(&dir, 8, Fixtures::default()));
    assert!(
        err.contains("missing or damaged and the journal before it is gone"),
        "{err}"
    );
}

#[test]
fn a_snapshot_of_another_version_or_setup_is_refused_naming_the_difference() {
    let dir = fresh_dir("foreign-snapshot");
    let sim = Simulator::new(&config(&dir, 3, Fixtures::default())).unwrap();
    script(&sim, 4);
    drop(sim);
    let g = restored(&Simulator::new(&config(&dir, 3, Fixtures::default())).unwrap())
        .and_then(|r| r.snapshot)
        .expect("a snapshot");
    let path = snapshot_path(&dir, g);
    let good = std::fs::read(&path).unwrap();
    let end = good.iter().position(|&b| b == b'\n').unwrap();
    let header: serde_json::Value = serde_json::from_slice(&good[17..end]).unwrap();
    let edits: [(&str, Edit, &str); 4] = [
        (
            "version",
            |h| h["version"] = json!(2),
            "state snapshot format version 2; this conform reads version 1 only",
        ),
        (
            "format",
            |h| h["format"] = json!("something-else"),
            "is not a conform state snapshot",
        ),
        ("layout", |h| h["layout"] = json!(99), "snapshot layout 99"),
        (
            "model",
            |h| h["setup"]["model"] = json!("0.0.1"),
            "started differently: model version 0.0.1",
        ),
    ];
    for (field, edit, expected) in edits {
        let mut other = header.clone();
        edit(&mut other);
        let mut bytes = super::format::line(&other);
        bytes.extend_from_slice(&good[end + 1..]);
        std::fs::write(&path, bytes).unwrap();
        let err = refusal(&config(&dir, 3, Fixtures::default()));
        assert!(err.contains(expected), "{field}: {err}");
    }
    std::fs::write(&path, good).unwrap();
    let err = refusal(&Config {
        seed: 2,
        ..config(&dir, 3, Fixtures::default())
    });
    assert!(
        err.contains(&format!(
            "snapshot.{g}: was written by a conform started differently: --seed 1 (now 2)"
        )),
        "{err}"
    );
}

#[test]
fn a_journal_without_records_gets_its_startup_fixtures() {
    let dir = fresh_dir("header-only");
    let start = Fixtures {
        accounts: vec![account()],
        events: vec![Event::advance_seconds(60)],
    };
    let sim = Simulator::new(&config(&dir, u64::MAX, start.clone())).unwrap();
    let expected = sim.state_text();
    drop(sim);
    // As if the process died after making the journal, before its fixtures record.
    let bytes = std::fs::read(segment_path(&dir, 0)).unwrap();
    let header = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(segment_path(&dir, 0), &bytes[..header]).unwrap();
    let again = Simulator::new(&config(&dir, u64::MAX, start)).unwrap();
    assert_eq!(again.state_text(), expected);
    assert!(again.account("AKIDPERSIST").is_some());
}

/// The dump without its clock, which moves on with wall time between the two reads.
fn without_clock(text: &str) -> serde_json::Value {
    let mut dump: serde_json::Value = serde_json::from_str(text).unwrap();
    let clock = dump.as_object_mut().unwrap().remove("clock").unwrap();
    assert!(clock["now_ms"].is_i64());
    dump
}

#[test]
fn a_clock_that_follows_wall_time_replays_each_record_at_its_instant() {
    for start_ms in [None, Some(1_900_000_000_000)] {
        let dir = fresh_dir(&format!("wall-{}", start_ms.is_some()));
        let wall = |start_ms| Config {
            frozen_clock: false,
            start_ms,
            ..config(&dir, u64::MAX, Fixtures::default())
        };
        let sim = Simulator::new(&wall(start_ms)).unwrap();
        assert_eq!(call(&sim, "CreateLicense", license("w")), 200);
        for i in 0..3 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert_eq!(
                call(&sim, "CheckoutLicense", checkout("w", &format!("t{i}"))),
                200
            );
        }
        let before = sim.state_text();
        let then = sim.lock().world.now_ms();
        drop(sim);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = Simulator::new(&wall(start_ms)).unwrap();
        assert_eq!(
            without_clock(&again.state_text()),
            without_clock(&before),
            "start {start_ms:?}"
        );
        assert!(
            again.lock().world.now_ms() > then,
            "the clock moved on with wall time"
        );
    }
}
