//! Record and replay: `conform record` against a simulator running one policy,
//! `conform run --against-recording` against simulators running the same and another policy
//! (differences printed with paste-ready entries that `--accepted` then suppresses), and
//! `conform policy-report` naming exactly the [P] switches the recorded simulator changed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use conform_model::Policy;
use conform_simulator::{Account, Background, Config, Fixtures};
use serde_json::Value;

/// The keys `conform` signs with for a URL target (src/cli/target.rs).
const ACCOUNTS: [(&str, &str, &str); 3] = [
    ("111122223333", "AKIDCONFORMSELLER", "conform-seller-secret"),
    ("444455556666", "AKIDCONFORMBUYER", "conform-buyer-secret"),
    ("777788889999", "AKIDCONFORMSTRANGER", "conform-stranger-secret"),
];

const SWITCHED: &str = r#"{"deletion_delay_seconds": 0, "extend_from": "expiration"}"#;

fn simulator(policy: Policy) -> Background {
    let config = Config {
        seed: 1,
        policy,
        fixtures: Fixtures {
            accounts: ACCOUNTS
                .iter()
                .map(|(account, key, secret)| Account {
                    access_key_id: key.to_string(),
                    secret_access_key: secret.to_string(),
                    account_id: account.to_string(),
                })
                .collect(),
            events: vec![],
        },
        frozen_clock: true,
        require_auth: true,
        faults: Vec::new(),
        ..Config::default()
    };
    Background::start(&config).expect("simulator starts")
}

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .output()
        .expect("conform runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn record_replay_and_policy_report_name_exactly_the_switched_rules() {
    let dir = std::env::temp_dir().join(format!("conform-record-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let recording = dir.join("recording");
    let switched = Policy::from_json(SWITCHED).expect("policy");

    // Record against a simulator that follows two other [P] values than the model's defaults.
    let recorded = simulator(switched.clone());
    let out = conform(&["record", "--target", &recorded.url(), "--out", path(&recording)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let files: Vec<_> = std::fs::read_dir(&recording)
        .expect("recording dir")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), conform_harness::scenarios::all().len());
    for f in &files {
        let r: Value = serde_json::from_str(&std::fs::read_to_string(f.path()).expect("read")).expect("JSON");
        assert_eq!(r["provenance"]["target"], recorded.url());
        assert!(r["provenance"]["tool"]
            .as_str()
            .is_some_and(|t| t.starts_with("conform ")));
        assert!(r["provenance"]["date"].as_str().is_some_and(|d| d.ends_with('Z')));
        assert_eq!(
            r["policies"].as_array().map(Vec::len),
            r["transcript"].as_array().map(Vec::len),
            "one rule list per step: {}",
            f.path().display()
        );
    }

    // The policy report names the two switched rules and the values the simulator follows.
    let report = dir.join("report.json");
    let out = conform(&["policy-report", path(&recording), "--json", path(&report)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let findings: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("JSON");
    let differing: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f["differs"] == true)
        .map(|f| {
            (
                f["switch"].as_str().unwrap_or_default().to_string(),
                f["follows"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("deletion_delay_seconds".to_string(), "0".to_string()),
        ("extend_from".to_string(), "expiration".to_string()),
    ]
    .into();
    assert_eq!(differing, expected, "{}", text(&out));
    assert!(
        findings
            .iter()
            .filter(|f| f["differs"] == false && f["switch"].is_string())
            .count()
            > 0,
        "other exercised rules are reported as the model's: {findings:?}"
    );

    // Replaying against a simulator with the same policy finds nothing.
    let same = simulator(switched);
    let out = conform(&[
        "run",
        "--against-recording",
        path(&recording),
        "--target",
        &same.url(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Against the model's defaults every difference is printed with a paste-ready entry ...
    let other = simulator(Policy::default());
    let out = conform(&[
        "run",
        "--against-recording",
        path(&recording),
        "--target",
        &other.url(),
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let entries: Vec<&str> = said
        .lines()
        .filter_map(|l| l.trim().strip_prefix("accept with: "))
        .collect();
    assert!(!entries.is_empty(), "{said}");
    assert!(said.contains("/reply/"), "differences name JSON paths: {said}");

    // ... and a reviewed list with those entries suppresses them (on a fresh simulator: the
    // clock of the one above has moved on, and absolute dates in requests would differ).
    let other = simulator(Policy::default());
    let accepted = dir.join("accepted.jsonl");
    std::fs::write(
        &accepted,
        format!("# reviewed: policy switches\n{}\n", entries.join("\n")),
    )
    .expect("write");
    let out = conform(&[
        "run",
        "--against-recording",
        path(&recording),
        "--target",
        &other.url(),
        "--accepted",
        path(&accepted),
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains(&format!("{} accepted divergences suppressed", entries.len())),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
