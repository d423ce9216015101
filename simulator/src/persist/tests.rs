//! The state journal in process: compaction at a reset, and the journal of a start that died
//! before its fixtures were written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use conform_model::{Event, Service};
use serde_json::json;

use super::{StateConfig, SyncMode, JOURNAL_FILE};
use crate::{Account, Config, Fixtures, Simulator};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-persist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(dir: &Path, compact_bytes: u64, fixtures: Fixtures) -> Config {
    Config {
        frozen_clock: true,
        fixtures,
        state: Some(StateConfig {
            compact_bytes,
            ..StateConfig::new(dir.to_path_buf(), SyncMode::Batch)
        }),
        ..Config::default()
    }
}

fn call(sim: &Simulator, op: &str, body: serde_json::Value) -> u16 {
    let mut inner = sim.lock();
    let bytes = body.to_string().into_bytes();
    let (reply, _) = sim.answer(
        &mut inner,
        &sim.default_caller,
        Service::LicenseManager,
        op,
        &bytes,
    );
    reply.map(|r| r.status).unwrap_or(500)
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

fn lines(dir: &Path) -> usize {
    std::fs::read(dir.join(JOURNAL_FILE))
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn account() -> Account {
    Account {
        access_key_id: "AKIDPERSIST".into(),
        secret_access_key: "s".into(),
        account_id: "210987654321".into(),
    }
}

#[test]
fn a_reset_compacts_a_large_journal_and_a_restart_restores_the_same_world() {
    for (compact_bytes, expected_lines) in [(2_000, 5), (u64::MAX, 16)] {
        let dir = fresh_dir(&format!("compact-{expected_lines}"));
        let start = Fixtures {
            accounts: vec![account()],
            events: Vec::new(),
        };
        let sim = Simulator::new(&config(&dir, compact_bytes, start.clone())).unwrap();
        assert_eq!(call(&sim, "CreateLicense", license("a")), 200);
        for i in 0..10 {
            assert_eq!(
                call(&sim, "CheckoutLicense", checkout("a", &format!("t{i}"))),
                200
            );
        }
        sim.apply_events(vec![Event::Reset, Event::advance_seconds(5)])
            .unwrap();
        assert_eq!(call(&sim, "CreateLicense", license("b")), 200);
        assert_eq!(call(&sim, "CheckoutLicense", checkout("b", "t")), 200);
        let before = sim.state_text();
        // Header, accounts, the reset, two requests; uncompacted: every record since the start.
        assert_eq!(lines(&dir), expected_lines, "compact at {compact_bytes}");
        drop(sim);

        let again: Arc<Simulator> = Simulator::new(&config(&dir, compact_bytes, start)).unwrap();
        assert_eq!(again.state_text(), before);
        assert_eq!(again.account("AKIDPERSIST"), Some(account()));
    }
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
    let bytes = std::fs::read(dir.join(JOURNAL_FILE)).unwrap();
    let header = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(dir.join(JOURNAL_FILE), &bytes[..header]).unwrap();
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
