//! Shards: a campaign run whole and as three shards against a faulty embedded simulator (each
//! shard on a simulator of its own, as CI workers run them); the shards' JSON reports merged
//! equal the whole run's report field by field, findings found in two shards merging as one
//! with repeats. Through the library, and through `conform run --shard` and `conform merge`.

use std::process::Command;

use conform_harness::baseline::Baseline;
use conform_harness::campaign::{Campaign, Config};
use conform_harness::report::{json_report, Silent};
use conform_harness::shard::{merge, summary_of_report, Shard};
use serde_json::Value;

use crate::common::faulty_simulator;

/// Two faults, so findings of more than one signature, each in several cases.
const FAULTS: &[&str] = &["version-not-incremented", "reply-member-missing"];
const CASES: u64 = 24;

fn run(shard: Option<Shard>, baseline: Option<&Baseline>) -> Value {
    let (_server, mut target) = faulty_simulator(FAULTS);
    let mut config = Config::default();
    config.cases = CASES;
    config.max_steps = 20;
    config.shard = shard;
    config.baseline = baseline.cloned();
    json_report(&Campaign::new(config).run(&mut target, &mut Silent).unwrap())
}

fn shard(k: u64) -> Shard {
    Shard::new(k, 3).unwrap()
}

fn assert_same_fields(merged: &Value, whole: &Value) {
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(merged), keys(whole));
    for key in keys(whole) {
        assert_eq!(merged[&key], whole[&key], "`{key}` differs");
    }
}

#[test]
fn three_shards_merged_equal_the_whole_run() {
    // A baseline accepting every other signature of the run and one it never sees, so the
    // merged comparison has known, new and fixed signatures to get right.
    let mut baseline = Baseline::from_report(&run(None, None)).unwrap();
    let mut i = 0;
    baseline.accepted.retain(|_| {
        i += 1;
        i % 2 == 0
    });
    baseline
        .accepted
        .insert("CreateLicense | hard_failure | paths $.Nothing".into());
    let whole = run(None, Some(&baseline));
    let shards: Vec<Value> = (1..=3).map(|k| run(Some(shard(k)), Some(&baseline))).collect();
    let b = &whole["baseline"];
    assert!(!b["known"].as_array().unwrap().is_empty(), "{b}");
    assert!(!b["new"].as_array().unwrap().is_empty(), "{b}");
    // Fixed in each shard: what the shard did not see, more than the whole run's fixed.
    assert!(shards[1]["baseline"]["fixed"].as_array().unwrap().len() > b["fixed"].as_array().unwrap().len());

    // Each shard ran its own cases, the scenarios in the first only.
    for (k, s) in shards.iter().enumerate() {
        let cases: Vec<u64> = s["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["case"].as_u64().unwrap())
            .collect();
        assert_eq!(
            cases,
            (0..CASES).filter(|c| c % 3 == k as u64).collect::<Vec<_>>()
        );
        assert_eq!(
            s["scenarios"].as_array().unwrap().is_empty(),
            k > 0,
            "shard {}",
            k + 1
        );
    }
    // The merge has work to do: the same finding was shrunk in more than one shard, and the
    // whole run counted later cases as its repeats.
    let distinct = |v: &Value| v["findings"].as_array().unwrap().len();
    assert!(distinct(&whole) > 0, "the faults are found");
    assert!(
        shards.iter().map(distinct).sum::<usize>() > distinct(&whole),
        "some finding was found in two shards: {shards:#?}"
    );
    assert!(whole["findings"].as_array().unwrap().iter().any(|f| f["repeats"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_u64().unwrap() % 3 != f["case"].as_u64().unwrap() % 3)));

    // A report read back is the summary it was written from.
    assert_same_fields(&json_report(&summary_of_report(&whole).unwrap()), &whole);
    // In any order.
    let reversed: Vec<Value> = shards.iter().rev().cloned().collect();
    let merged = json_report(&merge(&reversed).unwrap());
    assert_same_fields(&merged, &whole);
    assert_eq!(merged["exit_code"], whole["exit_code"]);
}

#[test]
fn a_merge_needs_every_shard_once() {
    let report = |k: u64, n: u64| {
        let mut config = Config::default();
        config.cases = 4;
        config.max_steps = 5;
        config.scenarios = false;
        config.shard = Some(Shard::new(k, n).unwrap());
        let mut target = conform_harness::target::ModelTarget::new(1, conform_model::Policy::default());
        json_report(&Campaign::new(config).run(&mut target, &mut Silent).unwrap())
    };
    let (a, b) = (report(1, 2), report(2, 2));
    assert!(merge(&[a.clone(), b.clone()]).is_ok());
    let missing = merge(std::slice::from_ref(&a)).unwrap_err();
    assert!(missing.contains("2/2"), "{missing}");
    assert!(merge(&[a.clone(), a.clone(), b.clone()]).is_err());
    assert!(merge(&[a.clone(), report(2, 3)]).is_err());
    let mut whole = a.clone();
    whole["shard"] = Value::Null;
    assert!(merge(&[whole, b.clone()]).unwrap_err().contains("not a shard"));
    assert!(merge(&[]).is_err());
    let mut old = b;
    old.as_object_mut().unwrap().remove("requests");
    assert!(merge(&[a, old]).unwrap_err().contains("report 2"));
}

#[test]
fn conform_merge_of_run_shards_writes_the_whole_runs_report() {
    let dir = std::env::temp_dir().join(format!("conform-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |shard: Option<&str>, json: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_conform"));
        cmd.args([
            "run",
            "--target",
            "model",
            "--cases",
            "7",
            "--max-steps",
            "8",
            "--json",
        ])
        .arg(dir.join(json))
        .arg("--trace-dir")
        .arg(dir.join("traces"));
        if let Some(s) = shard {
            cmd.args(["--shard", s]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let whole_out = run(None, "whole.json");
    assert!(!whole_out.contains("shard"), "{whole_out}");
    let first = run(Some("1/2"), "1.json");
    assert!(first.contains("shard 1/2"), "{first}");
    run(Some("2/2"), "2.json");
    let merged = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("merge")
        .args([dir.join("2.json"), dir.join("1.json")])
        .arg("--json")
        .arg(dir.join("merged.json"))
        .output()
        .unwrap();
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    assert_same_fields(&read("merged.json"), &read("whole.json"));
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert!(stdout.contains("passed, 0 failed"), "{stdout}");

    let bad = Command::new(env!("CARGO_BIN_EXE_conform"))
        .arg("merge")
        .arg(dir.join("1.json"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("2/2"));
    let bad_shard = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--target", "model", "--shard", "3/2"])
        .output()
        .unwrap();
    assert_eq!(bad_shard.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
